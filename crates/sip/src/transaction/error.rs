//! Errors of the transaction layer, split as rustls does: [`TransactionError`] is a misuse of
//! the API by the transaction user, [`InboundError`] is a message from the network that the
//! layer could not place (the peer misbehaved, or the message is not for us).

use thiserror::Error;

use super::TransactionId;

/// The transaction user asked for something the layer cannot do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The request has no Via header the layer can parse.
    #[error("request has no parseable top Via")]
    MissingVia,
    /// The top Via has no RFC 3261 branch (one starting with `z9hG4bK`, §8.1.1.7).
    #[error("top Via has no RFC 3261 branch parameter (z9hG4bK...)")]
    MissingBranch,
    /// The request has no CSeq header the layer can parse.
    #[error("request has no parseable CSeq")]
    MissingCSeq,
    /// ACK never creates a client transaction (RFC 3261 §17.1.1.3: the ACK for a non-2xx is
    /// sent by the INVITE transaction itself; the ACK for a 2xx goes out with
    /// `send_stateless`).
    #[error("ACK does not create a transaction; use send_stateless")]
    AckIsNotATransaction,
    /// A client transaction with the same branch and method already exists.
    #[error("a client transaction with this branch and method already exists")]
    DuplicateBranch,
    /// No live transaction has this id (never existed, or already terminated).
    #[error("no live transaction {0}")]
    UnknownTransaction(TransactionId),
    /// The id names a client transaction where a server transaction was needed.
    #[error("{0} is not a server transaction")]
    NotAServerTransaction(TransactionId),
    /// The id names no INVITE client transaction that can still be cancelled (RFC 3261 §9.1:
    /// not before a provisional response is possible, and never after a final one).
    #[error("{0} is not a cancellable INVITE client transaction")]
    NotCancellable(TransactionId),
    /// The response status is outside 100–699.
    #[error("status {0} is not a valid response code")]
    InvalidStatus(u16),
    /// The transaction's state does not accept this response (for example a second final
    /// response, or a non-2xx after a 2xx).
    #[error("{id} does not accept a {status} response in its current state")]
    ResponseNotAllowed {
        /// The transaction.
        id: TransactionId,
        /// The refused status.
        status: u16,
    },
}

/// A message from the network that the layer dropped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InboundError {
    /// No parseable Via header: nowhere to send a response, so the message is dropped
    /// (RFC 3261 §18.2.1, §18.1.2).
    #[error("message has no parseable top Via")]
    MissingVia,
    /// No parseable CSeq header: the core may answer 400 statelessly.
    #[error("message has no parseable CSeq")]
    MissingCSeq,
    /// A response whose status is outside 100–699.
    #[error("response status {0} is out of range")]
    InvalidStatus(u16),
    /// A response that matches no client transaction (RFC 3261 §18.1.2 hands it to the core;
    /// with RFC 6026 Accepted states a UA has no use for it).
    #[error("response {status} matches no client transaction")]
    StrayResponse {
        /// Its status code.
        status: u16,
    },
}
