//! Requests outside calls (RFC 3261 §8.2, §11, §12.2.2): OPTIONS gets 200 with Allow/Accept/
//! Supported, unknown methods 501, known but unsupported ones 405 with Allow, requests for a
//! dialog we do not have 481, and requests failing validation the rejection response.

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip_message::{Message, Response};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const PROBE: &str = "127.0.0.1:5099";

fn probe(method: &str, extra: &str, to_tag: &str) -> Response {
    let mut net = Net::new();
    net.add_ua(ALICE, 91);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PROBE, recorder(log.clone()));
    let req = request_text(&format!(
        "{method} sip:alice@{ALICE} SIP/2.0
Via: SIP/2.0/UDP {PROBE};branch=z9hG4bKprobe1
Max-Forwards: 70
From: <sip:probe@example.com>;tag=p1
To: <sip:alice@example.com>{to_tag}
Call-ID: probe-call
CSeq: 1 {method}
{extra}Content-Length: 0

"
    ));
    net.inject(PROBE, ALICE, Message::Request(req));
    let answers: Vec<Response> = log
        .borrow()
        .iter()
        .filter_map(|m| m.as_response().cloned())
        .collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    answers[0].clone()
}

#[test]
fn options_lists_capabilities() {
    let r = probe("OPTIONS", "", "");
    assert_eq!(r.status, 200);
    let allow = r.headers.get("Allow").unwrap();
    for m in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"] {
        assert!(allow.contains(m), "{allow}");
    }
    let accept = r.headers.get("Accept").unwrap();
    for t in ["application/sdp", "application/dtmf-relay", "text/plain"] {
        assert!(accept.contains(t), "{accept}");
    }
    let supported = r.headers.get("Supported").unwrap();
    assert!(supported.contains("timer") && supported.contains("replaces"));
    assert!(r.to().unwrap().tag().is_some());
}

#[test]
fn unknown_method_is_501() {
    assert_eq!(probe("FROBNICATE", "", "").status, 501);
}

#[test]
fn known_but_unsupported_method_is_405_with_allow() {
    for method in ["REGISTER", "PUBLISH"] {
        let r = probe(method, "", "");
        assert_eq!(r.status, 405, "{method}");
        let allow = r.headers.get("Allow").unwrap();
        assert!(
            allow.contains("INVITE") && !allow.contains(method),
            "{allow}"
        );
    }
}

#[test]
fn requests_for_unknown_dialogs_are_481() {
    for method in ["BYE", "INFO", "INVITE"] {
        assert_eq!(probe(method, "", ";tag=nosuch").status, 481, "{method}");
    }
    assert_eq!(probe("BYE", "", "").status, 481, "BYE without a dialog");
}

#[test]
fn unsupported_extension_is_420() {
    let r = probe("OPTIONS", "Require: frobnication\n", "");
    assert_eq!(r.status, 420);
    assert_eq!(r.headers.get("Unsupported"), Some("frobnication"));
}

#[test]
fn request_without_cseq_gets_400() {
    let mut net = Net::new();
    net.add_ua(ALICE, 92);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PROBE, recorder(log.clone()));
    let mut req = request_text(&format!(
        "OPTIONS sip:alice@{ALICE} SIP/2.0
Via: SIP/2.0/UDP {PROBE};branch=z9hG4bKprobe2
Max-Forwards: 70
From: <sip:probe@example.com>;tag=p1
To: <sip:alice@example.com>
Call-ID: probe-call
CSeq: 1 OPTIONS
Content-Length: 0

"
    ));
    req.headers.remove("CSeq");
    net.inject(PROBE, ALICE, Message::Request(req));
    let answers: Vec<u16> = log
        .borrow()
        .iter()
        .filter_map(|m| m.as_response().map(|r| r.status))
        .collect();
    assert_eq!(answers, [400]);
}
