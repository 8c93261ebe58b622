//! Real calls carrying real audio, checked as audio: every party sends its own sine and the other side's recording
//! must have that dominant frequency (after the first second), for each codec.
//!
//! - Dialtone ↔ baresip 1.0 (Debian `baresip-core`) through Kamailio, both directions, PCMU, PCMA, G.722 and Opus:
//!   baresip sends a sine with `ausine` and records what it decodes with `sndfile`; the `dialtone` CLI sends
//!   `--tone` and records with `--record`.
//! - Dialtone ↔ Dialtone: RFC 4733 DTMF sent from the keypad path and reported on the other side, and `--mute-after`
//!   silencing what the other side hears while RTP goes on.
//! - Dialtone ↔ Dialtone over Speex 16 and 8 kHz, tones checked both ways (and not louder than sent: a Speex decoder
//!   out of step with the encoder once turned a steady tone into a full-scale buzz). Debian's baresip has no Speex
//!   codec module (only `speex_pp`, the preprocessor), so the peer is a second `dialtone` process.

mod cli;

use cli::{assert_tone, is_call, is_reg, Cli};
use dialtone_devices::analysis::analyze_wav;
use dialtone_testkit::{Baresip, BaresipOpts, Kamailio, KamailioOpts};
use std::path::Path;
use std::time::Duration;

const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw"), ("carol", "carolpw")];
const T: Duration = Duration::from_secs(20);
/// Our tone and the far end's.
const OURS: f64 = 700.0;
const THEIRS: f64 = 500.0;

/// Our codec name and baresip's.
const CODECS: &[(&str, &str)] = &[
    ("ulaw", "PCMU/8000"),
    ("alaw", "PCMA/8000"),
    ("g722", "G722/8000/1"),
    ("opus", "opus/48000/2"),
];

fn baresip_with_tone(kam: &Kamailio, codec: &str) -> Baresip {
    let mut opts = BaresipOpts::registered("bob", "bobpw", kam.udp_addr());
    opts.audio_codecs = Some(codec.to_string());
    opts.tone_hz = Some(THEIRS as u32);
    opts.record = true;
    let mut bob = Baresip::start(opts).expect("start baresip");
    bob.wait_registered(T)
        .expect("baresip registers with kamailio");
    bob
}

fn check_both_ways(what: &str, ours: &Path, bob: &Baresip) {
    assert_tone(&format!("{what}: what Dialtone received"), ours, THEIRS);
    let theirs = bob.received_wavs();
    let last = theirs
        .last()
        .unwrap_or_else(|| panic!("{what}: baresip recorded nothing:\n{}", bob.log()));
    assert_tone(&format!("{what}: what baresip received"), last, OURS);
}

fn expected_codec(name: &str) -> &'static str {
    match name {
        "ulaw" => "PCMU/8000",
        "alaw" => "PCMA/8000",
        "g722" => "G722/8000",
        "opus" => "opus/48000",
        _ => "?",
    }
}

#[test]
fn dialtone_calls_baresip_through_kamailio_and_both_hear_the_other_tone_for_each_codec() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (ours, theirs) in CODECS {
        // A fresh proxy per codec: the previous baresip's binding would otherwise still be in its location table.
        let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
        let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
        let bob = baresip_with_tone(&kam, theirs);
        let record = dir.path().join(format!("alice-out-{ours}.wav"));
        let codecs = format!("{ours},telephone-event");
        let mut alice = Cli::phone(
            &[
                "--account",
                &account,
                "--password-env",
                "DIALTONE_TEST_PASSWORD",
                "--call",
                &bob.uri(),
                "--tone",
                "700",
                "--record",
                record.to_str().expect("utf-8 path"),
                "--codecs",
                &codecs,
                "--hangup-after",
                "4",
                "--timeout",
                "40",
            ],
            "alicepw",
        );
        alice.wait_for("REGISTERED", T, is_reg("REGISTERED"));
        let media = alice.wait_for("media", T, |v| v["event"] == "media");
        assert_eq!(media["codec"], expected_codec(ours), "{ours}: {media}");
        alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
        let stats = alice.wait_for("final stats", T, |v| {
            v["event"] == "stats" && v["final"] == true
        });
        assert!(
            stats["stats"]["packets_received"].as_u64().unwrap_or(0) > 100,
            "{ours}: {stats}"
        );
        let mos = stats["stats"]["mos"].as_f64().unwrap_or(0.0);
        assert!(
            mos > 3.5,
            "{ours}: a clean loopback call should estimate MOS > 3.5: {stats}"
        );
        assert_eq!(alice.wait_exit(T), 0, "{ours}: {:?}", alice.errors);
        check_both_ways(&format!("Dialtone → baresip, {ours}"), &record, &bob);
    }
}

#[test]
fn baresip_calls_dialtone_through_kamailio_and_both_hear_the_other_tone_for_each_codec() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (ours, theirs) in CODECS {
        // A fresh proxy per codec: the previous baresip's binding would otherwise still be in its location table.
        let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
        let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
        let mut bob = baresip_with_tone(&kam, theirs);
        let record = dir.path().join(format!("alice-in-{ours}.wav"));
        let codecs = format!("{ours},telephone-event");
        let mut alice = Cli::phone(
            &[
                "--account",
                &account,
                "--password-env",
                "DIALTONE_TEST_PASSWORD",
                "--auto-answer",
                "--tone",
                "700",
                "--record",
                record.to_str().expect("utf-8 path"),
                "--codecs",
                &codecs,
                "--hangup-after",
                "4",
                "--timeout",
                "40",
            ],
            "alicepw",
        );
        alice.wait_for("REGISTERED", T, is_reg("REGISTERED"));
        bob.command("dial", Some(&account))
            .expect("baresip dials alice");
        let media = alice.wait_for("media", T, |v| v["event"] == "media");
        assert_eq!(media["codec"], expected_codec(ours), "{ours}: {media}");
        alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
        alice.wait_for("final stats", T, |v| {
            v["event"] == "stats" && v["final"] == true
        });
        assert_eq!(alice.wait_exit(T), 0, "{ours}: {:?}", alice.errors);
        check_both_ways(&format!("baresip → Dialtone, {ours}"), &record, &bob);
    }
}

/// Two `dialtone` phones straight to each other (no registration): alice calls bob.
fn two_phones(dir: &Path, alice_extra: &[&str], bob_extra: &[&str]) -> (Cli, Cli) {
    let bob_rec = dir.join("bob.wav");
    let alice_rec = dir.join("alice.wav");
    let mut bob_args = vec![
        "--account",
        "sip:bob@127.0.0.1:9",
        "--no-register",
        "--bind",
        "127.0.0.1",
        "--auto-answer",
        "--tone",
        "900",
        "--record",
        bob_rec.to_str().expect("utf-8 path"),
        "--timeout",
        "40",
    ];
    bob_args.extend_from_slice(bob_extra);
    let mut bob = Cli::phone(&bob_args, "");
    let listening = bob.wait_for("listening", T, |v| v["event"] == "listening");
    let contact = listening["contact"].as_str().expect("contact").to_string();
    let mut alice_args = vec![
        "--account",
        "sip:alice@127.0.0.1:9",
        "--no-register",
        "--bind",
        "127.0.0.1",
        "--call",
        &contact,
        "--record",
        alice_rec.to_str().expect("utf-8 path"),
        "--timeout",
        "40",
    ];
    if !alice_extra.contains(&"--play") {
        alice_args.extend_from_slice(&["--tone", "700"]);
    }
    alice_args.extend_from_slice(alice_extra);
    let alice = Cli::phone(&alice_args, "");
    (alice, bob)
}

#[test]
fn rfc4733_digits_from_one_dialtone_phone_are_reported_by_the_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut alice, mut bob) = two_phones(
        dir.path(),
        &[
            "--dtmf",
            "15#*",
            "--dtmf-method",
            "rfc4733",
            "--dtmf-after",
            "1",
            "--hangup-after",
            "4",
        ],
        &[],
    );
    let mut got = String::new();
    while got.len() < 4 {
        let d = bob.wait_for("a DTMF digit", T, |v| {
            v["event"] == "dtmf" && v["flow"] == "received"
        });
        assert_eq!(d["method"], "rfc4733", "{d}");
        got.push_str(d["digit"].as_str().unwrap_or("?"));
    }
    assert_eq!(got, "15#*");
    assert_eq!(alice.wait_exit(T), 0, "{:?}", alice.errors);
    let sent = alice
        .seen
        .iter()
        .filter(|v| v["event"] == "dtmf" && v["flow"] == "sent" && v["method"] == "rfc4733")
        .count();
    assert_eq!(
        sent, 4,
        "alice reports each digit sent as rfc4733: {:#?}",
        alice.seen
    );
    assert_eq!(bob.wait_exit(T), 0, "{:?}", bob.errors);
}

#[test]
fn muting_sends_silence_and_keeps_the_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut alice, mut bob) = two_phones(
        dir.path(),
        &["--mute-after", "2", "--hangup-after", "5"],
        &[],
    );
    assert_eq!(alice.wait_exit(T), 0, "{:?}", alice.errors);
    assert_eq!(bob.wait_exit(T), 0, "{:?}", bob.errors);
    let (samples, rate) = dialtone_devices::analysis::read_wav_mono(dir.path().join("bob.wav"))
        .expect("bob's recording");
    let second = |s: usize| {
        &samples
            [(s * rate as usize).min(samples.len())..((s + 1) * rate as usize).min(samples.len())]
    };
    let before = dialtone_devices::analysis::rms(second(1));
    let after = dialtone_devices::analysis::rms(second(3));
    assert!(
        before > 0.05,
        "bob hears alice before the mute: rms {before}"
    );
    assert!(
        after < 0.005,
        "bob hears nothing after the mute: rms {after}"
    );
    // RTP went on while muted: bob kept receiving packets (no inactivity, the call ended by alice's BYE).
    assert!(bob
        .seen
        .iter()
        .any(|v| v["event"] == "call" && v["state"] == "FINISH"));
}

#[test]
fn the_cli_plays_a_wav_file_and_records_the_other_side_to_another() {
    use dialtone_devices::{AudioSink, WavSink};
    let dir = tempfile::tempdir().expect("temp dir");
    // A 2 s, 600 Hz WAV at 16 kHz: shorter than the call, so it must loop.
    let wav = dir.path().join("greeting.wav");
    let mut sink = WavSink::create(&wav, 16_000).expect("create the WAV");
    let samples: Vec<i16> = (0..32_000)
        .map(|n| {
            (12_000.0 * (2.0 * std::f64::consts::PI * 600.0 * n as f64 / 16_000.0).sin()) as i16
        })
        .collect();
    assert_eq!(sink.write(&samples), samples.len());
    sink.finish().expect("finish the WAV");
    let (mut alice, mut bob) = two_phones(
        dir.path(),
        &[
            "--play",
            wav.to_str().expect("utf-8 path"),
            "--hangup-after",
            "5",
        ],
        &[],
    );
    assert_eq!(alice.wait_exit(T), 0, "{:?}", alice.errors);
    assert_eq!(bob.wait_exit(T), 0, "{:?}", bob.errors);
    // Bob heard the file, past its first loop; alice recorded bob's 900 Hz.
    let (heard, rate) = dialtone_devices::analysis::read_wav_mono(dir.path().join("bob.wav"))
        .expect("bob's recording");
    let late = &heard[(3 * rate as usize).min(heard.len())..];
    let dominant = dialtone_devices::analysis::dominant_frequency(late, rate).unwrap_or(0.0);
    assert!(
        (dominant - 600.0).abs() <= 15.0,
        "bob hears the looped file: {dominant} Hz"
    );
    assert_tone("alice's recording", &dir.path().join("alice.wav"), 900.0);
}

#[test]
fn two_dialtone_phones_hear_each_others_tone_over_speex_at_both_rates() {
    for (codec, rtpmap) in [("speex16", "speex/16000"), ("speex", "speex/8000")] {
        let dir = tempfile::tempdir().expect("temp dir");
        let codecs = format!("{codec},telephone-event");
        let (mut alice, mut bob) = two_phones(
            dir.path(),
            &["--codecs", &codecs, "--hangup-after", "4"],
            &["--codecs", &codecs],
        );
        for (who, cli) in [("alice", &mut alice), ("bob", &mut bob)] {
            let media = cli.wait_for("media", T, |v| v["event"] == "media");
            assert_eq!(media["codec"], rtpmap, "{who}: {media}");
        }
        assert_eq!(alice.wait_exit(T), 0, "{codec}: {:?}", alice.errors);
        assert_eq!(bob.wait_exit(T), 0, "{codec}: {:?}", bob.errors);
        for (what, file, hz) in [
            ("alice's recording", "alice.wav", 900.0),
            ("bob's recording", "bob.wav", 700.0),
        ] {
            let path = dir.path().join(file);
            assert_tone(&format!("{codec}: {what}"), &path, hz);
            // The CLI's tone is at half of full scale (RMS 0.35); a diverged decoder clips (RMS ~0.8).
            let level = analyze_wav(&path, Duration::from_secs(1))
                .expect("recording")
                .rms;
            assert!(
                level < 0.5,
                "{codec}: {what} is louder than the tone sent: rms {level}"
            );
        }
    }
}
