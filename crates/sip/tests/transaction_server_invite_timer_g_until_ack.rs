//! RFC 3261 §17.2.1: the INVITE server transaction answers 100 (Trying) after 200 ms if the
//! TU has not, retransmits a final non-2xx on Timer G (T1 doubling, capped at T2) until the
//! ACK, then absorbs ACKs for Timer I; without an ACK, Timer H gives up.

mod transaction_harness;

use std::time::{Duration, Instant};

use dialtone_sip::transaction::{
    ServerInviteState, TransactionEvent, TransactionLayer, TransactionState,
};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::Message;
use transaction_harness::*;

const VIA: &str = "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKsrvinv";

fn millis(values: &[u64]) -> Vec<Duration> {
    values.iter().copied().map(Duration::from_millis).collect()
}

fn caller() -> dialtone_sip::transport::Peer {
    peer(TransportKind::Udp, "127.0.0.1:5080")
}

/// Receives the INVITE at `start` and returns the layer and the transaction id.
fn receive_invite(start: Instant) -> (TransactionLayer, dialtone_sip::transaction::TransactionId) {
    let mut layer = TransactionLayer::default();
    let invite = incoming("INVITE", VIA, "srv-inv", 1);
    layer
        .handle_message(start, caller(), Message::Request(invite))
        .unwrap();
    let out = drain(&mut layer);
    assert!(transmits(&out).is_empty(), "nothing is sent before 200 ms");
    (layer, new_request_id(&out))
}

#[test]
fn trying_after_200ms_then_timer_g_until_ack_then_timer_i() {
    let start = Instant::now();
    let (mut layer, id) = receive_invite(start);

    // The TU stays silent: 100 Trying at 200 ms, and only that.
    let trying = run_until(&mut layer, start, ms(start, 1000));
    assert_eq!(transmit_times(&trying), millis(&[200]));
    assert_eq!(sent_statuses(&outputs(&trying)), vec![100]);
    assert!(events(&outputs(&trying)).is_empty());

    // The TU rejects at 1 s; Timer G: +0.5, +1, +2, then every T2 = 4 s.
    let request = layer.request(id).unwrap().clone();
    let busy = reply(&request, 486);
    layer
        .send_response(ms(start, 1000), id, busy.clone())
        .unwrap();
    let out = drain(&mut layer);
    assert_eq!(sent_statuses(&out), vec![486]);
    assert_eq!(transmits(&out)[0].0, caller());

    let retransmits = run_until(&mut layer, start, ms(start, 17_000));
    assert_eq!(
        transmit_times(&retransmits),
        millis(&[1500, 2500, 4500, 8500, 12500, 16500])
    );
    for (dest, message) in transmits(&outputs(&retransmits)) {
        assert_eq!(dest, caller());
        assert_eq!(message, Message::Response(busy.clone()));
    }

    // A retransmitted INVITE is answered with the 486 too, and not passed up.
    let again = incoming("INVITE", VIA, "srv-inv", 1);
    layer
        .handle_message(ms(start, 17_000), caller(), Message::Request(again))
        .unwrap();
    let out = drain(&mut layer);
    assert_eq!(sent_statuses(&out), vec![486]);
    assert!(events(&out).is_empty());

    // The ACK stops Timer G and moves to Confirmed; it is absorbed, not passed up.
    let mut ack = incoming("ACK", VIA, "srv-inv", 1);
    ack.headers
        .set("To", "<sip:alice@example.com>;tag=remotetag");
    layer
        .handle_message(ms(start, 18_000), caller(), Message::Request(ack.clone()))
        .unwrap();
    assert!(drain(&mut layer).is_empty());
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ServerInvite(ServerInviteState::Confirmed))
    );
    layer
        .handle_message(ms(start, 19_000), caller(), Message::Request(ack))
        .unwrap();
    assert!(
        drain(&mut layer).is_empty(),
        "ACK retransmissions are absorbed"
    );

    // Timer I (T4 = 5 s) ends it with no further transmission.
    let rest = run_until(&mut layer, start, start + Duration::from_secs(100));
    assert!(transmit_times(&rest).is_empty());
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].at, Duration::from_secs(23));
    assert!(terminated(&outputs(&rest), id));
    assert!(layer.is_empty());
}

#[test]
fn no_ack_means_timer_h_reports_a_timeout() {
    let start = Instant::now();
    let (mut layer, id) = receive_invite(start);
    let request = layer.request(id).unwrap().clone();
    layer
        .send_response(ms(start, 100), id, reply(&request, 603))
        .unwrap();
    drain(&mut layer);

    let timeline = run_until(&mut layer, start, start + Duration::from_secs(100));
    let times = transmit_times(&timeline);
    assert_eq!(times.first(), Some(&Duration::from_millis(600)));
    assert!(times.iter().all(|t| *t < Duration::from_millis(32_100)));
    let timeout_at = timeline
        .iter()
        .find(|t| {
            matches!(
                t.output,
                dialtone_sip::transaction::TransactionOutput::Event(
                    TransactionEvent::Timeout { .. }
                )
            )
        })
        .map(|t| t.at);
    assert_eq!(timeout_at, Some(Duration::from_millis(32_100)));
    assert!(terminated(&outputs(&timeline), id));
}

#[test]
fn a_tu_response_within_200ms_suppresses_the_automatic_trying() {
    let start = Instant::now();
    let (mut layer, id) = receive_invite(start);
    let request = layer.request(id).unwrap().clone();
    layer
        .send_response(ms(start, 50), id, reply(&request, 180))
        .unwrap();
    assert_eq!(sent_statuses(&drain(&mut layer)), vec![180]);
    // Proceeding has no timers of its own once the TU has answered.
    assert_eq!(layer.poll_timeout(), None);
    let timeline = run_until(&mut layer, start, start + Duration::from_secs(10));
    assert!(timeline.is_empty());

    // An INVITE retransmission in Proceeding gets the latest provisional.
    let again = incoming("INVITE", VIA, "srv-inv", 1);
    layer
        .handle_message(ms(start, 500), caller(), Message::Request(again))
        .unwrap();
    assert_eq!(sent_statuses(&drain(&mut layer)), vec![180]);
}

#[test]
fn the_automatic_trying_mirrors_the_request() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let mut invite = incoming("INVITE", VIA, "srv-inv-ts", 3);
    invite.headers.push("Timestamp", "54");
    layer
        .handle_message(start, caller(), Message::Request(invite.clone()))
        .unwrap();
    drain(&mut layer);
    let timeline = run_until(&mut layer, start, ms(start, 300));
    let sent = transmits(&outputs(&timeline));
    assert_eq!(sent.len(), 1);
    let Message::Response(trying) = wire(sent[0].1.clone()) else {
        panic!("expected a response");
    };
    assert_eq!(trying.status, 100);
    assert_eq!(trying.headers.get("Timestamp"), Some("54"));
    assert_eq!(trying.call_id().unwrap(), "srv-inv-ts");
    assert_eq!(trying.cseq().unwrap().seq, 3);
    assert_eq!(trying.to().unwrap().tag(), None);
    assert_eq!(
        trying.top_via().unwrap().received(),
        None,
        "sent-by already is the source address"
    );
}
