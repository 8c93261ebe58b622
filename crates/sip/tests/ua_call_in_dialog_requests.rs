//! Requests inside an established call (RFC 3261 §12.2.2): INFO answered 200, a lower CSeq
//! refused with 500, BYE ends the call. (re-INVITE/UPDATE offers: ua_peer_offer_*.rs.)
//! The peer is scripted so it can send exactly these requests.

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::ua::CallState;
use dialtone_sip_message::{Message, Method, Response};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const PEER: &str = "127.0.0.1:5099";

struct Setup {
    net: Net,
    alice: usize,
    log: Rc<RefCell<Vec<Message>>>,
    to_tag: String,
}

/// Peer calls alice; alice answers; the peer ACKs.
fn established() -> Setup {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 101);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PEER, recorder(log.clone()));
    net.inject(
        PEER,
        ALICE,
        Message::Request(request("INVITE", 1, "", "v=0 peer")),
    );
    let call = net.incoming_call(alice).unwrap();
    net.cmd(alice, |ua, now| ua.answer(now, call, b"v=0 alice".to_vec()))
        .unwrap();
    let ok = last_response(&log, 200);
    let to_tag = ok.to().unwrap().tag().unwrap().to_owned();
    net.inject(
        PEER,
        ALICE,
        Message::Request(request("ACK", 1, &to_tag, "")),
    );
    assert!(matches!(
        net.call_states(alice, call).last(),
        Some(CallState::Established { .. })
    ));
    Setup {
        net,
        alice,
        log,
        to_tag,
    }
}

fn request(method: &str, seq: u32, to_tag: &str, body: &str) -> dialtone_sip_message::Request {
    let tag = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    let ctype = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\n"
    };
    let mut r = request_text(&format!(
        "{method} sip:alice@{ALICE} SIP/2.0
Via: SIP/2.0/UDP {PEER};branch=z9hG4bK{method}{seq}
Max-Forwards: 70
From: <sip:peer@example.com>;tag=peertag
To: <sip:alice@example.com>{tag}
Call-ID: in-dialog-call
CSeq: {seq} {method}
Contact: <sip:peer@{PEER}>
{ctype}Content-Length: 0

"
    ));
    r.body = body.as_bytes().to_vec();
    r
}

fn last_response(log: &Rc<RefCell<Vec<Message>>>, status: u16) -> Response {
    log.borrow()
        .iter()
        .rev()
        .find_map(|m| m.as_response().filter(|r| r.status == status).cloned())
        .expect("response present")
}

fn responses(log: &Rc<RefCell<Vec<Message>>>, method: &Method) -> Vec<Response> {
    log.borrow()
        .iter()
        .filter_map(|m| m.as_response())
        .filter(|r| r.cseq().is_ok_and(|c| &c.method == method))
        .cloned()
        .collect()
}

#[test]
fn info_is_answered_and_old_cseq_refused() {
    let Setup {
        mut net,
        log,
        to_tag,
        ..
    } = established();
    net.inject(
        PEER,
        ALICE,
        Message::Request(request("INFO", 5, &to_tag, "")),
    );
    assert_eq!(responses(&log, &Method::Info).last().unwrap().status, 200);
    net.inject(
        PEER,
        ALICE,
        Message::Request(request("INFO", 4, &to_tag, "")),
    );
    assert_eq!(responses(&log, &Method::Info).last().unwrap().status, 500);
    net.inject(
        PEER,
        ALICE,
        Message::Request(request("UPDATE", 6, &to_tag, "")),
    );
    assert_eq!(responses(&log, &Method::Update).last().unwrap().status, 200);
}

#[test]
fn bye_from_peer_ends_the_call() {
    let Setup {
        mut net,
        alice,
        log,
        to_tag,
    } = established();
    net.inject(
        PEER,
        ALICE,
        Message::Request(request("BYE", 2, &to_tag, "")),
    );
    assert_eq!(responses(&log, &Method::Bye).last().unwrap().status, 200);
    let call = net.incoming_call(alice).unwrap();
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Finished {
            reason: dialtone_sip::ua::EndReason::RemoteHangup
        })
    );
    // A second BYE finds no dialog.
    net.inject(
        PEER,
        ALICE,
        Message::Request(request("BYE", 3, &to_tag, "")),
    );
    assert_eq!(responses(&log, &Method::Bye).last().unwrap().status, 481);
}
