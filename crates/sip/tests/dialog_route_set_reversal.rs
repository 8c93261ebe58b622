//! RFC 3261 §12.1.1/§12.1.2: the UAS keeps Record-Route in order, the UAC reverses it; both
//! then loose-route in-dialog requests through that set.

use dialtone_sip::dialog::{Dialog, DialogState};
use dialtone_sip_message::{Message, Method, Request, Response};

fn parse(text: &str) -> Message {
    Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("test message parses")
}

fn request(text: &str) -> Request {
    match parse(text) {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

fn response(text: &str) -> Response {
    match parse(text) {
        Message::Response(r) => r,
        Message::Request(_) => panic!("expected a response"),
    }
}

/// The INVITE as Alice sent it and as Bob received it through p1 then p2.
const INVITE: &str = "INVITE sip:bob@biloxi.example SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1
Max-Forwards: 70
From: Alice <sip:alice@atlanta.example>;tag=alicetag
To: Bob <sip:bob@biloxi.example>
Call-ID: call-1@10.0.0.1
CSeq: 1 INVITE
Contact: <sip:alice@10.0.0.1:5060>
Content-Length: 0

";

const INVITE_AT_BOB: &str = "INVITE sip:bob@biloxi.example SIP/2.0
Record-Route: <sip:p2.example;lr>
Record-Route: <sip:p1.example;lr>
Via: SIP/2.0/UDP p2.example;branch=z9hG4bKp2
Via: SIP/2.0/UDP p1.example;branch=z9hG4bKp1
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1
Max-Forwards: 68
From: Alice <sip:alice@atlanta.example>;tag=alicetag
To: Bob <sip:bob@biloxi.example>
Call-ID: call-1@10.0.0.1
CSeq: 1 INVITE
Contact: <sip:alice@10.0.0.1:5060>
Content-Length: 0

";

const OK: &str = "SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1
Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>
From: Alice <sip:alice@atlanta.example>;tag=alicetag
To: Bob <sip:bob@biloxi.example>;tag=bobtag
Call-ID: call-1@10.0.0.1
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.4:5062>
Content-Length: 0

";

fn routes(req: &Request) -> Vec<String> {
    req.routes()
        .expect("Route parses")
        .iter()
        .map(|r| r.uri.to_string())
        .collect()
}

#[test]
fn uac_reverses_record_route() {
    let mut d = Dialog::from_uac(&request(INVITE), &response(OK)).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.id().local_tag, "alicetag");
    assert_eq!(d.id().remote_tag, "bobtag");
    assert_eq!(d.id().call_id, "call-1@10.0.0.1");
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.4:5062");
    let route_uris: Vec<String> = d.route_set().iter().map(|r| r.uri.to_string()).collect();
    assert_eq!(route_uris, ["sip:p1.example;lr", "sip:p2.example;lr"]);

    let bye = d.make_request(Method::Bye);
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:bob@192.0.2.4:5062");
    assert_eq!(routes(&bye), ["sip:p1.example;lr", "sip:p2.example;lr"]);
    assert_eq!(d.next_hop().to_string(), "sip:p1.example;lr");
    assert_eq!(bye.from().unwrap().tag(), Some("alicetag"));
    assert_eq!(bye.to().unwrap().tag(), Some("bobtag"));
    assert_eq!(bye.call_id().unwrap(), "call-1@10.0.0.1");
    assert_eq!(bye.cseq().unwrap().seq, 2);
    assert_eq!(bye.cseq().unwrap().method, Method::Bye);
}

#[test]
fn uas_keeps_record_route_order() {
    let mut d = Dialog::from_uas(&request(INVITE_AT_BOB), "bobtag", None).unwrap();
    assert_eq!(d.id().local_tag, "bobtag");
    assert_eq!(d.id().remote_tag, "alicetag");
    assert_eq!(d.remote_seq(), Some(1));
    assert_eq!(d.local_uri().tag(), Some("bobtag"));
    let bye = d.make_request(Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:alice@10.0.0.1:5060");
    assert_eq!(routes(&bye), ["sip:p2.example;lr", "sip:p1.example;lr"]);
    // Our CSeq space is our own: it starts at 1.
    assert_eq!(bye.cseq().unwrap().seq, 1);
    assert_eq!(bye.from().unwrap().tag(), Some("bobtag"));
    assert_eq!(bye.to().unwrap().tag(), Some("alicetag"));
}

#[test]
fn ack_for_2xx_reuses_the_invite_cseq_and_routes() {
    let d = Dialog::from_uac(&request(INVITE), &response(OK)).unwrap();
    let ack = d.make_ack(1);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri.to_string(), "sip:bob@192.0.2.4:5062");
    assert_eq!(routes(&ack), ["sip:p1.example;lr", "sip:p2.example;lr"]);
    let cseq = ack.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Ack));
    assert_eq!(d.local_seq(), 1, "ACK does not consume a CSeq");
}

#[test]
fn provisional_with_tag_makes_an_early_dialog_that_a_2xx_confirms() {
    let ringing = response(&OK.replace("200 OK", "180 Ringing").replace(
        "Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>\n",
        "",
    ));
    let mut d = Dialog::from_uac(&request(INVITE), &ringing).unwrap();
    assert_eq!(d.state(), DialogState::Early);
    assert!(d.route_set().is_empty());
    d.handle_response(&response(OK)).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.route_set().len(), 2, "the 2xx's Record-Route wins");
}

#[test]
fn trying_and_tagless_responses_make_no_dialog() {
    let trying = response(&OK.replace("200 OK", "100 Trying"));
    assert!(Dialog::from_uac(&request(INVITE), &trying).is_err());
    let tagless = response(&OK.replace(";tag=bobtag", ""));
    assert!(Dialog::from_uac(&request(INVITE), &tagless).is_err());
    let busy = response(&OK.replace("200 OK", "486 Busy Here"));
    assert!(Dialog::from_uac(&request(INVITE), &busy).is_err());
}
