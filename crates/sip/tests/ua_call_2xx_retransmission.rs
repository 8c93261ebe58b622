//! RFC 3261 §13.3.1.4 / §13.2.2.4: the callee retransmits its 2xx (T1, doubling, capped at T2)
//! until the ACK; the caller answers every retransmitted 2xx with the same ACK again; without
//! any ACK the callee gives up after 64·T1 and sends BYE.

mod ua_harness;

use std::cell::Cell;
use std::rc::Rc;

use dialtone_sip::ua::{CallState, EndReason};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

#[test]
fn lost_ack_is_resent_for_the_retransmitted_2xx() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 71);
    let bob = net.add_ua(BOB, 72);
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0 alice")))
    });
    let incoming = net.incoming_call(bob).unwrap();
    // Lose the first ACK only.
    let acks_seen = Rc::new(Cell::new(0));
    let seen = acks_seen.clone();
    net.drop = Some(Box::new(move |w| {
        if w.is_method(&Method::Ack) {
            seen.set(seen.get() + 1);
            return seen.get() == 1;
        }
        false
    }));
    let answered_at = net.now;
    net.cmd(bob, |ua, now| ua.answer(now, incoming, b"v=0 bob".to_vec()))
        .unwrap();
    assert!(matches!(
        net.call_states(alice, call).last(),
        Some(CallState::Established { .. })
    ));
    assert!(net.call_states(bob, incoming).is_empty(), "no ACK yet");

    net.run_for(secs(1));
    let oks = net.sent(|w| w.is_response(200, &Method::Invite));
    assert_eq!(oks.len(), 2, "one retransmission at T1");
    assert_eq!(
        oks[1].at,
        answered_at + std::time::Duration::from_millis(500)
    );
    let acks = net.sent(|w| w.is_method(&Method::Ack));
    assert_eq!(acks.len(), 2, "the ACK is sent again");
    assert_eq!(
        acks[0].request().unwrap().to_bytes(),
        acks[1].request().unwrap().to_bytes(),
        "the very same ACK"
    );
    assert!(matches!(
        net.call_states(bob, incoming).as_slice(),
        [CallState::Established { .. }]
    ));
    // Established once on alice's side despite the second 2xx.
    let established = net
        .call_states(alice, call)
        .into_iter()
        .filter(|s| matches!(s, CallState::Established { .. }))
        .count();
    assert_eq!(established, 1);
    net.run_for(secs(40));
    assert_eq!(net.sent(|w| w.is_response(200, &Method::Invite)).len(), 2);
}

#[test]
fn no_ack_at_all_ends_with_bye_after_64_t1() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 73);
    let bob = net.add_ua(BOB, 74);
    net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0 alice")))
    });
    let incoming = net.incoming_call(bob).unwrap();
    net.drop = Some(Box::new(|w| w.is_method(&Method::Ack)));
    let answered_at = net.now;
    net.cmd(bob, |ua, now| ua.answer(now, incoming, b"v=0 bob".to_vec()))
        .unwrap();
    net.run_for(secs(31));
    assert!(net.sent(|w| w.is_method(&Method::Bye)).is_empty());
    let oks: Vec<_> = net
        .sent(|w| w.is_response(200, &Method::Invite) && w.from == addr(BOB))
        .iter()
        .map(|w| (w.at - answered_at).as_millis())
        .collect();
    // 0, then T1 doubling to T2 = 4 s: 0.5, 1.5, 3.5, 7.5, 11.5, ...
    assert_eq!(&oks[..6], &[0, 500, 1500, 3500, 7500, 11500]);
    net.run_for(secs(2));
    let byes = net.sent(|w| w.is_method(&Method::Bye));
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].at - answered_at, secs(32));
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&CallState::Finished {
            reason: EndReason::AckTimeout
        })
    );
}
