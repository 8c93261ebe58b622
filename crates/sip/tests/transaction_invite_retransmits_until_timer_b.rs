//! RFC 3261 §17.1.1.2: over UDP the INVITE client transaction retransmits on Timer A (T1,
//! doubling) and gives up on Timer B (64·T1). A provisional response stops both.

mod transaction_harness;

use std::time::{Duration, Instant};

use dialtone_sip::timer::TimerConfig;
use dialtone_sip::transaction::{
    ClientInviteState, TransactionEvent, TransactionLayer, TransactionOutput, TransactionState,
};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

#[test]
fn invite_is_retransmitted_at_timer_a_then_times_out_at_timer_b() {
    let start = Instant::now();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let dest = remote(TransportKind::Udp);
    let invite = outgoing(Method::Invite, TransportKind::Udp, "z9hG4bKinv1");
    let id = layer.send_request(start, dest, invite.clone()).unwrap();

    let first = drain(&mut layer);
    assert_eq!(sent_request(&first), invite);
    assert!(events(&first).is_empty());

    let timeline = run_until(&mut layer, start, start + Duration::from_secs(100));
    let mut times = vec![Duration::ZERO];
    times.extend(transmit_times(&timeline));
    let expected: Vec<Duration> = [0, 500, 1500, 3500, 7500, 15500, 31500]
        .into_iter()
        .map(Duration::from_millis)
        .collect();
    assert_eq!(times, expected);

    for timed in &timeline {
        if let TransactionOutput::Transmit { dest: to, message } = &timed.output {
            assert_eq!(*to, dest);
            assert_eq!(message, &Message::Request(invite.clone()));
        }
    }

    let events: Vec<_> = timeline
        .iter()
        .filter_map(|t| match &t.output {
            TransactionOutput::Event(e) => Some((t.at, e.clone())),
            TransactionOutput::Transmit { .. } => None,
        })
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, Duration::from_secs(32));
    assert!(matches!(events[0].1, TransactionEvent::Timeout { id: t } if t == id));
    assert_eq!(events[1].0, Duration::from_secs(32));
    assert!(matches!(events[1].1, TransactionEvent::Terminated { id: t } if t == id));

    assert!(layer.is_empty());
    assert_eq!(layer.poll_timeout(), None);
    assert_eq!(layer.state(id), None);
}

#[test]
fn provisional_response_stops_retransmissions_and_timer_b() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let invite = outgoing(Method::Invite, TransportKind::Udp, "z9hG4bKinv2");
    let id = layer
        .send_request(start, remote(TransportKind::Udp), invite.clone())
        .unwrap();
    drain(&mut layer);

    // Timer A fires once at 0.5 s, then a 180 arrives at 1 s.
    let early = run_until(&mut layer, start, ms(start, 1000));
    assert_eq!(transmit_times(&early), vec![Duration::from_millis(500)]);
    let ringing = reply(&invite, 180);
    layer
        .handle_message(
            ms(start, 1000),
            remote(TransportKind::Udp),
            wire(Message::Response(ringing)),
        )
        .unwrap();
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, id), vec![180]);
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ClientInvite(
            ClientInviteState::Proceeding
        ))
    );

    // Proceeding has no timers: nothing more, ever, until a final response.
    assert_eq!(layer.poll_timeout(), None);
    let later = run_until(&mut layer, start, start + Duration::from_secs(300));
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ClientInvite(
            ClientInviteState::Proceeding
        ))
    );
}
