//! A 3xx is followed to its first Contact (RFC 3261 §8.1.3.4): new INVITE with the next CSeq,
//! same Call-ID and From tag, Request-URI = the Contact.

mod ua_harness;

use dialtone_sip::ua::CallState;
use dialtone_sip_message::{Message, Method};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const REDIRECTOR: &str = "127.0.0.1:5090";
const BOB: &str = "127.0.0.1:5080";

#[test]
fn moved_temporarily_is_followed() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 51);
    let bob = net.add_ua(BOB, 52);
    net.add_script(
        REDIRECTOR,
        Box::new(|_, from, msg| match msg {
            Message::Request(req) if req.method == Method::Invite => {
                let mut r = reply(&req, 302, "redir");
                r.headers
                    .push("Contact", format!("<sip:bob@{BOB}>, <sip:other@192.0.2.9>"));
                vec![(from, Message::Response(r))]
            }
            _ => Vec::new(),
        }),
    );
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, REDIRECTOR, Some("v=0")))
    });
    let incoming = net.incoming_call(bob).expect("followed to bob");
    net.cmd(bob, |ua, now| ua.answer(now, incoming, b"v=0 bob".to_vec()))
        .unwrap();
    assert!(matches!(
        net.call_states(alice, call).last(),
        Some(CallState::Established { .. })
    ));
    let invites = net.sent(|w| w.is_method(&Method::Invite));
    assert_eq!(invites.len(), 2);
    let (first, second) = (invites[0].request().unwrap(), invites[1].request().unwrap());
    assert_eq!(invites[1].to, addr(BOB));
    assert_eq!(second.uri.to_string(), format!("sip:bob@{BOB}"));
    assert_eq!(second.cseq().unwrap().seq, 2);
    assert_eq!(second.call_id().unwrap(), first.call_id().unwrap());
    assert_eq!(second.from().unwrap().tag(), first.from().unwrap().tag());
    assert_eq!(second.to().unwrap().tag(), None);
    // The 302 was ACKed by the transaction layer.
    assert_eq!(
        net.sent(|w| w.is_method(&Method::Ack) && w.to == addr(REDIRECTOR))
            .len(),
        1
    );
}

#[test]
fn redirect_loop_ends_in_failure() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 53);
    net.add_script(
        REDIRECTOR,
        Box::new(|_, from, msg| match msg {
            Message::Request(req) if req.method == Method::Invite => {
                let mut r = reply(&req, 302, "redir");
                r.headers
                    .push("Contact", format!("<sip:loop@{REDIRECTOR}>"));
                vec![(from, Message::Response(r))]
            }
            _ => Vec::new(),
        }),
    );
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, REDIRECTOR, Some("v=0")))
    });
    assert_eq!(net.sent(|w| w.is_method(&Method::Invite)).len(), 6);
    assert!(matches!(
        net.call_states(alice, call).last(),
        Some(CallState::Failed { code: 302, .. })
    ));
}
