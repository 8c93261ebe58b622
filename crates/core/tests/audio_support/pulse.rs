//! PulseAudio helpers: one private server per test (serialized: the client environment is
//! process-wide), a player that feeds a speaker with a tone, and a recorder that pulls a
//! microphone every 20 ms like the RTP side would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dialtone_devices::{open_input, open_output, AudioSink, AudioSource, PulseServer, ToneSource};

/// The rate of every stream in these tests.
pub const RATE: u32 = 48_000;
const FRAME: usize = (RATE / 50) as usize;

static SERIAL: Mutex<()> = Mutex::new(());

/// A test's own PulseAudio server (Speaker_A/B, Mic_A/B hearing them), this process
/// pointed at it, held exclusively.
pub struct Session {
    pub server: PulseServer,
    _guard: MutexGuard<'static, ()>,
}

/// Starts a private server. Fails the test (never skips) when PulseAudio cannot start.
pub fn session() -> Session {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = PulseServer::start()
        .unwrap_or_else(|e| panic!("cannot start the test PulseAudio server: {e}"));
    server.use_in_this_process();
    Session {
        server,
        _guard: guard,
    }
}

/// Plays a tone into a speaker, keeping ~60 ms queued.
pub struct Player {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Player {
    pub fn tone(hz: f64, speaker: &str) -> Player {
        let mut source = ToneSource::new(hz, RATE).expect("tone");
        let mut sink =
            open_output(Some(speaker), RATE).unwrap_or_else(|e| panic!("open {speaker}: {e}"));
        let target = RATE as usize * 60 / 1000;
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

/// Records a microphone: a 20 ms frame every 20 ms (silence where it had nothing), so
/// sample `n` is at `n / RATE` seconds after [`Recorder::started`].
pub struct Recorder {
    pub started: Instant,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<i16>>>,
}

impl Recorder {
    pub fn start(mic: &str) -> Recorder {
        let mut source = open_input(Some(mic), RATE).unwrap_or_else(|e| panic!("open {mic}: {e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            let mut frame = vec![0i16; FRAME];
            let mut next = started;
            while !stopping.load(Ordering::Relaxed) {
                source.read_frame(&mut frame);
                samples.extend_from_slice(&frame);
                next += Duration::from_millis(20);
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            samples
        });
        Recorder {
            started,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops and returns the samples.
    pub fn finish(mut self) -> Vec<i16> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

/// The samples between `from` and `to` seconds.
pub fn span(samples: &[i16], from: f64, to: f64) -> &[i16] {
    let at = |s: f64| ((s.max(0.0) * f64::from(RATE)) as usize).min(samples.len());
    &samples[at(from)..at(to)]
}
