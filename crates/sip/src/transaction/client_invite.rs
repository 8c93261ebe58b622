//! The INVITE client transaction: RFC 3261 §17.1.1, Figure 5, with the Accepted state and
//! Timer M of RFC 6026.
//!
//! ```text
//!  Calling --1xx--> Proceeding --300-699 / send ACK--> Completed --Timer D--> Terminated
//!     |  \______________________________2xx__________> Accepted --Timer M--> Terminated
//!     +--Timer B / transport error--> Terminated
//! ```
//!
//! Timer A retransmits the INVITE over unreliable transports (T1, doubling: 0, 0.5, 1.5, 3.5,
//! 7.5, 15.5, 31.5 s with the default T1) until a response arrives or Timer B (64·T1) gives up.
//! The ACK for a non-2xx final response is built here, with the INVITE's branch
//! (§17.1.1.3). A 2xx moves the transaction to Accepted, where every further 2xx (a
//! retransmission or another fork) goes up to the TU, which ACKs it from the dialog (§13.2.2.4).

use std::time::{Duration, Instant};

use dialtone_sip_message::{Message, Request, Response, Via};

use super::derived_request::build_ack;
use super::output::{Outbox, TransactionEvent, TransactionId};
use crate::timer::{Timer, TimerConfig, TimerTable};
use crate::transport::Peer;

/// States of the INVITE client transaction (RFC 3261 Figure 5, RFC 6026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInviteState {
    /// INVITE sent, no response yet; Timer A retransmits, Timer B times out.
    Calling,
    /// A provisional response arrived; no retransmission, no timeout (the TU cancels).
    Proceeding,
    /// A 300–699 response arrived and was ACKed; Timer D absorbs its retransmissions.
    Completed,
    /// A 2xx arrived; Timer M keeps the transaction to pass further 2xx to the TU (RFC 6026).
    Accepted,
    /// Finished.
    Terminated,
}

/// An INVITE client transaction.
#[derive(Debug)]
pub(crate) struct ClientInvite {
    id: TransactionId,
    dest: Peer,
    request: Request,
    /// The INVITE's top Via, which the ACK and a CANCEL repeat (§17.1.1.3, §9.1).
    top_via: Via,
    state: ClientInviteState,
    timers: TimerTable,
    /// The current Timer A interval.
    timer_a: Duration,
    /// The ACK sent for the non-2xx final response, resent on its retransmissions.
    ack: Option<Request>,
    config: TimerConfig,
}

impl ClientInvite {
    /// Sends `request` (an INVITE whose top Via is `top_via`) and starts Timers A and B.
    pub(crate) fn start(
        id: TransactionId,
        now: Instant,
        dest: Peer,
        request: Request,
        top_via: Via,
        config: TimerConfig,
        out: &mut Outbox,
    ) -> ClientInvite {
        let reliable = dest.transport.is_reliable();
        let mut timers = TimerTable::new();
        let timer_a = config.initial(Timer::A, reliable).unwrap_or(config.t1);
        if !reliable {
            timers.set(Timer::A, now + timer_a);
        }
        timers.set(Timer::B, now + config.transaction_timeout());
        out.transmit(dest, Message::Request(request.clone()));
        ClientInvite {
            id,
            dest,
            request,
            top_via,
            state: ClientInviteState::Calling,
            timers,
            timer_a,
            ack: None,
            config,
        }
    }

    pub(crate) fn state(&self) -> ClientInviteState {
        self.state
    }

    pub(crate) fn dest(&self) -> Peer {
        self.dest
    }

    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn top_via(&self) -> &Via {
        &self.top_via
    }

    pub(crate) fn timers_mut(&mut self) -> &mut TimerTable {
        &mut self.timers
    }

    pub(crate) fn timers(&self) -> &TimerTable {
        &self.timers
    }

    /// A response matched this transaction (§17.1.1.2).
    pub(crate) fn on_response(&mut self, now: Instant, response: Response, out: &mut Outbox) {
        use ClientInviteState::*;
        let status = response.status;
        match (self.state, status) {
            (Calling | Proceeding, 100..=199) => {
                self.state = Proceeding;
                self.timers.cancel(Timer::A);
                self.timers.cancel(Timer::B);
                self.to_tu(response, out);
            }
            (Calling | Proceeding, 200..=299) => {
                self.state = Accepted;
                self.timers.cancel_all();
                self.timers
                    .set(Timer::M, now + self.config.transaction_timeout());
                self.to_tu(response, out);
            }
            (Calling | Proceeding, _) => {
                self.state = Completed;
                self.timers.cancel_all();
                let reliable = self.dest.transport.is_reliable();
                let wait = self
                    .config
                    .initial(Timer::D, reliable)
                    .unwrap_or(Duration::ZERO);
                self.timers.set(Timer::D, now + wait);
                let ack = build_ack(&self.request, &self.top_via, &response);
                self.to_tu(response, out);
                out.transmit(self.dest, Message::Request(ack.clone()));
                self.ack = Some(ack);
            }
            (Completed, 300..) => {
                if let Some(ack) = &self.ack {
                    out.transmit(self.dest, Message::Request(ack.clone()));
                }
            }
            (Accepted, 200..=299) => self.to_tu(response, out),
            // Late provisionals, non-2xx after a 2xx, 2xx after a non-2xx: absorbed.
            _ => {}
        }
    }

    /// One of this transaction's timers fired.
    pub(crate) fn on_timer(&mut self, now: Instant, timer: Timer, out: &mut Outbox) {
        use ClientInviteState::*;
        match (self.state, timer) {
            (Calling, Timer::A) => {
                out.transmit(self.dest, Message::Request(self.request.clone()));
                self.timer_a *= 2;
                self.timers.set(Timer::A, now + self.timer_a);
            }
            (Calling, Timer::B) => {
                out.event(TransactionEvent::Timeout { id: self.id });
                self.terminate();
            }
            (Completed, Timer::D) | (Accepted, Timer::M) => self.terminate(),
            _ => {}
        }
    }

    /// The transport could not deliver one of this transaction's messages (§17.1.4).
    pub(crate) fn on_transport_error(&mut self, out: &mut Outbox) {
        if self.state != ClientInviteState::Terminated {
            out.event(TransactionEvent::TransportError { id: self.id });
            self.terminate();
        }
    }

    fn to_tu(&self, response: Response, out: &mut Outbox) {
        out.event(TransactionEvent::Response {
            id: self.id,
            response,
        });
    }

    fn terminate(&mut self) {
        self.state = ClientInviteState::Terminated;
        self.timers.cancel_all();
    }
}
