//! Two user agents back to back: INVITE → 100 → 180 → 200 → ACK, then BYE from either side
//! (RFC 3261 §13, §15).

mod ua_harness;

use dialtone_sip::ua::{CallState, EndReason, UaEvent};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn established(sdp: &str) -> CallState {
    CallState::Established {
        sdp: Some(sdp.as_bytes().to_vec()),
        needs_answer: false,
    }
}

fn setup() -> (Net, usize, usize) {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 11);
    let bob = net.add_ua(BOB, 22);
    (net, alice, bob)
}

#[test]
fn call_is_set_up_and_alice_hangs_up() {
    let (mut net, alice, bob) = setup();
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0 alice")))
    });
    let incoming = net.incoming_call(bob).expect("bob sees the call");
    match &net.events(bob)[0] {
        UaEvent::IncomingCall { from, sdp, .. } => {
            assert_eq!(from.uri.to_string(), "sip:alice@example.com");
            assert_eq!(from.display_name.as_deref(), Some("Alice"));
            assert_eq!(sdp.as_deref(), Some(b"v=0 alice".as_slice()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        net.call_states(alice, call),
        [CallState::Pending, CallState::Trying, CallState::Ringing]
    );

    net.cmd(bob, |ua, now| ua.answer(now, incoming, b"v=0 bob".to_vec()))
        .unwrap();
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&established("v=0 bob"))
    );
    assert_eq!(net.call_states(bob, incoming), [established("v=0 alice")]);
    let acks = net.sent(|w| w.is_method(&Method::Ack));
    assert_eq!(acks.len(), 1);
    let ack = acks[0].request().unwrap();
    assert_eq!(
        ack.uri.to_string(),
        format!("sip:bob@{BOB}"),
        "ACK to bob's Contact"
    );
    assert_eq!(ack.cseq().unwrap().seq, 1);

    // Nothing is retransmitted once the ACK is in.
    let before = net.log.len();
    net.run_for(secs(40));
    assert_eq!(net.log.len(), before);

    net.cmd(alice, |ua, now| ua.hangup(now, call)).unwrap();
    let byes = net.sent(|w| w.is_method(&Method::Bye));
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].request().unwrap().cseq().unwrap().seq, 2);
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Finished {
            reason: EndReason::Hangup
        })
    );
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&CallState::Finished {
            reason: EndReason::RemoteHangup
        })
    );
    // Both forget the call once the transactions are over.
    net.run_for(secs(60));
    assert!(net.ua(alice).call_state(call).is_none());
    assert!(net.ua(bob).call_state(incoming).is_none());
}

#[test]
fn bob_hangs_up() {
    let (mut net, alice, bob) = setup();
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0 alice")))
    });
    let incoming = net.incoming_call(bob).unwrap();
    net.cmd(bob, |ua, now| ua.answer(now, incoming, b"v=0 bob".to_vec()))
        .unwrap();
    net.cmd(bob, |ua, now| ua.hangup(now, incoming)).unwrap();
    let bye = net.sent(|w| w.is_method(&Method::Bye))[0]
        .request()
        .unwrap()
        .clone();
    assert_eq!(
        bye.uri.to_string(),
        format!("sip:alice@{ALICE}"),
        "to alice's Contact"
    );
    assert_eq!(
        bye.from().unwrap().tag(),
        net.sent(|w| w.is_response(200, &Method::Invite))[0]
            .response()
            .unwrap()
            .to()
            .unwrap()
            .tag()
    );
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Finished {
            reason: EndReason::RemoteHangup
        })
    );
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&CallState::Finished {
            reason: EndReason::Hangup
        })
    );
}

#[test]
fn late_offer_answer_rides_in_the_ack() {
    let (mut net, alice, bob) = setup();
    let call = net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, None))
    });
    let incoming = net.incoming_call(bob).unwrap();
    match &net.events(bob)[0] {
        UaEvent::IncomingCall { sdp, .. } => assert_eq!(sdp, &None),
        other => panic!("{other:?}"),
    }
    net.cmd(bob, |ua, now| {
        ua.answer(now, incoming, b"v=0 bob offer".to_vec())
    })
    .unwrap();
    assert_eq!(
        net.call_states(alice, call).last(),
        Some(&CallState::Established {
            sdp: Some(b"v=0 bob offer".to_vec()),
            needs_answer: true
        })
    );
    assert!(
        net.sent(|w| w.is_method(&Method::Ack)).is_empty(),
        "ACK waits for the answer"
    );
    net.cmd(alice, |ua, now| {
        ua.answer(now, call, b"v=0 alice answer".to_vec())
    })
    .unwrap();
    let acks = net.sent(|w| w.is_method(&Method::Ack));
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].request().unwrap().body, b"v=0 alice answer");
    assert_eq!(
        net.call_states(bob, incoming).last(),
        Some(&established("v=0 alice answer"))
    );
}
