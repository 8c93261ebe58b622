//! Helpers for the PulseAudio tests, on top of `dialtone_devices::testing`: one private
//! server per test (serialized, since the client environment is process-wide), tone
//! players and recorders at [`RATE`], and audio checks.

#![allow(dead_code)]

use std::time::Duration;

use dialtone_devices::testing::PulseSession;
pub use dialtone_devices::testing::{Player, Recorder, Recording};
use dialtone_devices::{open_output, AudioSink, AudioSource, ToneSource};

/// The rate every test runs at.
pub const RATE: u32 = 16_000;

/// A test's own PulseAudio server, with this process pointed at it, held exclusively.
pub type Session = PulseSession;

/// Starts a private server for this test. Panics (fails the test, never skips) with the
/// server's install hint when PulseAudio cannot be started.
pub fn session() -> Session {
    PulseSession::start().unwrap_or_else(|e| panic!("cannot start the test PulseAudio server: {e}"))
}

/// Plays a `freq` tone into `sink`, like the jitter buffer would.
pub fn play(freq: f64, sink: impl AudioSink + 'static) -> Player {
    let tone = ToneSource::new(freq, RATE).expect("tone source");
    Player::start(Box::new(tone), Box::new(sink)).expect("player")
}

/// Plays a `freq` tone into output device `speaker` (id or name).
pub fn play_on(freq: f64, speaker: &str) -> Player {
    play(
        freq,
        open_output(Some(speaker), RATE).unwrap_or_else(|e| panic!("open {speaker}: {e}")),
    )
}

/// Records `source` for `duration` (pulling like the RTP side) and returns the recording.
pub fn record_for(source: Box<dyn AudioSource>, duration: Duration) -> Recording {
    let recorder = Recorder::start(source);
    std::thread::sleep(duration);
    recorder.finish()
}

/// Asserts the dominant frequency of `samples` is `freq` ± 5 Hz.
pub fn assert_tone(what: &str, samples: &[i16], freq: f64) {
    let found = dialtone_devices::analysis::analyze(samples, RATE, Duration::ZERO);
    match found.dominant_hz {
        Some(hz) if (hz - freq).abs() <= 5.0 && found.rms > 0.01 => {}
        _ => panic!("{what}: expected {freq} Hz, found {found:?}"),
    }
}

/// Asserts `samples` are silent.
pub fn assert_silent(what: &str, samples: &[i16]) {
    let level = dialtone_devices::analysis::rms(samples);
    assert!(
        level < dialtone_devices::analysis::SILENCE_RMS,
        "{what}: expected silence, rms {level}"
    );
}
