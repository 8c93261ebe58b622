//! A speaker that can be changed during a call (the original SDK's `setAudioOutputId`).

use std::sync::mpsc::Sender;

use crate::switcher::{Handle, Switching};
use crate::{open_output, AudioSink, DeviceError, DeviceEvent};

/// While a new sink starts, it gets the same audio as the old one, but at most this much
/// queued (milliseconds), so it does not start with a long backlog.
const PRIME_QUEUE_MS: u32 = 60;

/// An [`AudioSink`] whose underlying sink can be replaced while the writer keeps writing at
/// its own pace. After [`SinkSwitch::switch_to_device`] both devices get the audio until the
/// new one's stream has started, then the old one is closed: the sound moves without a gap.
///
/// A device that fails or disappears is replaced by the default output device, with a
/// [`DeviceEvent::Fallback`].
pub struct SwitchableSink {
    inner: Switching<Box<dyn AudioSink>>,
    prime_queue: usize,
}

/// The handle that switches a [`SwitchableSink`] from any thread. Cheap to clone.
#[derive(Clone)]
pub struct SinkSwitch {
    handle: Handle<Box<dyn AudioSink>>,
}

impl std::fmt::Debug for SinkSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.handle.debug("SinkSwitch", f)
    }
}

impl std::fmt::Debug for SwitchableSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.debug("SwitchableSink", f)
    }
}

impl SwitchableSink {
    /// Wraps `initial` (its rate becomes the wrapper's for good). Device events go to
    /// `events` if given. Starts the wrapper's control thread.
    pub fn new(
        initial: Box<dyn AudioSink>,
        events: Option<Sender<DeviceEvent>>,
    ) -> (Self, SinkSwitch) {
        let (inner, handle) = Switching::new(initial, events);
        let prime_queue = (inner.rate() * PRIME_QUEUE_MS / 1000) as usize;
        (SwitchableSink { inner, prime_queue }, SinkSwitch { handle })
    }

    /// Opens output device `id` (id or name; `None` = default) at `sample_rate` and wraps it.
    pub fn open(
        id: Option<&str>,
        sample_rate: u32,
        events: Option<Sender<DeviceEvent>>,
    ) -> Result<(Self, SinkSwitch), DeviceError> {
        Ok(Self::new(Box::new(open_output(id, sample_rate)?), events))
    }

    /// The label of the sink in use (device id, file path, `null`).
    pub fn current_label(&self) -> String {
        self.inner.current().label()
    }
}

impl AudioSink for SwitchableSink {
    fn sample_rate(&self) -> u32 {
        self.inner.rate()
    }

    fn write(&mut self, samples: &[i16]) -> usize {
        let prime_queue = self.prime_queue;
        // A sink that is starting gets the same audio, without building a backlog.
        self.inner.step(samples.len(), |pending| {
            if pending.buffered() + samples.len() <= prime_queue {
                pending.write(samples);
            }
        });
        self.inner.current_mut().write(samples)
    }

    fn buffered(&self) -> usize {
        self.inner.current().buffered()
    }

    fn started(&self) -> bool {
        self.inner.current().started()
    }

    /// Always `None`: failures are handled here (fallback) and reported as events.
    fn failure(&self) -> Option<String> {
        None
    }

    fn device_id(&self) -> Option<String> {
        self.inner.current().device_id()
    }

    fn label(&self) -> String {
        self.current_label()
    }

    fn finish(&mut self) -> Result<(), DeviceError> {
        self.inner.current_mut().finish()
    }
}

impl SinkSwitch {
    /// Replaces the sink with `sink` (same rate as the wrapper, else
    /// [`DeviceError::RateMismatch`]): a WAV file, the null sink, another device.
    pub fn switch_to(&self, sink: Box<dyn AudioSink>) -> Result<(), DeviceError> {
        self.handle.switch_to(sink)
    }

    /// Opens output device `id` (id or name; `None` = default) and switches to it. Returns
    /// the resolved device id.
    pub fn switch_to_device(&self, id: Option<&str>) -> Result<String, DeviceError> {
        self.handle.switch_to_device(id)
    }

    /// The wrapper's sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.handle.rate()
    }
}
