//! Events the core reports: one JSON object per line in the CLI, one frontend event in the desktop shell.

use serde::Serialize;

/// Registration states as shown to users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistrationState {
    /// A REGISTER is in flight.
    Registering,
    /// The registrar accepted us.
    Registered,
    /// Not registered (after unregister, or registration switched off).
    Unregistered,
    /// The registrar refused us or did not answer.
    Failed,
}

/// Call states as users of the original web Phone know them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CallState {
    /// Call created, INVITE not yet answered by anyone.
    Pending,
    /// 100 Trying received.
    Trying,
    /// Ringing (180), or an incoming call ringing here.
    Ring,
    /// Ringing with early media (183 with SDP).
    RingMedia,
    /// Answered; media flows.
    Established,
    /// On hold.
    Hold,
    /// The callee is busy (486/600).
    Busy,
    /// Ended normally.
    Finish,
    /// Failed with a SIP code and reason.
    Failed,
}

/// Direction of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// We placed it.
    Outgoing,
    /// The peer placed it.
    Incoming,
}

/// Something the user should know about.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum PhoneEvent {
    /// Registration state changed.
    Registration {
        /// New state.
        state: RegistrationState,
        /// Our address of record.
        aor: String,
        /// SIP status code behind the state, when there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        /// Plain-words reason.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Seconds granted by the registrar.
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<u32>,
    },
    /// Call state changed.
    Call {
        /// Call handle (stable for the call's life).
        id: u64,
        /// New state.
        state: CallState,
        /// Who placed it.
        direction: Direction,
        /// The remote party's URI.
        peer: String,
        /// The remote party's display name, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        display_name: Option<String>,
        /// SIP status code behind the state, when there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        /// Plain-words reason.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The account's sockets are open: where this phone can be reached (also for calls without registering).
    Listening {
        /// Our SIP contact, e.g. `sip:alice@127.0.0.1:40123`.
        contact: String,
        /// Local UDP (and TCP) address.
        addr: String,
    },
    /// A problem not tied to a registration or call (e.g. a listener could not be bound).
    Error {
        /// Plain-words description.
        message: String,
    },
}
