//! The adaptive jitter buffer on a simulated link: 10 % loss with reordering and
//! duplicates (no panic, bounded delay, PLC used), adaptation to jitter (fast grow, slow
//! shrink), clock drift both ways, and sequence/timestamp wrap-around.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dialtone_media::{JitterBuffer, JitterBufferConfig, Playout, RtpPacket};
use support::session_pair::addr;
use support::{LinkProfile, SimLink};

struct Run {
    /// (seq, send time, play time) of every played packet, in play order.
    played: Vec<(u16, Instant, Instant)>,
    concealed: u64,
    nothing: u64,
    jb: JitterBuffer,
}

/// Sends `frames` 20 ms G.711 packets over `link`; the sender's clock runs at
/// `sender_rate` times ours. The sink pulls every 20 ms of our clock.
fn run(
    link: &mut SimLink,
    frames: u32,
    sender_rate: f64,
    first_seq: u16,
    first_ts: u32,
    mut change: impl FnMut(u32, &mut SimLink),
) -> Run {
    let t0 = Instant::now();
    let (a, b) = (addr("192.0.2.1:4000"), addr("192.0.2.2:5000"));
    let mut jb = JitterBuffer::new(JitterBufferConfig::new(8000, Duration::from_millis(20)));
    let mut sent_at = HashMap::new();
    let mut out = Run {
        played: Vec::new(),
        concealed: 0,
        nothing: 0,
        jb: jb.clone(),
    };
    let frame = Duration::from_millis(20);
    let end = t0 + frame.mul_f64(f64::from(frames) / sender_rate) + Duration::from_secs(2);
    let mut next_send = t0;
    let mut next_pull = t0;
    let mut sent = 0u32;
    let mut now = t0;
    while now < end {
        now += Duration::from_millis(1);
        while sent < frames && next_send <= now {
            change(sent, link);
            let seq = first_seq.wrapping_add(sent as u16);
            let packet = RtpPacket {
                sequence: seq,
                timestamp: first_ts.wrapping_add(sent * 160),
                payload: vec![0xFF; 160],
                ..RtpPacket::default()
            };
            sent_at.insert(seq, next_send);
            link.send(next_send, a, b, packet.to_bytes());
            sent += 1;
            next_send = t0 + frame.mul_f64(f64::from(sent) / sender_rate);
        }
        for d in link.deliver(now) {
            let packet = RtpPacket::parse(&d.bytes).expect("test packets parse");
            jb.push(now, packet);
        }
        while next_pull <= now {
            match jb.pop(now) {
                Playout::Frame(p) => out.played.push((p.sequence, sent_at[&p.sequence], now)),
                Playout::Conceal { .. } => out.concealed += 1,
                Playout::Nothing => out.nothing += 1,
            }
            next_pull += frame;
        }
    }
    out.jb = jb;
    out
}

#[test]
fn ten_percent_loss_with_reordering_plays_in_order_with_bounded_delay_and_plc() {
    let mut link = SimLink::new(
        77,
        LinkProfile {
            loss: 0.10,
            delay: Duration::from_millis(30),
            jitter: Duration::from_millis(40),
            reorder: 0.05,
            reorder_delay: Duration::from_millis(50),
            duplicate: 0.02,
        },
    );
    let r = run(&mut link, 3000, 1.0, 1000, 5000, |_, _| {});
    let stats = r.jb.stats();
    eprintln!(
        "{} played, {} concealed, {} lost on the link: {stats:?}",
        r.played.len(),
        r.concealed,
        link.dropped.len()
    );
    // Played in sequence order.
    assert!(r
        .played
        .windows(2)
        .all(|w| w[1].0.wrapping_sub(w[0].0) < 0x8000));
    // Bounded delay: nothing is held beyond max_delay after the link's worst case.
    let worst = r
        .played
        .iter()
        .map(|&(_, sent, played)| played - sent)
        .max()
        .unwrap();
    assert!(
        worst <= Duration::from_millis(30 + 40 + 50 + 400),
        "worst {worst:?}"
    );
    // Most frames play; the losses are concealed.
    let lost = link.dropped.len() as u64;
    assert!(
        r.played.len() as u64 >= 3000 - lost - 3000 / 20,
        "{} played, {lost} lost",
        r.played.len()
    );
    assert!(
        r.concealed >= lost * 8 / 10,
        "{} concealed for {lost} lost",
        r.concealed
    );
    assert!(stats.duplicates > 0, "{stats:?}");
    // The buffer settled at a depth covering the jitter, well under the cap.
    assert!(stats.target_delay >= Duration::from_millis(40), "{stats:?}");
    assert!(
        stats.target_delay <= Duration::from_millis(200),
        "{stats:?}"
    );
    // Late packets are few (the target covers the 95th percentile).
    assert!(stats.late < 3000 / 10, "{stats:?}");
}

#[test]
fn target_grows_fast_and_shrinks_slowly() {
    let calm = LinkProfile::clean(Duration::from_millis(20));
    let stormy = LinkProfile {
        jitter: Duration::from_millis(120),
        ..calm
    };
    let mut targets = Vec::new();
    let mut link = SimLink::new(5, calm);
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig::new(8000, Duration::from_millis(20)));
    let (a, b) = (addr("192.0.2.1:4000"), addr("192.0.2.2:5000"));
    // 10 s calm, 10 s stormy, 30 s calm; push and pull every 20 ms.
    for i in 0..2500u32 {
        let now = t0 + Duration::from_millis(u64::from(i) * 20);
        link.set_profile(if (500..1000).contains(&i) {
            stormy
        } else {
            calm
        });
        let packet = RtpPacket {
            sequence: i as u16,
            timestamp: i * 160,
            payload: vec![0; 160],
            ..RtpPacket::default()
        };
        link.send(now, a, b, packet.to_bytes());
        for d in link.deliver(now) {
            jb.push(now, RtpPacket::parse(&d.bytes).unwrap());
        }
        jb.pop(now);
        targets.push(jb.target_delay());
    }
    let ms = |i: usize| targets[i].as_millis();
    assert!(ms(499) <= 30, "calm target {}", ms(499));
    // Within a second of the storm the target covers most of it.
    assert!(ms(550) >= 80, "storm target after 1 s: {}", ms(550));
    // Two seconds after it, the target is still high; thirty seconds after, low again.
    assert!(ms(1100) >= 60, "target 2 s after the storm: {}", ms(1100));
    assert!(ms(2499) <= 40, "target 30 s after the storm: {}", ms(2499));
    let max = targets.iter().max().unwrap();
    assert!(*max <= Duration::from_millis(400));
}

#[test]
fn fast_sender_clock_drops_frames_slow_one_stretches() {
    let link = LinkProfile {
        jitter: Duration::from_millis(10),
        ..LinkProfile::clean(Duration::from_millis(20))
    };
    for (rate, fast) in [(1.01, true), (0.99, false)] {
        let mut l = SimLink::new(9, link);
        let r = run(&mut l, 6000, rate, 0, 0, |_, _| {});
        let stats = r.jb.stats();
        if fast {
            assert!(stats.drift_drops >= 30, "fast sender: {stats:?}");
        } else {
            assert!(stats.stretches >= 30, "slow sender: {stats:?}");
        }
        // Over two minutes the delay stayed bounded: the last packets played about as
        // soon after sending as the first ones.
        let delay = |i: usize| {
            let (_, sent, played) = r.played[i];
            played - sent
        };
        let n = r.played.len();
        assert!(n > 5800, "{n} played");
        assert!(
            delay(n - 1) <= Duration::from_millis(150),
            "last delay {:?}",
            delay(n - 1)
        );
        assert!(delay(n - 1) + Duration::from_millis(60) >= delay(100));
    }
}

#[test]
fn wraps_sequence_and_timestamp_under_reordering() {
    let mut link = SimLink::new(
        13,
        LinkProfile {
            reorder: 0.2,
            reorder_delay: Duration::from_millis(30),
            ..LinkProfile::clean(Duration::from_millis(10))
        },
    );
    let r = run(
        &mut link,
        1000,
        1.0,
        65_000,
        u32::MAX - 160 * 400,
        |_, _| {},
    );
    let stats = r.jb.stats();
    assert_eq!(stats.resyncs, 1, "{stats:?}");
    assert!(
        r.played.len() >= 990,
        "{} played: {stats:?}",
        r.played.len()
    );
    assert!(r
        .played
        .windows(2)
        .all(|w| (1..5).contains(&w[1].0.wrapping_sub(w[0].0))));
}

#[test]
fn silence_stops_concealment_and_playout_restarts() {
    let mut link = SimLink::new(1, LinkProfile::clean(Duration::from_millis(20)));
    // The sender pauses (DTX/hold) for 2 s after frame 200.
    let r = run(&mut link, 600, 1.0, 0, 0, |i, l| {
        l.set_profile(LinkProfile {
            loss: if (200..300).contains(&i) { 1.0 } else { 0.0 },
            ..LinkProfile::clean(Duration::from_millis(20))
        })
    });
    let stats = r.jb.stats();
    // 100 ms of concealment (5 frames) at the pause and at the end of the stream, then
    // silence.
    assert!(
        r.concealed <= 10,
        "concealed {} frames of silence: {stats:?}",
        r.concealed
    );
    assert!(r.nothing >= 90);
    assert_eq!(stats.resyncs, 2, "{stats:?}");
    assert!(r.played.len() >= 495);
}
