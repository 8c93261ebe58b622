//! Switchable wrappers with synthetic endpoints (no sound server): switching mid-stream,
//! events, rate checks, and what happens after the wrapper is dropped.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use dialtone_devices::analysis::dominant_frequency;
use dialtone_devices::{
    AudioSink, AudioSource, DeviceError, DeviceEvent, DeviceKind, NullSink, SilenceSource,
    SwitchableSink, SwitchableSource, ToneSource, WavSink,
};

const RATE: u32 = 8000;

fn tone(freq: f64) -> Box<dyn AudioSource> {
    Box::new(ToneSource::new(freq, RATE).unwrap())
}

/// Reads 20 ms frames until `done` says so (or 5 s pass); every read must fill the frame.
fn read_until(
    source: &mut SwitchableSource,
    mut done: impl FnMut(&SwitchableSource) -> bool,
) -> Vec<i16> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut all = Vec::new();
    let mut frame = [0i16; 160];
    while !done(source) {
        assert!(Instant::now() < deadline, "switch did not happen");
        assert_eq!(source.read_frame(&mut frame), 160);
        all.extend_from_slice(&frame);
        std::thread::sleep(Duration::from_millis(2));
    }
    all
}

#[test]
fn source_switch_changes_what_the_consumer_reads_and_reports_it() {
    let (events_tx, events) = mpsc::channel();
    let (mut source, switch) = SwitchableSource::new(tone(700.0), Some(events_tx));
    assert_eq!(source.sample_rate(), RATE);
    let mut before = vec![0i16; 8000];
    assert_eq!(source.read_frame(&mut before), 8000);
    assert!((dominant_frequency(&before, RATE).unwrap() - 700.0).abs() < 2.0);

    switch.switch_to(tone(900.0)).unwrap();
    read_until(&mut source, |s| s.current_label() == "tone:900Hz");
    let mut after = vec![0i16; 8000];
    source.read_frame(&mut after);
    assert!((dominant_frequency(&after, RATE).unwrap() - 900.0).abs() < 2.0);

    let event = events.recv_timeout(Duration::from_secs(2)).unwrap();
    assert_eq!(
        event,
        DeviceEvent::Switched {
            kind: DeviceKind::Input,
            from: "tone:700Hz".into(),
            to: "tone:900Hz".into()
        }
    );

    // Mute by switching to silence; the consumer still gets full frames.
    switch
        .switch_to(Box::new(SilenceSource::new(RATE).unwrap()))
        .unwrap();
    read_until(&mut source, |s| s.current_label() == "silence");
    let mut frame = [1i16; 160];
    assert_eq!(source.read_frame(&mut frame), 160);
    assert!(frame.iter().all(|&s| s == 0));
    assert_eq!(source.device_id(), None);
}

#[test]
fn mute_gives_silence_at_the_same_pace_and_unmute_is_instant() {
    let (mut source, switch) = SwitchableSource::new(tone(700.0), None);
    let mut frame = [0i16; 160];
    switch.set_muted(true);
    assert!(switch.is_muted());
    assert_eq!(source.read_frame(&mut frame), 160);
    assert!(frame.iter().all(|&s| s == 0));
    switch.set_muted(false);
    assert_eq!(source.read_frame(&mut frame), 160);
    assert!(frame.iter().any(|&s| s != 0));
}

#[test]
fn switching_to_another_rate_is_refused() {
    let (_source, switch) = SwitchableSource::new(tone(700.0), None);
    let other = Box::new(ToneSource::new(700.0, 16000).unwrap());
    assert!(matches!(
        switch.switch_to(other),
        Err(DeviceError::RateMismatch {
            expected: 8000,
            got: 16000
        })
    ));
    let (_sink, sink_switch) = SwitchableSink::new(Box::new(NullSink::new(RATE).unwrap()), None);
    assert!(matches!(
        sink_switch.switch_to(Box::new(NullSink::new(48000).unwrap())),
        Err(DeviceError::RateMismatch { .. })
    ));
}

#[test]
fn handles_report_closed_after_the_wrapper_is_dropped() {
    let (source, switch) = SwitchableSource::new(tone(700.0), None);
    drop(source);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match switch.switch_to(tone(900.0)) {
            Err(DeviceError::Closed("source")) => break,
            Ok(()) => assert!(Instant::now() < deadline, "still accepted after drop"),
            Err(other) => panic!("unexpected {other}"),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sink_switch_moves_the_audio_to_the_new_sink() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("after.wav");
    let (events_tx, events) = mpsc::channel();
    let (mut sink, switch) =
        SwitchableSink::new(Box::new(NullSink::new(RATE).unwrap()), Some(events_tx));
    let frame = [100i16; 160];
    for _ in 0..10 {
        assert_eq!(sink.write(&frame), 160);
    }
    switch
        .switch_to(Box::new(WavSink::create(&path, RATE).unwrap()))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while sink.current_label() == "null" {
        assert!(Instant::now() < deadline, "switch did not happen");
        sink.write(&frame);
        std::thread::sleep(Duration::from_millis(2));
    }
    for _ in 0..5 {
        sink.write(&frame);
    }
    sink.finish().unwrap();
    let event = events.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(
        matches!(&event, DeviceEvent::Switched { kind: DeviceKind::Output, from, .. } if from == "null"),
        "{event:?}"
    );
    let reader = hound::WavReader::open(&path).unwrap();
    // The frame that completed the switch plus the five after it.
    assert_eq!(reader.duration(), 6 * 160);
}
