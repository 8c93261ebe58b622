//! Hanging up before the answer sends CANCEL (RFC 3261 §9): the callee answers 200 to the
//! CANCEL and 487 to the INVITE. If the callee's 200 to the INVITE crosses our CANCEL, we ACK
//! it and send BYE.

mod ua_harness;

use dialtone_sip::ua::{CallState, EndReason};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

#[test]
fn cancel_while_ringing() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 31);
    let bob = net.add_ua(BOB, 32);
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0")))
    });
    let incoming = net.incoming_call(bob).unwrap();
    net.cmd(alice, |ua, now| ua.hangup(now, call)).unwrap();

    assert_eq!(net.sent(|w| w.is_method(&Method::Cancel)).len(), 1);
    assert_eq!(net.sent(|w| w.is_response(200, &Method::Cancel)).len(), 1);
    assert_eq!(net.sent(|w| w.is_response(487, &Method::Invite)).len(), 1);
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Finished {
            reason: EndReason::Cancelled
        })
    );
    assert_eq!(
        net.call_states(bob, incoming),
        [CallState::Finished {
            reason: EndReason::RemoteCancelled
        }]
    );
    // The 487 is ACKed by alice's transaction layer, so bob stops retransmitting it.
    net.run_for(secs(40));
    assert_eq!(net.sent(|w| w.is_response(487, &Method::Invite)).len(), 1);
    assert!(net.ua(bob).call_state(incoming).is_none());
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 33);
    let bob = net.add_ua(BOB, 34);
    let bob_addr = addr(BOB);
    // Everything bob sends is lost at first.
    net.drop = Some(Box::new(move |w| w.from == bob_addr));
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0")))
    });
    net.cmd(alice, |ua, now| ua.hangup(now, call)).unwrap();
    assert!(
        net.sent(|w| w.is_method(&Method::Cancel)).is_empty(),
        "RFC 3261 §9.1: no CANCEL before a provisional"
    );
    // Bob's answers get through again; the INVITE retransmission (Timer A) draws his 180 again.
    net.drop = None;
    net.run_for(secs(1));
    assert_eq!(net.sent(|w| w.is_method(&Method::Cancel)).len(), 1);
    let incoming = net.incoming_call(bob).unwrap();
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Finished {
            reason: EndReason::Cancelled
        })
    );
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&CallState::Finished {
            reason: EndReason::RemoteCancelled
        })
    );
}

#[test]
fn answer_crossing_cancel_is_acked_then_byed() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 35);
    let bob = net.add_ua(BOB, 36);
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0 alice")))
    });
    let incoming = net.incoming_call(bob).unwrap();
    // Both act before either message arrives.
    net.cmd_no_deliver(alice, |ua, now| ua.hangup(now, call))
        .unwrap();
    net.cmd_no_deliver(bob, |ua, now| ua.answer(now, incoming, b"v=0 bob".to_vec()))
        .unwrap();
    net.deliver();

    assert_eq!(net.sent(|w| w.is_response(200, &Method::Cancel)).len(), 1);
    assert!(net.sent(|w| w.is_response(487, &Method::Invite)).is_empty());
    assert_eq!(net.sent(|w| w.is_method(&Method::Ack)).len(), 1);
    assert_eq!(net.sent(|w| w.is_method(&Method::Bye)).len(), 1);
    let states = net.call_states(alice, call);
    assert!(
        !states
            .iter()
            .any(|s| matches!(s, CallState::Established { .. })),
        "{states:?}"
    );
    assert_eq!(
        states.last(),
        Some(&CallState::Finished {
            reason: EndReason::Cancelled
        })
    );
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&CallState::Finished {
            reason: EndReason::RemoteHangup
        })
    );
}
