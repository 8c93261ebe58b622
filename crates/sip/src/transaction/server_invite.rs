//! The INVITE server transaction: RFC 3261 §17.2.1, Figure 7, with the Accepted state and
//! Timer L of RFC 6026.
//!
//! ```text
//!  Proceeding --300-699 from TU--> Completed --ACK--> Confirmed --Timer I--> Terminated
//!     |                               +--Timer H (no ACK)--> Terminated
//!     +--2xx from TU--> Accepted --Timer L--> Terminated
//! ```
//!
//! The request goes to the TU when the transaction is created. If the TU has not responded
//! within 200 ms the transaction answers 100 (Trying) itself. A final non-2xx response is
//! retransmitted by Timer G (T1 doubling, capped at T2; unreliable transports only) until the
//! ACK arrives or Timer H (64·T1) gives up. Retransmitting a 2xx stays the TU's job (§13.3.1.4):
//! in Accepted, each 2xx the TU passes is sent, retransmitted INVITEs are absorbed and the ACK
//! for the 2xx is handed to the TU.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Message, Request, Response};

use super::error::TransactionError;
use super::output::{Outbox, TransactionEvent, TransactionId};
use crate::timer::{Timer, TimerConfig, TimerTable};
use crate::transport::Peer;

/// States of the INVITE server transaction (RFC 3261 Figure 7, RFC 6026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// The TU has the INVITE and has sent no final response yet.
    Proceeding,
    /// A 300–699 response was sent; Timer G retransmits it until the ACK, Timer H gives up.
    Completed,
    /// The ACK arrived; Timer I absorbs its retransmissions.
    Confirmed,
    /// A 2xx was sent; Timer L absorbs INVITE retransmissions, ACKs go to the TU (RFC 6026).
    Accepted,
    /// Finished.
    Terminated,
}

/// An INVITE server transaction.
#[derive(Debug)]
pub(crate) struct ServerInvite {
    id: TransactionId,
    /// Where responses go (RFC 3261 §18.2.2).
    dest: Peer,
    request: Request,
    state: ServerInviteState,
    timers: TimerTable,
    /// The current Timer G interval.
    timer_g: Duration,
    /// The latest provisional response, resent when the INVITE is retransmitted.
    provisional: Option<Response>,
    /// The final non-2xx response, resent by Timer G and on retransmitted INVITEs.
    final_response: Option<Response>,
    /// The To tag of the 2xx sent, which the ACK for it must carry.
    accepted_tag: Option<String>,
    config: TimerConfig,
}

impl ServerInvite {
    /// A transaction for the INVITE `request` just received; starts the 100 (Trying) timer.
    pub(crate) fn start(
        id: TransactionId,
        now: Instant,
        dest: Peer,
        request: Request,
        config: TimerConfig,
    ) -> ServerInvite {
        let mut timers = TimerTable::new();
        if let Some(delay) = config.initial(Timer::Trying, dest.transport.is_reliable()) {
            timers.set(Timer::Trying, now + delay);
        }
        ServerInvite {
            id,
            dest,
            request,
            state: ServerInviteState::Proceeding,
            timers,
            timer_g: config.t1,
            provisional: None,
            final_response: None,
            accepted_tag: None,
            config,
        }
    }

    pub(crate) fn state(&self) -> ServerInviteState {
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

    /// The INVITE arrived again (§17.2.1): resend the latest provisional (answering 100 now if
    /// there is none yet) or the final non-2xx response; absorb it otherwise.
    pub(crate) fn on_retransmission(&mut self, out: &mut Outbox) {
        match self.state {
            ServerInviteState::Proceeding => {
                if self.provisional.is_none() {
                    self.timers.cancel(Timer::Trying);
                    self.provisional = Some(self.trying());
                }
                if let Some(provisional) = &self.provisional {
                    out.transmit(self.dest, Message::Response(provisional.clone()));
                }
            }
            ServerInviteState::Completed => {
                if let Some(response) = &self.final_response {
                    out.transmit(self.dest, Message::Response(response.clone()));
                }
            }
            ServerInviteState::Confirmed
            | ServerInviteState::Accepted
            | ServerInviteState::Terminated => {}
        }
    }

    /// Whether `ack`, which has a branch of its own, is the ACK for the 2xx this transaction
    /// sent: only in Accepted, and with that 2xx's To tag.
    pub(crate) fn accepts_ack_for_2xx(&self, ack: &Request) -> bool {
        if self.state != ServerInviteState::Accepted {
            return false;
        }
        let ack_tag = ack.to().ok().and_then(|to| to.tag().map(str::to_owned));
        match &self.accepted_tag {
            Some(tag) => ack_tag.as_deref() == Some(tag.as_str()),
            None => true,
        }
    }

    /// An ACK matched this transaction: in Completed it confirms the non-2xx (Timer I starts);
    /// in Accepted it acknowledges the TU's 2xx and goes to the TU; otherwise it is absorbed.
    pub(crate) fn on_ack(&mut self, now: Instant, from: Peer, ack: Request, out: &mut Outbox) {
        match self.state {
            ServerInviteState::Completed => {
                self.state = ServerInviteState::Confirmed;
                self.timers.cancel_all();
                let reliable = self.dest.transport.is_reliable();
                let wait = self
                    .config
                    .initial(Timer::I, reliable)
                    .unwrap_or(Duration::ZERO);
                self.timers.set(Timer::I, now + wait);
            }
            ServerInviteState::Accepted => out.event(TransactionEvent::Request {
                id: self.id,
                from,
                request: ack,
            }),
            ServerInviteState::Proceeding
            | ServerInviteState::Confirmed
            | ServerInviteState::Terminated => {}
        }
    }

    /// The TU sends `response` (§17.2.1).
    pub(crate) fn send_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Outbox,
    ) -> Result<(), TransactionError> {
        use ServerInviteState::*;
        let status = response.status;
        match (self.state, status) {
            (Proceeding, 100..=199) => {
                self.timers.cancel(Timer::Trying);
                self.provisional = Some(response.clone());
                out.transmit(self.dest, Message::Response(response));
            }
            (Proceeding, 200..=299) => {
                self.state = Accepted;
                self.timers.cancel_all();
                self.timers
                    .set(Timer::L, now + self.config.transaction_timeout());
                self.accepted_tag = response
                    .to()
                    .ok()
                    .and_then(|to| to.tag().map(str::to_owned));
                out.transmit(self.dest, Message::Response(response));
            }
            (Proceeding, _) => {
                self.state = Completed;
                self.timers.cancel_all();
                let reliable = self.dest.transport.is_reliable();
                if let Some(g) = self.config.initial(Timer::G, reliable) {
                    self.timer_g = g;
                    self.timers.set(Timer::G, now + g);
                }
                self.timers
                    .set(Timer::H, now + self.config.transaction_timeout());
                self.final_response = Some(response.clone());
                out.transmit(self.dest, Message::Response(response));
            }
            // The TU's own 2xx retransmissions (§13.3.1.4) pass through while Accepted.
            (Accepted, 200..=299) => out.transmit(self.dest, Message::Response(response)),
            _ => {
                return Err(TransactionError::ResponseNotAllowed {
                    id: self.id,
                    status,
                })
            }
        }
        Ok(())
    }

    /// One of this transaction's timers fired.
    pub(crate) fn on_timer(&mut self, now: Instant, timer: Timer, out: &mut Outbox) {
        use ServerInviteState::*;
        match (self.state, timer) {
            (Proceeding, Timer::Trying) => {
                let trying = self.trying();
                out.transmit(self.dest, Message::Response(trying.clone()));
                self.provisional = Some(trying);
            }
            (Completed, Timer::G) => {
                if let Some(response) = &self.final_response {
                    out.transmit(self.dest, Message::Response(response.clone()));
                }
                self.timer_g = self.config.capped_backoff(self.timer_g);
                self.timers.set(Timer::G, now + self.timer_g);
            }
            (Completed, Timer::H) => {
                out.event(TransactionEvent::Timeout { id: self.id });
                self.terminate();
            }
            (Confirmed, Timer::I) | (Accepted, Timer::L) => self.terminate(),
            _ => {}
        }
    }

    /// The transport could not deliver a response (§17.2.4).
    pub(crate) fn on_transport_error(&mut self, out: &mut Outbox) {
        if self.state != ServerInviteState::Terminated {
            out.event(TransactionEvent::TransportError { id: self.id });
            self.terminate();
        }
    }

    /// The 100 (Trying) the transaction sends on the TU's behalf (§8.2.6.1: Timestamp copied).
    fn trying(&self) -> Response {
        let mut trying = Response::for_request(&self.request, 100, "Trying");
        if let Some(timestamp) = self.request.headers.get("Timestamp") {
            trying.headers.push("Timestamp", timestamp);
        }
        trying
    }

    fn terminate(&mut self) {
        self.state = ServerInviteState::Terminated;
        self.timers.cancel_all();
    }
}
