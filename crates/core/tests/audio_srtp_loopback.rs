//! Two call audio tasks on loopback with SDES-SRTP (RFC 4568 keys from a real offer and
//! answer, RFC 3711 on the wire): each side sends its own tone (A 700 Hz, B 900 Hz) and
//! records what it hears; each recording holds the other's tone and RTCP (SRTCP) flows.
//! A task given the wrong key for its peer hears nothing and counts authentication
//! failures; a task without SRTP facing an SRTP sender hears no tone (the payload really
//! is encrypted on the wire).

mod audio_support;

use std::path::Path;
use std::time::Duration;

use audio_support::{analyze, assert_tone, exchange, loopback};
use dialtone_core::audio::{AudioConfig, CallAudioTask, SinkChoice, SourceChoice};
use dialtone_sdp::{AcceptedMedia, CodecPolicy, Negotiator, SessionParams, SrtpKey, SrtpPolicy};

const TALK: Duration = Duration::from_secs(3);

fn tone_to_wav(hz: f64, path: &Path) -> AudioConfig {
    AudioConfig {
        source: SourceChoice::Tone(hz),
        sink: SinkChoice::Wav(path.to_owned()),
        ..AudioConfig::default()
    }
}

/// 30 key bytes from the OS, as the driver draws them.
fn fresh_key() -> SrtpKey {
    let mut bytes = [0u8; 30];
    getrandom::getrandom(&mut bytes).expect("OS entropy");
    SrtpKey::new(bytes)
}

/// Opens A and B, negotiates with A's policy `Mandatory` (RTP/SAVP) and B's `Offer`, and
/// returns both tasks with what each side's negotiation accepted.
async fn secure_call(
    a: AudioConfig,
    b: AudioConfig,
) -> (
    (CallAudioTask, AcceptedMedia),
    (CallAudioTask, AcceptedMedia),
) {
    let (a_audio, _a_events) = CallAudioTask::open(loopback(), a).await.expect("open A");
    let (b_audio, _b_events) = CallAudioTask::open(loopback(), b).await.expect("open B");
    let policy = || CodecPolicy::from_lists("ulaw, telephone-event", "").expect("codecs");
    let mut a_neg = Negotiator::new(policy(), 1001, 1);
    let mut b_neg = Negotiator::new(policy(), 2002, 1);
    let mut a_params = SessionParams::new(loopback(), a_audio.local_port());
    a_params.srtp = SrtpPolicy::Mandatory(fresh_key());
    let mut b_params = SessionParams::new(loopback(), b_audio.local_port());
    b_params.srtp = SrtpPolicy::Offer(fresh_key());
    let (a_media, b_media) = exchange(&mut a_neg, &a_params, &mut b_neg, &b_params);
    assert_eq!(a_media.protocol, "RTP/SAVP");
    let a_keys = a_media.srtp.clone().expect("A has SRTP keys");
    let b_keys = b_media.srtp.clone().expect("B has SRTP keys");
    assert_eq!(a_keys.local_key, b_keys.remote_key);
    assert_eq!(a_keys.remote_key, b_keys.local_key);
    ((a_audio, a_media), (b_audio, b_media))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tones_cross_an_srtp_call() {
    let dir = tempfile::tempdir().unwrap();
    let (rec_a, rec_b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    let ((a, a_media), (b, b_media)) =
        secure_call(tone_to_wav(700.0, &rec_a), tone_to_wav(900.0, &rec_b)).await;
    a.start(&a_media).await.expect("start A");
    b.start(&b_media).await.expect("start B");
    tokio::time::sleep(TALK).await;
    let a_stats = a.close().await.unwrap().expect("A started");
    let b_stats = b.close().await.unwrap().expect("B started");
    for (who, stats) in [("A", &a_stats), ("B", &b_stats)] {
        assert!(stats.srtp, "{who}: {stats:?}");
        assert!(stats.packets_received >= 130, "{who}: {stats:?}");
        assert_eq!(
            stats.srtp_auth_failures + stats.srtp_replays,
            0,
            "{who}: {stats:?}"
        );
        assert_eq!(
            stats.malformed_rtp + stats.malformed_rtcp,
            0,
            "{who}: {stats:?}"
        );
    }
    assert_tone(
        "A's recording",
        &analyze(&rec_a, Duration::from_millis(500)),
        900.0,
    );
    assert_tone(
        "B's recording",
        &analyze(&rec_b, Duration::from_millis(500)),
        700.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_hears_nothing_and_counts_auth_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (rec_a, rec_b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    let ((a, a_media), (b, mut b_media)) =
        secure_call(tone_to_wav(700.0, &rec_a), tone_to_wav(900.0, &rec_b)).await;
    // B unprotects with a key A never used.
    if let Some(keys) = b_media.srtp.as_mut() {
        keys.remote_key = fresh_key();
    }
    a.start(&a_media).await.expect("start A");
    b.start(&b_media).await.expect("start B");
    tokio::time::sleep(TALK).await;
    let a_stats = a.close().await.unwrap().expect("A started");
    let b_stats = b.close().await.unwrap().expect("B started");
    assert_eq!(b_stats.packets_received, 0, "{b_stats:?}");
    assert!(b_stats.srtp_auth_failures >= 130, "{b_stats:?}");
    let heard = analyze(&rec_b, Duration::from_millis(500));
    assert!(heard.rms < 0.001, "B must hear silence: {heard:?}");
    // A's side is fine: it hears B's tone.
    assert_eq!(a_stats.srtp_auth_failures, 0, "{a_stats:?}");
    assert_tone(
        "A's recording",
        &analyze(&rec_a, Duration::from_millis(500)),
        900.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_keys_the_wire_carries_no_tone() {
    let dir = tempfile::tempdir().unwrap();
    let (rec_a, rec_b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    let ((a, a_media), (b, mut b_media)) =
        secure_call(tone_to_wav(700.0, &rec_a), tone_to_wav(900.0, &rec_b)).await;
    // B plays what arrives as plain RTP: the SRTP payload decoded as PCMU.
    b_media.srtp = None;
    a.start(&a_media).await.expect("start A");
    b.start(&b_media).await.expect("start B");
    tokio::time::sleep(TALK).await;
    let _ = a.close().await.unwrap();
    let b_stats = b.close().await.unwrap().expect("B started");
    assert!(!b_stats.srtp, "{b_stats:?}");
    assert!(
        b_stats.packets_received >= 130,
        "B got the datagrams: {b_stats:?}"
    );
    let heard = analyze(&rec_b, Duration::from_millis(500));
    let tone = heard
        .dominant_hz
        .is_some_and(|hz| (hz - 700.0).abs() <= 15.0);
    assert!(
        !tone,
        "the encrypted payload must not decode to A's tone: {heard:?}"
    );
}
