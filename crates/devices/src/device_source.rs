//! A microphone: a cpal input stream feeding a lock-free ring buffer.

use std::sync::Arc;

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::SampleFormat;

use crate::device_stream::{choose, Choice, StreamState};
use crate::resampler::{unit_to_i16, LinearResampler, PcmSample};
use crate::{catalog, check_rate, AudioSource, DeviceError, DeviceKind};

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
    stream: cpal::Stream,
    ring: rtrb::Consumer<i16>,
    state: Arc<StreamState>,
    id: String,
    rate: u32,
    max_backlog: usize,
    keep_backlog: usize,
}

impl std::fmt::Debug for DeviceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSource")
            .field("id", &self.id)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

/// Opens a microphone and starts capturing. `id` is a device id or name (see
/// [`catalog::find_device`]); `None` opens the system default. Samples come out mono at
/// `sample_rate` whatever the device runs at. On PulseAudio the first samples arrive a few
/// hundred milliseconds after this returns.
pub fn open_input(id: Option<&str>, sample_rate: u32) -> Result<DeviceSource, DeviceError> {
    let rate = check_rate(sample_rate)?;
    let (device, resolved) = catalog::resolve(DeviceKind::Input, id)?;
    let choice = choose(&device, DeviceKind::Input, &resolved, rate)?;
    let capacity = (rate * RING_SECONDS).max(1024) as usize;
    let state = StreamState::new();
    let (stream, ring) = match build(&device, choice, rate, capacity, &state) {
        Ok(built) => built,
        // Some ALSA devices refuse the fixed period; let them pick.
        Err(_) => build(
            &device,
            choice.with_default_buffer(),
            rate,
            capacity,
            &state,
        )?,
    };
    stream.play().map_err(DeviceError::backend)?;
    Ok(DeviceSource {
        stream,
        ring,
        state,
        id: resolved,
        rate,
        max_backlog: (rate * MAX_BACKLOG_MS / 1000) as usize,
        keep_backlog: (rate * KEEP_BACKLOG_MS / 1000) as usize,
    })
}

fn build(
    device: &cpal::Device,
    choice: Choice,
    rate: u32,
    capacity: usize,
    state: &Arc<StreamState>,
) -> Result<(cpal::Stream, rtrb::Consumer<i16>), DeviceError> {
    let (producer, consumer) = rtrb::RingBuffer::new(capacity);
    let stream = match choice.format {
        SampleFormat::I16 => build_typed::<i16>(device, choice, rate, producer, state),
        SampleFormat::F32 => build_typed::<f32>(device, choice, rate, producer, state),
        _ => build_typed::<i32>(device, choice, rate, producer, state),
    }?;
    Ok((stream, consumer))
}

fn build_typed<T: PcmSample + cpal::SizedSample>(
    device: &cpal::Device,
    choice: Choice,
    rate: u32,
    mut producer: rtrb::Producer<i16>,
    state: &Arc<StreamState>,
) -> Result<cpal::Stream, DeviceError> {
    let channels = choice.channels();
    let scale = 1.0 / channels as f32;
    let mut resampler = LinearResampler::new(choice.device_rate(), rate);
    let data_state = Arc::clone(state);
    let error_state = Arc::clone(state);
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
        data_state.note_lost(lost);
        data_state.note_callback();
    };
    device
        .build_input_stream(
            choice.config,
            on_data,
            move |err| error_state.on_error(err),
            None,
        )
        .map_err(DeviceError::backend)
}

impl DeviceSource {
    /// The resolved device id (`pulseaudio:mic_a`), also for a default device.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Samples dropped because the consumer did not read for a second (ring full).
    pub fn overflowed(&self) -> u64 {
        self.state.lost()
    }

    /// Glitches (xruns) the backend reported.
    pub fn xruns(&self) -> u64 {
        self.state.xruns()
    }

    /// Stops capturing without closing the device (`read` then drains what is left).
    pub fn pause(&self) -> Result<(), DeviceError> {
        self.stream.pause().map_err(DeviceError::backend)
    }
}

impl AudioSource for DeviceSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        let available = self.ring.slots();
        if available > out.len() + self.max_backlog {
            let stale = available - out.len() - self.keep_backlog;
            if let Ok(chunk) = self.ring.read_chunk(stale) {
                chunk.commit_all();
            }
        }
        let n = self.ring.slots().min(out.len());
        match self.ring.read_chunk(n) {
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
        self.ring.slots()
    }

    fn failure(&self) -> Option<String> {
        self.state.failure()
    }

    fn device_id(&self) -> Option<String> {
        Some(self.id.clone())
    }

    fn label(&self) -> String {
        self.id.clone()
    }
}
