//! Test helpers around [`PulseServer`] (feature `test-server`): a private server held
//! exclusively by one test at a time, a player thread that keeps a sink fed like the
//! jitter buffer would, and a recorder thread that pulls a source every 20 ms like the RTP
//! side would. Used by this crate's tests and by `dialtone-core`'s audio tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{open_output, AudioSink, AudioSource, DeviceError, PulseServer, ToneSource};

/// Serializes sessions: the client environment they set is process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// How much a [`Player`] keeps queued in its sink (milliseconds).
const PLAYER_QUEUE_MS: usize = 60;
/// How often a [`Player`] tops its sink up.
const PLAYER_TICK: Duration = Duration::from_millis(10);
/// What a [`Recorder`] pulls at a time, and how often (milliseconds).
const FRAME_MS: u32 = 20;

/// A test's own [`PulseServer`] (Speaker_A/B, Mic_A/B hearing them), with this process
/// pointed at it, held exclusively: a second session in the same process waits until the
/// first is dropped.
#[derive(Debug)]
pub struct PulseSession {
    /// The running server.
    pub server: PulseServer,
    _guard: MutexGuard<'static, ()>,
}

impl PulseSession {
    /// Waits for any other session of this process to end, starts a server and points this
    /// process's PulseAudio clients at it.
    pub fn start() -> Result<Self, DeviceError> {
        let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let server = PulseServer::start()?;
        server.use_in_this_process();
        Ok(PulseSession {
            server,
            _guard: guard,
        })
    }

    /// Replaces the server with a fresh one (same devices) and points this process at it.
    pub fn restart(&mut self) -> Result<(), DeviceError> {
        self.server = PulseServer::start()?;
        self.server.use_in_this_process();
        Ok(())
    }
}

/// Feeds a sink from a source on its own thread, topping it up every 10 ms to ~60 ms
/// queued, until dropped.
#[derive(Debug)]
pub struct Player {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Player {
    /// Starts feeding `sink` from `source` (same rate, else
    /// [`DeviceError::RateMismatch`]).
    pub fn start(
        mut source: Box<dyn AudioSource>,
        mut sink: Box<dyn AudioSink>,
    ) -> Result<Self, DeviceError> {
        if source.sample_rate() != sink.sample_rate() {
            return Err(DeviceError::RateMismatch {
                expected: sink.sample_rate(),
                got: source.sample_rate(),
            });
        }
        let target = sink.sample_rate() as usize * PLAYER_QUEUE_MS / 1000;
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
                std::thread::sleep(PLAYER_TICK);
            }
        });
        Ok(Player {
            stop,
            thread: Some(thread),
        })
    }

    /// Plays a `hz` tone at `rate` into output device `speaker` (id or name).
    pub fn tone(hz: f64, speaker: &str, rate: u32) -> Result<Self, DeviceError> {
        let sink = open_output(Some(speaker), rate)?;
        Self::start(Box::new(ToneSource::new(hz, rate)?), Box::new(sink))
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
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Every frame pulled, padded with silence where the source had nothing: sample `n` is
    /// at `n / rate` seconds after the recorder started.
    pub samples: Vec<i16>,
    /// Per pull: time since start and how many real samples it got.
    pub pulls: Vec<(Duration, usize)>,
    /// The source's rate.
    pub rate: u32,
}

impl Recording {
    fn frame(&self) -> usize {
        (self.rate / (1000 / FRAME_MS)) as usize
    }

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
        let frame = self.frame();
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
            if got < frame {
                run += frame - got;
                if run > longest.1 {
                    longest = (at, run);
                }
            } else {
                run = 0;
            }
        }
        let secs = longest.1 as f64 / f64::from(self.rate.max(1));
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
        span(&self.samples, self.rate, from, to)
    }

    /// Seconds of stream recorded.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate.max(1))
    }
}

/// The samples of `samples` (at `rate`) between `from` and `to` seconds, clamped to what
/// there is.
pub fn span(samples: &[i16], rate: u32, from: f64, to: f64) -> &[i16] {
    let at = |s: f64| ((s.max(0.0) * f64::from(rate)) as usize).min(samples.len());
    let (a, b) = (at(from), at(to));
    &samples[a.min(b)..b]
}

/// Pulls 20 ms frames from a source every 20 ms on its own thread, like the RTP side.
#[derive(Debug)]
pub struct Recorder {
    started: Instant,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Recording>>,
}

impl Recorder {
    /// Starts pulling `source`.
    pub fn start(mut source: Box<dyn AudioSource>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let started = Instant::now();
        let rate = source.sample_rate();
        let thread = std::thread::spawn(move || {
            let mut recording = Recording {
                rate,
                ..Recording::default()
            };
            let mut frame = vec![0i16; recording.frame()];
            let mut next = started;
            while !stopping.load(Ordering::Relaxed) {
                let got = source.read_frame(&mut frame);
                recording.pulls.push((started.elapsed(), got));
                recording.samples.extend_from_slice(&frame);
                next += Duration::from_millis(u64::from(FRAME_MS));
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

    /// When recording started (the recording's time base).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Seconds of stream recorded so far.
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Stops and returns the recording. A panic on the recorder thread (in the source)
    /// goes on here.
    pub fn finish(mut self) -> Recording {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(recording)) => recording,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Recording::default(),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
