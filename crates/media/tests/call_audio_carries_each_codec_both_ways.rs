//! The whole pipeline, both ways, for every codec of this build: each side's
//! microphone plays its own tone (A 1000 Hz, B 700 Hz) at 48 kHz; over a link with 3 %
//! loss and 20 ms of jitter, each speaker's recording is dominated by the other's tone,
//! and the statistics add up.

mod support;

use std::time::Duration;

use dialtone_media::available_codecs;
use dialtone_sdp::CodecName;
use support::{dominant_frequency, rms, CallPair, LinkProfile};

fn lossy() -> LinkProfile {
    LinkProfile {
        loss: 0.03,
        jitter: Duration::from_millis(20),
        ..LinkProfile::clean(Duration::from_millis(30))
    }
}

#[test]
fn every_codec_carries_both_tones_through_a_lossy_link() {
    for codec in available_codecs() {
        let mut call = CallPair::new(codec, 7, lossy(), 48_000);
        call.run(Duration::from_secs(4));
        for (name, side, expected) in [
            ("A hears B", &call.a, 700.0),
            ("B hears A", &call.b, 1000.0),
        ] {
            let steady = &side.recorded[48_000..];
            let f = dominant_frequency(steady, 48_000, 3000.0);
            assert_eq!(f, expected, "{codec}: {name}: dominant {f} Hz");
            let level = rms(steady);
            // The tone is sent at 8000 peak (RMS 5657): a decoder that diverged into a
            // clipped buzz (Speex once did) is far louder, whatever its dominant frequency.
            assert!(
                level > 2500.0 && level < 8000.0,
                "{codec}: {name}: rms {level}"
            );
        }
        let a = call.a.audio.stats();
        let b = call.b.audio.stats();
        eprintln!("{}", serde_json::to_string(&b).unwrap_or_default());
        assert_eq!(a.codec, codec.as_str());
        // 50 packets a second for 4 s, minus the first frames still in the resampler.
        assert!((195..=201).contains(&a.packets_sent), "{codec}: {a:?}");
        let arrived = b.packets_received as f64;
        assert!(arrived > 180.0 && arrived < 200.0, "{codec}: {b:?}");
        assert!(b.packets_lost >= 1, "{codec}: {b:?}");
        assert!(
            b.concealed_frames >= b.packets_lost as u64 / 2,
            "{codec}: {b:?}"
        );
        assert!(b.mos > 3.0 && b.mos < 4.5, "{codec}: {b:?}");
        assert_eq!(b.malformed_rtp + b.undecodable_packets, 0, "{codec}: {b:?}");
    }
}

#[test]
fn speaker_and_mic_at_44_1_khz() {
    for codec in [CodecName::Ulaw, CodecName::G722, CodecName::Opus] {
        let mut call = CallPair::new(
            codec,
            8,
            LinkProfile::clean(Duration::from_millis(20)),
            44_100,
        );
        call.run(Duration::from_secs(3));
        let steady = &call.b.recorded[44_100..];
        assert_eq!(
            dominant_frequency(steady, 44_100, 3000.0),
            1000.0,
            "{codec}"
        );
    }
}

#[test]
fn rtt_and_mos_reflect_the_link() {
    let mut call = CallPair::new(
        CodecName::Alaw,
        9,
        LinkProfile::clean(Duration::from_millis(50)),
        48_000,
    );
    call.run(Duration::from_secs(15));
    let stats = call.a.audio.stats();
    let rtt = stats.rtt_ms.expect("RTT after a few RTCP rounds");
    assert!((99.0..103.0).contains(&rtt), "rtt {rtt}");
    assert_eq!(stats.packets_lost, 0);
    // One-way ≈ 50 + 20 (buffer) + 20 (ptime) + 5 ms: G.711 without loss scores ≈ 4.4.
    assert!(stats.mos > 4.3, "{stats:?}");
    let json = serde_json_like(&stats);
    assert!(json.contains("\"codec\":\"alaw\""), "{json}");
}

/// The stats serialize (the CLI prints them as JSON lines).
fn serde_json_like(stats: &dialtone_media::MediaStats) -> String {
    serde_json::to_string(stats).expect("stats serialize")
}
