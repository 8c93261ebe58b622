//! `--switch-mic-after` and `--switch-speaker-after` through the `dialtone` CLI, in a real call to a peer (issue #5).
//!
//! A private PulseAudio server (`dialtone_devices::PulseServer`: Speaker_A/B, Mic_A/B hearing their monitors) is
//! started by the test and its `PULSE_SERVER`/`PULSE_CLIENTCONFIG` are set in this process, so both `dialtone`
//! children use it. The peer is a second `dialtone` process (no registration, direct call) that records what it
//! receives (or sends a tone). Audio is checked as audio: dominant frequency per time window.

mod audio_support;
mod cli;

use std::time::Duration;

use audio_support::pulse::{self, span, Player, Recorder, RATE};
use cli::{is_call, Cli};
use dialtone_devices::analysis::{analyze, read_wav_mono, ToneAnalysis};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);

/// A `dialtone` phone listening on 127.0.0.1 that answers at once; returns it and its contact.
fn callee(extra: &[&str]) -> (Cli, String) {
    let mut args = vec![
        "--account",
        "sip:bob@127.0.0.1:9",
        "--no-register",
        "--bind",
        "127.0.0.1",
        "--auto-answer",
        "--timeout",
        "40",
    ];
    args.extend_from_slice(extra);
    let mut bob = Cli::phone(&args, "");
    let listening = bob.wait_for("listening", T, |v| v["event"] == "listening");
    let contact = listening["contact"]
        .as_str()
        .expect("contact in the listening event")
        .to_string();
    (bob, contact)
}

/// The `dialtone` phone that calls `contact`.
fn caller(contact: &str, extra: &[&str]) -> Cli {
    let mut args = vec![
        "--account",
        "sip:alice@127.0.0.1:9",
        "--no-register",
        "--bind",
        "127.0.0.1",
        "--call",
        contact,
        "--timeout",
        "40",
    ];
    args.extend_from_slice(extra);
    Cli::phone(&args, "")
}

/// The tone analysis of `samples` (at `rate`) between `from` and `to` seconds.
fn window(samples: &[i16], rate: u32, from: f64, to: f64) -> ToneAnalysis {
    let at = |s: f64| ((s * f64::from(rate)) as usize).min(samples.len());
    analyze(&samples[at(from)..at(to)], rate, Duration::ZERO)
}

fn assert_dominant(what: &str, analysis: &ToneAnalysis, hz: f64) {
    let dominant = analysis.dominant_hz.unwrap_or(0.0);
    assert!(
        (dominant - hz).abs() <= 15.0 && analysis.rms > 0.02,
        "{what}: expected {hz} Hz, got {analysis:?}"
    );
}

/// The call stayed up until the scripted hangup: one ESTABLISHED, then FINISH as the last state, and a clean exit.
fn assert_one_call_to_the_end(who: &str, cli: &mut Cli) {
    assert_eq!(cli.wait_exit(T), 0, "{who}: {:?}", cli.errors);
    let states = cli.call_states();
    let established = states.iter().filter(|s| *s == "ESTABLISHED").count();
    assert_eq!(established, 1, "{who}: call states {states:?}");
    assert_eq!(
        states.iter().filter(|s| *s == "FINISH").count(),
        1,
        "{who}: call states {states:?}"
    );
    assert_eq!(
        states.last().map(String::as_str),
        Some("FINISH"),
        "{who}: {states:?}"
    );
}

/// The `audio_device` event of a switch of `role` to a device whose id contains `to`.
fn switched(cli: &Cli, role: &str, to: &str) -> Option<Value> {
    cli.seen
        .iter()
        .find(|v| {
            v["event"] == "audio_device"
                && v["role"] == role
                && v["change"] == "switched"
                && v["to"]
                    .as_str()
                    .is_some_and(|t| t.to_lowercase().contains(to))
        })
        .cloned()
}

/// Alice talks into Mic_A (which hears a 700 Hz tone played to Speaker_A) and switches to Mic_B (900 Hz on
/// Speaker_B) 2 s into the call; Bob's recording has 700 Hz first and 900 Hz later, the call never drops, and Alice
/// reports the switch.
#[test]
fn switching_the_microphone_mid_call_changes_what_the_peer_hears() {
    let session = pulse::session();
    let _a = Player::tone(700.0, "Speaker_A");
    let _b = Player::tone(900.0, "Speaker_B");
    let dir = tempfile::tempdir().expect("temp dir");
    let heard = dir.path().join("bob.wav");
    let (mut bob, contact) = callee(&[
        "--tone",
        "500",
        "--record",
        heard.to_str().expect("utf-8 path"),
    ]);
    let mut alice = caller(
        &contact,
        &[
            "--mic",
            "Mic_A",
            "--switch-mic-after",
            "2",
            "Mic_B",
            "--no-speaker",
            "--hangup-after",
            "6",
        ],
    );
    alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    let event = alice.wait_for("the microphone switch", T, |v| {
        v["event"] == "audio_device" && v["role"] == "microphone"
    });
    assert_eq!(event["change"], "switched", "{event}");
    assert_one_call_to_the_end("alice", &mut alice);
    assert_one_call_to_the_end("bob", &mut bob);
    assert!(
        switched(&alice, "microphone", "mic_b").is_some(),
        "alice reports the switch to Mic_B: {:#?}",
        alice.seen
    );
    drop(session);

    let (samples, rate) = read_wav_mono(&heard).expect("bob's recording");
    let seconds = samples.len() as f64 / f64::from(rate);
    assert!(seconds > 5.0, "bob recorded {seconds:.2} s of a 6 s call");
    assert_dominant(
        "bob, before the switch",
        &window(&samples, rate, 0.5, 1.8),
        700.0,
    );
    assert_dominant(
        "bob, after the switch",
        &window(&samples, rate, 4.0, seconds - 0.3),
        900.0,
    );
}

/// Alice plays what she receives (Bob's 500 Hz) on Speaker_A and moves it to Speaker_B 2 s into the call: Mic_A (the
/// monitor of Speaker_A) hears 500 Hz first, Mic_B later, and not the other way round.
#[test]
fn switching_the_speaker_mid_call_moves_what_we_play() {
    let session = pulse::session();
    let mon_a = Recorder::start("Mic_A");
    let mon_b = Recorder::start("Mic_B");
    let (mut bob, contact) = callee(&["--tone", "500", "--no-speaker"]);
    let mut alice = caller(
        &contact,
        &[
            "--tone",
            "700",
            "--speaker",
            "Speaker_A",
            "--switch-speaker-after",
            "2",
            "Speaker_B",
            "--hangup-after",
            "6",
        ],
    );
    alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    // Seconds from each recorder's start (opening a PulseAudio source takes a while) to the call's.
    let (established_a, established_b) = (
        mon_a.started.elapsed().as_secs_f64(),
        mon_b.started.elapsed().as_secs_f64(),
    );
    let event = alice.wait_for("the speaker switch", T, |v| {
        v["event"] == "audio_device" && v["role"] == "speaker"
    });
    assert_eq!(event["change"], "switched", "{event}");
    assert_one_call_to_the_end("alice", &mut alice);
    assert_one_call_to_the_end("bob", &mut bob);
    assert!(
        switched(&alice, "speaker", "spk_b").is_some()
            || switched(&alice, "speaker", "speaker_b").is_some(),
        "alice reports the switch to Speaker_B: {:#?}",
        alice.seen
    );
    let (a, b) = (mon_a.finish(), mon_b.finish());
    drop(session);

    let early = |samples: &[i16], established: f64| {
        analyze(
            span(samples, established + 0.5, established + 1.8),
            RATE,
            Duration::ZERO,
        )
    };
    let late = |samples: &[i16], established: f64| {
        analyze(
            span(samples, established + 4.0, established + 5.5),
            RATE,
            Duration::ZERO,
        )
    };
    let (early_a, early_b) = (early(&a, established_a), early(&b, established_b));
    let (late_a, late_b) = (late(&a, established_a), late(&b, established_b));
    assert_dominant("Speaker_A before the switch", &early_a, 500.0);
    assert!(
        early_b.rms < 0.01,
        "Speaker_B plays nothing before the switch: {early_b:?}"
    );
    assert_dominant("Speaker_B after the switch", &late_b, 500.0);
    assert!(
        late_a.rms < 0.01,
        "Speaker_A plays nothing after the switch: {late_a:?}"
    );
}
