//! Two call audio tasks on loopback, each sending its own tone (A 700 Hz, B 900 Hz) and
//! recording what it receives to a WAV file: each recording must hold the other side's
//! tone, for PCMU, PCMA, G.722 and Opus. The SDP comes from a real offer/answer.
//! Also: RFC 4733 DTMF between the two, and a re-INVITE that changes codec and direction
//! on the same RTP session.

mod audio_support;

use std::time::Duration;

use audio_support::{analyze, assert_tone, call, drain, exchange, wait_for};
use dialtone_core::audio::{AudioConfig, AudioEvent, SinkChoice, SourceChoice};
use dialtone_devices::analysis::read_wav_mono;
use dialtone_sdp::{CodecName, Direction, SessionParams};

const TALK: Duration = Duration::from_secs(3);

fn tone_to_wav(hz: f64, path: &std::path::Path) -> AudioConfig {
    AudioConfig {
        source: SourceChoice::Tone(hz),
        sink: SinkChoice::Wav(path.to_owned()),
        ..AudioConfig::default()
    }
}

async fn tones_cross(codec: &str, expected: CodecName, rtcp_mux: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (rec_a, rec_b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    let codecs = format!("{codec}, telephone-event");
    let (a, b) = call(
        &codecs,
        &codecs,
        rtcp_mux,
        tone_to_wav(700.0, &rec_a),
        tone_to_wav(900.0, &rec_b),
    )
    .await;
    assert_eq!(a.media.codec.name, expected);
    assert_eq!(a.media.rtcp_mux, rtcp_mux);
    tokio::time::sleep(TALK).await;
    let a_stats = a.audio.close().await.unwrap().expect("A started");
    let b_stats = b.audio.close().await.unwrap().expect("B started");

    for (who, stats) in [("A", &a_stats), ("B", &b_stats)] {
        assert_eq!(stats.codec, expected.as_str(), "{who}: {stats:?}");
        // 3 s at 50 packets/s (Opus may leave out nothing: a tone is never DTX).
        assert!(
            (130..=170).contains(&stats.packets_sent),
            "{who} sent {} packets in {TALK:?}: {stats:?}",
            stats.packets_sent
        );
        assert!(stats.packets_received >= 130, "{who}: {stats:?}");
        assert_eq!(stats.packets_lost, 0, "{who}: {stats:?}");
        assert_eq!(stats.undecodable_packets, 0, "{who}: {stats:?}");
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
    // The recordings run at the frame clock: about as long as the call.
    let (samples, rate) = read_wav_mono(&rec_a).unwrap();
    let seconds = samples.len() as f64 / f64::from(rate);
    assert!(
        (2.6..=3.4).contains(&seconds),
        "A recorded {seconds:.2} s in a {TALK:?} call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcmu_carries_each_sides_tone() {
    tones_cross("ulaw", CodecName::Ulaw, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcma_carries_each_sides_tone_with_rtcp_on_its_own_port() {
    tones_cross("alaw", CodecName::Alaw, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g722_carries_each_sides_tone() {
    tones_cross("g722", CodecName::G722, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_carries_each_sides_tone() {
    tones_cross("opus", CodecName::Opus, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speex_wideband_carries_each_sides_tone() {
    tones_cross("speex16", CodecName::Speex16, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speex_narrowband_carries_each_sides_tone() {
    tones_cross("speex", CodecName::Speex, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_digits_reach_the_other_side_as_events() {
    let codecs = "ulaw, telephone-event";
    let quiet = || AudioConfig {
        source: SourceChoice::Tone(700.0),
        sink: SinkChoice::Null,
        ..AudioConfig::default()
    };
    let (a, mut b) = call(codecs, codecs, true, quiet(), quiet()).await;
    for digit in ['1', '9', '#', 'A'] {
        a.audio.send_dtmf(digit).await.unwrap();
    }
    let mut digits = String::new();
    let (_, seen) = wait_for(&mut b.events, Duration::from_secs(5), |e| match e {
        AudioEvent::Dtmf { digit, duration_ms } => {
            assert!(
                (80..=140).contains(duration_ms),
                "digit {digit} lasted {duration_ms} ms, sent for 100 ms"
            );
            digits.push(*digit);
            (digits.len() == 4).then_some(())
        }
        _ => None,
    })
    .await;
    assert_eq!(digits, "19#A", "events seen: {seen:?}");
    assert!(a.audio.send_dtmf('x').await.is_err(), "not a DTMF digit");
    let stats = a.audio.close().await.unwrap().unwrap();
    assert_eq!(stats.dtmf_sent, 4);
    b.audio.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_without_telephone_event_is_refused() {
    let quiet = || AudioConfig {
        source: SourceChoice::Silence,
        sink: SinkChoice::Null,
        ..AudioConfig::default()
    };
    let (a, b) = call("ulaw", "ulaw", true, quiet(), quiet()).await;
    let err = a.audio.send_dtmf('5').await.unwrap_err();
    assert!(err.to_string().contains("telephone-event"), "{err}");
    a.audio.close().await.unwrap();
    b.audio.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinvite_changes_codec_and_direction_on_the_same_rtp_session() {
    let dir = tempfile::tempdir().unwrap();
    let (rec_a, rec_b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    let codecs = "ulaw, alaw, telephone-event";
    let (mut a, mut b) = call(
        codecs,
        codecs,
        true,
        tone_to_wav(700.0, &rec_a),
        tone_to_wav(900.0, &rec_b),
    )
    .await;
    assert_eq!(a.media.codec.name, CodecName::Ulaw);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Re-offer without PCMU: both move to PCMA, same SSRCs, no restart.
    let mut a_params = SessionParams::new(audio_support::loopback(), a.audio.local_port());
    a_params.strip = vec![CodecName::Ulaw];
    let b_params = SessionParams::new(audio_support::loopback(), b.audio.local_port());
    let (a_media, b_media) = exchange(&mut a.negotiator, &a_params, &mut b.negotiator, &b_params);
    assert_eq!(a_media.codec.name, CodecName::Alaw);
    a.audio.update(&a_media).await.unwrap();
    b.audio.update(&b_media).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let b_mid = b.audio.stats().await.unwrap().unwrap();
    assert_eq!(b_mid.codec, "alaw");

    // Hold by re-offer: A sendonly, B recvonly. A's recording goes silent.
    a_params.direction = Direction::SendOnly;
    let (a_media, b_media) = exchange(&mut a.negotiator, &a_params, &mut b.negotiator, &b_params);
    assert_eq!(b_media.direction, Direction::RecvOnly);
    a.audio.update(&a_media).await.unwrap();
    b.audio.update(&b_media).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let a_stats = a.audio.close().await.unwrap().unwrap();
    let b_stats = b.audio.close().await.unwrap().unwrap();
    let all: Vec<AudioEvent> = drain(&mut a.events)
        .into_iter()
        .chain(drain(&mut b.events))
        .collect();
    assert!(
        !all.iter()
            .any(|e| matches!(e, AudioEvent::RemoteSsrcChanged { .. })),
        "an update restarted RTP: {all:?}"
    );
    let restarts: Vec<_> = all
        .iter()
        .filter(|e| {
            matches!(
                e,
                AudioEvent::MediaStarted {
                    restarted: true,
                    ..
                }
            )
        })
        .collect();
    assert!(restarts.is_empty(), "{restarts:?}");
    assert_eq!(a_stats.packets_lost, 0, "{a_stats:?}");
    assert_eq!(b_stats.packets_lost, 0, "{b_stats:?}");
    // B kept sending until A held: A received ~2.5 s of 900 Hz from B... and then B's
    // recvonly stream stops sending.
    assert!(
        b_stats.packets_sent < a_stats.packets_sent,
        "{a_stats:?} {b_stats:?}"
    );

    let (a_samples, rate) = read_wav_mono(&rec_a).unwrap();
    let second = |from: f64, to: f64| {
        let (from, to) = (
            (from * f64::from(rate)) as usize,
            (to * f64::from(rate)) as usize,
        );
        a_samples[from.min(a_samples.len())..to.min(a_samples.len())].to_vec()
    };
    let before = dialtone_devices::analysis::analyze(&second(0.5, 1.4), rate, Duration::ZERO);
    let after_codec = dialtone_devices::analysis::analyze(&second(1.8, 2.9), rate, Duration::ZERO);
    let held = dialtone_devices::analysis::analyze(&second(3.3, 3.9), rate, Duration::ZERO);
    assert_tone("A before the re-INVITE (PCMU)", &before, 900.0);
    assert_tone("A after the re-INVITE (PCMA)", &after_codec, 900.0);
    assert!(held.rms < 0.01, "A plays nothing while holding: {held:?}");
    assert_tone(
        "B's recording",
        &analyze(&rec_b, Duration::from_millis(500)),
        700.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_and_switching_to_a_tone_and_a_file_mid_call() {
    let dir = tempfile::tempdir().unwrap();
    let (rec_b, rec_a1, rec_a2) = (
        dir.path().join("b.wav"),
        dir.path().join("a1.wav"),
        dir.path().join("a2.wav"),
    );
    let codecs = "g722, telephone-event";
    let (a, b) = call(
        codecs,
        codecs,
        true,
        tone_to_wav(700.0, &rec_a1),
        tone_to_wav(900.0, &rec_b),
    )
    .await;
    let start = std::time::Instant::now();
    let at = |s: f64| start + Duration::from_secs_f64(s);
    tokio::time::sleep_until(at(1.0).into()).await;
    a.audio.mute(true).unwrap();
    tokio::time::sleep_until(at(2.0).into()).await;
    a.audio.mute(false).unwrap();
    let label = a
        .audio
        .switch_mic(SourceChoice::Tone(1100.0))
        .await
        .unwrap();
    assert_eq!(label, "tone:1100Hz");
    let label = a
        .audio
        .switch_speaker(SinkChoice::Wav(rec_a2.clone()))
        .await
        .unwrap();
    assert_eq!(label, rec_a2.display().to_string());
    tokio::time::sleep_until(at(3.5).into()).await;
    let a_stats = a.audio.close().await.unwrap().unwrap();
    b.audio.close().await.unwrap();

    let (heard, rate) = read_wav_mono(&rec_b).unwrap();
    let window = |from: f64, to: f64| {
        let n = |s: f64| ((s * f64::from(rate)) as usize).min(heard.len());
        dialtone_devices::analysis::analyze(&heard[n(from)..n(to)], rate, Duration::ZERO)
    };
    assert_tone("B before the mute", &window(0.3, 0.9), 700.0);
    let muted = window(1.2, 1.9);
    assert!(
        muted.rms < 0.01,
        "B hears nothing while A is muted: {muted:?}"
    );
    assert_tone("B after switching A to a tone", &window(2.3, 3.4), 1100.0);
    // RTP ran on through the mute (silence frames) and the switch.
    assert!(a_stats.packets_sent >= 165, "{a_stats:?}");
    // What A received went to the first file, then to the second.
    assert_tone(
        "A's first file",
        &analyze(&rec_a1, Duration::from_millis(300)),
        900.0,
    );
    let (second, _) = read_wav_mono(&rec_a2).unwrap();
    let seconds = second.len() as f64 / f64::from(rate);
    assert!(
        (1.0..=1.8).contains(&seconds),
        "second file holds {seconds:.2} s"
    );
    assert_tone(
        "A's second file",
        &analyze(&rec_a2, Duration::from_millis(200)),
        900.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_sends_rtcp_bye_and_releases_the_ports() {
    let quiet = || AudioConfig {
        source: SourceChoice::Silence,
        sink: SinkChoice::Null,
        ..AudioConfig::default()
    };
    let codecs = "ulaw";
    let (mut a, b) = call(codecs, codecs, false, quiet(), quiet()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b_rtp = b.audio.local_addr();
    let stats = b.audio.close().await.unwrap().unwrap();
    assert!(stats.packets_sent > 0, "{stats:?}");
    let (bye, seen) = wait_for(&mut a.events, Duration::from_secs(2), |e| match e {
        AudioEvent::RemoteBye { .. } => Some(()),
        _ => None,
    })
    .await;
    assert!(bye.is_some(), "no RTCP BYE reached A: {seen:?}");
    // Both ports are free again. (Other tests run in parallel and pick ephemeral ports, so allow a moment and a
    // few tries before deciding the port is still ours.)
    for port in [b_rtp.port(), b_rtp.port() + 1] {
        let mut last = None;
        for _ in 0..20 {
            match std::net::UdpSocket::bind((b_rtp.ip(), port)) {
                Ok(_) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Some(e) = last {
            panic!("port {port} still bound 2 s after close: {e}");
        }
    }
    a.audio.close().await.unwrap();
}
