//! A speaker that can be changed during a call (the original SDK's `setAudioOutputId`).

use std::sync::mpsc::Sender;
use std::thread::JoinHandle;

use crate::switcher::{self, Command, ConsumerLink, OfferReason};
use crate::{open_output, AudioSink, DeviceError, DeviceEvent};

/// Longest wait for a new sink to start before swapping anyway (seconds of audio written).
const MAX_PRIME_SECONDS: u32 = 3;
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
    current: Box<dyn AudioSink>,
    pending: Option<Pending>,
    link: ConsumerLink<Box<dyn AudioSink>>,
    rate: u32,
    prime_queue: usize,
    failure_reported: bool,
    _thread: JoinHandle<()>,
}

struct Pending {
    sink: Box<dyn AudioSink>,
    reason: OfferReason,
    waited: usize,
}

/// The handle that switches a [`SwitchableSink`] from any thread. Cheap to clone.
#[derive(Clone)]
pub struct SinkSwitch {
    control: Sender<Command<Box<dyn AudioSink>>>,
    rate: u32,
}

impl std::fmt::Debug for SinkSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkSwitch")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SwitchableSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchableSink")
            .field("current", &self.current.label())
            .field("rate", &self.rate)
            .field("switch_pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl SwitchableSink {
    /// Wraps `initial` (its rate becomes the wrapper's for good). Device events go to
    /// `events` if given. Starts the wrapper's control thread.
    pub fn new(
        initial: Box<dyn AudioSink>,
        events: Option<Sender<DeviceEvent>>,
    ) -> (Self, SinkSwitch) {
        let rate = initial.sample_rate();
        let (link, control, thread) = switcher::spawn(rate, initial.device_id(), events);
        (
            SwitchableSink {
                current: initial,
                pending: None,
                link,
                rate,
                prime_queue: (rate * PRIME_QUEUE_MS / 1000) as usize,
                failure_reported: false,
                _thread: thread,
            },
            SinkSwitch { control, rate },
        )
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
        self.current.label()
    }

    fn poll(&mut self) {
        while let Ok(offer) = self.link.offers.try_recv() {
            if let Some(older) = self.pending.take() {
                let _ = self.link.control.send(Command::Retired {
                    old: older.sink,
                    new_label: offer.endpoint.label(),
                    reason: OfferReason::Superseded,
                });
            }
            self.pending = Some(Pending {
                sink: offer.endpoint,
                reason: offer.reason,
                waited: 0,
            });
        }
    }

    /// Primes the pending sink with `samples` or swaps it in when it has started.
    fn pending_step(&mut self, samples: &[i16]) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let ready = pending.sink.started()
            || self.current.failure().is_some()
            || pending.waited >= (self.rate * MAX_PRIME_SECONDS) as usize;
        if !ready {
            pending.waited += samples.len();
            if pending.sink.buffered() + samples.len() <= self.prime_queue {
                pending.sink.write(samples);
            }
            return;
        }
        if let Some(pending) = self.pending.take() {
            let new_label = pending.sink.label();
            let mut old = std::mem::replace(&mut self.current, pending.sink);
            let _ = old.finish();
            self.failure_reported = false;
            let _ = self.link.control.send(Command::Retired {
                old,
                new_label,
                reason: pending.reason,
            });
        }
    }
}

impl AudioSink for SwitchableSink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write(&mut self, samples: &[i16]) -> usize {
        self.poll();
        self.pending_step(samples);
        if !self.failure_reported && self.pending.is_none() {
            if let Some(reason) = self.current.failure() {
                self.failure_reported = true;
                let _ = self.link.control.send(Command::Failed {
                    device: self.current.device_id(),
                    reason,
                });
            }
        }
        self.current.write(samples)
    }

    fn buffered(&self) -> usize {
        self.current.buffered()
    }

    fn started(&self) -> bool {
        self.current.started()
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

    fn finish(&mut self) -> Result<(), DeviceError> {
        self.current.finish()
    }
}

impl Drop for SwitchableSink {
    fn drop(&mut self) {
        let _ = self.link.control.send(Command::Stop);
    }
}

impl SinkSwitch {
    /// Replaces the sink with `sink` (same rate as the wrapper, else
    /// [`DeviceError::RateMismatch`]): a WAV file, the null sink, another device.
    pub fn switch_to(&self, sink: Box<dyn AudioSink>) -> Result<(), DeviceError> {
        if sink.sample_rate() != self.rate {
            return Err(DeviceError::RateMismatch {
                expected: self.rate,
                got: sink.sample_rate(),
            });
        }
        self.control
            .send(Command::Switch(sink))
            .map_err(|_| DeviceError::Closed("sink"))
    }

    /// Opens output device `id` (id or name; `None` = default) and switches to it. Returns
    /// the resolved device id.
    pub fn switch_to_device(&self, id: Option<&str>) -> Result<String, DeviceError> {
        let sink = open_output(id, self.rate)?;
        let resolved = sink.id().to_owned();
        self.switch_to(Box::new(sink))?;
        Ok(resolved)
    }

    /// The wrapper's sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }
}
