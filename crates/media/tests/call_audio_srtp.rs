//! The whole pipeline with SRTP (RFC 3711, SDES keys): each side hears the other's tone
//! over a jittery link, RTCP (muxed) keeps working; a side with the wrong key hears
//! silence and counts every datagram as an authentication failure; plain RTP injected
//! into an SRTP call is dropped, not played; re-keying mid-call keeps the audio.

mod support;

use std::time::Duration;

use dialtone_media::CallEvent;
use dialtone_sdp::{CodecName, SrtpKey, SrtpKeys, SrtpSuite};
use support::{dominant_frequency, rms, CallPair, LinkProfile};

fn key(fill: u8) -> SrtpKey {
    let mut bytes = [0u8; 30];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = fill.wrapping_mul(29).wrapping_add(i as u8 * 3);
    }
    SrtpKey::new(bytes)
}

fn keys(local: &SrtpKey, remote: &SrtpKey) -> SrtpKeys {
    SrtpKeys {
        suite: SrtpSuite::AesCm128HmacSha1_80,
        tag: 1,
        local_key: local.clone(),
        remote_key: remote.clone(),
    }
}

fn link() -> LinkProfile {
    LinkProfile {
        jitter: Duration::from_millis(10),
        ..LinkProfile::clean(Duration::from_millis(20))
    }
}

fn secure_pair(a_key: &SrtpKey, b_key: &SrtpKey, b_hears: &SrtpKey) -> CallPair {
    let mut call = CallPair::new(CodecName::Ulaw, 11, link(), 48_000);
    call.a
        .audio
        .set_srtp(Some(&keys(a_key, b_key)))
        .expect("A keys");
    call.b
        .audio
        .set_srtp(Some(&keys(b_key, b_hears)))
        .expect("B keys");
    call
}

#[test]
fn tones_cross_an_srtp_call_and_rtcp_reports_arrive() {
    let (a_key, b_key) = (key(1), key(2));
    let mut call = secure_pair(&a_key, &b_key, &a_key);
    call.run(Duration::from_secs(7));
    for (name, side, expected) in [
        ("A hears B", &call.a, 700.0),
        ("B hears A", &call.b, 1000.0),
    ] {
        let steady = &side.recorded[48_000..];
        assert_eq!(
            dominant_frequency(steady, 48_000, 3000.0),
            expected,
            "{name}"
        );
        assert!(rms(steady) > 2500.0, "{name}: rms {}", rms(steady));
        let stats = side.audio.stats();
        assert!(stats.srtp, "{name}: {stats:?}");
        assert_eq!(
            stats.srtp_auth_failures + stats.srtp_replays,
            0,
            "{name}: {stats:?}"
        );
        assert_eq!(
            stats.malformed_rtp + stats.malformed_rtcp,
            0,
            "{name}: {stats:?}"
        );
        assert!(stats.packets_received > 300, "{name}: {stats:?}");
        // SRTCP made it through: the peer's reception reports about our stream.
        assert!(
            side.events
                .iter()
                .any(|e| matches!(e, CallEvent::RemoteReport(_))),
            "{name}: no RTCP report arrived"
        );
        assert!(stats.rtt_ms.is_some(), "{name}: {stats:?}");
    }
}

#[test]
fn a_wrong_key_hears_nothing_and_counts_auth_failures() {
    let (a_key, b_key) = (key(1), key(2));
    // B believes A sends with another key.
    let mut call = secure_pair(&a_key, &b_key, &key(3));
    call.run(Duration::from_secs(3));
    let b = call.b.audio.stats();
    assert_eq!(b.packets_received, 0, "{b:?}");
    assert!(b.srtp_auth_failures >= 140, "{b:?}");
    assert!(rms(&call.b.recorded) < 1.0, "B must hear silence");
    // A still hears B.
    let steady = &call.a.recorded[48_000..];
    assert_eq!(dominant_frequency(steady, 48_000, 3000.0), 700.0);
}

#[test]
fn plain_rtp_into_an_srtp_call_is_dropped_and_counted() {
    let (a_key, b_key) = (key(1), key(2));
    let mut call = secure_pair(&a_key, &b_key, &a_key);
    call.run(Duration::from_secs(1));
    let before = call.b.audio.stats();
    // An unprotected RTP packet and an RTCP RR from where A sends.
    let mut rtp = vec![
        0x80, 0x00, 0x12, 0x34, 0, 0, 0x10, 0, 0xAB, 0xCD, 0xEF, 0x01,
    ];
    rtp.extend_from_slice(&[0xFF; 160]);
    let rr = [0x80, 201, 0, 1, 0xAB, 0xCD, 0xEF, 0x01];
    let (now, from) = (call.now, call.a.addr);
    call.b.audio.handle_rtp(now, from, &rtp);
    call.b.audio.handle_rtp(now, from, &rr);
    call.b.audio.handle_rtcp(now, from, &rr);
    let after = call.b.audio.stats();
    assert_eq!(
        after.srtp_auth_failures,
        before.srtp_auth_failures + 3,
        "{after:?}"
    );
    assert_eq!(after.packets_received, before.packets_received);
    assert_eq!(after.stray_packets, before.stray_packets);
}

#[test]
fn rekeying_mid_call_keeps_the_audio() {
    let (a_key, b_key) = (key(1), key(2));
    let mut call = secure_pair(&a_key, &b_key, &a_key);
    call.run(Duration::from_secs(2));
    // A re-offer with new keys on both sides (the same keys again change nothing).
    let (a2, b2) = (key(5), key(6));
    call.a
        .audio
        .set_srtp(Some(&keys(&a2, &b2)))
        .expect("A re-key");
    call.b
        .audio
        .set_srtp(Some(&keys(&b2, &a2)))
        .expect("B re-key");
    call.b
        .audio
        .set_srtp(Some(&keys(&b2, &a2)))
        .expect("same keys");
    let heard = call.b.recorded.len();
    call.run(Duration::from_secs(3));
    let steady = &call.b.recorded[heard + 48_000..];
    assert_eq!(dominant_frequency(steady, 48_000, 3000.0), 1000.0);
    // Only datagrams in flight at the switch can fail.
    let b = call.b.audio.stats();
    assert!(b.srtp_auth_failures <= 5, "{b:?}");
}
