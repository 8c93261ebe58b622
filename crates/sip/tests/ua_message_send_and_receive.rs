//! MESSAGE (RFC 3428): out of dialog and in a call, both ways between two phones; delivery
//! results (200, errors, no answer, too large for UDP); digest challenges answered; incoming
//! bodies checked (text only, UTF-8 only).

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::auth::Credentials;
use dialtone_sip::ua::{MessageConfig, MessageId, UaEvent};
use dialtone_sip_message::{Message, Method, NameAddr, Request};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const PEER: &str = "127.0.0.1:5099";

fn results(net: &Net, node: usize) -> Vec<(MessageId, u16)> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::MessageResult { id, code, .. } => Some((id, code)),
            _ => None,
        })
        .collect()
}

fn received(net: &Net, node: usize) -> Vec<UaEvent> {
    net.events(node)
        .into_iter()
        .filter(|e| matches!(e, UaEvent::MessageReceived { .. }))
        .collect()
}

fn alice() -> NameAddr {
    NameAddr::parse("\"Alice\" <sip:alice@example.com>").unwrap()
}

#[test]
fn message_outside_a_call_is_delivered_and_confirmed() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let cfg = MessageConfig::text(uri(&format!("sip:bob@{BOB}")), alice(), "héllo ✓", udp(BOB));
    let id = net.cmd(a, |ua, now| ua.send_message(now, cfg));
    assert_eq!(results(&net, a), vec![(id, 200)]);
    let got = received(&net, b);
    let [UaEvent::MessageReceived {
        from,
        call,
        content_type,
        body,
    }] = got.as_slice()
    else {
        panic!("one message expected: {got:?}");
    };
    assert_eq!(from.uri, uri("sip:alice@example.com"));
    assert_eq!(*call, None);
    assert_eq!(content_type, "text/plain;charset=UTF-8");
    assert_eq!(body, "héllo ✓");
    let sent = net.sent(|w| w.is_method(&Method::Message))[0]
        .request()
        .unwrap()
        .clone();
    assert!(!sent.headers.contains("Contact"));
    assert!(sent.from().unwrap().tag().is_some());
}

#[test]
fn messages_inside_a_call_go_both_ways_in_the_dialog() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);
    let to_bob = net
        .cmd(a, |ua, now| {
            ua.send_message_in_call(now, ac, "text/plain", b"hi bob".to_vec())
        })
        .unwrap();
    let to_alice = net
        .cmd(b, |ua, now| {
            ua.send_message_in_call(now, bc, "text/plain", b"hi alice".to_vec())
        })
        .unwrap();
    assert_eq!(results(&net, a), vec![(to_bob, 200)]);
    assert_eq!(results(&net, b), vec![(to_alice, 200)]);
    assert!(matches!(
        received(&net, b).as_slice(),
        [UaEvent::MessageReceived { call: Some(c), body, .. }] if *c == bc && body == "hi bob"
    ));
    assert!(matches!(
        received(&net, a).as_slice(),
        [UaEvent::MessageReceived { call: Some(c), body, .. }] if *c == ac && body == "hi alice"
    ));
    let invite = net.sent(|w| w.is_method(&Method::Invite))[0]
        .request()
        .unwrap()
        .clone();
    let msg = net.sent(|w| w.from == addr(ALICE) && w.is_method(&Method::Message))[0]
        .request()
        .unwrap()
        .clone();
    assert_eq!(msg.call_id().unwrap(), invite.call_id().unwrap());
    assert!(msg.to().unwrap().tag().is_some());
}

/// A proxy that challenges MESSAGEs without Proxy-Authorization and accepts the rest.
fn challenging_proxy(seen: Rc<RefCell<Vec<Request>>>) -> Script {
    Box::new(move |_, from, msg| {
        let Message::Request(req) = msg else {
            return Vec::new();
        };
        seen.borrow_mut().push(req.clone());
        let resp = if req.headers.contains("Proxy-Authorization") {
            reply(&req, 202, "proxytag")
        } else {
            let mut r = reply(&req, 407, "proxytag");
            r.headers.push(
                "Proxy-Authenticate",
                r#"Digest realm="example.com", nonce="n1", qop="auth""#,
            );
            r
        };
        vec![(from, Message::Response(resp))]
    })
}

#[test]
fn challenged_message_is_sent_again_with_credentials() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let seen = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PEER, challenging_proxy(seen.clone()));
    let mut cfg = MessageConfig::text(uri("sip:bob@example.com"), alice(), "hi", udp(PEER));
    cfg.auth = Some(Credentials::new("alice", "secret"));
    cfg.route = Some(uri(&format!("sip:{PEER}")));
    let id = net.cmd(a, |ua, now| ua.send_message(now, cfg));
    assert_eq!(results(&net, a), vec![(id, 202)]);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].cseq().unwrap().seq, 2);
    assert_eq!(seen[1].call_id().unwrap(), seen[0].call_id().unwrap());
    assert_eq!(
        seen[1].headers.get("Route"),
        Some(format!("<sip:{PEER};lr>").as_str())
    );
    let auth = seen[1].headers.get("Proxy-Authorization").unwrap();
    assert!(auth.contains(r#"username="alice""#) && auth.contains(r#"uri="sip:bob@example.com""#));
}

#[test]
fn failures_are_reported() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    // Nobody at BOB: no answer.
    let cfg = MessageConfig::text(uri(&format!("sip:bob@{BOB}")), alice(), "hi", udp(BOB));
    let lost = net.cmd(a, |ua, now| ua.send_message(now, cfg));
    net.run_for(secs(31));
    assert!(results(&net, a).is_empty());
    net.run_for(secs(2));
    assert_eq!(results(&net, a), vec![(lost, 408)]);
    // Too large for UDP: not sent at all.
    let big = "x".repeat(1400);
    let cfg = MessageConfig::text(uri(&format!("sip:bob@{BOB}")), alice(), &big, udp(BOB));
    let before = net.sent(|w| w.is_method(&Method::Message)).len();
    let too_big = net.cmd(a, |ua, now| ua.send_message(now, cfg));
    assert_eq!(results(&net, a).last(), Some(&(too_big, 513)));
    assert_eq!(net.sent(|w| w.is_method(&Method::Message)).len(), before);
    // A refusal (no credentials for a challenge).
    net.add_script(PEER, challenging_proxy(Rc::new(RefCell::new(Vec::new()))));
    let cfg = MessageConfig::text(uri("sip:bob@example.com"), alice(), "hi", udp(PEER));
    let refused = net.cmd(a, |ua, now| ua.send_message(now, cfg));
    assert_eq!(results(&net, a).last(), Some(&(refused, 407)));
}

fn incoming(ctype: &str, body: &[u8]) -> (u16, Vec<UaEvent>) {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PEER, recorder(log.clone()));
    let req = peer_request(PEER, ALICE, "MESSAGE", 1, "", "", (ctype, body));
    net.inject(PEER, ALICE, Message::Request(req));
    let status = log
        .borrow()
        .iter()
        .find_map(|m| m.as_response().map(|r| r.status))
        .expect("answered");
    (status, received(&net, a))
}

#[test]
fn incoming_bodies_must_be_utf8_text() {
    let (status, events) = incoming("text/html", "<b>hé</b>".as_bytes());
    assert_eq!(status, 200);
    assert!(matches!(
        events.as_slice(),
        [UaEvent::MessageReceived { content_type, body, .. }]
            if content_type == "text/html" && body == "<b>hé</b>"
    ));
    assert_eq!(incoming("application/json", b"{}").0, 415);
    assert_eq!(incoming("text/plain;charset=ISO-8859-1", b"caf\xe9").0, 415);
    let (status, events) = incoming("text/plain", b"caf\xe9");
    assert_eq!(status, 400);
    assert!(events.is_empty());
    let (status, events) = incoming("", b"");
    assert_eq!(status, 200);
    assert!(events.is_empty());
}
