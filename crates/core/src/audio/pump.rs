//! The audio thread of one call: the 20 ms frame clock that moves PCM between the
//! devices and the pipeline.
//!
//! Every tick it reads one frame from the (switchable) source — a device's ring buffer,
//! a WAV file, a tone, silence; a short device read is padded with silence so the RTP
//! timing never depends on the device — hands it to [`CallAudio::push_microphone`],
//! pulls the same length from [`CallAudio::pull_speaker`] and writes it to the
//! (switchable) sink, then wakes the RTP task to send what the pipeline produced. The
//! device callbacks (in `dialtone-devices`) never lock or allocate; this thread does
//! lock the pipeline, for the microseconds an encode and a decode take.
//!
//! Device clocks drift from ours: a microphone that delivers faster leaves a backlog,
//! which is read as extra frames (at most two per tick); a speaker whose queue runs
//! below [`SPEAKER_LOW`] gets an extra frame, and one above [`SPEAKER_HIGH`] skips one
//! (the jitter buffer absorbs both). A speaker still starting up gets nothing, so it
//! starts with a short queue.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dialtone_devices::{AudioSink, AudioSource, DeviceEvent, SwitchableSink, SwitchableSource};
use dialtone_media::CallAudio;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;

use super::AudioEvent;

/// The frame clock's period.
pub(crate) const FRAME: Duration = Duration::from_millis(20);
/// Below this much queued audio a started speaker gets an extra frame.
const SPEAKER_LOW: Duration = Duration::from_millis(40);
/// Above this much queued audio a speaker skips a frame.
const SPEAKER_HIGH: Duration = Duration::from_millis(120);
/// Extra microphone frames read per tick to drain a device backlog.
const MAX_EXTRA_MIC_FRAMES: usize = 2;
/// After a stall this long the clock restarts from now instead of catching up.
const RESYNC_AFTER: Duration = Duration::from_millis(200);

/// What the RTP task and the audio thread share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The pipeline; `None` until the media starts and after it closed.
    pipeline: Mutex<Option<CallAudio>>,
    /// Wakes the RTP task to drain the pipeline's output.
    pub(crate) wake: Notify,
    /// Tells the audio thread to finish.
    stop: AtomicBool,
}

impl Shared {
    /// Locks the pipeline. A panic while it was held (a bug) does not stop the call:
    /// the pipeline's state stays usable, so poisoning is ignored.
    pub(crate) fn pipeline(&self) -> MutexGuard<'_, Option<CallAudio>> {
        self.pipeline.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The audio thread's endpoints.
pub(crate) struct Pump {
    pub(crate) source: SwitchableSource,
    pub(crate) sink: SwitchableSink,
    pub(crate) device_events: Receiver<DeviceEvent>,
    pub(crate) events: UnboundedSender<AudioEvent>,
    pub(crate) shared: Arc<Shared>,
}

/// The running audio thread.
#[derive(Debug)]
pub(crate) struct PumpThread {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl PumpThread {
    /// Starts the thread.
    pub(crate) fn spawn(pump: Pump) -> std::io::Result<PumpThread> {
        let shared = Arc::clone(&pump.shared);
        let thread = std::thread::Builder::new()
            .name("dialtone-call-audio".into())
            .spawn(move || pump.run())?;
        Ok(PumpThread {
            shared,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it (the sink is finished: a WAV header is
    /// complete when this returns). Blocks for at most about one frame.
    pub(crate) fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PumpThread {
    fn drop(&mut self) {
        // Without waiting: the thread sees the flag within a frame and finishes the sink.
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

impl Pump {
    fn run(mut self) {
        let rate = self.source.sample_rate();
        let frame_len = (u128::from(rate) * FRAME.as_micros() / 1_000_000) as usize;
        let low = duration_samples(rate, SPEAKER_LOW);
        let high = duration_samples(rate, SPEAKER_HIGH);
        let mut mic = vec![0i16; frame_len];
        let mut speaker = vec![0i16; frame_len];
        let mut next = Instant::now() + FRAME;
        while !self.shared.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else if now - next > RESYNC_AFTER {
                next = now;
            }
            next += FRAME;

            self.source.read_frame(&mut mic);
            let mut extra_mic = 0;
            let running = {
                let mut guard = self.shared.pipeline();
                match guard.as_mut() {
                    Some(audio) => {
                        let now = Instant::now();
                        audio.push_microphone(now, &mic);
                        // A device backlog (its clock runs faster than ours) goes out now.
                        while self.source.device_id().is_some()
                            && extra_mic < MAX_EXTRA_MIC_FRAMES
                            && self.source.available() >= 2 * frame_len
                        {
                            self.source.read_frame(&mut mic);
                            audio.push_microphone(now, &mic);
                            extra_mic += 1;
                        }
                        audio.pull_speaker(now, &mut speaker);
                        true
                    }
                    None => false,
                }
            };
            if running {
                self.play(&mut speaker, low, high);
            }
            self.shared.wake.notify_one();
            while let Ok(event) = self.device_events.try_recv() {
                let _ = self.events.send(event.into());
            }
        }
        let _ = self.sink.finish();
    }

    /// Writes one pulled frame to the sink, keeping a device's queue between `low` and
    /// `high` samples.
    fn play(&mut self, frame: &mut [i16], low: usize, high: usize) {
        let device = self.sink.device_id().is_some();
        if device && !self.sink.started() {
            return;
        }
        if device && self.sink.buffered() > high {
            return;
        }
        self.sink.write(frame);
        if device && self.sink.buffered() < low {
            // The device drains faster than our clock: one more frame now (the jitter
            // buffer stretches to make up for it).
            if let Some(audio) = self.shared.pipeline().as_mut() {
                audio.pull_speaker(Instant::now(), frame);
                self.sink.write(frame);
            }
        }
    }
}

fn duration_samples(rate: u32, d: Duration) -> usize {
    (u128::from(rate) * d.as_micros() / 1_000_000) as usize
}
