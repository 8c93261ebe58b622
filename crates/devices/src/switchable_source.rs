//! A microphone that can be changed during a call (the original SDK's `switchMic`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;

use crate::switcher::{Handle, Switching};
use crate::{open_input, AudioSource, DeviceError, DeviceEvent};

/// An [`AudioSource`] whose underlying source can be replaced while the consumer keeps
/// reading at its own pace: the RTP side never stops, never sees a rate change and never
/// sees an error. After [`SourceSwitch::switch_to_device`] the old device keeps delivering
/// until the new one has produced its first samples, then the new one takes over (so the
/// switch leaves no gap beyond one device's start-up jitter).
///
/// A device that fails (stream error) or disappears (no longer listed by PulseAudio) is
/// replaced by the default input device, with a [`DeviceEvent::Fallback`]; meanwhile the
/// consumer gets whatever the old stream still delivers, or silence from `read_frame`.
pub struct SwitchableSource {
    inner: Switching<Box<dyn AudioSource>>,
    muted: Arc<AtomicBool>,
}

/// The handle that switches a [`SwitchableSource`] from any thread (the UI, the CLI script).
/// Cheap to clone. Opening a device happens on the caller's thread, so errors come back
/// here and the consumer is never blocked.
#[derive(Clone)]
pub struct SourceSwitch {
    handle: Handle<Box<dyn AudioSource>>,
    muted: Arc<AtomicBool>,
}

impl std::fmt::Debug for SourceSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.handle.debug("SourceSwitch", f)
    }
}

impl std::fmt::Debug for SwitchableSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.debug("SwitchableSource", f)
    }
}

impl SwitchableSource {
    /// Wraps `initial` (its rate becomes the wrapper's for good). Device events go to
    /// `events` if given. Starts the wrapper's control thread.
    pub fn new(
        initial: Box<dyn AudioSource>,
        events: Option<Sender<DeviceEvent>>,
    ) -> (Self, SourceSwitch) {
        let (inner, handle) = Switching::new(initial, events);
        let muted = Arc::new(AtomicBool::new(false));
        (
            SwitchableSource {
                inner,
                muted: Arc::clone(&muted),
            },
            SourceSwitch { handle, muted },
        )
    }

    /// Opens input device `id` (id or name; `None` = default) at `sample_rate` and wraps it.
    pub fn open(
        id: Option<&str>,
        sample_rate: u32,
        events: Option<Sender<DeviceEvent>>,
    ) -> Result<(Self, SourceSwitch), DeviceError> {
        Ok(Self::new(Box::new(open_input(id, sample_rate)?), events))
    }

    /// The label of the source in use (device id, `tone:700Hz`, file path).
    pub fn current_label(&self) -> String {
        self.inner.current().label()
    }
}

impl AudioSource for SwitchableSource {
    fn sample_rate(&self) -> u32 {
        self.inner.rate()
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        // A source that is starting is only waited for: its first samples make it ready.
        self.inner.step(out.len(), |_| {});
        let got = self.inner.current_mut().read(out);
        if self.muted.load(Ordering::Relaxed) {
            out[..got].fill(0);
        }
        got
    }

    fn available(&self) -> usize {
        self.inner.current().available()
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
}

impl SourceSwitch {
    /// Replaces the source with `source` (same rate as the wrapper, else
    /// [`DeviceError::RateMismatch`]): a tone, a WAV file, silence (mute), another device.
    pub fn switch_to(&self, source: Box<dyn AudioSource>) -> Result<(), DeviceError> {
        self.handle.switch_to(source)
    }

    /// Opens input device `id` (id or name; `None` = default) and switches to it. Returns
    /// the resolved device id. Blocks the caller while the device opens (PulseAudio: tens
    /// of milliseconds), never the consumer.
    pub fn switch_to_device(&self, id: Option<&str>) -> Result<String, DeviceError> {
        self.handle.switch_to_device(id)
    }

    /// The wrapper's sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.handle.rate()
    }

    /// Mutes or unmutes: while muted the consumer reads silence at the same pace and the
    /// device keeps running (unmuting is instant).
    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }

    /// Whether the source is muted.
    pub fn is_muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }
}
