//! File and synthetic endpoints: no sound server involved.

use std::time::Duration;

use dialtone_devices::analysis::{analyze, analyze_wav, read_wav_mono};
use dialtone_devices::{
    AudioSink, AudioSource, DeviceError, NullSink, SilenceSource, ToneSource, WavSink, WavSource,
};

fn pull(source: &mut dyn AudioSource, samples: usize, frame: usize) -> Vec<i16> {
    let mut out = Vec::with_capacity(samples);
    let mut buf = vec![0i16; frame];
    while out.len() < samples {
        let got = source.read_frame(&mut buf);
        assert_eq!(got, frame, "{} must always fill the frame", source.label());
        out.extend_from_slice(&buf);
    }
    out.truncate(samples);
    out
}

fn assert_tone(samples: &[i16], rate: u32, freq: f64) {
    let found = analyze(samples, rate, Duration::ZERO);
    let hz = found.dominant_hz.expect("a tone, not silence");
    assert!((hz - freq).abs() <= 3.0, "expected {freq} Hz, found {hz}");
    assert!(found.rms > 0.05, "rms {}", found.rms);
}

#[test]
fn wav_sink_records_what_wav_source_plays_back_looped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    let mut sink = WavSink::create(&path, 8000).unwrap();
    let mut tone = ToneSource::new(700.0, 8000).unwrap();
    // 0.5 s in 20 ms frames.
    for _ in 0..25 {
        let mut frame = [0i16; 160];
        tone.read_frame(&mut frame);
        assert_eq!(sink.write(&frame), 160);
    }
    assert_eq!(sink.samples_written(), 4000);
    sink.finish().unwrap();
    assert_eq!(sink.write(&[1, 2, 3]), 0, "writes after finish are dropped");

    let (samples, rate) = read_wav_mono(&path).unwrap();
    assert_eq!((samples.len(), rate), (4000, 8000));
    assert_tone(&samples, 8000, 700.0);

    // Two seconds from a half-second file: it loops, and stays a clean 700 Hz.
    let mut source = WavSource::open(&path, 8000).unwrap();
    let played = pull(&mut source, 16000, 160);
    assert!(source.loops() >= 3, "loops {}", source.loops());
    assert_tone(&played, 8000, 700.0);
    assert!(
        played[..4000] == samples[..],
        "same rate: samples pass through unchanged"
    );
    assert!(played[4000..8000] == samples[..], "and loop seamlessly");
}

#[test]
fn stereo_float_file_at_another_rate_comes_out_mono_at_the_consumer_rate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..48000 {
        let v = (std::f64::consts::TAU * 900.0 * f64::from(i) / 48000.0).sin() as f32 * 0.5;
        writer.write_sample(v).unwrap();
        writer.write_sample(v).unwrap();
    }
    writer.finalize().unwrap();

    let mut source = WavSource::open(&path, 16000).unwrap();
    assert_eq!((source.sample_rate(), source.file_rate()), (16000, 48000));
    let out = pull(&mut source, 16000, 320);
    assert_tone(&out, 16000, 900.0);
    let level = analyze(&out, 16000, Duration::from_millis(100)).rms;
    assert!((level - 0.5 / 2f64.sqrt()).abs() < 0.02, "rms {level}");
}

#[test]
fn bad_files_and_parameters_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wav");
    assert!(matches!(
        WavSource::open(&missing, 8000),
        Err(DeviceError::Wav { .. })
    ));
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"RIFF not really a wav file").unwrap();
    let err = WavSource::open(&junk, 8000).unwrap_err();
    assert!(err.to_string().contains("junk.wav"), "{err}");
    let empty = dir.path().join("empty.wav");
    WavSink::create(&empty, 8000).unwrap().finish().unwrap();
    let err = WavSource::open(&empty, 8000).unwrap_err();
    assert!(err.to_string().contains("no samples"), "{err}");

    assert!(matches!(
        ToneSource::new(5000.0, 8000),
        Err(DeviceError::InvalidParameter(_))
    ));
    assert!(matches!(
        SilenceSource::new(0),
        Err(DeviceError::InvalidParameter(_))
    ));
    assert!(WavSink::create(dir.path().join("no/such/dir.wav"), 8000).is_err());
}

#[test]
fn silence_keeps_timing_and_null_sink_counts() {
    let mut silence = SilenceSource::new(16000).unwrap();
    let mut frame = [7i16; 320];
    assert_eq!(silence.read_frame(&mut frame), 320);
    assert!(frame.iter().all(|&s| s == 0));
    assert_eq!(silence.available(), usize::MAX);

    let mut null = NullSink::new(16000).unwrap();
    assert_eq!(null.write(&frame), 320);
    assert_eq!(null.write(&frame[..100]), 100);
    assert_eq!(null.samples_written(), 420);
    assert_eq!(null.buffered(), 0);
    assert!(null.started());
}

#[test]
fn analyze_wav_skips_the_first_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.wav");
    let mut sink = WavSink::create(&path, 16000).unwrap();
    let mut frame = vec![0i16; 16000];
    ToneSource::new(500.0, 16000)
        .unwrap()
        .read_frame(&mut frame);
    sink.write(&frame);
    ToneSource::new(1000.0, 16000)
        .unwrap()
        .read_frame(&mut frame);
    sink.write(&frame);
    drop(sink); // drop finalizes too
    let found = analyze_wav(&path, Duration::from_secs(1)).unwrap();
    assert!(
        (found.dominant_hz.unwrap() - 1000.0).abs() <= 2.0,
        "{found:?}"
    );
    assert_eq!(found.samples, 16000);
}
