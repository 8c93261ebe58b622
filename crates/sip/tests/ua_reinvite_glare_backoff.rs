//! re-INVITE glare (RFC 3261 §14.1, §14.2): two re-INVITEs cross, both get 491, and each side
//! tries again after its back-off — 2.1–4 s for the caller (who generated the Call-ID), 0–2 s
//! for the callee — so both offers eventually go through.

mod ua_harness;

use std::time::Duration;

use dialtone_sip::ua::{CallId, UaEvent};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

/// Runs `total` in 10 ms steps; every offer reported on either side is answered at once with
/// `"v=0 answer from <node>"`.
fn run_answering(net: &mut Net, nodes: [(usize, CallId); 2], total: Duration) {
    let mut answered = [0usize; 2];
    let steps = total.as_millis() / 10;
    for _ in 0..steps {
        net.run_for(Duration::from_millis(10));
        for (i, (node, call)) in nodes.into_iter().enumerate() {
            let offers = remote_offers(net, node, call).len();
            while answered[i] < offers {
                answered[i] += 1;
                let sdp = format!("v=0 answer from {node}").into_bytes();
                net.cmd(node, |ua, now| ua.answer_offer(now, call, sdp))
                    .expect("offer waits");
            }
        }
    }
}

/// Seconds after `start` at which `from` sent re-INVITEs (INVITEs with a To tag).
fn reinvite_times(net: &Net, from: &str) -> Vec<f64> {
    let from = addr(from);
    net.sent(|w| {
        w.from == from
            && w.is_method(&Method::Invite)
            && w.request().unwrap().to().unwrap().tag().is_some()
    })
    .iter()
    .map(|w| (w.at - net.start).as_secs_f64())
    .collect()
}

#[test]
fn crossing_reinvites_get_491_and_retry_after_their_backoffs() {
    for seed in 1..=8u64 {
        let mut net = Net::new();
        let a = net.add_ua(ALICE, seed);
        let b = net.add_ua(BOB, seed * 1000 + 7);
        let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);
        // Both offer before either hears the other.
        net.cmd_no_deliver(a, |ua, now| {
            ua.reinvite(now, ac, b"v=0 alice hold".to_vec())
        })
        .unwrap();
        net.cmd_no_deliver(b, |ua, now| ua.reinvite(now, bc, b"v=0 bob hold".to_vec()))
            .unwrap();
        net.deliver();
        assert_eq!(
            net.sent(|w| w.is_response(491, &Method::Invite)).len(),
            2,
            "both re-INVITEs refused"
        );
        assert!(remote_offers(&net, a, ac).is_empty());
        assert!(remote_offers(&net, b, bc).is_empty());

        run_answering(&mut net, [(a, ac), (b, bc)], secs(6));

        let alice = reinvite_times(&net, ALICE);
        let bob = reinvite_times(&net, BOB);
        assert_eq!(alice.len(), 2, "seed {seed}: alice {alice:?}");
        assert_eq!(bob.len(), 2, "seed {seed}: bob {bob:?}");
        let alice_wait = alice[1] - alice[0];
        let bob_wait = bob[1] - bob[0];
        assert!(
            (2.1..=4.0 + 1e-9).contains(&alice_wait),
            "seed {seed}: caller waited {alice_wait}"
        );
        assert!(
            (0.0..=2.0 + 1e-9).contains(&bob_wait),
            "seed {seed}: callee waited {bob_wait}"
        );
        // Each side's offer reached the other and its answer came back.
        assert_eq!(remote_offers(&net, b, bc), vec![b"v=0 alice hold".to_vec()]);
        assert_eq!(remote_offers(&net, a, ac), vec![b"v=0 bob hold".to_vec()]);
        assert_eq!(
            remote_sdps(&net, a, ac),
            vec![format!("v=0 answer from {b}").into_bytes()]
        );
        assert_eq!(
            remote_sdps(&net, b, bc),
            vec![format!("v=0 answer from {a}").into_bytes()]
        );
    }
}

#[test]
fn new_offer_during_the_backoff_replaces_the_refused_one() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 3);
    let b = net.add_ua(BOB, 4);
    let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);
    net.cmd_no_deliver(a, |ua, now| ua.reinvite(now, ac, b"v=0 hold".to_vec()))
        .unwrap();
    net.cmd_no_deliver(b, |ua, now| ua.reinvite(now, bc, b"v=0 bob".to_vec()))
        .unwrap();
    net.deliver();
    // During the back-off, the user resumes instead.
    net.cmd(a, |ua, now| ua.reinvite(now, ac, b"v=0 resume".to_vec()))
        .unwrap();
    run_answering(&mut net, [(a, ac), (b, bc)], secs(6));
    assert_eq!(remote_offers(&net, b, bc), vec![b"v=0 resume".to_vec()]);
    assert!(!net
        .events(a)
        .iter()
        .any(|e| matches!(e, UaEvent::OfferFailed { .. })));
}
