//! Helpers for the PulseAudio tests: one private server per test (serialized, since the
//! client environment is process-wide), a player thread that keeps a sink fed like the
//! jitter buffer would, and a recorder thread that pulls a source like the RTP side would.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dialtone_devices::{AudioSink, AudioSource, PulseServer};

/// The rate every test runs at.
pub const RATE: u32 = 16_000;
/// One 20 ms frame at [`RATE`].
pub const FRAME: usize = 320;

static SERIAL: Mutex<()> = Mutex::new(());

/// A test's own PulseAudio server, with this process pointed at it, held exclusively.
pub struct Session {
    pub server: PulseServer,
    _guard: MutexGuard<'static, ()>,
}

impl Session {
    /// Replaces the server with a fresh one (same devices) and points this process at it.
    pub fn restart(&mut self) {
        self.server = match PulseServer::start() {
            Ok(server) => server,
            Err(e) => panic!("cannot restart the test PulseAudio server: {e}"),
        };
        self.server.use_in_this_process();
    }
}

/// Starts a private server for this test. Panics (fails the test, never skips) with the
/// server's install hint when PulseAudio cannot be started.
pub fn session() -> Session {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = match PulseServer::start() {
        Ok(server) => server,
        Err(e) => panic!("cannot start the test PulseAudio server: {e}"),
    };
    server.use_in_this_process();
    Session {
        server,
        _guard: guard,
    }
}

/// Feeds a sink from a source on its own thread, 10 ms ticks, keeping ~60 ms queued.
pub struct Player {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Player {
    pub fn start(mut source: Box<dyn AudioSource>, mut sink: Box<dyn AudioSink>) -> Self {
        assert_eq!(source.sample_rate(), sink.sample_rate());
        let target = sink.sample_rate() as usize * 60 / 1000;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0i16; target];
            while !stopping.load(Ordering::Relaxed) {
                let want = target.saturating_sub(sink.buffered());
                if want > 0 {
                    source.read_frame(&mut buf[..want]);
                    sink.write(&buf[..want]);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Player {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a [`Recorder`] saw.
pub struct Recording {
    /// Every frame pulled, padded with silence where the source had nothing.
    pub samples: Vec<i16>,
    /// Per pull: time since start and how many real samples it got.
    pub pulls: Vec<(Duration, usize)>,
}

impl Recording {
    /// Longest wall-clock time between two pulls that got samples, counted from the first
    /// pull that got any.
    pub fn longest_gap(&self) -> Duration {
        self.longest_gap_at().1
    }

    /// The longest stretch of audio the source failed to deliver, counted from the first
    /// pull that got anything: consecutive short pulls add up what they lacked. Unlike
    /// [`longest_gap`](Self::longest_gap) this does not count the recorder thread's own
    /// scheduling delays (on a busy machine), only audio missing from the stream. Returns
    /// where the stretch ends and how long it is.
    pub fn longest_dropout(&self) -> (Duration, Duration) {
        let mut started = false;
        let mut run = 0usize;
        let mut longest = (Duration::ZERO, 0usize);
        for &(at, got) in &self.pulls {
            if got > 0 {
                started = true;
            }
            if !started {
                continue;
            }
            if got < FRAME {
                run += FRAME - got;
                if run > longest.1 {
                    longest = (at, run);
                }
            } else {
                run = 0;
            }
        }
        let secs = longest.1 as f64 / f64::from(RATE);
        (longest.0, Duration::from_secs_f64(secs))
    }

    /// Where the longest gap ends (time since start) and how long it is.
    pub fn longest_gap_at(&self) -> (Duration, Duration) {
        let mut last: Option<Duration> = None;
        let mut longest = (Duration::ZERO, Duration::ZERO);
        for &(at, got) in &self.pulls {
            if got == 0 {
                continue;
            }
            if let Some(prev) = last {
                if at - prev > longest.1 {
                    longest = (at, at - prev);
                }
            }
            last = Some(at);
        }
        longest
    }

    /// The pulls within `window` of `at`, as `time:got` text (for failure messages).
    pub fn pulls_near(&self, at: Duration, window: Duration) -> String {
        self.pulls
            .iter()
            .filter(|(t, _)| t.abs_diff(at) <= window)
            .map(|(t, got)| format!("{:.3}:{got}", t.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The recorded samples between `from` and `to` seconds of the stream.
    pub fn span(&self, from: f64, to: f64) -> &[i16] {
        let a = ((from * f64::from(RATE)) as usize).min(self.samples.len());
        let b = ((to * f64::from(RATE)) as usize).min(self.samples.len());
        &self.samples[a..b]
    }

    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(RATE)
    }
}

/// Pulls 20 ms frames from a source every 20 ms on its own thread, like the RTP side.
pub struct Recorder {
    started: Instant,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Recording>>,
}

impl Recorder {
    pub fn start(mut source: Box<dyn AudioSource>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            let start = started;
            let mut recording = Recording {
                samples: Vec::new(),
                pulls: Vec::new(),
            };
            let mut frame = vec![0i16; FRAME];
            let mut next = start;
            while !stopping.load(Ordering::Relaxed) {
                let got = source.read_frame(&mut frame);
                recording.pulls.push((start.elapsed(), got));
                recording.samples.extend_from_slice(&frame);
                next += Duration::from_millis(20);
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            recording
        });
        Recorder {
            started,
            stop,
            thread: Some(thread),
        }
    }

    /// Seconds of stream recorded so far (the recording's own time base).
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn finish(mut self) -> Recording {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(recording)) => recording,
            _ => panic!("recorder thread panicked"),
        }
    }
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
