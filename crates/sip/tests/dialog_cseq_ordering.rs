//! RFC 3261 §12.2.1.1 / §12.2.2: our CSeq increases by one per request; a peer's request with a
//! lower CSeq than the last is refused with 500; ACK and CANCEL share the INVITE's number.

use dialtone_sip::dialog::{Dialog, DialogError};
use dialtone_sip_message::{Message, Method, Request};

fn request(text: &str) -> Request {
    match Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("test message parses") {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

fn in_dialog(method: &str, seq: u32) -> Request {
    request(&format!(
        "{method} sip:bob@192.0.2.4 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK{method}{seq}
Max-Forwards: 70
From: <sip:alice@atlanta.example>;tag=a
To: <sip:bob@biloxi.example>;tag=b
Call-ID: c3
CSeq: {seq} {method}
Contact: <sip:alice@10.0.0.1>
Content-Length: 0

"
    ))
}

fn uas_dialog() -> Dialog {
    let invite = request(
        "INVITE sip:bob@biloxi.example SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKinv
Max-Forwards: 70
From: <sip:alice@atlanta.example>;tag=a
To: <sip:bob@biloxi.example>
Call-ID: c3
CSeq: 10 INVITE
Contact: <sip:alice@10.0.0.1>
Content-Length: 0

",
    );
    Dialog::from_uas(&invite, "b", None).unwrap()
}

#[test]
fn higher_cseq_accepted_lower_refused_with_500() {
    let mut d = uas_dialog();
    assert_eq!(d.handle_request(&in_dialog("ACK", 10)), Ok(()));
    assert_eq!(d.handle_request(&in_dialog("INFO", 11)), Ok(()));
    assert_eq!(d.remote_seq(), Some(11));
    let err = d.handle_request(&in_dialog("INFO", 9)).unwrap_err();
    assert_eq!(err, DialogError::OutOfOrder { got: 9, last: 11 });
    assert_eq!(err.status(), 500);
    assert_eq!(d.remote_seq(), Some(11));
    // Gaps are fine (§12.2.2: only lower is out of order).
    assert_eq!(d.handle_request(&in_dialog("BYE", 20)), Ok(()));
    assert_eq!(d.remote_seq(), Some(20));
}

#[test]
fn local_cseq_increments_per_request() {
    let mut d = uas_dialog();
    let seqs: Vec<(u32, Method)> = [Method::Info, Method::Update, Method::Bye]
        .into_iter()
        .map(|m| {
            let c = d.make_request(m).cseq().unwrap();
            (c.seq, c.method)
        })
        .collect();
    assert_eq!(
        seqs,
        [(1, Method::Info), (2, Method::Update), (3, Method::Bye)]
    );
    assert_eq!(d.local_seq(), 3);
}
