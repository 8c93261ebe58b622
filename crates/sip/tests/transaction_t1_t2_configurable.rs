//! RFC 3261 §17.1.1.1: T1, T2 and T4 are configurable, and every timer follows them.

mod transaction_harness;

use std::time::{Duration, Instant};

use dialtone_sip::timer::TimerConfig;
use dialtone_sip::transaction::TransactionLayer;
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

fn fast() -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_millis(400),
        t4: Duration::from_secs(1),
    }
}

fn millis(values: &[u64]) -> Vec<Duration> {
    values.iter().copied().map(Duration::from_millis).collect()
}

#[test]
fn invite_timers_a_and_b_scale_with_t1() {
    let start = Instant::now();
    let mut layer = TransactionLayer::new(fast());
    assert_eq!(layer.config(), &fast());
    let invite = outgoing(Method::Invite, TransportKind::Udp, "z9hG4bKfastinv");
    let id = layer
        .send_request(start, remote(TransportKind::Udp), invite)
        .unwrap();
    drain(&mut layer);
    let timeline = run_until(&mut layer, start, start + Duration::from_secs(60));
    assert_eq!(
        transmit_times(&timeline),
        millis(&[100, 300, 700, 1500, 3100, 6300])
    );
    assert!(timed_out(&outputs(&timeline), id));
    assert_eq!(timeline.last().unwrap().at, Duration::from_millis(6400));
}

#[test]
fn non_invite_timer_e_caps_at_configured_t2_and_k_is_t4() {
    let start = Instant::now();
    let mut layer = TransactionLayer::new(fast());
    let dest = remote(TransportKind::Udp);
    let options = outgoing(Method::Options, TransportKind::Udp, "z9hG4bKfastopt");
    let id = layer.send_request(start, dest, options.clone()).unwrap();
    drain(&mut layer);

    let timeline = run_until(&mut layer, start, ms(start, 2000));
    assert_eq!(
        transmit_times(&timeline),
        millis(&[100, 300, 700, 1100, 1500, 1900])
    );

    layer
        .handle_message(
            ms(start, 2000),
            dest,
            wire(Message::Response(reply(&options, 200))),
        )
        .unwrap();
    assert_eq!(surfaced_statuses(&drain(&mut layer), id), vec![200]);
    assert_eq!(layer.poll_timeout(), Some(ms(start, 3000)), "Timer K = T4");
}

#[test]
fn server_timer_g_caps_at_configured_t2_and_h_is_64_t1() {
    let start = Instant::now();
    let mut layer = TransactionLayer::new(fast());
    let from = peer(TransportKind::Udp, "127.0.0.1:5080");
    let via = "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKfastsrv";
    let invite = incoming("INVITE", via, "fast-srv", 1);
    layer
        .handle_message(start, from, Message::Request(invite))
        .unwrap();
    let id = new_request_id(&drain(&mut layer));
    let request = layer.request(id).unwrap().clone();
    layer
        .send_response(start, id, reply(&request, 480))
        .unwrap();
    assert_eq!(sent_statuses(&drain(&mut layer)), vec![480]);

    let timeline = run_until(&mut layer, start, start + Duration::from_secs(60));
    assert_eq!(
        transmit_times(&timeline),
        millis(&[
            100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500,
            5900, 6300
        ])
    );
    assert!(timed_out(&outputs(&timeline), id), "Timer H: no ACK");
    assert_eq!(timeline.last().unwrap().at, Duration::from_millis(6400));
}

#[test]
fn timer_d_keeps_its_32_second_floor_with_a_small_t1() {
    let start = Instant::now();
    let mut layer = TransactionLayer::new(fast());
    let dest = remote(TransportKind::Udp);
    let invite = outgoing(Method::Invite, TransportKind::Udp, "z9hG4bKfastd");
    let id = layer.send_request(start, dest, invite.clone()).unwrap();
    drain(&mut layer);
    layer
        .handle_message(
            ms(start, 50),
            dest,
            wire(Message::Response(reply(&invite, 503))),
        )
        .unwrap();
    drain(&mut layer);
    assert_eq!(layer.poll_timeout(), Some(ms(start, 32_050)));
    let timeline = run_until(&mut layer, start, start + Duration::from_secs(60));
    assert!(terminated(&outputs(&timeline), id));
}
