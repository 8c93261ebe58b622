//! What device sources and sinks share: opening a device and its ring, picking a stream
//! configuration, the state the audio callbacks publish through atomics, and the error
//! callback.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{BufferSize, SampleFormat, StreamConfig, SupportedBufferSize};

use crate::resampler::PcmSample;
use crate::{catalog, check_rate, DeviceError, DeviceKind};

/// Which way a device stream runs: capture (the callback fills the ring) or playback (the
/// callback drains it).
pub(crate) trait Direction {
    /// Input or output.
    const KIND: DeviceKind;
    /// The ring end the stream's owner keeps (the data callback gets the other one).
    type Kept;
    /// Builds the stream for samples of type `T` on a new `ring`. The data callback does
    /// only arithmetic, ring operations and atomics (reporting through `setup.state`).
    fn build_typed<T: StreamSample>(setup: &Setup<'_>, ring: Ring) -> Built<Self::Kept>;
}

/// A sample type a device stream can carry.
pub(crate) trait StreamSample: PcmSample + cpal::SizedSample {}

impl<T: PcmSample + cpal::SizedSample> StreamSample for T {}

/// A new ring's two ends.
pub(crate) type Ring = (rtrb::Producer<i16>, rtrb::Consumer<i16>);

/// A built stream and the ring end its owner keeps.
pub(crate) type Built<K> = Result<(cpal::Stream, K), DeviceError>;

/// What building a stream needs besides the ring.
pub(crate) struct Setup<'a> {
    pub(crate) device: &'a cpal::Device,
    pub(crate) choice: Choice,
    /// The consumer's rate.
    pub(crate) rate: u32,
    pub(crate) state: &'a Arc<StreamState>,
}

impl Setup<'_> {
    /// The cpal error callback, reporting to the stream's state.
    fn error_callback(&self) -> impl FnMut(cpal::Error) + Send + 'static {
        let state = Arc::clone(self.state);
        move |err| state.on_error(err)
    }

    /// Builds a capture stream with data callback `on_data`.
    pub(crate) fn input_stream<T: StreamSample>(
        &self,
        on_data: impl FnMut(&[T], &cpal::InputCallbackInfo) + Send + 'static,
    ) -> Result<cpal::Stream, DeviceError> {
        self.device
            .build_input_stream(self.choice.config, on_data, self.error_callback(), None)
            .map_err(DeviceError::backend)
    }

    /// Builds a playback stream with data callback `on_data`.
    pub(crate) fn output_stream<T: StreamSample>(
        &self,
        on_data: impl FnMut(&mut [T], &cpal::OutputCallbackInfo) + Send + 'static,
    ) -> Result<cpal::Stream, DeviceError> {
        self.device
            .build_output_stream(self.choice.config, on_data, self.error_callback(), None)
            .map_err(DeviceError::backend)
    }
}

/// An open, running device stream: what [`crate::DeviceSource`] and [`crate::DeviceSink`]
/// are made of.
pub(crate) struct DeviceStream<R> {
    pub(crate) stream: cpal::Stream,
    /// The owner's end of the ring.
    pub(crate) ring: R,
    pub(crate) state: Arc<StreamState>,
    /// The resolved device id.
    pub(crate) id: String,
    /// The consumer's rate.
    pub(crate) rate: u32,
}

/// Opens device `id` (id or name; `None` = default) of direction `D` for mono samples at
/// `sample_rate`, with a ring of `capacity(rate)` samples (at least 1024), and starts it.
pub(crate) fn open<D: Direction>(
    id: Option<&str>,
    sample_rate: u32,
    capacity: impl Fn(u32) -> u32,
) -> Result<DeviceStream<D::Kept>, DeviceError> {
    let rate = check_rate(sample_rate)?;
    let (device, resolved) = catalog::resolve(D::KIND, id)?;
    let choice = choose(&device, D::KIND, &resolved, rate)?;
    let capacity = capacity(rate).max(1024) as usize;
    let state = StreamState::new();
    let (stream, ring) = match build::<D>(&device, choice, rate, capacity, &state) {
        Ok(built) => built,
        // Some ALSA devices refuse the fixed period; let them pick.
        Err(_) => build::<D>(
            &device,
            choice.with_default_buffer(),
            rate,
            capacity,
            &state,
        )?,
    };
    stream.play().map_err(DeviceError::backend)?;
    Ok(DeviceStream {
        stream,
        ring,
        state,
        id: resolved,
        rate,
    })
}

fn build<D: Direction>(
    device: &cpal::Device,
    choice: Choice,
    rate: u32,
    capacity: usize,
    state: &Arc<StreamState>,
) -> Built<D::Kept> {
    let setup = Setup {
        device,
        choice,
        rate,
        state,
    };
    let ring = rtrb::RingBuffer::new(capacity);
    match choice.format {
        SampleFormat::I16 => D::build_typed::<i16>(&setup, ring),
        SampleFormat::F32 => D::build_typed::<f32>(&setup, ring),
        _ => D::build_typed::<i32>(&setup, ring),
    }
}

impl<R> DeviceStream<R> {
    /// Pauses the stream without closing the device.
    pub(crate) fn pause(&self) -> Result<(), DeviceError> {
        self.stream.pause().map_err(DeviceError::backend)
    }

    /// The `Debug` text of the endpoint called `name`.
    pub(crate) fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("id", &self.id)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

/// Callback period asked of the device (PulseAudio otherwise delivers capture in
/// two-second lumps).
pub(crate) const PERIOD_MS: u32 = 20;

/// Sample formats the callbacks convert; devices offer at least one of them in practice
/// (PulseAudio all three, ALSA `plug` devices convert to any).
const FORMATS: [SampleFormat; 3] = [SampleFormat::I16, SampleFormat::F32, SampleFormat::I32];

/// State shared between a device stream's callbacks and its owner. Callbacks only touch
/// atomics (and, once, the `OnceLock` with the first fatal error's text).
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    failed: AtomicBool,
    reason: OnceLock<String>,
    /// Data callbacks run so far.
    callbacks: AtomicU64,
    /// Samples lost: capture ring full (sources) or played as silence on underrun (sinks).
    lost: AtomicU64,
    /// Non-fatal glitches the backend reported (xruns).
    xruns: AtomicU64,
}

impl StreamState {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(StreamState::default())
    }

    /// One data callback ran; `lost` samples were lost in it (capture ring full, or played
    /// as silence on underrun).
    #[inline]
    pub(crate) fn note_callback(&self, lost: u64) {
        self.callbacks.fetch_add(1, Ordering::Relaxed);
        if lost > 0 {
            self.lost.fetch_add(lost, Ordering::Relaxed);
        }
    }

    pub(crate) fn callbacks(&self) -> u64 {
        self.callbacks.load(Ordering::Relaxed)
    }

    pub(crate) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    pub(crate) fn xruns(&self) -> u64 {
        self.xruns.load(Ordering::Relaxed)
    }

    pub(crate) fn failure(&self) -> Option<String> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        Some(
            self.reason
                .get()
                .cloned()
                .unwrap_or_else(|| "stream error".to_owned()),
        )
    }

    /// The cpal error callback. Glitches are counted; anything else marks the stream dead.
    /// (This runs on a backend thread, not the data callback; the one allocation for the
    /// error text happens at most once.)
    fn on_error(&self, err: cpal::Error) {
        match err.kind() {
            cpal::ErrorKind::Xrun
            | cpal::ErrorKind::RealtimeDenied
            | cpal::ErrorKind::DeviceChanged => {
                self.xruns.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                let _ = self.reason.set(err.to_string());
                self.failed.store(true, Ordering::Release);
            }
        }
    }
}

/// A configuration chosen for a device: what to ask cpal for and how to convert.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Choice {
    pub(crate) config: StreamConfig,
    pub(crate) format: SampleFormat,
}

impl Choice {
    pub(crate) fn channels(&self) -> usize {
        usize::from(self.config.channels.max(1))
    }

    pub(crate) fn device_rate(&self) -> u32 {
        self.config.sample_rate
    }

    /// The same choice with the backend's default buffer size (for devices that refuse a
    /// fixed one).
    pub(crate) fn with_default_buffer(mut self) -> Self {
        self.config.buffer_size = BufferSize::Default;
        self
    }
}

/// Picks the configuration for `device`: the consumer's `rate` in mono if the device can
/// (no conversion at all), else the fewest channels at that rate, else the device's default
/// configuration (and the callbacks resample). Formats: i16, then f32, then i32.
fn choose(
    device: &cpal::Device,
    kind: DeviceKind,
    id: &str,
    rate: u32,
) -> Result<Choice, DeviceError> {
    let ranges: Vec<cpal::SupportedStreamConfigRange> = match kind {
        DeviceKind::Input => device.supported_input_configs().map(|r| r.collect()),
        DeviceKind::Output => device.supported_output_configs().map(|r| r.collect()),
    }
    .map_err(DeviceError::backend)?;

    let at_rate = ranges
        .iter()
        .filter(|r| FORMATS.contains(&r.sample_format()))
        .filter(|r| r.min_sample_rate() <= rate && rate <= r.max_sample_rate())
        .min_by_key(|r| {
            let format_rank = FORMATS.iter().position(|f| *f == r.sample_format());
            (r.channels(), format_rank)
        });
    let (channels, format, device_rate, buffers) = match at_rate {
        Some(r) => (r.channels(), r.sample_format(), rate, *r.buffer_size()),
        None => {
            let default = match kind {
                DeviceKind::Input => device.default_input_config(),
                DeviceKind::Output => device.default_output_config(),
            }
            .map_err(DeviceError::backend)?;
            let format = if FORMATS.contains(&default.sample_format()) {
                default.sample_format()
            } else {
                // Some other format by default: look for one of ours at the default rate.
                ranges
                    .iter()
                    .find(|r| {
                        FORMATS.contains(&r.sample_format())
                            && r.min_sample_rate() <= default.sample_rate()
                            && default.sample_rate() <= r.max_sample_rate()
                    })
                    .map(|r| r.sample_format())
                    .ok_or_else(|| DeviceError::Unsupported {
                        id: id.to_owned(),
                        reason: format!(
                            "no i16/f32/i32 stream (default format {})",
                            default.sample_format()
                        ),
                    })?
            };
            (
                default.channels(),
                format,
                default.sample_rate(),
                *default.buffer_size(),
            )
        }
    };
    let period = (device_rate * PERIOD_MS / 1000).max(1);
    let buffer_size = match buffers {
        SupportedBufferSize::Range { min, max } if min <= max => {
            BufferSize::Fixed(period.clamp(min, max))
        }
        _ => BufferSize::Default,
    };
    Ok(Choice {
        config: StreamConfig {
            channels,
            sample_rate: device_rate,
            buffer_size,
        },
        format,
    })
}
