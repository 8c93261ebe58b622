//! PulseAudio helpers at [`RATE`], on top of `dialtone_devices::testing`: one private server
//! per test (serialized: the client environment is process-wide), a player that feeds a
//! speaker with a tone, and a recorder that pulls a microphone every 20 ms like the RTP side
//! would.

use std::time::Instant;

use dialtone_devices::open_input;
use dialtone_devices::testing::{self, PulseSession};

/// The rate of every stream in these tests.
pub const RATE: u32 = 48_000;

/// A test's own PulseAudio server (Speaker_A/B, Mic_A/B hearing them), this process
/// pointed at it, held exclusively.
pub type Session = PulseSession;

/// Starts a private server. Fails the test (never skips) when PulseAudio cannot start.
pub fn session() -> Session {
    PulseSession::start().unwrap_or_else(|e| panic!("cannot start the test PulseAudio server: {e}"))
}

/// Plays a tone into a speaker, keeping ~60 ms queued, until dropped.
pub struct Player {
    _playing: testing::Player,
}

impl Player {
    pub fn tone(hz: f64, speaker: &str) -> Player {
        let playing = testing::Player::tone(hz, speaker, RATE)
            .unwrap_or_else(|e| panic!("play on {speaker}: {e}"));
        Player { _playing: playing }
    }
}

/// Records a microphone: a 20 ms frame every 20 ms (silence where it had nothing), so
/// sample `n` is at `n / RATE` seconds after [`Recorder::started`].
pub struct Recorder {
    pub started: Instant,
    inner: testing::Recorder,
}

impl Recorder {
    pub fn start(mic: &str) -> Recorder {
        let source = open_input(Some(mic), RATE).unwrap_or_else(|e| panic!("open {mic}: {e}"));
        let inner = testing::Recorder::start(Box::new(source));
        Recorder {
            started: inner.started(),
            inner,
        }
    }

    /// Stops and returns the samples.
    pub fn finish(self) -> Vec<i16> {
        self.inner.finish().samples
    }
}

/// The samples between `from` and `to` seconds.
pub fn span(samples: &[i16], from: f64, to: f64) -> &[i16] {
    testing::span(samples, RATE, from, to)
}
