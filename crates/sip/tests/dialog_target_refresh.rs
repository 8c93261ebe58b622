//! RFC 3261 §12.2: re-INVITE/UPDATE carrying a Contact replace the remote target (on the UAS
//! side when received, on the UAC side from the 2xx); other requests do not.

use dialtone_sip::dialog::Dialog;
use dialtone_sip_message::{Message, Method, NameAddr, Request, Response};

fn parse(text: &str) -> Message {
    Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("test message parses")
}

fn request(method: &str, seq: u32, contact: &str) -> Request {
    match parse(&format!(
        "{method} sip:bob@biloxi.example SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK{seq}
Max-Forwards: 70
From: <sip:alice@atlanta.example>;tag=a
To: <sip:bob@biloxi.example>{}
Call-ID: c4
CSeq: {seq} {method}
{contact}Content-Length: 0

",
        if seq == 1 { "" } else { ";tag=b" }
    )) {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

fn ok(method: &str, seq: u32, contact: &str) -> Response {
    match parse(&format!(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK{seq}
From: <sip:alice@atlanta.example>;tag=a
To: <sip:bob@biloxi.example>;tag=b
Call-ID: c4
CSeq: {seq} {method}
{contact}Content-Length: 0

"
    )) {
        Message::Response(r) => r,
        Message::Request(_) => panic!("expected a response"),
    }
}

#[test]
fn uas_applies_reinvite_and_update_contacts() {
    let invite = request("INVITE", 1, "Contact: <sip:alice@10.0.0.1>\n");
    let contact = NameAddr::parse("<sip:bob@192.0.2.4>").unwrap();
    let mut d = Dialog::from_uas(&invite, "b", Some(contact)).unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:alice@10.0.0.1");

    d.handle_request(&request("INFO", 2, "Contact: <sip:alice@10.9.9.9>\n"))
        .unwrap();
    assert_eq!(
        d.remote_target().to_string(),
        "sip:alice@10.0.0.1",
        "INFO is no refresh"
    );

    d.handle_request(&request(
        "INVITE",
        3,
        "Contact: <sip:alice@10.0.0.2:5070>\n",
    ))
    .unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:alice@10.0.0.2:5070");

    d.handle_request(&request("UPDATE", 4, "Contact: <sip:alice@10.0.0.3>\n"))
        .unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:alice@10.0.0.3");

    d.handle_request(&request("INVITE", 5, "")).unwrap();
    assert_eq!(
        d.remote_target().to_string(),
        "sip:alice@10.0.0.3",
        "no Contact, no change"
    );

    // Our re-INVITE carries our Contact; a BYE does not need it.
    let reinvite = d.make_request(Method::Invite);
    assert_eq!(
        reinvite.contacts().unwrap()[0].uri.to_string(),
        "sip:bob@192.0.2.4"
    );
    let bye = d.make_request(Method::Bye);
    assert!(bye.headers.get("Contact").is_none());
}

#[test]
fn uac_applies_the_contact_of_a_2xx_to_its_reinvite() {
    let invite = request("INVITE", 1, "Contact: <sip:alice@10.0.0.1>\n");
    let mut d =
        Dialog::from_uac(&invite, &ok("INVITE", 1, "Contact: <sip:bob@192.0.2.4>\n")).unwrap();
    let reinvite = d.make_request(Method::Invite);
    assert_eq!(reinvite.uri.to_string(), "sip:bob@192.0.2.4");
    let seq = reinvite.cseq().unwrap().seq;
    d.handle_response(&ok("INVITE", seq, "Contact: <sip:bob@192.0.2.99:5080>\n"))
        .unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.99:5080");
    let info = d.make_request(Method::Info);
    d.handle_response(&ok(
        "INFO",
        info.cseq().unwrap().seq,
        "Contact: <sip:bob@1.1.1.1>\n",
    ))
    .unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.99:5080");
}
