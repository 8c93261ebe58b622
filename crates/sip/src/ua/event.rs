//! What the user agent hands back: [`UaOutput`] (transmissions and events), the application
//! events of [`UaEvent`], and the command errors of [`UaError`].

use dialtone_sip_message::{Message, NameAddr, Uri};

use super::call::CallState;
use super::message::MessageId;
use super::presence::{PubId, PublicationState, SubId, SubscriptionState};
use super::register::RegistrationState;
use super::{CallId, RegId};
use crate::transport::Peer;

/// Something for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // rare, drained at once
pub enum UaEvent {
    /// A registration changed state.
    Registration {
        /// Which registration.
        id: RegId,
        /// Its new state.
        state: RegistrationState,
    },
    /// A new incoming call; it is ringing (180 sent). Answer with [`super::UserAgent::answer`]
    /// or [`super::UserAgent::reject`].
    IncomingCall {
        /// Handle for the commands.
        id: CallId,
        /// The caller (From).
        from: NameAddr,
        /// Whom the caller called (To).
        to: NameAddr,
        /// The caller's SDP offer; `None` for a late offer (ours goes in the 200).
        sdp: Option<Vec<u8>>,
        /// This call replaces that one (INVITE with Replaces, RFC 3891: the last step of an
        /// attended transfer). It was not rung: answer it at once, taking over the replaced
        /// call's media; the UA ends the replaced call when this one is confirmed.
        replaces: Option<CallId>,
    },
    /// A call changed state.
    Call {
        /// Which call.
        id: CallId,
        /// Its new state.
        state: CallState,
    },
    /// The peer's session description changed: the answer to our re-INVITE offer (from its
    /// 2xx), or, after a re-INVITE without SDP, the peer's answer to our offer (in its ACK).
    /// Apply it to the media.
    RemoteSdp {
        /// Which call.
        id: CallId,
        /// The SDP.
        sdp: Vec<u8>,
    },
    /// The peer sent a new SDP offer in an established call (re-INVITE or UPDATE, RFC 3261
    /// §14.2, RFC 3311). Answer it with [`super::UserAgent::answer_offer`] (a hold offer —
    /// `sendonly`/`inactive` — needs the reversed direction, as `dialtone_sdp`'s
    /// `Negotiator::answer_offer` gives) or refuse it with [`super::UserAgent::reject_offer`].
    RemoteOffer {
        /// Which call.
        id: CallId,
        /// The offer.
        sdp: Vec<u8>,
    },
    /// Our re-INVITE from [`super::UserAgent::reinvite`] was refused; the session goes on with
    /// the previous descriptions (unless the refusal also ended the call, reported separately).
    OfferFailed {
        /// Which call.
        id: CallId,
        /// The status (408 for no answer).
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// The peer asks us to transfer call `id` (REFER, RFC 3515): place a call to `target` (an
    /// [`super::InviteConfig`] with this target carries any `Replaces` along) and report its
    /// progress with [`super::UserAgent::notify_transfer_progress`].
    TransferRequested {
        /// The call being transferred.
        id: CallId,
        /// Whom to call (Refer-To), URI headers such as `Replaces` included.
        target: Uri,
        /// Who asked (Referred-By), if said.
        referred_by: Option<NameAddr>,
    },
    /// The peer sent a DTMF digit by SIP INFO (`application/dtmf-relay` or `application/dtmf`).
    Dtmf {
        /// Which call.
        id: CallId,
        /// `0`–`9`, `*`, `#`, `A`–`D`.
        digit: char,
        /// How long the key was pressed, in ms, when the body says.
        duration_ms: Option<u32>,
    },
    /// A DTMF INFO of ours ([`super::UserAgent::send_info_dtmf`]) was refused or not answered;
    /// the peer may not take INFO DTMF (use RFC 4733).
    DtmfFailed {
        /// Which call.
        id: CallId,
        /// The digit.
        digit: char,
        /// The status (408 for no answer).
        code: u16,
    },
    /// The outcome of a MESSAGE we sent ([`super::UserAgent::send_message`],
    /// [`super::UserAgent::send_message_in_call`]): 2xx delivered, anything else not.
    MessageResult {
        /// The handle the send returned.
        id: MessageId,
        /// The final status (408 for no answer, 513 when too large for UDP).
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// A text MESSAGE arrived (RFC 3428); we answered 200.
    MessageReceived {
        /// The sender (From).
        from: NameAddr,
        /// The call it came in, if it came inside one.
        call: Option<CallId>,
        /// Its Content-Type as sent (a `text/*` type).
        content_type: String,
        /// The text.
        body: String,
    },
    /// A presence publication ([`super::UserAgent::publish_presence`]) changed state.
    Publication {
        /// Which publication.
        id: PubId,
        /// Its new state.
        state: PublicationState,
    },
    /// A presence subscription ([`super::UserAgent::subscribe_presence`]) changed state.
    Subscription {
        /// Which subscription.
        id: SubId,
        /// Its new state.
        state: SubscriptionState,
    },
    /// A watched presentity's status, from a NOTIFY.
    PresenceChanged {
        /// Which subscription.
        id: SubId,
        /// The presentity (the PIDF entity, else the subscribed URI).
        entity: String,
        /// Reachable (`open`) or not (`closed`; also when nothing is known).
        open: bool,
        /// Its note, if any.
        note: Option<String>,
    },
    /// Progress of our transfer of call `id` ([`super::UserAgent::refer`]): the status of the
    /// transferee's new call (1xx under way, 2xx done — we then hang up —, 3xx–6xx failed), or
    /// the refusal of the REFER itself.
    TransferProgress {
        /// The call being transferred.
        id: CallId,
        /// The status.
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
}

/// One output of [`super::UserAgent::poll_output`].
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // drained at once; boxing every message buys nothing
pub enum UaOutput {
    /// Send `message` to `dest`.
    Transmit {
        /// Where.
        dest: Peer,
        /// What.
        message: Message,
    },
    /// Tell the application.
    Event(UaEvent),
}

/// A command the user agent could not carry out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UaError {
    /// No call with this handle (never existed or already over).
    #[error("no call {0}")]
    UnknownCall(CallId),
    /// No registration with this handle.
    #[error("no registration {0}")]
    UnknownRegistration(RegId),
    /// No publication with this handle (never existed or already removed).
    #[error("no publication {0}")]
    UnknownPublication(PubId),
    /// No subscription with this handle (never existed or already over).
    #[error("no subscription {0}")]
    UnknownSubscription(SubId),
    /// The call is not in a state where this command applies.
    #[error("{call}: cannot {command} in the current state")]
    WrongState {
        /// The call.
        call: CallId,
        /// The command.
        command: &'static str,
    },
    /// A reject code outside 300–699 (or a progress code outside 100–699).
    #[error("{0} is not a valid status here")]
    InvalidStatus(u16),
    /// Not a DTMF digit (`0`–`9`, `*`, `#`, `A`–`D`).
    #[error("{0:?} is not a DTMF digit")]
    InvalidDigit(char),
}
