//! The machinery behind the switchable wrappers, shared by sources and sinks: a control
//! thread per wrapper that hands new endpoints to the consumer, watches the device in use,
//! opens the default device when it is lost, and drops retired endpoints (closing a stream
//! can block, so never on the consumer's thread).
//!
//! The consumer (the RTP side) only ever calls `try_recv` and `send` on channels; the
//! audio callbacks are not involved at all.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::catalog::Presence;
use crate::{AudioSink, AudioSource, DeviceError, DeviceEvent, DeviceKind};

/// How often the device in use is looked for (PulseAudio only).
const WATCH_INTERVAL: Duration = Duration::from_millis(250);
/// How often a failed fallback is retried.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// A source or sink as the switcher handles it.
pub(crate) trait Endpoint: Send + 'static {
    const KIND: DeviceKind;
    fn open_default(rate: u32) -> Result<Self, DeviceError>
    where
        Self: Sized;
    fn device(&self) -> Option<String>;
    fn name(&self) -> String;
}

impl Endpoint for Box<dyn AudioSource> {
    const KIND: DeviceKind = DeviceKind::Input;
    fn open_default(rate: u32) -> Result<Self, DeviceError> {
        Ok(Box::new(crate::open_input(None, rate)?))
    }
    fn device(&self) -> Option<String> {
        self.device_id()
    }
    fn name(&self) -> String {
        self.label()
    }
}

impl Endpoint for Box<dyn AudioSink> {
    const KIND: DeviceKind = DeviceKind::Output;
    fn open_default(rate: u32) -> Result<Self, DeviceError> {
        Ok(Box::new(crate::open_output(None, rate)?))
    }
    fn device(&self) -> Option<String> {
        self.device_id()
    }
    fn name(&self) -> String {
        self.label()
    }
}

/// Why an endpoint is handed to the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OfferReason {
    /// The application asked for it.
    Switch,
    /// It replaces a lost device.
    Fallback,
    /// It was replaced by a newer offer before the consumer used it.
    Superseded,
}

/// An endpoint handed to the consumer, to be swapped in when ready.
pub(crate) struct Offer<E> {
    pub(crate) endpoint: E,
    pub(crate) reason: OfferReason,
}

pub(crate) enum Command<E> {
    /// From a handle: use this endpoint from now on.
    Switch(E),
    /// From the consumer: the endpoint in use (this device, if one) reports this failure.
    Failed {
        device: Option<String>,
        reason: String,
    },
    /// From the consumer: it swapped endpoints; drop the old one here.
    Retired {
        old: E,
        new_label: String,
        reason: OfferReason,
    },
    /// From the consumer's drop.
    Stop,
}

/// The consumer's side: receives offers, reports failures and retirements.
pub(crate) struct ConsumerLink<E> {
    pub(crate) offers: Receiver<Offer<E>>,
    pub(crate) control: Sender<Command<E>>,
}

/// The control thread and the sender handles use to reach it.
pub(crate) fn spawn<E: Endpoint>(
    rate: u32,
    watched: Option<String>,
    events: Option<Sender<DeviceEvent>>,
) -> (ConsumerLink<E>, Sender<Command<E>>, JoinHandle<()>) {
    let (control_tx, control_rx) = mpsc::channel();
    let (offer_tx, offer_rx) = mpsc::channel();
    let mut worker = Worker::<E> {
        rate,
        commands: control_rx,
        offers: offer_tx,
        events,
        watched,
        presence: Presence::new(),
        lost: None,
        next_retry: Instant::now(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("dialtone-{}-switch", E::KIND))
        .spawn(move || worker.run())
        // Spawning only fails when the OS is out of threads; nothing sensible to do then.
        .expect("spawn the device switch thread");
    (
        ConsumerLink {
            offers: offer_rx,
            control: control_tx.clone(),
        },
        control_tx,
        thread,
    )
}

struct Worker<E> {
    rate: u32,
    commands: Receiver<Command<E>>,
    offers: Sender<Offer<E>>,
    events: Option<Sender<DeviceEvent>>,
    /// The device in use (or about to be), if the endpoint is a device.
    watched: Option<String>,
    presence: Presence,
    /// A lost device whose fallback failed and is being retried.
    lost: Option<(String, String)>,
    next_retry: Instant,
}

impl<E: Endpoint> Worker<E> {
    fn run(&mut self) {
        let mut next_watch = Instant::now() + WATCH_INTERVAL;
        loop {
            let wait = next_watch.saturating_duration_since(Instant::now());
            match self.commands.recv_timeout(wait) {
                Ok(Command::Switch(endpoint)) => {
                    self.watched = endpoint.device();
                    self.lost = None;
                    let _ = self.offers.send(Offer {
                        endpoint,
                        reason: OfferReason::Switch,
                    });
                }
                Ok(Command::Failed { device, reason }) => {
                    // Only the device we watch: an older one may fail after a switch.
                    if device.is_some() && device == self.watched {
                        if let Some(lost) = self.watched.take() {
                            self.fall_back(lost, reason, false);
                        }
                    }
                }
                Ok(Command::Retired {
                    old,
                    new_label,
                    reason,
                }) => {
                    let from = old.name();
                    drop(old);
                    if reason == OfferReason::Switch {
                        self.emit(DeviceEvent::Switched {
                            kind: E::KIND,
                            from,
                            to: new_label,
                        });
                    }
                }
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if Instant::now() >= next_watch {
                next_watch = Instant::now() + WATCH_INTERVAL;
                self.watch();
            }
        }
    }

    fn watch(&mut self) {
        if let Some(id) = self.watched.clone() {
            if self.presence.is_present(E::KIND, &id) == Some(false) {
                self.watched = None;
                self.fall_back(id, "the device disappeared".to_owned(), false);
            }
        } else if let Some((lost, reason)) = self.lost.take() {
            if Instant::now() >= self.next_retry {
                self.fall_back(lost, reason, true);
            } else {
                self.lost = Some((lost, reason));
            }
        }
    }

    /// Opens the default device in place of `lost` and offers it to the consumer.
    fn fall_back(&mut self, lost: String, reason: String, retry: bool) {
        match E::open_default(self.rate) {
            Ok(endpoint) => {
                let to = endpoint.name();
                self.watched = endpoint.device();
                self.lost = None;
                let _ = self.offers.send(Offer {
                    endpoint,
                    reason: OfferReason::Fallback,
                });
                self.emit(DeviceEvent::Fallback {
                    kind: E::KIND,
                    lost,
                    to,
                    reason,
                });
            }
            Err(err) => {
                if !retry {
                    self.emit(DeviceEvent::FallbackFailed {
                        kind: E::KIND,
                        lost: lost.clone(),
                        reason: err.to_string(),
                    });
                }
                self.lost = Some((lost, reason));
                self.next_retry = Instant::now() + RETRY_INTERVAL;
            }
        }
    }

    fn emit(&self, event: DeviceEvent) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }
}
