//! Message-level parsing and serialization: methods, header lists, folding,
//! compact forms, Content-Length rules and limits (RFC 3261 §7, §18.3, §20).

use dialtone_sip_message::{
    default_reason, validate_request, ErrorKind, Headers, Message, Method, Request, Response,
    SipMessage, UasPolicy, Uri, MAX_HEADERS,
};

fn req(text: &str) -> Request {
    match Message::parse(text.as_bytes()).unwrap_or_else(|e| panic!("parse: {e}\n{text}")) {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

const BASE: &str = "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
From: <sip:a@example.com>;tag=1\r\n\
To: <sip:b@example.com>\r\n\
Call-ID: c1@h\r\n\
Max-Forwards: 70\r\n";

fn with_base(start: &str, extra: &str, cseq_method: &str) -> String {
    format!("{start}\r\n{BASE}CSeq: 1 {cseq_method}\r\n{extra}Content-Length: 0\r\n\r\n")
}

#[test]
fn extension_method_parses_and_round_trips() {
    let text = with_base("FOOBAR sip:b@example.com SIP/2.0", "", "FOOBAR");
    let r = req(&text);
    assert_eq!(r.method, Method::Extension("FOOBAR".into()));
    assert!(!r.method.is_known());
    assert_eq!(r.cseq().unwrap().method, r.method);
    let again = req(std::str::from_utf8(&r.to_bytes()).unwrap());
    assert_eq!(again, r);
    assert_eq!(validate_request(&r, &UasPolicy::default()), Ok(()));
}

#[test]
fn methods_are_case_sensitive_and_display_back() {
    assert_eq!("INVITE".parse::<Method>().unwrap(), Method::Invite);
    assert_eq!(
        "invite".parse::<Method>().unwrap(),
        Method::Extension("invite".into())
    );
    for m in [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "REGISTER",
        "OPTIONS",
        "INFO",
        "UPDATE",
        "PRACK",
        "SUBSCRIBE",
        "NOTIFY",
        "PUBLISH",
        "REFER",
        "MESSAGE",
        "X-Custom.1",
    ] {
        let parsed: Method = m.parse().unwrap();
        assert_eq!(parsed.to_string(), m);
        assert_eq!(parsed.as_str(), m);
    }
    assert!("IN VITE".parse::<Method>().is_err());
    assert!("".parse::<Method>().is_err());
    assert!("INV<ITE".parse::<Method>().is_err());
}

#[test]
fn compact_forms_equal_long_names() {
    let text = "OPTIONS sip:b@example.com SIP/2.0\r\n\
v: SIP/2.0/TCP h;branch=z9hG4bK2\r\n\
f: <sip:a@example.com>;tag=9\r\n\
t: sip:b@example.com\r\n\
i: abc@h\r\n\
m: <sip:a@10.0.0.1>\r\n\
k: timer\r\n\
s: hello\r\n\
o: presence\r\n\
u: dialog\r\n\
r: <sip:c@example.com>\r\n\
b: <sip:d@example.com>\r\n\
x: 1800\r\n\
e: identity\r\n\
CSeq: 2 OPTIONS\r\n\
c: text/plain\r\n\
l: 2\r\n\r\nhi";
    let r = req(text);
    for (long, value) in [
        ("Via", "SIP/2.0/TCP h;branch=z9hG4bK2"),
        ("From", "<sip:a@example.com>;tag=9"),
        ("To", "sip:b@example.com"),
        ("Call-ID", "abc@h"),
        ("Contact", "<sip:a@10.0.0.1>"),
        ("Supported", "timer"),
        ("Subject", "hello"),
        ("Event", "presence"),
        ("Allow-Events", "dialog"),
        ("Refer-To", "<sip:c@example.com>"),
        ("Referred-By", "<sip:d@example.com>"),
        ("Session-Expires", "1800"),
        ("Content-Encoding", "identity"),
        ("Content-Type", "text/plain"),
        ("Content-Length", "2"),
    ] {
        assert_eq!(r.headers.get(long), Some(value), "{long}");
        assert_eq!(
            r.headers.get(&long.to_ascii_uppercase()),
            Some(value),
            "{long}"
        );
    }
    // And the other way round: asking for the compact name finds long lines.
    let mut h = Headers::new();
    h.push("Call-ID", "x");
    assert_eq!(h.get("i"), Some("x"));
    assert_eq!(h.get("I"), Some("x"));
    assert_eq!(r.call_id().unwrap(), "abc@h");
    assert_eq!(r.body, b"hi");
}

#[test]
fn header_names_are_case_insensitive() {
    let text =
        "OPTIONS sip:b@example.com SIP/2.0\r\nvIa: SIP/2.0/UDP h\r\nFROM: <sip:a@x>;TAG=5\r\n\
to: <sip:b@x>\r\ncall-id: q\r\ncSeQ: 3 OPTIONS\r\n\r\n";
    let r = req(text);
    assert_eq!(r.top_via().unwrap().host, "h");
    assert_eq!(r.from().unwrap().tag(), Some("5"), "param names too");
    assert_eq!(r.cseq().unwrap().seq, 3);
    assert_eq!(
        r.headers.iter().next(),
        Some(("vIa", "SIP/2.0/UDP h")),
        "names kept as written"
    );
}

#[test]
fn multiple_values_in_one_line_and_across_lines() {
    let text = "INVITE sip:b@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKa, SIP/2.0/TCP p2.example.com;branch=z9hG4bKb\r\n\
Via: SIP/2.0/TLS p3.example.com:5061;branch=z9hG4bKc\r\n\
From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\
Contact: \"A, B\" <sip:a@h1>;q=0.5, <sip:a@h2;transport=tcp>\r\n\
Contact: sip:a@h3;expires=60\r\n\
Route: <sip:r1.example.com;lr>, <sip:r2.example.com;lr>\r\n\
Route: <sip:r3.example.com;lr>\r\n\
Record-Route: <sip:rr1;lr>,<sip:rr2;lr>\r\n\
Content-Length: 0\r\n\r\n";
    let r = req(text);
    let vias = r.vias().unwrap();
    let hosts: Vec<&str> = vias.iter().map(|v| v.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["p1.example.com", "p2.example.com", "p3.example.com"]
    );
    assert_eq!(vias[2].port, Some(5061));
    assert_eq!(r.top_via().unwrap().branch(), Some("z9hG4bKa"));
    let contacts = r.contacts().unwrap();
    assert_eq!(contacts.len(), 3);
    assert_eq!(
        contacts[0].display_name.as_deref(),
        Some("A, B"),
        "comma inside quotes"
    );
    assert_eq!(contacts[1].uri.transport(), Some("tcp"));
    assert_eq!(contacts[2].param("expires"), Some(Some("60")));
    let routes: Vec<String> = r
        .routes()
        .unwrap()
        .iter()
        .map(|n| n.uri.host.clone())
        .collect();
    assert_eq!(
        routes,
        ["r1.example.com", "r2.example.com", "r3.example.com"]
    );
    assert_eq!(r.record_routes().unwrap().len(), 2);
    assert_eq!(r.headers.get_all("Route").count(), 2);
}

#[test]
fn folded_lines_and_lws_are_unfolded() {
    let text = "OPTIONS sip:b@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP\r\n  h.example.com\r\n\t;branch=z9hG4bKf\r\n\
From   :\r\n <sip:a@x>\r\n ;tag=7\r\n\
To: <sip:b@x>\r\nCall-ID: f\r\nCSeq:\r\n 4\r\n  OPTIONS\r\n\
Subject: first\r\n second\r\n\tthird\r\n\r\n";
    let r = req(text);
    assert_eq!(r.top_via().unwrap().branch(), Some("z9hG4bKf"));
    assert_eq!(r.from().unwrap().tag(), Some("7"));
    assert_eq!(r.cseq().unwrap().seq, 4);
    assert_eq!(r.headers.get("Subject"), Some("first second third"));
    assert_eq!(r.headers.get("From"), Some("<sip:a@x> ;tag=7"));
    // Serialized without folding.
    let out = String::from_utf8(r.to_bytes()).unwrap();
    assert!(out.contains("\r\nSubject: first second third\r\n"));
}

#[test]
fn bare_lf_line_ends_are_accepted() {
    let text = "OPTIONS sip:b@example.com SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@x>;tag=1\n\
To: <sip:b@x>\nCall-ID: lf\nCSeq: 1 OPTIONS\nContent-Length: 3\n\nabc";
    let r = req(text);
    assert_eq!(r.body, b"abc");
    assert!(r.to_bytes().windows(2).any(|w| w == b"\r\n"));
}

#[test]
fn leading_crlf_before_start_line_is_ignored() {
    let text = format!(
        "\r\n\r\n{}",
        with_base("OPTIONS sip:b@x SIP/2.0", "", "OPTIONS")
    );
    assert_eq!(req(&text).method, Method::Options);
}

#[test]
fn quoted_strings_with_escapes() {
    let text = with_base(
        "OPTIONS sip:b@x SIP/2.0",
        "Contact: \"say \\\"hi\\\" \\\\ o/\" <sip:q@x>;note=\"a;b,c\\\"d\"\r\n",
        "OPTIONS",
    );
    let r = req(&text);
    let c = &r.contacts().unwrap()[0];
    assert_eq!(c.display_name.as_deref(), Some("say \"hi\" \\ o/"));
    assert_eq!(
        c.param("note"),
        Some(Some("\"a;b,c\\\"d\"")),
        "quoted values kept raw"
    );
    // Display re-escapes and the result parses back to the same value.
    let shown = c.to_string();
    assert_eq!(dialtone_sip_message::NameAddr::parse(&shown).unwrap(), *c);
}

#[test]
fn content_length_is_rewritten_from_the_body() {
    let mut r = Request::new(Method::Message, Uri::parse("sip:b@example.com").unwrap());
    r.headers.push("Via", "SIP/2.0/UDP h;branch=z9hG4bK9");
    r.headers.push("l", "999");
    r.headers.push("Content-Type", "text/plain");
    r.headers.push("Content-Length", "5");
    r.body = b"hello".to_vec();
    let text = String::from_utf8(r.to_bytes()).unwrap();
    assert!(
        text.contains("\r\nl: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
        "{text}"
    );
    assert_eq!(text.matches("Content-Length").count(), 0);
    let mut bare = Request::new(Method::Bye, Uri::parse("sip:b@x").unwrap());
    bare.headers.push("Call-ID", "z");
    let text = String::from_utf8(bare.to_bytes()).unwrap();
    assert_eq!(
        text,
        "BYE sip:b@x SIP/2.0\r\nCall-ID: z\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn datagram_content_length_rules() {
    let head = "MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 3\r\n\r\n";
    // Longer body than Content-Length: truncated (RFC 3261 §18.3).
    let r = req(&format!("{head}abcdef"));
    assert_eq!(r.body, b"abc");
    // Shorter: 400.
    let e = Message::parse(format!("{head}ab").as_bytes()).unwrap_err();
    assert_eq!(e.response(), Some((400, "Bad Request")));
    assert_eq!(e.kind(), ErrorKind::ContentLength);
    // Absent: the body is the rest of the datagram.
    let r = req("MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nxyz");
    assert_eq!(r.body, b"xyz");
    // Malformed values.
    for bad in ["-1", "abc", "1 2", "", "99999999999999999999"] {
        let text = format!("MESSAGE sip:b@x SIP/2.0\r\nContent-Length: {bad}\r\n\r\n");
        assert!(Message::parse(text.as_bytes()).is_err(), "{bad:?}");
    }
}

#[test]
fn response_errors_are_discarded_request_errors_answered() {
    let e = Message::parse(b"SIP/2.0 2000 OK\r\n\r\n").unwrap_err();
    assert_eq!(e.response(), None);
    let e = Message::parse(b"SIP/2.0 200 OK\r\nContent-Length: 9\r\n\r\n").unwrap_err();
    assert_eq!(e.response(), None);
    let e = Message::parse(b"SIP/3.0 200 OK\r\n\r\n").unwrap_err();
    assert_eq!(e.response(), None);
    let e = Message::parse(b"OPTIONS sip:x SIP/3.0\r\n\r\n").unwrap_err();
    assert_eq!(e.response().map(|r| r.0), Some(505));
    let e = Message::parse(b"\x00\x01garbage\r\n\r\n").unwrap_err();
    assert_eq!(e.response(), None, "unidentifiable input is dropped");
    let e = Message::parse(b"\r\n\r\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Empty);
}

#[test]
fn non_utf8_header_is_rejected_but_binary_body_is_fine() {
    let mut bad = b"OPTIONS sip:x SIP/2.0\r\nSubject: ".to_vec();
    bad.extend_from_slice(&[0xff, 0xfe]);
    bad.extend_from_slice(b"\r\n\r\n");
    assert_eq!(Message::parse(&bad).unwrap_err().kind(), ErrorKind::Utf8);
    let mut ok = b"MESSAGE sip:x SIP/2.0\r\nContent-Length: 4\r\n\r\n".to_vec();
    ok.extend_from_slice(&[0, 0xff, b'\r', b'\n']);
    let m = Message::parse(&ok).unwrap();
    assert_eq!(m.body(), &[0, 0xff, b'\r', b'\n']);
    assert_eq!(Message::parse(&m.to_bytes()).unwrap(), m);
}

#[test]
fn header_count_and_size_limits() {
    let mut text = String::from("OPTIONS sip:x SIP/2.0\r\n");
    for i in 0..=MAX_HEADERS {
        text.push_str(&format!("X-H{i}: v\r\n"));
    }
    text.push_str("\r\n");
    assert_eq!(
        Message::parse(text.as_bytes()).unwrap_err().kind(),
        ErrorKind::TooLarge
    );
    let huge = format!("OPTIONS sip:x SIP/2.0\r\nX: {}\r\n\r\n", "a".repeat(70_000));
    assert_eq!(
        Message::parse(huge.as_bytes()).unwrap_err().kind(),
        ErrorKind::TooLarge
    );
    let long_uri = format!("OPTIONS sip:{}@x SIP/2.0\r\n\r\n", "u".repeat(9000));
    let e = Message::parse(long_uri.as_bytes()).unwrap_err();
    assert_eq!(e.response(), Some((414, "Request-URI Too Long")));
    let unterminated = format!("OPTIONS sip:x SIP/2.0\r\nX: {}", "a".repeat(300_000));
    assert!(Message::parse(unterminated.as_bytes()).is_err());
}

#[test]
fn header_lines_must_have_a_token_name_and_colon() {
    for bad in [
        "OPTIONS sip:x SIP/2.0\r\nNoColon\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\nBad Name: v\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\n: v\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\n continuation-first\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\nX: a\rb\r\n\r\n",
    ] {
        let e = Message::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.response().map(|r| r.0), Some(400), "{bad:?}");
    }
}

#[test]
fn headers_set_remove_get_all() {
    let mut h = Headers::new();
    h.push("Via", "a");
    h.push("To", "t");
    h.push("v", "b");
    h.push("VIA", "c");
    assert_eq!(h.get_all("via").collect::<Vec<_>>(), ["a", "b", "c"]);
    h.set("Via", "z");
    assert_eq!(h.iter().collect::<Vec<_>>(), [("Via", "z"), ("To", "t")]);
    h.set("Max-Forwards", "70");
    assert_eq!(h.len(), 3);
    h.remove("to");
    assert!(h.get("To").is_none());
    assert_eq!(h.len(), 2);
    assert!(!h.is_empty());
}

#[test]
fn values_cannot_inject_header_lines() {
    let mut r = Request::new(Method::Options, Uri::parse("sip:x").unwrap());
    r.headers.push("Subject", "hi\r\nEvil: 1");
    let m = Message::parse(&r.to_bytes()).unwrap();
    assert!(m.headers().get("Evil").is_none());
    assert_eq!(m.headers().get("Subject"), Some("hi  Evil: 1"));
}

#[test]
fn response_for_request_copies_the_dialog_headers() {
    let text = "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP p1;branch=z9hG4bK1\r\n\
Via: SIP/2.0/UDP p2;branch=z9hG4bK2\r\nMax-Forwards: 70\r\nf: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n\
Call-ID: k\r\nCSeq: 5 INVITE\r\nContact: <sip:a@h>\r\nContent-Length: 0\r\n\r\n";
    let r = req(text);
    let mut resp = Response::for_request(&r, 180, default_reason(180));
    let mut to = resp.to().unwrap();
    to.set_tag("xyz");
    resp.headers.set("To", to.to_string());
    let names: Vec<&str> = resp.headers.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Via", "Via", "f", "To", "Call-ID", "CSeq"]);
    let bytes = resp.to_bytes();
    assert!(bytes.starts_with(b"SIP/2.0 180 Ringing\r\n"));
    let back = match Message::parse(&bytes).unwrap() {
        Message::Response(r) => r,
        Message::Request(_) => panic!(),
    };
    assert_eq!(back.vias().unwrap().len(), 2);
    assert_eq!(back.to().unwrap().tag(), Some("xyz"));
    assert_eq!(back.cseq().unwrap().seq, 5);
}

#[test]
fn default_reasons() {
    assert_eq!(default_reason(180), "Ringing");
    assert_eq!(default_reason(486), "Busy Here");
    assert_eq!(default_reason(487), "Request Terminated");
    assert_eq!(default_reason(499), "Client Error");
    assert_eq!(default_reason(42), "Unknown");
}

#[test]
fn validate_policy_knobs() {
    let text = with_base(
        "INVITE sip:b@x SIP/2.0",
        "Require: 100rel, Timer\r\nAccept: application/*\r\n",
        "INVITE",
    );
    let r = req(&text);
    let mut policy = UasPolicy::default();
    assert_eq!(validate_request(&r, &policy).unwrap_err().status, 420);
    policy.supported = vec!["timer".into(), "100rel".into()];
    assert_eq!(
        validate_request(&r, &policy),
        Ok(()),
        "tags compare case-insensitively"
    );
    // tel: Request-URI only when allowed.
    let tel = req(&with_base("OPTIONS tel:+15551234 SIP/2.0", "", "OPTIONS"));
    assert_eq!(validate_request(&tel, &policy).unwrap_err().status, 416);
    policy
        .allowed_schemes
        .push(dialtone_sip_message::Scheme::Tel);
    assert_eq!(validate_request(&tel, &policy), Ok(()));
    // REGISTER with `Contact: *` is well-formed.
    let star = req(&with_base(
        "REGISTER sip:x SIP/2.0",
        "Contact: *\r\nExpires: 0\r\n",
        "REGISTER",
    ));
    assert_eq!(validate_request(&star, &policy), Ok(()));
    // ACK is never rejected for policy reasons.
    let ack = req(&with_base(
        "ACK sip:b@x SIP/2.0",
        "Require: nope\r\n",
        "ACK",
    ));
    assert_eq!(validate_request(&ack, &UasPolicy::default()), Ok(()));
}

#[test]
fn non_ascii_in_start_line_never_panics() {
    for bad in [
        &b"OPTIONS sip:x SIP\xc3\xa9\r\n\r\n"[..],
        b"OPTIONS sip:x SI\xc3\xa9/2.0\r\n\r\n",
        b"SIP\xc3\xa9 200 OK\r\n\r\n",
        b"\xc3\xa9 sip:x SIP/2.0\r\n\r\n",
        b"SIP/2.0 2\xc3\xa9 OK\r\n\r\n",
    ] {
        assert!(Message::parse(bad).is_err());
    }
}
