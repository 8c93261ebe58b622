//! The non-INVITE server transaction: RFC 3261 §17.2.2, Figure 8. CANCEL uses it too (§9.2).
//!
//! ```text
//!  Trying --1xx from TU--> Proceeding --200-699 from TU--> Completed --Timer J--> Terminated
//!     \_________________200-699 from TU_________________/
//! ```
//!
//! Retransmitted requests are absorbed while Trying, answered with the latest provisional in
//! Proceeding and with the final response in Completed. Timer J (64·T1, zero when reliable)
//! keeps the final response around for the client's retransmissions. RFC 4320 §4.1 asks the TU
//! not to send provisionals other than 100 to non-INVITE requests; the machine does not police
//! it.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Message, Request, Response};

use super::error::TransactionError;
use super::output::{Outbox, TransactionEvent, TransactionId};
use crate::timer::{Timer, TimerConfig, TimerTable};
use crate::transport::Peer;

/// States of the non-INVITE server transaction (RFC 3261 Figure 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerNonInviteState {
    /// The TU has the request and has not responded.
    Trying,
    /// The TU sent a provisional response.
    Proceeding,
    /// The TU sent the final response; Timer J answers retransmissions with it.
    Completed,
    /// Finished.
    Terminated,
}

/// A non-INVITE server transaction.
#[derive(Debug)]
pub(crate) struct ServerNonInvite {
    id: TransactionId,
    /// Where responses go (RFC 3261 §18.2.2).
    dest: Peer,
    request: Request,
    state: ServerNonInviteState,
    timers: TimerTable,
    /// The latest response sent, resent on request retransmissions.
    last_response: Option<Response>,
    config: TimerConfig,
}

impl ServerNonInvite {
    /// A transaction for the request just received.
    pub(crate) fn start(
        id: TransactionId,
        dest: Peer,
        request: Request,
        config: TimerConfig,
    ) -> ServerNonInvite {
        ServerNonInvite {
            id,
            dest,
            request,
            state: ServerNonInviteState::Trying,
            timers: TimerTable::new(),
            last_response: None,
            config,
        }
    }

    pub(crate) fn state(&self) -> ServerNonInviteState {
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

    /// The request arrived again (§17.2.2).
    pub(crate) fn on_retransmission(&mut self, out: &mut Outbox) {
        match self.state {
            ServerNonInviteState::Proceeding | ServerNonInviteState::Completed => {
                if let Some(response) = &self.last_response {
                    out.transmit(self.dest, Message::Response(response.clone()));
                }
            }
            ServerNonInviteState::Trying | ServerNonInviteState::Terminated => {}
        }
    }

    /// The TU sends `response` (§17.2.2). Once Completed, further responses are refused.
    pub(crate) fn send_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Outbox,
    ) -> Result<(), TransactionError> {
        use ServerNonInviteState::*;
        let status = response.status;
        match (self.state, status) {
            (Trying | Proceeding, 100..=199) => self.state = Proceeding,
            (Trying | Proceeding, _) => {
                self.state = Completed;
                let reliable = self.dest.transport.is_reliable();
                let wait = self
                    .config
                    .initial(Timer::J, reliable)
                    .unwrap_or(Duration::ZERO);
                self.timers.set(Timer::J, now + wait);
            }
            _ => {
                return Err(TransactionError::ResponseNotAllowed {
                    id: self.id,
                    status,
                })
            }
        }
        self.last_response = Some(response.clone());
        out.transmit(self.dest, Message::Response(response));
        Ok(())
    }

    /// One of this transaction's timers fired.
    pub(crate) fn on_timer(&mut self, timer: Timer) {
        if (self.state, timer) == (ServerNonInviteState::Completed, Timer::J) {
            self.terminate();
        }
    }

    /// The transport could not deliver a response (§17.2.4).
    pub(crate) fn on_transport_error(&mut self, out: &mut Outbox) {
        if self.state != ServerNonInviteState::Terminated {
            out.event(TransactionEvent::TransportError { id: self.id });
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ServerNonInviteState::Terminated;
        self.timers.cancel_all();
    }
}
