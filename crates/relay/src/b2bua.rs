//! The B2BUA seam: how the runtime takes a call over when the relay cannot simply proxy it —
//! a browser (WebRTC: ICE, DTLS-SRTP, Opus) calling a plain-RTP phone, or a call needing
//! transcoding. The relay keeps doing what it does well (authentication, location lookup,
//! transactions, retransmissions, flows); the runtime's B2BUA is the transaction user of the
//! calls handed to it.
//!
//! 1. For each authenticated initial INVITE to a registered user, the relay asks its
//!    [`ModeSelector`] for a [`CallMode`] (default [`AlwaysProxy`]; [`BridgeWebRtc`] picks the
//!    B2BUA when one side speaks WebRTC and the other does not).
//! 2. In B2BUA mode nothing is forwarded. The Call-ID is *claimed* and the relay emits
//!    [`B2buaEvent::Call`] with the INVITE's server transaction, the caller and the callee's
//!    bindings (each with the flow to reach it).
//! 3. The B2BUA answers leg A through [`crate::Relay::respond`], sends leg B's requests through
//!    [`crate::Relay::send_request`] (a top Via from [`crate::Relay::new_via`]), CANCELs with
//!    [`crate::Relay::cancel`] and ACKs 2xx with [`crate::Relay::send_stateless`]. It claims leg
//!    B's Call-ID with [`crate::Relay::claim_call_id`], and releases both when the call ends.
//! 4. Everything for a claimed Call-ID — requests, ACKs, CANCELs — and every response or failure
//!    of a transaction it started comes back as a [`B2buaEvent`]. The relay answers a CANCEL
//!    with 200 itself; the B2BUA answers the INVITE with 487.
//!
//! Its media side can use the relay's [`crate::media::MediaRelay`] for plain-RTP legs.

use std::time::Instant;

use dialtone_sip::transaction::{new_branch, TransactionError, TransactionId};
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip_message::{Message, Request, Response};

use crate::event::RelayOutput;
use crate::location::{Binding, LocationStore};
use crate::relay::Relay;

/// How a call is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// Proxied (Record-Route; media anchored by SDP rewriting when the media relay has ports).
    Proxy,
    /// Handed to the runtime's B2BUA.
    B2bua,
}

/// What the selector knows about a new call.
#[derive(Debug, Clone, Copy)]
pub struct CallSetup<'a> {
    /// The INVITE's Call-ID.
    pub call_id: &'a str,
    /// The authenticated caller.
    pub caller: &'a str,
    /// The flow the INVITE came over.
    pub caller_flow: Peer,
    /// The callee's user name.
    pub callee: &'a str,
    /// The callee's live bindings.
    pub targets: &'a [Binding],
    /// The INVITE's SDP body, if it has one.
    pub offer: Option<&'a [u8]>,
}

/// Decides each new call's [`CallMode`].
pub trait ModeSelector: Send {
    /// The mode for this call.
    fn select(&mut self, setup: &CallSetup<'_>) -> CallMode;
}

impl<F> ModeSelector for F
where
    F: FnMut(&CallSetup<'_>) -> CallMode + Send,
{
    fn select(&mut self, setup: &CallSetup<'_>) -> CallMode {
        self(setup)
    }
}

/// Proxies every call (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysProxy;

impl ModeSelector for AlwaysProxy {
    fn select(&mut self, _: &CallSetup<'_>) -> CallMode {
        CallMode::Proxy
    }
}

/// Hands a call to the B2BUA when the caller offers WebRTC media (`UDP/TLS/RTP/SAVPF`) and a
/// target is not a WebSocket client, or the caller offers plain RTP and a target is a
/// WebSocket (browser) client.
#[derive(Debug, Clone, Copy, Default)]
pub struct BridgeWebRtc;

fn is_websocket(flow: Peer) -> bool {
    matches!(flow.transport, TransportKind::Ws | TransportKind::Wss)
}

impl ModeSelector for BridgeWebRtc {
    fn select(&mut self, setup: &CallSetup<'_>) -> CallMode {
        let webrtc_offer = setup
            .offer
            .and_then(|sdp| std::str::from_utf8(sdp).ok())
            .is_some_and(|sdp| {
                sdp.lines()
                    .filter(|l| l.starts_with("m="))
                    .any(|l| l.to_ascii_uppercase().contains("UDP/TLS/RTP/SAVPF"))
            });
        let mismatch = setup
            .targets
            .iter()
            .any(|t| webrtc_offer != is_websocket(t.flow));
        if mismatch {
            CallMode::B2bua
        } else {
            CallMode::Proxy
        }
    }
}

/// Why a transaction the B2BUA started failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum B2buaFailure {
    /// No final response in time (Timer B/F).
    Timeout,
    /// The transport could not deliver it.
    TransportError,
}

/// Traffic for the B2BUA.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // rare, drained at once
pub enum B2buaEvent {
    /// A new call handed over: answer `server` (leg A) and call the targets (leg B).
    Call {
        /// The INVITE's server transaction.
        server: TransactionId,
        /// The flow it came over.
        from: Peer,
        /// The INVITE as received (our Route entries removed, credentials verified).
        request: Request,
        /// The authenticated caller.
        caller: String,
        /// The callee's user name.
        callee: String,
        /// The callee's bindings, each with its flow.
        targets: Vec<Binding>,
    },
    /// A request (not ACK or CANCEL) for a claimed Call-ID; answer `server`.
    Request {
        /// Its server transaction.
        server: TransactionId,
        /// Where it came from.
        from: Peer,
        /// The request.
        request: Request,
    },
    /// An ACK for a claimed Call-ID (no answer).
    Ack {
        /// Where it came from.
        from: Peer,
        /// The ACK.
        request: Request,
    },
    /// A CANCEL for a claimed call; the relay answered it with 200. Answer the INVITE with 487.
    Cancel {
        /// The INVITE's server transaction, if it is still known.
        invite: Option<TransactionId>,
        /// Where it came from.
        from: Peer,
        /// The CANCEL.
        request: Request,
    },
    /// A response to a transaction the B2BUA started.
    Response {
        /// The client transaction.
        client: TransactionId,
        /// The response (our Via still on top).
        response: Response,
    },
    /// A transaction the B2BUA started failed.
    Failed {
        /// The client transaction.
        client: TransactionId,
        /// Why.
        reason: B2buaFailure,
    },
}

impl<S: LocationStore> Relay<S> {
    /// Answers server transaction `server` (a call or request handed to the B2BUA). A 2xx to
    /// an INVITE is retransmitted by the caller of this method until the ACK arrives (RFC 3261
    /// §13.3.1.4), as for any transaction user.
    pub fn respond(
        &mut self,
        now: Instant,
        server: TransactionId,
        response: Response,
    ) -> Result<(), TransactionError> {
        let result = self.layer.send_response(now, server, response);
        self.drain(now);
        result
    }

    /// Sends a request in a client transaction of the B2BUA's (put [`Relay::new_via`] on top);
    /// its responses come back as [`B2buaEvent::Response`].
    pub fn send_request(
        &mut self,
        now: Instant,
        dest: Peer,
        request: Request,
    ) -> Result<TransactionId, TransactionError> {
        let id = self.layer.send_request(now, dest, request)?;
        self.b2bua_clients.insert(id);
        self.drain(now);
        Ok(id)
    }

    /// CANCELs the B2BUA's INVITE client transaction `client` (RFC 3261 §9.1).
    pub fn cancel(
        &mut self,
        now: Instant,
        client: TransactionId,
    ) -> Result<TransactionId, TransactionError> {
        let id = self.layer.cancel(now, client)?;
        self.b2bua_clients.insert(id);
        self.drain(now);
        Ok(id)
    }

    /// Sends a message outside any transaction (the ACK for a 2xx).
    pub fn send_stateless(&mut self, dest: Peer, message: Message) {
        self.out.push_back(RelayOutput::Transmit { dest, message });
    }

    /// A top Via for a request the B2BUA sends over `transport` (fresh branch, our listener's
    /// address), or `None` without a listener of that transport.
    pub fn new_via(&mut self, transport: TransportKind) -> Option<String> {
        let branch = new_branch(&mut &mut *self.rng);
        self.config.via(transport, &branch)
    }

    /// Routes everything with this Call-ID to the B2BUA from now on.
    pub fn claim_call_id(&mut self, call_id: &str) {
        self.claimed.insert(call_id.to_owned());
    }

    /// Stops routing this Call-ID to the B2BUA (the call ended).
    pub fn release_call_id(&mut self, call_id: &str) {
        self.claimed.remove(call_id);
    }
}
