//! RFC 3261 §12.2.1.1: with a loose router first in the route set the Request-URI is the remote
//! target; with a strict router (no `lr`) the first route becomes the Request-URI and the remote
//! target is appended to Route.

use dialtone_sip::dialog::Dialog;
use dialtone_sip_message::{Message, Method, Request, Response};

fn parse(text: &str) -> Message {
    Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("test message parses")
}

fn invite() -> Request {
    match parse(
        "INVITE sip:bob@biloxi.example SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa1
Max-Forwards: 70
From: <sip:alice@atlanta.example>;tag=a
To: <sip:bob@biloxi.example>
Call-ID: c2
CSeq: 5 INVITE
Contact: <sip:alice@10.0.0.1>
Content-Length: 0

",
    ) {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

fn ok(record_route: &str) -> Response {
    let text = format!(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa1
{record_route}From: <sip:alice@atlanta.example>;tag=a
To: <sip:bob@biloxi.example>;tag=b
Call-ID: c2
CSeq: 5 INVITE
Contact: <sip:bob@192.0.2.4>
Content-Length: 0

"
    );
    match parse(&text) {
        Message::Response(r) => r,
        Message::Request(_) => panic!("expected a response"),
    }
}

fn route_values(req: &Request) -> Vec<String> {
    req.routes()
        .expect("Route parses")
        .iter()
        .map(|r| r.uri.to_string())
        .collect()
}

#[test]
fn no_route_set_sends_to_the_remote_target() {
    let mut d = Dialog::from_uac(&invite(), &ok("")).unwrap();
    let info = d.make_request(Method::Info);
    assert_eq!(info.uri.to_string(), "sip:bob@192.0.2.4");
    assert!(info.headers.get("Route").is_none());
    assert_eq!(d.next_hop().to_string(), "sip:bob@192.0.2.4");
}

#[test]
fn loose_router_first() {
    let mut d = Dialog::from_uac(
        &invite(),
        &ok("Record-Route: <sip:edge.example;lr>\nRecord-Route: <sip:core.example;lr>\n"),
    )
    .unwrap();
    let bye = d.make_request(Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:bob@192.0.2.4");
    assert_eq!(
        route_values(&bye),
        ["sip:core.example;lr", "sip:edge.example;lr"]
    );
}

#[test]
fn strict_router_first() {
    // Reversed by the UAC: the strict router old.example is first.
    let mut d = Dialog::from_uac(
        &invite(),
        &ok("Record-Route: <sip:next.example;lr>, <sip:old.example;transport=udp;method=INVITE>\n"),
    )
    .unwrap();
    let bye = d.make_request(Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:old.example;transport=udp");
    assert_eq!(
        route_values(&bye),
        ["sip:next.example;lr", "sip:bob@192.0.2.4"]
    );
    assert_eq!(
        d.next_hop().to_string(),
        "sip:old.example;transport=udp;method=INVITE"
    );
}
