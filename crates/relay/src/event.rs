//! What the relay hands back to its driver.

use std::net::IpAddr;
use std::time::Instant;

use dialtone_sip::transport::Peer;
use dialtone_sip_message::{Message, Uri};

use crate::b2bua::B2buaEvent;
use crate::media::MediaEvent;

/// One output of [`crate::Relay::poll_output`]. Drain until `None` after every input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // drained at once; boxing every message buys nothing
pub enum RelayOutput {
    /// Send `message` to `dest` (over the flow to `dest` for stream transports).
    Transmit {
        /// Where.
        dest: Peer,
        /// What.
        message: Message,
    },
    /// Something for the runtime (logs, UI, the B2BUA).
    Event(RelayEvent),
}

/// Why a binding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnregisterReason {
    /// A REGISTER removed it (Expires: 0 or `*`).
    Request,
    /// It was not refreshed in time.
    Expired,
    /// The connection it was registered over closed.
    FlowClosed,
}

/// Events for the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // rare, drained at once
pub enum RelayEvent {
    /// A contact was registered or refreshed.
    Registered {
        /// The user.
        aor: String,
        /// The contact.
        contact: Uri,
        /// The flow it is reached over.
        flow: Peer,
        /// Granted lifetime in seconds.
        expires: u32,
    },
    /// A contact's binding ended.
    Unregistered {
        /// The user.
        aor: String,
        /// The contact.
        contact: Uri,
        /// Why.
        reason: UnregisterReason,
    },
    /// Credentials from `source` did not verify (wrong password, unknown user, malformed).
    AuthFailed {
        /// The source address.
        source: IpAddr,
        /// The user name the client claimed, if any.
        username: Option<String>,
    },
    /// `source` failed too often and is banned until `until`.
    SourceBanned {
        /// The banned source (an IPv4 address or the first address of an IPv6 /64).
        source: IpAddr,
        /// End of the ban.
        until: Instant,
    },
    /// A new call (or other dialog-creating request) was forwarded to the callee's contacts.
    CallRouted {
        /// Its Call-ID.
        call_id: String,
        /// The authenticated caller.
        caller: String,
        /// The callee's user name (or the outside domain's host).
        callee: String,
        /// How many contacts it was forked to.
        targets: usize,
    },
    /// A call ended (BYE forwarded, or its INVITE failed or was cancelled).
    CallEnded {
        /// Its Call-ID.
        call_id: String,
    },
    /// A media relay event.
    Media(MediaEvent),
    /// A call handed to the runtime's B2BUA, or traffic for one.
    B2bua(B2buaEvent),
    /// A message was dropped (unparseable essentials, unknown transaction...).
    Dropped {
        /// Who sent it.
        from: Peer,
        /// Why.
        reason: String,
    },
}
