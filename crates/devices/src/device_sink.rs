//! A speaker: a lock-free ring buffer drained by a cpal output stream.

use std::sync::Arc;

use crate::device_stream::{self, Built, DeviceStream, Direction, Ring, Setup, StreamSample};
use crate::resampler::{LinearResampler, PcmSample};
use crate::{AudioSink, DeviceError, DeviceKind};

/// Capacity of the playback ring (the most a writer can queue): half a second.
const RING_MS: u32 = 500;
/// Data callbacks after which playback counts as started: PulseAudio asks for a first
/// buffer at once and then, on a fresh stream, nothing for up to a second or two.
const STARTED_AFTER_CALLBACKS: u64 = 4;

/// A playback device as an [`AudioSink`]. [`write`](AudioSink::write) queues samples in an
/// `rtrb` ring; the cpal data callback converts them to the device's rate and layout (mono
/// copied to every channel) and plays silence when the ring runs dry. The callback never
/// locks, allocates or logs.
pub struct DeviceSink {
    stream: DeviceStream<rtrb::Producer<i16>>,
}

impl std::fmt::Debug for DeviceSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stream.debug("DeviceSink", f)
    }
}

/// Opens a speaker and starts its stream (playing silence until samples are written). `id`
/// is a device id or name; `None` opens the system default. [`write`](AudioSink::write)
/// takes mono samples at `sample_rate`.
pub fn open_output(id: Option<&str>, sample_rate: u32) -> Result<DeviceSink, DeviceError> {
    let stream = device_stream::open::<Playback>(id, sample_rate, |rate| rate * RING_MS / 1000)?;
    Ok(DeviceSink { stream })
}

/// Playback: the data callback drains the ring.
struct Playback;

impl Direction for Playback {
    const KIND: DeviceKind = DeviceKind::Output;
    type Kept = rtrb::Producer<i16>;

    fn build_typed<T: StreamSample>(setup: &Setup<'_>, ring: Ring) -> Built<Self::Kept> {
        let (producer, mut consumer) = ring;
        let channels = setup.choice.channels();
        let mut resampler = LinearResampler::new(setup.rate, setup.choice.device_rate());
        let state = Arc::clone(setup.state);
        // The data callback: only arithmetic, the ring and atomics.
        let on_data = move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            let mut missing = 0u64;
            for frame in data.chunks_exact_mut(channels) {
                let value = resampler.pull(|| match consumer.pop() {
                    Ok(sample) => Some(sample.to_unit()),
                    Err(_) => {
                        missing += 1;
                        None
                    }
                });
                frame.fill(T::from_unit(value));
            }
            state.note_callback(missing);
        };
        Ok((setup.output_stream(on_data)?, producer))
    }
}

impl DeviceSink {
    /// The resolved device id (`pulseaudio:spk_a`), also for a default device.
    pub fn id(&self) -> &str {
        &self.stream.id
    }

    /// Samples the device had to play as silence because nothing was queued.
    pub fn underruns(&self) -> u64 {
        self.stream.state.lost()
    }

    /// Glitches (xruns) the backend reported.
    pub fn xruns(&self) -> u64 {
        self.stream.state.xruns()
    }

    /// Pauses playback without closing the device.
    pub fn pause(&self) -> Result<(), DeviceError> {
        self.stream.pause()
    }
}

impl AudioSink for DeviceSink {
    fn sample_rate(&self) -> u32 {
        self.stream.rate
    }

    fn write(&mut self, samples: &[i16]) -> usize {
        let ring = &mut self.stream.ring;
        let n = samples.len().min(ring.slots());
        match ring.write_chunk(n) {
            Ok(mut chunk) => {
                let (first, second) = chunk.as_mut_slices();
                let split = first.len();
                first.copy_from_slice(&samples[..split]);
                second.copy_from_slice(&samples[split..n]);
                chunk.commit_all();
                n
            }
            Err(_) => 0,
        }
    }

    fn buffered(&self) -> usize {
        self.stream.ring.buffer().capacity() - self.stream.ring.slots()
    }

    fn started(&self) -> bool {
        self.stream.state.callbacks() >= STARTED_AFTER_CALLBACKS
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
