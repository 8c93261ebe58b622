//! Devices on a real (private) PulseAudio server with virtual devices: Speaker_A/B are null
//! sinks, Mic_A/B hear their monitors. Each test starts and stops its own server.

mod support;

use std::time::Duration;

use dialtone_devices::{enumerate, find_device, open_input, open_output, DeviceKind};
use support::{assert_silent, assert_tone, play, record_for, session, RATE};

#[test]
fn enumeration_lists_the_virtual_devices_by_name_with_stable_ids() {
    let mut s = session();
    let devices = enumerate().unwrap();
    let find = |kind: DeviceKind, name: &str| {
        devices
            .iter()
            .find(|d| d.kind == kind && d.name == name)
            .unwrap_or_else(|| panic!("{name} missing from {devices:#?}"))
            .clone()
    };
    let mic_a = find(DeviceKind::Input, "Mic_A");
    let mic_b = find(DeviceKind::Input, "Mic_B");
    let spk_a = find(DeviceKind::Output, "Speaker_A");
    let spk_b = find(DeviceKind::Output, "Speaker_B");
    assert_eq!(mic_a.id, "pulseaudio:mic_a");
    assert_eq!(mic_b.id, "pulseaudio:mic_b");
    assert_eq!(spk_a.id, "pulseaudio:spk_a");
    assert_eq!(spk_b.id, "pulseaudio:spk_b");
    assert!(mic_a.is_default && spk_a.is_default, "{devices:#?}");
    assert!(!mic_b.is_default && !spk_b.is_default, "{devices:#?}");
    assert_eq!(mic_a.default_rate, Some(44100));
    assert!(
        !devices
            .iter()
            .any(|d| d.kind == DeviceKind::Output && d.name == "Mic_A"),
        "microphones are not outputs"
    );

    // Names and fragments find the same ids; the default follows the server.
    assert_eq!(
        find_device(DeviceKind::Input, "mic_b").unwrap().id,
        mic_b.id
    );
    assert_eq!(
        find_device(DeviceKind::Output, "Speaker_B").unwrap().id,
        spk_b.id
    );
    s.server.pactl(&["set-default-source", "mic_b"]).unwrap();
    let again = enumerate().unwrap();
    let default_in: Vec<_> = again
        .iter()
        .filter(|d| d.kind == DeviceKind::Input && d.is_default)
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(default_in, ["pulseaudio:mic_b"]);

    // The ids survive a server restart (they are PulseAudio's device names).
    let old_pid = s.server.pid();
    s.restart().expect("restart the test PulseAudio server");
    assert_ne!(s.server.pid(), old_pid);
    let ids: Vec<String> = enumerate().unwrap().into_iter().map(|d| d.id).collect();
    for id in [
        "pulseaudio:mic_a",
        "pulseaudio:mic_b",
        "pulseaudio:spk_a",
        "pulseaudio:spk_b",
    ] {
        assert!(
            ids.iter().any(|i| i == id),
            "{id} missing after restart: {ids:?}"
        );
    }
}

#[test]
fn tone_played_into_speaker_a_is_heard_on_mic_a_and_speakers_are_isolated() {
    let _s = session();
    let mic_a = open_input(Some("pulseaudio:mic_a"), RATE).unwrap();
    let mic_b = open_input(Some("Mic_B"), RATE).unwrap();
    assert_eq!(mic_b.id(), "pulseaudio:mic_b");

    // Only Speaker_B plays: Mic_A must stay silent.
    let spk_b = open_output(Some("pulseaudio:spk_b"), RATE).unwrap();
    let _b = play(900.0, spk_b);
    let rec_b = support::Recorder::start(Box::new(mic_b));
    let rec_a = record_for(Box::new(mic_a), Duration::from_millis(3000));
    assert_silent("Mic_A while only Speaker_B plays", rec_a.span(1.0, 3.0));

    // Now Speaker_A plays 700 Hz too: Mic_A hears 700, Mic_B still only 900.
    let mic_a = open_input(Some("pulseaudio:mic_a"), RATE).unwrap();
    let spk_a = open_output(Some("Speaker_A"), RATE).unwrap();
    assert_eq!(spk_a.id(), "pulseaudio:spk_a");
    let _a = play(700.0, spk_a);
    let rec_a = record_for(Box::new(mic_a), Duration::from_millis(3500));
    let rec_b = rec_b.finish();
    assert_tone("Mic_A", rec_a.span(1.5, 3.5), 700.0);
    let tail_b = rec_b.span(rec_b.seconds() - 2.0, rec_b.seconds());
    assert_tone("Mic_B", tail_b, 900.0);
    let p700 = dialtone_devices::analysis::goertzel_power(tail_b, RATE, 700.0);
    let p900 = dialtone_devices::analysis::goertzel_power(tail_b, RATE, 900.0);
    assert!(
        p700 < p900 / 1000.0,
        "Speaker_A leaks into Mic_B: {p700} vs {p900}"
    );
}

#[test]
fn alsa_default_device_reaches_the_server_through_the_pulse_plugin() {
    let _s = session();
    // ALSA's `default` PCM is PulseAudio's default (Speaker_A / Mic_A) via libasound2-plugins.
    let spk = open_output(Some("alsa:default"), RATE).unwrap();
    assert_eq!(spk.id(), "alsa:default");
    let _p = play(700.0, spk);
    let mic = open_input(Some("pulseaudio:mic_a"), RATE).unwrap();
    let rec = record_for(Box::new(mic), Duration::from_millis(3000));
    assert_tone("Mic_A hearing ALSA default", rec.span(1.5, 3.0), 700.0);
    let mic = open_input(Some("alsa:default"), RATE).unwrap();
    let rec = record_for(Box::new(mic), Duration::from_millis(2500));
    assert_tone("ALSA default capture", rec.span(1.0, 2.5), 700.0);
}
