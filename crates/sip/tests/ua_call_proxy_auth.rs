//! 407 on INVITE (RFC 3261 §22.3): the INVITE is re-sent with Proxy-Authorization, the next
//! CSeq and the same Call-ID and From tag; the ACK for the 2xx carries the same credentials;
//! a wrong password ends the call instead of looping.

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::auth::{authorize, Challenge, Credentials};
use dialtone_sip::ua::CallState;
use dialtone_sip_message::{Message, Method, Request};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const PROXY: &str = "127.0.0.1:5060";

/// A proxy-ish UAS: 407 unless the INVITE carries a correct Proxy-Authorization, then 200.
fn challenging_uas(password: &'static str, log: Rc<RefCell<Vec<Request>>>) -> Script {
    Box::new(move |_, from, msg| {
        let Message::Request(req) = msg else {
            return Vec::new();
        };
        log.borrow_mut().push(req.clone());
        if req.method != Method::Invite {
            return Vec::new();
        }
        let challenge =
            r#"Digest realm="proxy.example", nonce="pn1", qop="auth", algorithm=SHA-256"#;
        let ok = req.headers.get("Proxy-Authorization").is_some_and(|v| {
            let ch = Challenge::parse(challenge).unwrap();
            let (Some(uri), Some(cnonce), Some(nc)) = (
                digest_param(v, "uri"),
                digest_param(v, "cnonce"),
                digest_param(v, "nc"),
            ) else {
                return false;
            };
            let nc = u32::from_str_radix(&nc, 16).unwrap_or(0);
            let expected = authorize(
                &ch,
                &Credentials::new("alice", password),
                &req.method,
                &uri,
                &req.body,
                nc,
                &cnonce,
            );
            digest_param(&expected, "response") == digest_param(v, "response")
        });
        let resp = if ok {
            let mut r = reply(&req, 200, "uastag");
            r.headers.push("Contact", format!("<sip:bob@{PROXY}>"));
            r.headers.push("Content-Type", "application/sdp");
            r.body = b"v=0 bob".to_vec();
            r
        } else {
            let mut r = reply(&req, 407, "proxytag");
            r.headers.push("Proxy-Authenticate", challenge);
            r
        };
        vec![(from, Message::Response(resp))]
    })
}

fn call_through_proxy(password: &str) -> (Net, usize, dialtone_sip::ua::CallId) {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 81);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PROXY, challenging_uas("secret", log));
    let mut cfg = invite_config(ALICE, PROXY, Some("v=0 alice"));
    cfg.auth = Some(Credentials::new("alice", password));
    let call = net.cmd(alice, |ua, now| ua.invite(now, cfg));
    (net, alice, call)
}

#[test]
fn invite_is_retried_with_proxy_authorization() {
    let (net, alice, call) = call_through_proxy("secret");
    assert!(matches!(
        net.call_states(alice, call).last(),
        Some(CallState::Established { .. })
    ));
    let invites = net.sent(|w| w.is_method(&Method::Invite));
    assert_eq!(invites.len(), 2);
    let (first, second) = (invites[0].request().unwrap(), invites[1].request().unwrap());
    assert!(first.headers.get("Proxy-Authorization").is_none());
    let auth = second.headers.get("Proxy-Authorization").unwrap();
    assert!(auth.contains("algorithm=SHA-256"), "{auth}");
    assert_eq!(second.cseq().unwrap().seq, 2);
    assert_eq!(second.call_id().unwrap(), first.call_id().unwrap());
    assert_eq!(second.from().unwrap().tag(), first.from().unwrap().tag());
    assert_eq!(second.body, first.body);
    // ACK for the 407 (by the transaction, CSeq 1) and for the 200 (CSeq 2, with credentials).
    let acks = net.sent(|w| w.is_method(&Method::Ack));
    assert_eq!(acks.len(), 2);
    let ack2 = acks[1].request().unwrap();
    assert_eq!(ack2.cseq().unwrap().seq, 2);
    assert_eq!(ack2.headers.get("Proxy-Authorization"), Some(auth));
}

#[test]
fn wrong_password_fails_once() {
    let (net, alice, call) = call_through_proxy("wrong");
    assert_eq!(net.sent(|w| w.is_method(&Method::Invite)).len(), 2);
    match net.call_states(alice, call).last() {
        Some(CallState::Failed { code: 407, reason }) => {
            assert!(reason.contains("rejected the credentials"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
