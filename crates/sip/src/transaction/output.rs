//! What the transaction layer hands back to its driver: transactions' identifiers, transmissions
//! and events for the transaction user (RFC 3261 §17: "the TU").

use std::collections::VecDeque;
use std::fmt;

use dialtone_sip_message::{Message, Request, Response};

use crate::transport::Peer;

/// Identifies one transaction, client or server, for as long as the layer knows it.
///
/// Identifiers are allocated in increasing order and never reused by one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub(crate) u64);

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx{}", self.0)
    }
}

/// One output of the layer. The driver must drain [`super::TransactionLayer::poll_output`]
/// until it returns `None` after every input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionOutput {
    /// Send `message` to `dest`.
    Transmit {
        /// Where to send it.
        dest: Peer,
        /// What to send.
        message: Message,
    },
    /// Something for the transaction user.
    Event(TransactionEvent),
}

/// Events for the transaction user (dialog layer, usages, UA core).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A new request created server transaction `id`; answer it with
    /// [`super::TransactionLayer::send_response`]. Also used for an ACK to a 2xx that matched
    /// INVITE server transaction `id` in the Accepted state (RFC 6026): such an ACK needs
    /// no answer.
    Request {
        /// The server transaction (for an ACK: the INVITE's).
        id: TransactionId,
        /// Where the request came from.
        from: Peer,
        /// The request, its top Via stamped with `received`/`rport` (RFC 3261 §18.2.1,
        /// RFC 3581 §4).
        request: Request,
    },
    /// A CANCEL created its own non-INVITE server transaction `id` (RFC 3261 §9.2). `invite` is
    /// the server INVITE transaction it matches, if any: the TU answers the CANCEL with 200
    /// (or 481 when `invite` is `None`) and, if the INVITE has no final response yet, answers
    /// the INVITE with 487.
    Cancel {
        /// The CANCEL's own server transaction.
        id: TransactionId,
        /// The INVITE server transaction being cancelled.
        invite: Option<TransactionId>,
        /// Where the CANCEL came from.
        from: Peer,
        /// The CANCEL request.
        request: Request,
    },
    /// An ACK that matched no transaction (for example an ACK to a 2xx arriving after Timer L).
    /// RFC 3261 §17.2.3 passes it to the core; it belongs to a dialog, if to anything.
    StrayAck {
        /// Where the ACK came from.
        from: Peer,
        /// The ACK.
        request: Request,
    },
    /// A response for client transaction `id`. Retransmissions are absorbed, except 2xx to an
    /// INVITE: every 2xx (retransmitted or from another fork) is surfaced so the dialog can ACK
    /// it (RFC 6026).
    Response {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: Response,
    },
    /// Transaction `id` timed out: Timer B or F (no final response) or Timer H (no ACK).
    Timeout {
        /// The transaction.
        id: TransactionId,
    },
    /// The transport reported a failure for transaction `id` (RFC 3261 §17.1.4, §17.2.4).
    TransportError {
        /// The transaction.
        id: TransactionId,
    },
    /// Transaction `id` reached Terminated and is forgotten. Always the last event for an id.
    Terminated {
        /// The transaction.
        id: TransactionId,
    },
}

/// The queue machines write their outputs to.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queue: VecDeque<TransactionOutput>,
}

impl Outbox {
    pub(crate) fn transmit(&mut self, dest: Peer, message: Message) {
        self.queue
            .push_back(TransactionOutput::Transmit { dest, message });
    }

    pub(crate) fn event(&mut self, event: TransactionEvent) {
        self.queue.push_back(TransactionOutput::Event(event));
    }

    pub(crate) fn pop(&mut self) -> Option<TransactionOutput> {
        self.queue.pop_front()
    }
}
