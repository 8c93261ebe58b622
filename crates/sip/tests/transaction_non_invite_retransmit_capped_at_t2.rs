//! RFC 3261 §17.1.2.2: over UDP the non-INVITE client transaction retransmits on Timer E
//! (T1 doubling, capped at T2), every T2 once Proceeding, times out on Timer F (64·T1), and
//! after a final response lingers for Timer K (T4) absorbing retransmissions.

mod transaction_harness;

use std::time::{Duration, Instant};

use dialtone_sip::timer::TimerConfig;
use dialtone_sip::transaction::{ClientNonInviteState, TransactionLayer, TransactionState};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

fn millis(values: &[u64]) -> Vec<Duration> {
    values.iter().copied().map(Duration::from_millis).collect()
}

#[test]
fn timer_e_doubles_up_to_t2_then_timer_f_times_out() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let dest = remote(TransportKind::Udp);
    let register = outgoing(Method::Register, TransportKind::Udp, "z9hG4bKreg1");
    let id = layer.send_request(start, dest, register.clone()).unwrap();
    assert_eq!(sent_request(&drain(&mut layer)), register);

    let timeline = run_until(&mut layer, start, start + Duration::from_secs(100));
    let times = transmit_times(&timeline);
    assert_eq!(
        times,
        millis(&[500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500])
    );
    let t2 = TimerConfig::default().t2;
    let mut previous = Duration::ZERO;
    for at in &times {
        assert!(
            *at - previous <= t2,
            "interval {:?} exceeds T2",
            *at - previous
        );
        previous = *at;
    }
    let all = outputs(&timeline);
    assert!(timed_out(&all, id));
    assert!(terminated(&all, id));
    assert_eq!(timeline.last().unwrap().at, Duration::from_secs(32));
    assert!(layer.is_empty());
}

#[test]
fn proceeding_retransmits_every_t2_and_final_response_stops_it() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let dest = remote(TransportKind::Udp);
    let bye = outgoing(Method::Bye, TransportKind::Udp, "z9hG4bKbye1");
    let id = layer.send_request(start, dest, bye.clone()).unwrap();
    drain(&mut layer);

    // Retransmits at 0.5 s and 1.5 s; a 100 arrives at 2 s.
    let early = run_until(&mut layer, start, ms(start, 2000));
    assert_eq!(transmit_times(&early), millis(&[500, 1500]));
    layer
        .handle_message(
            ms(start, 2000),
            dest,
            wire(Message::Response(reply(&bye, 100))),
        )
        .unwrap();
    assert_eq!(surfaced_statuses(&drain(&mut layer), id), vec![100]);
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ClientNonInvite(
            ClientNonInviteState::Proceeding
        ))
    );

    // The pending Timer E (set at 1.5 s for 2 s) fires at 3.5 s, then every T2 = 4 s.
    let proceeding = run_until(&mut layer, start, ms(start, 12_000));
    assert_eq!(transmit_times(&proceeding), millis(&[3500, 7500, 11500]));

    let ok = reply(&bye, 200);
    layer
        .handle_message(ms(start, 12_000), dest, wire(Message::Response(ok.clone())))
        .unwrap();
    assert_eq!(surfaced_statuses(&drain(&mut layer), id), vec![200]);
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ClientNonInvite(
            ClientNonInviteState::Completed
        ))
    );

    // Completed: retransmitted 200s are absorbed, no retransmissions; Timer K = T4 = 5 s.
    layer
        .handle_message(ms(start, 13_000), dest, wire(Message::Response(ok)))
        .unwrap();
    assert!(drain(&mut layer).is_empty());
    assert_eq!(layer.poll_timeout(), Some(ms(start, 17_000)));
    let rest = run_until(&mut layer, start, start + Duration::from_secs(100));
    assert!(transmit_times(&rest).is_empty());
    assert!(terminated(&outputs(&rest), id));
    assert!(!timed_out(&outputs(&rest), id));
    assert!(layer.is_empty());
}
