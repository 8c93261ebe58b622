//! The relay's WebSocket Origin check on real sockets, against a `dialtone relay` process with a ws
//! listener, its phone page on HTTP and one `--allow-origin`: a handshake from a foreign web origin
//! (another site, the same host on another port, the opaque `null`) is refused with HTTP 403 before
//! any SIP is read, and reported as an `origin_refused` line naming the flow and the origin, with
//! none of the request's other headers (a session cookie sent along stays out of the relay's
//! output). The page's own origin (as served and as `localhost`), the configured extra origin and a
//! client sending no Origin (not a browser) get their upgrade, and their flow carries SIP: a
//! REGISTER over it is challenged (401). JsSIP in Chromium from the page: `relay_browser_calls.rs`.

mod relay_support;

use relay_support::{is_event, RelayProcess};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

const T: Duration = Duration::from_secs(20);
const EXTRA: &str = "https://phone.example.org:8443";
const COOKIE_SECRET: &str = "session=s3cr3t-cookie-value";

/// The outcome of a WebSocket handshake with `origin`: `Ok(socket)` after 101, `Err(status)`.
fn handshake(
    ws: SocketAddr,
    origin: Option<&str>,
) -> Result<tungstenite::WebSocket<TcpStream>, u16> {
    let mut request = format!("ws://{ws}/")
        .into_client_request()
        .expect("a WebSocket request");
    let headers = request.headers_mut();
    headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
    headers.insert("Cookie", HeaderValue::from_static(COOKIE_SECRET));
    if let Some(origin) = origin {
        headers.insert("Origin", HeaderValue::from_str(origin).expect("header"));
    }
    let stream = TcpStream::connect(ws).expect("connect to the ws listener");
    stream.set_read_timeout(Some(T)).expect("timeout");
    match tungstenite::client(request, stream) {
        Ok((socket, response)) => {
            assert_eq!(response.status().as_u16(), 101);
            Ok(socket)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("handshake with Origin {origin:?} failed oddly: {e}"),
    }
}

/// Sends a REGISTER for alice over the WebSocket and returns the status of the answer.
fn register_over(socket: &mut tungstenite::WebSocket<TcpStream>, ws: SocketAddr, n: u32) -> u16 {
    let register = format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/WS origin{n}.invalid;branch=z9hG4bKorigin{n}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=o{n}\r\n\
         To: <sip:alice@127.0.0.1>\r\n\
         Call-ID: origin-test-{n}-{}\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:alice@origin{n}.invalid;transport=ws>\r\n\
         Expires: 60\r\n\
         Content-Length: 0\r\n\r\n",
        ws.port()
    );
    socket
        .send(Message::text(register))
        .expect("send the REGISTER");
    loop {
        match socket.read().expect("an answer over the WebSocket") {
            Message::Text(text) => {
                let status = text
                    .as_str()
                    .strip_prefix("SIP/2.0 ")
                    .and_then(|r| r.get(..3))
                    .and_then(|c| c.parse::<u16>().ok())
                    .unwrap_or_else(|| panic!("not a response: {text}"));
                if status >= 200 {
                    return status;
                }
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

#[test]
fn foreign_origins_get_403_and_the_page_origin_gets_a_sip_flow() {
    let ws = dialtone_testkit::free_port();
    let http = dialtone_testkit::free_port();
    let mut relay = RelayProcess::start(&[
        "--listen",
        &format!("ws:127.0.0.1:{ws}"),
        "--http",
        &format!("127.0.0.1:{http}"),
        "--allow-origin",
        EXTRA,
    ]);
    let ws = relay.addr("ws");
    let page = relay.wait_for("page", T, is_event("page"));
    assert_eq!(page["url"], format!("http://127.0.0.1:{http}/"));

    let foreign = [
        "http://evil.example".to_string(),
        format!("http://127.0.0.1:{}", http + 1),
        format!("https://127.0.0.1:{http}"),
        "null".to_string(),
    ];
    for origin in &foreign {
        assert_eq!(
            handshake(ws, Some(origin)).err(),
            Some(403),
            "Origin {origin} was not refused"
        );
        let refused = relay.wait_for("origin_refused", T, |v| {
            v["event"] == "origin_refused" && v["origin"] == origin.as_str()
        });
        assert!(
            refused["flow"]
                .as_str()
                .is_some_and(|f| f.starts_with("ws:127.0.0.1:")),
            "{refused}"
        );
    }

    let allowed = [
        Some(format!("http://127.0.0.1:{http}")),
        Some(format!("http://localhost:{http}")),
        Some(EXTRA.to_string()),
        None,
    ];
    for (n, origin) in allowed.iter().enumerate() {
        let mut socket = handshake(ws, origin.as_deref())
            .unwrap_or_else(|status| panic!("Origin {origin:?} got {status}"));
        assert_eq!(
            register_over(&mut socket, ws, n as u32),
            401,
            "REGISTER over the flow of Origin {origin:?}"
        );
        let _ = socket.close(None);
    }

    relay.settle(Duration::from_millis(300));
    assert_eq!(
        relay.events("origin_refused").len(),
        foreign.len(),
        "{:#?}",
        relay.seen
    );
    let everything = format!("{:?} {:?}", relay.seen, relay.errors);
    assert!(
        !everything.contains("s3cr3t"),
        "the relay's output shows the request's cookie: {everything}"
    );
}

#[test]
fn a_bad_allow_origin_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = dialtone_testkit::free_port();
    let mut relay = RelayProcess::spawn(
        dir,
        &[
            "--listen",
            &format!("ws:127.0.0.1:{ws}"),
            "--allow-origin",
            "https://example.org/path",
        ],
    );
    assert_ne!(relay.wait_exit(T), 0, "started with a bad --allow-origin");
    let errors = relay.errors.join("\n");
    assert!(
        errors.contains("--allow-origin") && errors.contains("example.org/path"),
        "{errors}"
    );
    assert!(relay.events("started").is_empty());
}
