//! Call audio on real (virtual) sound devices: a private PulseAudio server with
//! Speaker_A/B and Mic_A/B, where Mic_X hears whatever plays on Speaker_X.
//!
//! * A talks from Mic_A (a 700 Hz tone plays into Speaker_A) and switches to Mic_B
//!   (900 Hz) mid-call: B's recording holds 700 Hz, then 900 Hz, and the RTP stream runs
//!   on without loss or a new SSRC.
//! * B sends 500 Hz; A plays it on Speaker_A, then switches to Speaker_B: the tone moves
//!   from Mic_A (Speaker_A's monitor) to Mic_B.
//! * A's microphone vanishes mid-call (its module unloaded): a `DeviceFallback` event, the
//!   default microphone takes over and the far end hears it, RTP uninterrupted.

mod audio_support;

use std::time::{Duration, Instant};

use audio_support::pulse::{session, span, Player, Recorder, RATE};
use audio_support::{assert_tone, call, drain, wait_for};
use dialtone_core::audio::{AudioConfig, AudioEvent, DeviceRole, SinkChoice, SourceChoice};
use dialtone_devices::analysis::{analyze, read_wav_mono};

const CODECS: &str = "ulaw, telephone-event";

fn switched(role: DeviceRole) -> impl FnMut(&AudioEvent) -> Option<String> {
    move |e| match e {
        AudioEvent::DeviceSwitched { role: r, to, .. } if *r == role => Some(to.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_mic_mid_call_changes_what_the_far_end_hears() {
    let _session = session();
    let _a_voice = Player::tone(700.0, "Speaker_A");
    let _b_voice = Player::tone(900.0, "Speaker_B");
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("b.wav");
    let a_config = AudioConfig {
        source: SourceChoice::Device(Some("Mic_A".into())),
        sink: SinkChoice::Device(Some("Speaker_A".into())),
        ..AudioConfig::default()
    };
    // B sends silence, so what A plays on Speaker_A adds nothing to Mic_A.
    let b_config = AudioConfig {
        source: SourceChoice::Silence,
        sink: SinkChoice::Wav(recording.clone()),
        ..AudioConfig::default()
    };
    let (mut a, mut b) = call(CODECS, CODECS, true, a_config, b_config).await;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;

    let switch_asked = started.elapsed().as_secs_f64();
    let to = a
        .audio
        .switch_mic(SourceChoice::Device(Some("Mic_B".into())))
        .await
        .unwrap();
    assert_eq!(to, "pulseaudio:mic_b");
    let (event, seen) = wait_for(
        &mut a.events,
        Duration::from_secs(5),
        switched(DeviceRole::Microphone),
    )
    .await;
    assert_eq!(
        event.as_deref(),
        Some("pulseaudio:mic_b"),
        "no switch event: {seen:?}"
    );
    let switched_at = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let elapsed = started.elapsed();
    let a_stats = a.audio.close().await.unwrap().unwrap();
    let b_stats = b.audio.close().await.unwrap().unwrap();

    let (samples, rate) = read_wav_mono(&recording).unwrap();
    assert_eq!(rate, RATE);
    let before = analyze(
        span(&samples, switch_asked - 1.5, switch_asked - 0.1),
        rate,
        Duration::ZERO,
    );
    let after = analyze(
        span(&samples, switched_at + 0.7, switched_at + 2.5),
        rate,
        Duration::ZERO,
    );
    eprintln!(
        "switch asked at {switch_asked:.2} s, done at {switched_at:.2} s; before {before:?}; after {after:?}"
    );
    assert_tone("B hears Mic_A before the switch", &before, 700.0);
    assert_tone("B hears Mic_B after the switch", &after, 900.0);

    // The call went on: one RTP stream, every packet in sequence, none missing.
    let b_events = drain(&mut b.events);
    assert!(
        !b_events
            .iter()
            .any(|e| matches!(e, AudioEvent::RemoteSsrcChanged { .. })),
        "{b_events:?}"
    );
    assert_eq!(b_stats.packets_lost, 0, "{b_stats:?}");
    let expected = elapsed.as_secs_f64() * 50.0;
    assert!(
        a_stats.packets_sent as f64 >= expected * 0.95,
        "A sent {} packets in {elapsed:?} (a gap in sending): {a_stats:?}",
        a_stats.packets_sent
    );
    assert!(
        b_stats.packets_received + 2 >= a_stats.packets_sent,
        "{a_stats:?} {b_stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_speaker_mid_call_moves_what_we_play() {
    let _session = session();
    let mic_a = Recorder::start("Mic_A");
    let mic_b = Recorder::start("Mic_B");
    let a_config = AudioConfig {
        source: SourceChoice::Silence,
        sink: SinkChoice::Device(Some("Speaker_A".into())),
        ..AudioConfig::default()
    };
    let b_config = AudioConfig {
        source: SourceChoice::Tone(500.0),
        sink: SinkChoice::Null,
        ..AudioConfig::default()
    };
    let (mut a, b) = call(CODECS, CODECS, true, a_config, b_config).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let switch_asked = Instant::now();
    let to = a
        .audio
        .switch_speaker(SinkChoice::Device(Some("Speaker_B".into())))
        .await
        .unwrap();
    assert_eq!(to, "pulseaudio:spk_b");
    let (event, seen) = wait_for(
        &mut a.events,
        Duration::from_secs(5),
        switched(DeviceRole::Speaker),
    )
    .await;
    assert_eq!(
        event.as_deref(),
        Some("pulseaudio:spk_b"),
        "no switch event: {seen:?}"
    );
    let switched_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let a_stats = a.audio.close().await.unwrap().unwrap();
    b.audio.close().await.unwrap();
    // Each recording's time runs from its own start (opening a device takes a while).
    let (a_start, b_start) = (mic_a.started, mic_b.started);
    let (on_a, on_b) = (mic_a.finish(), mic_b.finish());
    let secs = |at: Instant, start: Instant| at.duration_since(start).as_secs_f64();
    let before = |samples: &[i16], start: Instant| {
        let asked = secs(switch_asked, start);
        analyze(
            span(samples, asked - 1.5, asked - 0.1),
            RATE,
            Duration::ZERO,
        )
    };
    let after = |samples: &[i16], start: Instant| {
        let done = secs(switched_at, start);
        analyze(span(samples, done + 0.7, done + 2.5), RATE, Duration::ZERO)
    };
    let (a_before, b_before) = (before(&on_a, a_start), before(&on_b, b_start));
    let (a_after, b_after) = (after(&on_a, a_start), after(&on_b, b_start));
    eprintln!(
        "switch asked at {:.2} s, done at {:.2} s of Mic_A's recording\n\
         Speaker_A monitor before {a_before:?} after {a_after:?}\n\
         Speaker_B monitor before {b_before:?} after {b_after:?}",
        secs(switch_asked, a_start),
        secs(switched_at, a_start),
    );
    assert_tone(
        "Speaker_A plays B's tone before the switch",
        &a_before,
        500.0,
    );
    assert!(
        b_before.rms < 0.001,
        "Speaker_B silent before: {b_before:?}"
    );
    assert_tone("Speaker_B plays B's tone after the switch", &b_after, 500.0);
    assert!(a_after.rms < 0.001, "Speaker_A silent after: {a_after:?}");
    assert_eq!(a_stats.packets_lost, 0, "{a_stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_mic_falls_back_to_the_default_mid_call() {
    let session = session();
    session
        .server
        .pactl(&["set-default-source", "mic_b"])
        .unwrap();
    let _a_voice = Player::tone(700.0, "Speaker_A");
    let _b_voice = Player::tone(900.0, "Speaker_B");
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("b.wav");
    let a_config = AudioConfig {
        source: SourceChoice::Device(Some("Mic_A".into())),
        sink: SinkChoice::Null,
        ..AudioConfig::default()
    };
    let b_config = AudioConfig {
        source: SourceChoice::Silence,
        sink: SinkChoice::Wav(recording.clone()),
        ..AudioConfig::default()
    };
    let (mut a, b) = call(CODECS, CODECS, true, a_config, b_config).await;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let lost_at = started.elapsed().as_secs_f64();
    session.server.unload_device("mic_a").unwrap();
    let (event, seen) = wait_for(&mut a.events, Duration::from_secs(5), |e| match e {
        AudioEvent::DeviceFallback {
            role: DeviceRole::Microphone,
            lost,
            to,
            ..
        } => Some((lost.clone(), to.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        event,
        Some((
            "pulseaudio:mic_a".to_string(),
            "pulseaudio:mic_b".to_string()
        )),
        "{seen:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let elapsed = started.elapsed();
    let a_stats = a.audio.close().await.unwrap().unwrap();
    let b_stats = b.audio.close().await.unwrap().unwrap();

    let (samples, rate) = read_wav_mono(&recording).unwrap();
    let before = analyze(span(&samples, 1.0, lost_at - 0.1), rate, Duration::ZERO);
    let after = analyze(
        span(&samples, lost_at + 1.5, lost_at + 3.0),
        rate,
        Duration::ZERO,
    );
    assert_tone("B hears Mic_A before it vanished", &before, 700.0);
    assert_tone(
        "B hears the default (Mic_B) after the fallback",
        &after,
        900.0,
    );
    assert_eq!(b_stats.packets_lost, 0, "{b_stats:?}");
    assert!(
        a_stats.packets_sent as f64 >= elapsed.as_secs_f64() * 50.0 * 0.95,
        "{a_stats:?}"
    );
}
