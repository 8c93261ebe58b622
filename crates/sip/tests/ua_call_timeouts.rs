//! Calls nobody answers: Timer B when nothing responds (RFC 3261 §17.1.1.2), our no-answer
//! timeout (CANCEL), and the callee's ring timeout (480).

mod ua_harness;

use dialtone_sip::ua::{CallState, EndReason};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const NOBODY: &str = "127.0.0.1:5099";

#[test]
fn timer_b_fails_the_call_with_408() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 61);
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, NOBODY, Some("v=0")))
    });
    net.run_for(secs(31));
    assert_eq!(net.call_states(alice, call), [CallState::Pending]);
    // Timer A retransmissions: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s → 7 INVITEs by 32 s.
    net.run_for(secs(2));
    assert_eq!(net.sent(|w| w.is_method(&Method::Invite)).len(), 7);
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Failed {
            code: 408,
            reason: "Request Timeout".to_owned()
        })
    );
    assert!(net.ua(alice).call_state(call).is_none());
}

#[test]
fn our_no_answer_timeout_cancels() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 62);
    let bob = net.add_ua(BOB, 63);
    let mut cfg = invite_config(ALICE, BOB, Some("v=0"));
    cfg.no_answer_timeout = Some(secs(20));
    let call = net.cmd(alice, |ua, now| ua.invite(now, cfg));
    net.run_for(secs(19));
    assert!(net.sent(|w| w.is_method(&Method::Cancel)).is_empty());
    net.run_for(secs(2));
    assert_eq!(net.sent(|w| w.is_method(&Method::Cancel)).len(), 1);
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Finished {
            reason: EndReason::NoAnswer
        })
    );
    let incoming = net.incoming_call(bob).unwrap();
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&CallState::Finished {
            reason: EndReason::RemoteCancelled
        })
    );
}

#[test]
fn callee_ring_timeout_answers_480() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 64);
    let bob = net.add_ua(BOB, 65);
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0")))
    });
    net.run_for(secs(121)); // default incoming ring timeout: 120 s
    let incoming = net.incoming_call(bob).unwrap();
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&CallState::Finished {
            reason: EndReason::NoAnswer
        })
    );
    assert!(matches!(
        net.call_states(alice, call).last(),
        Some(CallState::Failed { code: 480, .. })
    ));
}
