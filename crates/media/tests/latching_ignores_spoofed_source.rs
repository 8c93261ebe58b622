//! Symmetric RTP and latching: media from a stray address never reaches the
//! application and never moves our destination; a real move of the peer does.

mod support;

use std::time::Duration;

use dialtone_media::{RtpEvent, RtpPacket, RtpSession, RtpSessionConfig, Xorshift};
use support::session_pair::addr;
use support::{LinkProfile, SessionPair};

fn rtp(ssrc: u32, seq: u16) -> Vec<u8> {
    RtpPacket {
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc,
        payload: vec![0xFF; 160],
        ..RtpPacket::default()
    }
    .to_bytes()
}

#[test]
fn spoofed_packets_interleaved_and_in_bursts_are_dropped() {
    let mut pair = SessionPair::new(
        3,
        LinkProfile::clean(Duration::from_millis(10)),
        LinkProfile::clean(Duration::from_millis(10)),
        true,
    );
    let spoofer = addr("198.51.100.66:6666");
    let mut spoof_seq = 1000u16;
    for i in 0..500u32 {
        pair.a.send_rtp(pair.now, 0, i * 160, false, &[0xFF; 160]);
        pair.drain();
        // One spoofed packet after every real one, and a burst of 5 every 50 frames.
        let burst = if i % 50 == 25 { 5 } else { 1 };
        for _ in 0..burst {
            spoof_seq = spoof_seq.wrapping_add(1);
            pair.b.handle_rtp(pair.now, spoofer, &rtp(0xBAD, spoof_seq));
        }
        pair.advance(Duration::from_millis(20));
    }
    let stats = pair.b.stats();
    assert_eq!(pair.b.rtp_destination(), pair.a_addr);
    assert_eq!(stats.latch_switches, 0);
    assert!(stats.stray_packets >= 500, "{}", stats.stray_packets);
    let bled = pair.b_events.iter().any(|e| match e {
        RtpEvent::Rtp(r) => r.packet.ssrc == 0xBAD,
        RtpEvent::Latched { .. } => true,
        _ => false,
    });
    assert!(!bled, "spoofed media reached the application");
    // All of A's packets (the probation one too) were delivered.
    assert_eq!(stats.packets_received, 500);
}

#[test]
fn latches_to_the_real_source_when_sdp_address_is_behind_nat() {
    let now = std::time::Instant::now();
    let sdp_addr = addr("10.0.0.5:4000");
    let real = addr("203.0.113.5:61000");
    let mut b = RtpSession::new(
        now,
        RtpSessionConfig::new(8000, sdp_addr),
        &mut Xorshift::new(9),
    );
    for seq in 0..2u16 {
        b.handle_rtp(now, real, &rtp(77, seq));
    }
    assert_eq!(b.rtp_destination(), sdp_addr);
    b.handle_rtp(now, real, &rtp(77, 2));
    assert_eq!(b.rtp_destination(), real);
    b.send_rtp(now, 0, 0, true, &[0; 160]);
    let mut sent_to = Vec::new();
    let mut latched = false;
    while let Some(out) = b.poll_output() {
        match out {
            dialtone_media::Output::Transmit(t) => sent_to.push(t.dest),
            dialtone_media::Output::Event(RtpEvent::Latched { from, to }) => {
                assert_eq!((from, to), (sdp_addr, real));
                latched = true;
            }
            _ => {}
        }
    }
    assert!(latched);
    assert_eq!(sent_to, vec![real]);
}

#[test]
fn follows_a_nat_rebinding_after_the_old_source_goes_quiet() {
    let mut pair = SessionPair::new(
        4,
        LinkProfile::clean(Duration::from_millis(10)),
        LinkProfile::clean(Duration::from_millis(10)),
        true,
    );
    for i in 0..100u32 {
        if i == 50 {
            pair.a_source = addr("192.0.2.1:4100");
        }
        pair.a.send_rtp(pair.now, 0, i * 160, false, &[0xFF; 160]);
        pair.drain();
        pair.advance(Duration::from_millis(20));
    }
    assert_eq!(pair.b.rtp_destination(), addr("192.0.2.1:4100"));
    let stats = pair.b.stats();
    assert_eq!(stats.latch_switches, 1);
    // The switch waited for 200 ms of silence from the old address: about 10 frames.
    assert!(
        (8..=12).contains(&stats.stray_packets),
        "{}",
        stats.stray_packets
    );
}
