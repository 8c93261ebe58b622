//! A microphone that can be changed during a call (the original SDK's `switchMic`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::switcher::{self, Command, ConsumerLink, OfferReason};
use crate::{open_input, AudioSource, DeviceError, DeviceEvent};

/// Longest wait for a new source's first samples before swapping anyway (in seconds of
/// audio pulled meanwhile).
const MAX_PRIME_SECONDS: u32 = 3;

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
    current: Box<dyn AudioSource>,
    pending: Option<Pending>,
    link: ConsumerLink<Box<dyn AudioSource>>,
    rate: u32,
    muted: Arc<AtomicBool>,
    failure_reported: bool,
    _thread: JoinHandle<()>,
}

struct Pending {
    source: Box<dyn AudioSource>,
    reason: OfferReason,
    waited: usize,
}

/// The handle that switches a [`SwitchableSource`] from any thread (the UI, the CLI script).
/// Cheap to clone. Opening a device happens on the caller's thread, so errors come back
/// here and the consumer is never blocked.
#[derive(Clone)]
pub struct SourceSwitch {
    control: Sender<Command<Box<dyn AudioSource>>>,
    rate: u32,
    muted: Arc<AtomicBool>,
}

impl std::fmt::Debug for SourceSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceSwitch")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SwitchableSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchableSource")
            .field("current", &self.current.label())
            .field("rate", &self.rate)
            .field("switch_pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl SwitchableSource {
    /// Wraps `initial` (its rate becomes the wrapper's for good). Device events go to
    /// `events` if given. Starts the wrapper's control thread.
    pub fn new(
        initial: Box<dyn AudioSource>,
        events: Option<Sender<DeviceEvent>>,
    ) -> (Self, SourceSwitch) {
        let rate = initial.sample_rate();
        let (link, control, thread) = switcher::spawn(rate, initial.device_id(), events);
        let muted = Arc::new(AtomicBool::new(false));
        (
            SwitchableSource {
                current: initial,
                pending: None,
                link,
                rate,
                muted: Arc::clone(&muted),
                failure_reported: false,
                _thread: thread,
            },
            SourceSwitch {
                control,
                rate,
                muted,
            },
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
        self.current.label()
    }

    fn poll(&mut self) {
        while let Ok(offer) = self.link.offers.try_recv() {
            if let Some(older) = self.pending.take() {
                let _ = self.link.control.send(Command::Retired {
                    old: older.source,
                    new_label: offer.endpoint.label(),
                    reason: OfferReason::Superseded,
                });
            }
            self.pending = Some(Pending {
                source: offer.endpoint,
                reason: offer.reason,
                waited: 0,
            });
        }
    }

    fn maybe_swap(&mut self, want: usize) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let ready = pending.source.available() > 0
            || self.current.failure().is_some()
            || pending.waited >= (self.rate * MAX_PRIME_SECONDS) as usize;
        if !ready {
            pending.waited += want;
            return;
        }
        if let Some(pending) = self.pending.take() {
            let new_label = pending.source.label();
            let old = std::mem::replace(&mut self.current, pending.source);
            self.failure_reported = false;
            let _ = self.link.control.send(Command::Retired {
                old,
                new_label,
                reason: pending.reason,
            });
        }
    }
}

impl AudioSource for SwitchableSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        self.poll();
        self.maybe_swap(out.len());
        if !self.failure_reported && self.pending.is_none() {
            if let Some(reason) = self.current.failure() {
                self.failure_reported = true;
                let _ = self.link.control.send(Command::Failed {
                    device: self.current.device_id(),
                    reason,
                });
            }
        }
        let got = self.current.read(out);
        if self.muted.load(Ordering::Relaxed) {
            out[..got].fill(0);
        }
        got
    }

    fn available(&self) -> usize {
        self.current.available()
    }

    /// Always `None`: failures are handled here (fallback) and reported as events.
    fn failure(&self) -> Option<String> {
        None
    }

    fn device_id(&self) -> Option<String> {
        self.current.device_id()
    }

    fn label(&self) -> String {
        self.current.label()
    }
}

impl Drop for SwitchableSource {
    fn drop(&mut self) {
        // The control thread drops what it holds and exits; streams close off this thread.
        let _ = self.link.control.send(Command::Stop);
    }
}

impl SourceSwitch {
    /// Replaces the source with `source` (same rate as the wrapper, else
    /// [`DeviceError::RateMismatch`]): a tone, a WAV file, silence (mute), another device.
    pub fn switch_to(&self, source: Box<dyn AudioSource>) -> Result<(), DeviceError> {
        if source.sample_rate() != self.rate {
            return Err(DeviceError::RateMismatch {
                expected: self.rate,
                got: source.sample_rate(),
            });
        }
        self.control
            .send(Command::Switch(source))
            .map_err(|_| DeviceError::Closed("source"))
    }

    /// Opens input device `id` (id or name; `None` = default) and switches to it. Returns
    /// the resolved device id. Blocks the caller while the device opens (PulseAudio: tens
    /// of milliseconds), never the consumer.
    pub fn switch_to_device(&self, id: Option<&str>) -> Result<String, DeviceError> {
        let source = open_input(id, self.rate)?;
        let resolved = source.id().to_owned();
        self.switch_to(Box::new(source))?;
        Ok(resolved)
    }

    /// The wrapper's sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.rate
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
