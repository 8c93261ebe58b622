//! A microphone: a cpal input stream feeding a lock-free ring buffer.

use std::sync::Arc;

use crate::device_stream::{self, Built, DeviceStream, Direction, Ring, Setup, StreamSample};
use crate::resampler::{unit_to_i16, LinearResampler};
use crate::{AudioSource, DeviceError, DeviceKind};

/// Capacity of the capture ring: one second at the consumer's rate.
const RING_SECONDS: u32 = 1;
/// A backlog beyond this many milliseconds (on top of the read) is stale: drop the oldest.
const MAX_BACKLOG_MS: u32 = 100;
/// How much backlog is kept after dropping a stale one.
const KEEP_BACKLOG_MS: u32 = 40;

/// A capture device as an [`AudioSource`]. The cpal data callback downmixes to mono,
/// converts to the consumer's rate and pushes into an `rtrb` ring; it never locks,
/// allocates or logs. [`read`](AudioSource::read) takes what has arrived and drops a
/// backlog older than ~100 ms so latency stays bounded when the device clock runs fast.
pub struct DeviceSource {
    stream: DeviceStream<rtrb::Consumer<i16>>,
    max_backlog: usize,
    keep_backlog: usize,
}

impl std::fmt::Debug for DeviceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stream.debug("DeviceSource", f)
    }
}

/// Opens a microphone and starts capturing. `id` is a device id or name (see
/// [`catalog::find_device`](crate::find_device)); `None` opens the system default. Samples
/// come out mono at `sample_rate` whatever the device runs at. On PulseAudio the first
/// samples arrive a few hundred milliseconds after this returns.
pub fn open_input(id: Option<&str>, sample_rate: u32) -> Result<DeviceSource, DeviceError> {
    let stream = device_stream::open::<Capture>(id, sample_rate, |rate| rate * RING_SECONDS)?;
    let rate = stream.rate;
    Ok(DeviceSource {
        stream,
        max_backlog: (rate * MAX_BACKLOG_MS / 1000) as usize,
        keep_backlog: (rate * KEEP_BACKLOG_MS / 1000) as usize,
    })
}

/// Capture: the data callback fills the ring.
struct Capture;

impl Direction for Capture {
    const KIND: DeviceKind = DeviceKind::Input;
    type Kept = rtrb::Consumer<i16>;

    fn build_typed<T: StreamSample>(setup: &Setup<'_>, ring: Ring) -> Built<Self::Kept> {
        let (mut producer, consumer) = ring;
        let channels = setup.choice.channels();
        let scale = 1.0 / channels as f32;
        let mut resampler = LinearResampler::new(setup.choice.device_rate(), setup.rate);
        let state = Arc::clone(setup.state);
        // The data callback: only arithmetic, the ring and atomics.
        let on_data = move |data: &[T], _: &cpal::InputCallbackInfo| {
            let mut lost = 0u64;
            for frame in data.chunks_exact(channels) {
                let mono = frame.iter().map(|s| s.to_unit()).sum::<f32>() * scale;
                resampler.push(mono, |out| {
                    if producer.push(unit_to_i16(out)).is_err() {
                        lost += 1;
                    }
                });
            }
            state.note_callback(lost);
        };
        Ok((setup.input_stream(on_data)?, consumer))
    }
}

impl DeviceSource {
    /// The resolved device id (`pulseaudio:mic_a`), also for a default device.
    pub fn id(&self) -> &str {
        &self.stream.id
    }

    /// Samples dropped because the consumer did not read for a second (ring full).
    pub fn overflowed(&self) -> u64 {
        self.stream.state.lost()
    }

    /// Glitches (xruns) the backend reported.
    pub fn xruns(&self) -> u64 {
        self.stream.state.xruns()
    }

    /// Stops capturing without closing the device (`read` then drains what is left).
    pub fn pause(&self) -> Result<(), DeviceError> {
        self.stream.pause()
    }
}

impl AudioSource for DeviceSource {
    fn sample_rate(&self) -> u32 {
        self.stream.rate
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        let ring = &mut self.stream.ring;
        let available = ring.slots();
        if available > out.len() + self.max_backlog {
            let stale = available - out.len() - self.keep_backlog;
            if let Ok(chunk) = ring.read_chunk(stale) {
                chunk.commit_all();
            }
        }
        let n = ring.slots().min(out.len());
        match ring.read_chunk(n) {
            Ok(chunk) => {
                let (first, second) = chunk.as_slices();
                out[..first.len()].copy_from_slice(first);
                out[first.len()..n].copy_from_slice(second);
                chunk.commit_all();
                n
            }
            Err(_) => 0,
        }
    }

    fn available(&self) -> usize {
        self.stream.ring.slots()
    }

    fn failure(&self) -> Option<String> {
        self.stream.state.failure()
    }

    fn device_id(&self) -> Option<String> {
        Some(self.stream.id.clone())
    }

    fn label(&self) -> String {
        self.stream.id.clone()
    }
}
