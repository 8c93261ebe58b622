//! Stream framing (RFC 3261 §18.3) and CRLF keep-alives (RFC 5626 §3.5.1).

use dialtone_sip_message::{stream_frame, Frame, Message, Method, StreamFramer, StreamItem};

fn msg(method: &str, body: &str) -> String {
    format!(
        "{method} sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK{method}\r\n\
         Call-ID: s\r\nCSeq: 1 {method}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn partial_input_is_incomplete_at_every_cut() {
    let m = msg("MESSAGE", "hello world");
    let bytes = m.as_bytes();
    for cut in 0..bytes.len() {
        assert_eq!(
            stream_frame(&bytes[..cut]).unwrap(),
            Frame::Incomplete,
            "cut at {cut}"
        );
    }
    assert_eq!(stream_frame(bytes).unwrap(), Frame::Message(bytes.len()));
}

#[test]
fn two_messages_back_to_back() {
    let a = msg("INVITE", "v=0\r\n");
    let b = msg("BYE", "");
    let mut buf = format!("{a}{b}").into_bytes();
    let mut seen = Vec::new();
    loop {
        match stream_frame(&buf).unwrap() {
            Frame::Message(n) => {
                let m = Message::parse(&buf[..n]).unwrap();
                seen.push(m.as_request().unwrap().method.clone());
                if let Message::Request(r) = &m {
                    if r.method == Method::Invite {
                        assert_eq!(r.body, b"v=0\r\n");
                    }
                }
                buf.drain(..n);
            }
            Frame::KeepAlive(n) => {
                buf.drain(..n);
            }
            Frame::Incomplete => break,
        }
    }
    assert_eq!(seen, [Method::Invite, Method::Bye]);
    assert!(buf.is_empty());
}

#[test]
fn keep_alive_crlfs() {
    assert_eq!(stream_frame(b"\r\n\r\n").unwrap(), Frame::KeepAlive(4));
    assert_eq!(stream_frame(b"\r\n").unwrap(), Frame::KeepAlive(2));
    assert_eq!(stream_frame(b"\r\n\r").unwrap(), Frame::Incomplete);
    assert_eq!(stream_frame(b"\r").unwrap(), Frame::Incomplete);
    assert_eq!(stream_frame(b"").unwrap(), Frame::Incomplete);
    assert_eq!(stream_frame(b"\n").unwrap(), Frame::KeepAlive(1));
    let m = msg("OPTIONS", "");
    let buf = format!("\r\n{m}");
    assert_eq!(stream_frame(buf.as_bytes()).unwrap(), Frame::KeepAlive(2));
    assert_eq!(
        stream_frame(&buf.as_bytes()[2..]).unwrap(),
        Frame::Message(m.len())
    );
    let buf = format!("\r\n\r\n{m}");
    assert_eq!(stream_frame(buf.as_bytes()).unwrap(), Frame::KeepAlive(4));
}

#[test]
fn content_length_drives_framing() {
    // Compact form, folded value, LWS before the colon.
    let m = "MESSAGE sip:x SIP/2.0\r\nl :\r\n 3\r\n\r\nabcNEXT";
    assert_eq!(
        stream_frame(m.as_bytes()).unwrap(),
        Frame::Message(m.len() - 4)
    );
    // Missing Content-Length on a stream: assumed 0.
    let m = "OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n\r\nOPTIONS";
    assert_eq!(
        stream_frame(m.as_bytes()).unwrap(),
        Frame::Message(m.len() - 7)
    );
    // A malformed message that still frames is reported by Message::parse.
    let m = "OPTIONS sip:x SIP/2.0\r\nNoColon\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(stream_frame(m.as_bytes()).unwrap(), Frame::Message(m.len()));
    assert!(Message::parse(m.as_bytes()).is_err());
}

#[test]
fn framing_errors_lose_the_connection() {
    for bad in [
        "OPTIONS sip:x SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\nContent-Length: -5\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\nContent-Length: 999999999999\r\n\r\n",
        "\rX",
    ] {
        let e = stream_frame(bad.as_bytes()).unwrap_err();
        assert_eq!(e.response(), None, "{bad:?}");
    }
    // A header section that never ends is cut off at the limit.
    let endless = format!("OPTIONS sip:x SIP/2.0\r\n{}", "X: y\r\n".repeat(60_000));
    assert!(stream_frame(endless.as_bytes()).is_err());
    // Large Content-Length within the limit just waits for more bytes.
    let big = "MESSAGE sip:x SIP/2.0\r\nContent-Length: 100000\r\n\r\nabc";
    assert_eq!(stream_frame(big.as_bytes()).unwrap(), Frame::Incomplete);
}

#[test]
fn stream_framer_byte_by_byte() {
    let a = msg("INVITE", "v=0\r\n");
    let b = msg("BYE", "");
    let input = format!("{a}\r\n{b}");
    let mut framer = StreamFramer::new();
    let mut items = Vec::new();
    // A ping arriving in one read is one keep-alive (split across reads it would be
    // seen as two CRLF pongs: the framer cannot wait, a lone pong must be reported).
    framer.push(b"\r\n\r\n");
    items.extend(framer.next_item().unwrap());
    for byte in input.as_bytes() {
        framer.push(std::slice::from_ref(byte));
        while let Some(item) = framer.next_item().unwrap() {
            items.push(item);
        }
    }
    assert_eq!(
        items,
        [
            StreamItem::KeepAlive(4),
            StreamItem::Message(a.into_bytes()),
            StreamItem::KeepAlive(2),
            StreamItem::Message(b.into_bytes()),
        ]
    );
    assert_eq!(framer.buffered(), 0);
}

#[test]
fn stream_framer_is_linear_on_a_slow_drip() {
    // A ~120 KB head and a 200 KB body delivered one byte at a time: rescanning the
    // buffer on every byte would be ~10^10 steps; the framer resumes where it stopped.
    let mut input = String::from("MESSAGE sip:x SIP/2.0\r\n");
    while input.len() < 120_000 {
        input.push_str("X-Padding: 0123456789abcdef0123456789abcdef\r\n");
    }
    input.push_str("Content-Length: 200000\r\n\r\n");
    input.push_str(&"b".repeat(200_000));
    let started = std::time::Instant::now();
    let mut framer = StreamFramer::new();
    let mut got = None;
    for byte in input.as_bytes() {
        framer.push(std::slice::from_ref(byte));
        if let Some(item) = framer.next_item().unwrap() {
            got = Some(item);
        }
    }
    assert_eq!(got, Some(StreamItem::Message(input.clone().into_bytes())));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn stream_framer_reports_lost_framing() {
    let mut framer = StreamFramer::new();
    framer.push(b"OPTIONS sip:x SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\n");
    assert!(framer.next_item().is_err());
}
