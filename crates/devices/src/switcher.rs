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
/// Longest wait for a new endpoint to start (a sink playing, a source delivering) before
/// swapping anyway, in seconds of audio read or written meanwhile.
const MAX_PRIME_SECONDS: u32 = 3;

/// A source or sink as the switcher handles it.
pub(crate) trait Endpoint: Send + 'static {
    const KIND: DeviceKind;
    /// What the endpoint is called in a [`DeviceError::Closed`] error.
    const NOUN: &'static str;
    /// Opens device `id` (id or name; `None` = default) at `rate`, with its resolved id.
    fn open_device(id: Option<&str>, rate: u32) -> Result<(Self, String), DeviceError>
    where
        Self: Sized;
    fn rate(&self) -> u32;
    fn device(&self) -> Option<String>;
    fn name(&self) -> String;
    fn broken(&self) -> Option<String>;
    /// Whether a pending endpoint can take over (a sink plays, a source has samples).
    fn ready(&self) -> bool;
    /// Called on the consumer's thread when the endpoint is swapped out.
    fn retire(&mut self);
}

/// Implements [`Endpoint`] for a boxed source or sink type: `$open` opens a device (which
/// has an `id()`), `ready` says whether a pending endpoint can take over, `retire` runs when
/// it is swapped out.
macro_rules! impl_endpoint {
    ($endpoint:ty, $kind:expr, $noun:literal, $open:path,
     ready: |$r:ident| $ready:expr, retire: |$x:ident| $retire:expr) => {
        impl Endpoint for $endpoint {
            const KIND: DeviceKind = $kind;
            const NOUN: &'static str = $noun;
            fn open_device(id: Option<&str>, rate: u32) -> Result<(Self, String), DeviceError> {
                let device = $open(id, rate)?;
                let resolved = device.id().to_owned();
                Ok((Box::new(device), resolved))
            }
            fn rate(&self) -> u32 {
                self.sample_rate()
            }
            fn device(&self) -> Option<String> {
                self.device_id()
            }
            fn name(&self) -> String {
                self.label()
            }
            fn broken(&self) -> Option<String> {
                self.failure()
            }
            fn ready(&self) -> bool {
                let $r = self;
                $ready
            }
            fn retire(&mut self) {
                let $x = self;
                $retire
            }
        }
    };
}

impl_endpoint!(
    Box<dyn AudioSource>, DeviceKind::Input, "source", crate::open_input,
    // A source is ready when its first samples have arrived.
    ready: |source| source.available() > 0,
    retire: |_source| {}
);

impl_endpoint!(
    Box<dyn AudioSink>, DeviceKind::Output, "sink", crate::open_output,
    // A sink is ready when its stream has started pulling.
    ready: |sink| sink.started(),
    // Flush what needs flushing (a WAV header) on the consumer's thread, as before.
    retire: |sink| {
        let _ = sink.finish();
    }
);

/// The consumer's side of a switchable wrapper: the endpoint in use, the one about to take
/// over, and the link to the control thread. The wrappers call [`Switching::step`] before
/// every read or write; it only uses `try_recv`/`send` on channels.
pub(crate) struct Switching<E> {
    current: E,
    pending: Option<Pending<E>>,
    link: ConsumerLink<E>,
    rate: u32,
    failure_reported: bool,
    _thread: JoinHandle<()>,
}

struct Pending<E> {
    endpoint: E,
    reason: OfferReason,
    waited: usize,
}

/// What a switch handle holds: the control channel and the wrapper's rate.
pub(crate) struct Handle<E> {
    control: Sender<Command<E>>,
    rate: u32,
}

impl<E> Clone for Handle<E> {
    fn clone(&self) -> Self {
        Handle {
            control: self.control.clone(),
            rate: self.rate,
        }
    }
}

impl<E: Endpoint> Switching<E> {
    /// Wraps `initial` (its rate is the wrapper's for good) and starts the control thread.
    pub(crate) fn new(initial: E, events: Option<Sender<DeviceEvent>>) -> (Self, Handle<E>) {
        let rate = initial.rate();
        let (link, control, thread) = spawn(rate, initial.device(), events);
        (
            Switching {
                current: initial,
                pending: None,
                link,
                rate,
                failure_reported: false,
                _thread: thread,
            },
            Handle { control, rate },
        )
    }

    pub(crate) fn current(&self) -> &E {
        &self.current
    }

    pub(crate) fn current_mut(&mut self) -> &mut E {
        &mut self.current
    }

    pub(crate) fn rate(&self) -> u32 {
        self.rate
    }

    /// Takes new offers, swaps the pending endpoint in once it is ready (or the one in use
    /// failed, or it waited too long) and reports a failure of the one in use. `samples` is
    /// the size of the read or write about to happen; `prime` gets the pending endpoint
    /// while it is not ready yet.
    pub(crate) fn step(&mut self, samples: usize, prime: impl FnOnce(&mut E)) {
        self.poll();
        self.maybe_swap(samples, prime);
        if !self.failure_reported && self.pending.is_none() {
            if let Some(reason) = self.current.broken() {
                self.failure_reported = true;
                let _ = self.link.control.send(Command::Failed {
                    device: self.current.device(),
                    reason,
                });
            }
        }
    }

    fn poll(&mut self) {
        while let Ok(offer) = self.link.offers.try_recv() {
            if let Some(older) = self.pending.take() {
                let _ = self.link.control.send(Command::Retired {
                    old: older.endpoint,
                    new_label: offer.endpoint.name(),
                    reason: OfferReason::Superseded,
                });
            }
            self.pending = Some(Pending {
                endpoint: offer.endpoint,
                reason: offer.reason,
                waited: 0,
            });
        }
    }

    fn maybe_swap(&mut self, samples: usize, prime: impl FnOnce(&mut E)) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let ready = pending.endpoint.ready()
            || self.current.broken().is_some()
            || pending.waited >= (self.rate * MAX_PRIME_SECONDS) as usize;
        if !ready {
            pending.waited += samples;
            prime(&mut pending.endpoint);
            return;
        }
        if let Some(pending) = self.pending.take() {
            let new_label = pending.endpoint.name();
            let mut old = std::mem::replace(&mut self.current, pending.endpoint);
            old.retire();
            self.failure_reported = false;
            let _ = self.link.control.send(Command::Retired {
                old,
                new_label,
                reason: pending.reason,
            });
        }
    }

    /// The wrapper's `Debug` text, under the wrapper's `name`.
    pub(crate) fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("current", &self.current.name())
            .field("rate", &self.rate)
            .field("switch_pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl<E> Drop for Switching<E> {
    fn drop(&mut self) {
        // The control thread drops what it holds and exits; streams close off this thread.
        let _ = self.link.control.send(Command::Stop);
    }
}

impl<E: Endpoint> Handle<E> {
    /// Hands `endpoint` (same rate as the wrapper, else [`DeviceError::RateMismatch`]) to
    /// the wrapper.
    pub(crate) fn switch_to(&self, endpoint: E) -> Result<(), DeviceError> {
        if endpoint.rate() != self.rate {
            return Err(DeviceError::RateMismatch {
                expected: self.rate,
                got: endpoint.rate(),
            });
        }
        self.control
            .send(Command::Switch(endpoint))
            .map_err(|_| DeviceError::Closed(E::NOUN))
    }

    /// Opens device `id` (id or name; `None` = default) on the caller's thread and switches
    /// to it. Returns the resolved device id.
    pub(crate) fn switch_to_device(&self, id: Option<&str>) -> Result<String, DeviceError> {
        let (endpoint, resolved) = E::open_device(id, self.rate)?;
        self.switch_to(endpoint)?;
        Ok(resolved)
    }

    pub(crate) fn rate(&self) -> u32 {
        self.rate
    }

    /// A handle's `Debug` text, under the handle's `name`.
    pub(crate) fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

/// Why an endpoint is handed to the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfferReason {
    /// The application asked for it.
    Switch,
    /// It replaces a lost device.
    Fallback,
    /// It was replaced by a newer offer before the consumer used it.
    Superseded,
}

/// An endpoint handed to the consumer, to be swapped in when ready.
struct Offer<E> {
    endpoint: E,
    reason: OfferReason,
}

enum Command<E> {
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
struct ConsumerLink<E> {
    offers: Receiver<Offer<E>>,
    control: Sender<Command<E>>,
}

/// The control thread and the sender handles use to reach it.
fn spawn<E: Endpoint>(
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
        match E::open_device(None, self.rate) {
            Ok((endpoint, _)) => {
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
