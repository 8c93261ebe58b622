//! With `UaConfig::auto_ring` off the application decides before anything rings: an incoming
//! INVITE gets 100 Trying only; `ring` sends the 180; `reject` right away answers with the final
//! status and no 180 ever goes out (do-not-disturb). The default still rings at once.

mod ua_harness;

use dialtone_sip::ua::{CallState, EndReason, UaError};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn statuses(net: &Net) -> Vec<u16> {
    net.sent(|w| {
        w.response()
            .is_some_and(|r| r.cseq().is_ok_and(|c| c.method == Method::Invite))
    })
    .iter()
    .filter_map(|w| w.response().map(|r| r.status))
    .collect()
}

fn call_bob(auto_ring: bool) -> (Net, usize, usize, dialtone_sip::ua::CallId) {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 51);
    let bob = net.add_ua_with(BOB, 52, |c| c.auto_ring = auto_ring);
    net.cmd(alice, |ua, now| {
        ua.invite(now, invite_config(ALICE, BOB, Some("v=0")))
    });
    let incoming = net.incoming_call(bob).expect("bob saw the call");
    (net, alice, bob, incoming)
}

#[test]
fn default_rings_at_once() {
    let (net, ..) = call_bob(true);
    assert_eq!(statuses(&net), [100, 180]);
}

#[test]
fn rejected_before_ringing_sends_no_180() {
    let (mut net, alice, bob, incoming) = call_bob(false);
    assert_eq!(
        statuses(&net),
        [100],
        "nothing but 100 before the app decides"
    );
    net.cmd(bob, |ua, now| ua.reject(now, incoming, 480))
        .expect("reject");
    assert_eq!(statuses(&net), [100, 480]);
    assert_eq!(
        net.call_states(bob, incoming),
        [CallState::Finished {
            reason: EndReason::Rejected { code: 480 }
        }]
    );
    // The caller got the 480 as a final answer and ACKed it.
    assert_eq!(net.sent(|w| w.is_method(&Method::Ack)).len(), 1);
    let failed = net.events(alice).into_iter().any(|e| {
        matches!(
            e,
            dialtone_sip::ua::UaEvent::Call {
                state: CallState::Failed { code: 480, .. },
                ..
            }
        )
    });
    assert!(failed, "alice saw the 480: {:?}", net.events(alice));
}

#[test]
fn ring_sends_180_then_answer_works() {
    let (mut net, _alice, bob, incoming) = call_bob(false);
    net.cmd(bob, |ua, now| ua.ring(now, incoming))
        .expect("ring");
    assert_eq!(statuses(&net), [100, 180]);
    let ringing = &net.sent(|w| w.is_response(180, &Method::Invite))[0];
    assert!(
        ringing
            .response()
            .and_then(|r| r.headers.get("To"))
            .is_some_and(|to| to.contains("tag=")),
        "the 180 makes an early dialog (To tag)"
    );
    net.cmd(bob, |ua, now| ua.answer(now, incoming, b"v=0".to_vec()))
        .expect("answer");
    assert_eq!(statuses(&net), [100, 180, 200]);
    assert_eq!(
        net.cmd(bob, |ua, now| ua.ring(now, incoming)),
        Err(UaError::WrongState {
            call: incoming,
            command: "ring"
        }),
        "an answered call cannot ring"
    );
}
