//! Rejections (RFC 3261 §13.3.1.3, §21.4–§21.6): 486 and 600 are "busy", other codes "failed";
//! the transaction layer ACKs them.

mod ua_harness;

use dialtone_sip::ua::{CallState, EndReason, UaError};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn rejected_with(code: u16) -> (Vec<CallState>, Vec<CallState>, Net) {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 41);
    let bob = net.add_ua(BOB, 42);
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0")))
    });
    let incoming = net.incoming_call(bob).unwrap();
    net.cmd(bob, |ua, now| ua.reject(now, incoming, code))
        .unwrap();
    let a = net.call_states(alice, call);
    let b = net.call_states(bob, incoming);
    (a, b, net)
}

#[test]
fn busy_here() {
    let (alice, bob, net) = rejected_with(486);
    assert_eq!(alice.last(), Some(&CallState::Busy { code: 486 }));
    assert_eq!(
        bob,
        [CallState::Finished {
            reason: EndReason::Rejected { code: 486 }
        }]
    );
    // The ACK for the 486 comes from alice's INVITE transaction, with the INVITE's branch.
    let acks = net.sent(|w| w.is_method(&Method::Ack));
    assert_eq!(acks.len(), 1);
    let invite = &net.sent(|w| w.is_method(&Method::Invite))[0];
    assert_eq!(
        acks[0].request().unwrap().top_via().unwrap().branch(),
        invite.request().unwrap().top_via().unwrap().branch()
    );
}

#[test]
fn busy_everywhere() {
    let (alice, _, _) = rejected_with(600);
    assert_eq!(alice.last(), Some(&CallState::Busy { code: 600 }));
}

#[test]
fn decline_and_unavailable_are_failures() {
    for code in [603, 480] {
        let (alice, _, _) = rejected_with(code);
        match alice.last() {
            Some(CallState::Failed { code: c, reason }) => {
                assert_eq!(*c, code);
                assert!(!reason.is_empty());
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[test]
fn bad_commands_are_refused() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 43);
    let bob = net.add_ua(BOB, 44);
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0")))
    });
    let incoming = net.incoming_call(bob).unwrap();
    assert_eq!(
        net.cmd(bob, |ua, now| ua.reject(now, incoming, 200)),
        Err(UaError::InvalidStatus(200))
    );
    assert!(matches!(
        net.cmd(alice, |ua, now| ua.answer(now, call, b"x".to_vec())),
        Err(UaError::WrongState { .. })
    ));
    net.cmd(bob, |ua, now| ua.reject(now, incoming, 486))
        .unwrap();
    assert!(matches!(
        net.cmd(bob, |ua, now| ua.answer(now, incoming, b"x".to_vec())),
        Err(UaError::WrongState { .. })
    ));
}
