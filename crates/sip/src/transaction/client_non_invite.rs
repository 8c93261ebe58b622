//! The non-INVITE client transaction: RFC 3261 §17.1.2, Figure 6.
//!
//! ```text
//!  Trying --1xx--> Proceeding --200-699--> Completed --Timer K--> Terminated
//!     \__________200-699________________/
//!  Trying/Proceeding --Timer F / transport error--> Terminated
//! ```
//!
//! Timer E retransmits over unreliable transports: T1, doubling, capped at T2 while Trying;
//! every T2 once Proceeding. Timer F (64·T1) times out; Timer K (T4, zero when reliable)
//! absorbs response retransmissions after the final response.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Message, Request, Response};

use super::output::{Outbox, TransactionEvent, TransactionId};
use crate::timer::{Timer, TimerConfig, TimerTable};
use crate::transport::Peer;

/// States of the non-INVITE client transaction (RFC 3261 Figure 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNonInviteState {
    /// Request sent; Timer E retransmits (backing off to T2), Timer F times out.
    Trying,
    /// A provisional response arrived; Timer E retransmits every T2.
    Proceeding,
    /// A final response arrived; Timer K absorbs retransmissions of it.
    Completed,
    /// Finished.
    Terminated,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub(crate) struct ClientNonInvite {
    id: TransactionId,
    dest: Peer,
    request: Request,
    state: ClientNonInviteState,
    timers: TimerTable,
    /// The current Timer E interval.
    timer_e: Duration,
    config: TimerConfig,
}

impl ClientNonInvite {
    /// Sends `request` and starts Timers E and F.
    pub(crate) fn start(
        id: TransactionId,
        now: Instant,
        dest: Peer,
        request: Request,
        config: TimerConfig,
        out: &mut Outbox,
    ) -> ClientNonInvite {
        let reliable = dest.transport.is_reliable();
        let mut timers = TimerTable::new();
        let timer_e = config.initial(Timer::E, reliable).unwrap_or(config.t1);
        if !reliable {
            timers.set(Timer::E, now + timer_e);
        }
        timers.set(Timer::F, now + config.transaction_timeout());
        out.transmit(dest, Message::Request(request.clone()));
        ClientNonInvite {
            id,
            dest,
            request,
            state: ClientNonInviteState::Trying,
            timers,
            timer_e,
            config,
        }
    }

    pub(crate) fn state(&self) -> ClientNonInviteState {
        self.state
    }

    pub(crate) fn dest(&self) -> Peer {
        self.dest
    }

    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn timers_mut(&mut self) -> &mut TimerTable {
        &mut self.timers
    }

    pub(crate) fn timers(&self) -> &TimerTable {
        &self.timers
    }

    /// A response matched this transaction (§17.1.2.2).
    pub(crate) fn on_response(&mut self, now: Instant, response: Response, out: &mut Outbox) {
        use ClientNonInviteState::*;
        match (self.state, response.status) {
            (Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                out.event(TransactionEvent::Response {
                    id: self.id,
                    response,
                });
            }
            (Trying | Proceeding, _) => {
                self.state = Completed;
                self.timers.cancel_all();
                let reliable = self.dest.transport.is_reliable();
                let wait = self
                    .config
                    .initial(Timer::K, reliable)
                    .unwrap_or(Duration::ZERO);
                self.timers.set(Timer::K, now + wait);
                out.event(TransactionEvent::Response {
                    id: self.id,
                    response,
                });
            }
            // Completed: retransmitted responses are absorbed.
            _ => {}
        }
    }

    /// One of this transaction's timers fired.
    pub(crate) fn on_timer(&mut self, now: Instant, timer: Timer, out: &mut Outbox) {
        use ClientNonInviteState::*;
        match (self.state, timer) {
            (Trying | Proceeding, Timer::E) => {
                out.transmit(self.dest, Message::Request(self.request.clone()));
                self.timer_e = if self.state == Trying {
                    self.config.capped_backoff(self.timer_e)
                } else {
                    self.config.t2
                };
                self.timers.set(Timer::E, now + self.timer_e);
            }
            (Trying | Proceeding, Timer::F) => {
                out.event(TransactionEvent::Timeout { id: self.id });
                self.terminate();
            }
            (Completed, Timer::K) => self.terminate(),
            _ => {}
        }
    }

    /// The transport could not deliver the request (§17.1.4).
    pub(crate) fn on_transport_error(&mut self, out: &mut Outbox) {
        if self.state != ClientNonInviteState::Terminated {
            out.event(TransactionEvent::TransportError { id: self.id });
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ClientNonInviteState::Terminated;
        self.timers.cancel_all();
    }
}
