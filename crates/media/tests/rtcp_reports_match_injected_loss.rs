//! RFC 3550 §6.4 / A.3 / A.8: the receiver's loss counts and its reception reports
//! match the loss the simulated link injected; LSR/DLSR give the link's round trip.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use dialtone_media::{RtpEvent, RtpPacket};
use support::{LinkProfile, SessionPair};

#[test]
fn receiver_report_counts_exactly_the_packets_the_link_dropped() {
    let lossy = LinkProfile {
        loss: 0.10,
        ..LinkProfile::clean(Duration::from_millis(40))
    };
    let mut pair = SessionPair::new(
        11,
        lossy,
        LinkProfile::clean(Duration::from_millis(40)),
        false,
    );
    // A sends 20 ms G.711 frames for 30 s.
    for i in 0..1500u32 {
        pair.a.send_rtp(pair.now, 0, i * 160, i == 0, &[0xFF; 160]);
        pair.drain();
        pair.advance(Duration::from_millis(20));
    }
    // Keep RTCP flowing so the final counts reach A.
    pair.advance(Duration::from_secs(15));

    let delivered: Vec<RtpPacket> = pair
        .b_events
        .iter()
        .filter_map(|e| match e {
            RtpEvent::Rtp(r) => Some(r.packet.clone()),
            _ => None,
        })
        .collect();
    // Sequence numbers of A's stream, unwrapped relative to the first delivered packet (the
    // one held during RFC 3550 probation).
    let first = delivered[0].sequence;
    let rel = |seq: u16| u32::from(seq.wrapping_sub(first));
    let max = delivered.iter().map(|p| rel(p.sequence)).max().unwrap();
    let dropped_in_range = pair
        .ab
        .dropped
        .iter()
        .filter_map(|bytes| RtpPacket::parse(bytes).ok())
        .filter(|p| rel(p.sequence) <= max)
        .map(|p| p.sequence)
        .collect::<HashSet<_>>()
        .len() as i64;
    assert!(
        dropped_in_range > 100,
        "the link dropped {dropped_in_range}"
    );

    let b = pair.b.stats();
    assert_eq!(b.packets_lost, dropped_in_range);
    assert_eq!(b.packets_expected, u64::from(max) + 1);
    assert_eq!(b.packets_received, delivered.len() as u64);

    // What B reported to A.
    let a = pair.a.stats();
    let remote = a.remote.expect("A got reception reports");
    assert_eq!(i64::from(remote.cumulative_lost), dropped_in_range);
    let fractions: Vec<f64> = pair
        .a_events
        .iter()
        .filter_map(|e| match e {
            RtpEvent::RemoteReport(r) if r.fraction_lost > 0.0 => Some(r.fraction_lost),
            _ => None,
        })
        .collect();
    assert!(fractions.len() >= 4, "{fractions:?}");
    let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
    let injected = dropped_in_range as f64 / (f64::from(max) + 1.0);
    assert!(
        (mean - injected).abs() < 0.03,
        "reported {mean}, injected {injected}"
    );

    // Round trip: 40 ms each way.
    let rtt = a.rtt.expect("A computed an RTT from LSR/DLSR");
    assert!(
        rtt >= Duration::from_millis(79) && rtt <= Duration::from_millis(82),
        "rtt {rtt:?}"
    );
    // No jitter on this link.
    assert!(b.jitter < Duration::from_millis(1), "jitter {:?}", b.jitter);
}

#[test]
fn jitter_estimate_follows_the_link_jitter() {
    let jittery = LinkProfile {
        jitter: Duration::from_millis(30),
        ..LinkProfile::clean(Duration::from_millis(20))
    };
    let mut pair = SessionPair::new(
        5,
        jittery,
        LinkProfile::clean(Duration::from_millis(20)),
        true,
    );
    for i in 0..1000u32 {
        pair.a.send_rtp(pair.now, 0, i * 160, false, &[0xD5; 160]);
        pair.drain();
        pair.advance(Duration::from_millis(20));
    }
    // Uniform [0, 30] ms delay: E|D1 - D2| = 30/3 = 10 ms.
    let jitter = pair.b.stats().jitter.as_secs_f64() * 1000.0;
    assert!((6.0..14.0).contains(&jitter), "jitter {jitter} ms");
    // Rounds of RTCP happened at roughly 5 s ± 50 %.
    let a = pair.a.stats();
    assert!(
        (3..=9).contains(&a.rtcp_sent),
        "A sent {} reports in 20 s",
        a.rtcp_sent
    );
}
