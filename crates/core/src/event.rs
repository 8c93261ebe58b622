//! Events the core reports: one JSON object per line in the CLI, one frontend event in the desktop shell.
//!
//! Every object carries `"event"`: `registration`, `call`, `media`, `transfer`, `transfer_requested`, `dtmf`,
//! `dtmf_failed`, `message`, `message_result`, `publication`, `subscription`, `presence`, `listening` or `error`.

use serde::{Deserialize, Serialize};

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

/// Who holds a call on hold (RFC 3264 §8.4): shown with the `HOLD` state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Held {
    /// We put the call on hold (our offer said `sendonly`).
    Local,
    /// The other party put us on hold (its offer said `sendonly`/`inactive`, or `c=0.0.0.0`).
    Remote,
    /// Both did.
    Both,
}

/// How DTMF digits are sent: a per-account setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DtmfMethod {
    /// RFC 4733 telephone-events in the media stream when the call negotiated them, SIP INFO otherwise.
    #[default]
    Auto,
    /// SIP INFO with `application/dtmf-relay` (RFC 6086).
    Info,
    /// RFC 4733 telephone-events in the RTP stream.
    Rfc4733,
}

impl DtmfMethod {
    /// The setting's name: `auto`, `info`, `rfc4733`.
    pub fn as_str(self) -> &'static str {
        match self {
            DtmfMethod::Auto => "auto",
            DtmfMethod::Info => "info",
            DtmfMethod::Rfc4733 => "rfc4733",
        }
    }
}

impl std::str::FromStr for DtmfMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(DtmfMethod::Auto),
            "info" => Ok(DtmfMethod::Info),
            "rfc4733" | "rfc2833" => Ok(DtmfMethod::Rfc4733),
            other => Err(format!(
                "unknown DTMF method \"{other}\" (expected info, rfc4733 or auto)"
            )),
        }
    }
}

/// Which way something went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// We sent it.
    Sent,
    /// The other party sent it.
    Received,
}

/// Our part in a transfer (RFC 5589).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferRole {
    /// We asked the other party to call someone else (we sent the REFER).
    Transferor,
    /// The other party asked us to call someone else (we received the REFER).
    Transferee,
}

/// Presence publication states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PublicationState {
    /// The server holds our status (refreshed before it expires).
    Published,
    /// A PUBLISH failed (after a timeout or a 5xx another try follows in 60 s).
    Failed,
    /// Our status was removed from the server, or never got there.
    Removed,
}

/// Presence subscription states (RFC 6665 §4.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionState {
    /// The presentity has not authorized us yet.
    Pending,
    /// Status updates arrive.
    Active,
    /// Over (see `reason`).
    Terminated,
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
        /// With `HOLD`: who holds the call.
        #[serde(skip_serializing_if = "Option::is_none")]
        held: Option<Held>,
        /// This incoming call replaces that call (INVITE with Replaces, RFC 3891: the end of an attended transfer).
        #[serde(skip_serializing_if = "Option::is_none")]
        replaces: Option<u64>,
    },
    /// The media of a call was (re)negotiated (RFC 3264 offer/answer): what the media path now uses.
    Media {
        /// Call handle.
        id: u64,
        /// Codec, e.g. `PCMU/8000`.
        codec: String,
        /// Its RTP payload type.
        payload_type: u8,
        /// Where our RTP goes (the peer's address and port).
        remote: String,
        /// Our local RTP address.
        local: String,
        /// Direction from our side: `sendrecv`, `sendonly` (we hold), `recvonly` (we are held), `inactive`.
        direction: String,
        /// RFC 4733 telephone-event payload type, when negotiated.
        #[serde(skip_serializing_if = "Option::is_none")]
        telephone_event: Option<u8>,
    },
    /// Progress of a transfer: as transferor, the transferee's reports (NOTIFY sipfrag); as transferee, the status
    /// of the call we placed, as we report it to the transferor. 1xx under way, 2xx done, others failed.
    Transfer {
        /// The call being transferred.
        id: u64,
        /// Our part.
        role: TransferRole,
        /// SIP status of the new call (or of the REFER itself when it was refused).
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// The other party asked us to transfer call `id` (REFER): we placed call `new_call` to `target`.
    #[serde(rename = "transfer_requested")]
    TransferRequested {
        /// The call being transferred.
        id: u64,
        /// Whom we were asked to call (Refer-To; carries `Replaces` for an attended transfer).
        target: String,
        /// Who asked (Referred-By), if said.
        #[serde(skip_serializing_if = "Option::is_none")]
        referred_by: Option<String>,
        /// The handle of the call we placed (absent when it could not be placed).
        #[serde(skip_serializing_if = "Option::is_none")]
        new_call: Option<u64>,
    },
    /// A DTMF digit sent or received.
    Dtmf {
        /// Call handle.
        id: u64,
        /// `0`–`9`, `*`, `#`, `A`–`D`.
        digit: char,
        /// Sent or received.
        flow: Flow,
        /// How it travelled (`info` or `rfc4733`).
        method: DtmfMethod,
        /// Key press length in ms, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u32>,
    },
    /// A digit we sent was refused or not answered.
    #[serde(rename = "dtmf_failed")]
    DtmfFailed {
        /// Call handle.
        id: u64,
        /// The digit.
        digit: char,
        /// SIP status (408 for no answer).
        code: u16,
        /// Plain-words reason.
        reason: String,
    },
    /// A text message arrived (SIP MESSAGE, RFC 3428).
    Message {
        /// The sender's URI.
        from: String,
        /// The sender's display name, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        display_name: Option<String>,
        /// The call it came in, if it came inside one.
        #[serde(skip_serializing_if = "Option::is_none")]
        call: Option<u64>,
        /// Its Content-Type.
        content_type: String,
        /// The text.
        body: String,
    },
    /// The outcome of a message we sent: 2xx delivered, anything else not.
    #[serde(rename = "message_result")]
    MessageResult {
        /// The handle `send_message` returned.
        id: u64,
        /// SIP status (408 for no answer).
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// Our presence publication changed state (PUBLISH, RFC 3903).
    Publication {
        /// New state.
        state: PublicationState,
        /// SIP status behind a failure.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        /// Plain-words reason of a failure.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Seconds granted.
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<u32>,
    },
    /// A presence subscription of ours changed state (SUBSCRIBE, RFC 6665).
    Subscription {
        /// The handle `subscribe_presence` returned.
        id: u64,
        /// Whom we watch.
        target: String,
        /// New state.
        state: SubscriptionState,
        /// Why it ended (`rejected`, `timeout`, `unsubscribed`, `404 Not Found`...).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Remaining lifetime in seconds while active.
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<u32>,
    },
    /// A watched presentity's status (NOTIFY with PIDF, RFC 3863).
    Presence {
        /// The subscription it came in.
        subscription: u64,
        /// The presentity.
        entity: String,
        /// `open` (reachable) or `closed`.
        status: PresenceBasic,
        /// Its note, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A call's audio statistics: every second while the media runs, and once more (`final`) when the call ended.
    Stats {
        /// Call handle.
        id: u64,
        /// The call is over: these are its final figures.
        #[serde(rename = "final")]
        final_: bool,
        /// Codec, packets and bytes both ways, loss, jitter, RTT, jitter-buffer depth and the E-model MOS.
        stats: dialtone_media::MediaStats,
    },
    /// A call's microphone or speaker changed: switched as asked, replaced by the default after it vanished, or not
    /// available at all (the call goes on with silence sent and nothing played).
    #[serde(rename = "audio_device")]
    AudioDevice {
        /// Call handle.
        id: u64,
        /// `microphone` or `speaker`; absent when it concerns both.
        #[serde(skip_serializing_if = "Option::is_none")]
        role: Option<crate::audio::DeviceRole>,
        /// What happened.
        change: DeviceChange,
        /// The device (or file, or tone) used before.
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// The one used now.
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// Why, in plain words, when it was not asked for.
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
    /// A problem: not tied to a registration or call (e.g. a listener could not be bound), or a call command that
    /// did not work out (a hold the other party refused, DTMF that cannot be sent...).
    Error {
        /// Plain-words description.
        message: String,
        /// The call it concerns, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        call: Option<u64>,
        /// SIP status behind it, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
    },
}

impl PhoneEvent {
    /// An error not tied to a call.
    pub fn error(message: impl Into<String>) -> PhoneEvent {
        PhoneEvent::Error {
            message: message.into(),
            call: None,
            code: None,
        }
    }
}

/// What happened to a call's audio device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChange {
    /// Switched as the user asked.
    Switched,
    /// The device vanished or failed; the default one took over.
    Fallback,
    /// No device could be opened: silence is sent and nothing is played.
    Unavailable,
}

/// A basic presence status (RFC 3863 §4.1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresenceBasic {
    /// Reachable.
    Open,
    /// Not reachable.
    Closed,
}

/// Our presence status: basic status and an optional note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceStatus {
    /// Open or closed.
    pub status: PresenceBasic,
    /// Free text ("In a meeting").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl std::str::FromStr for PresenceStatus {
    type Err = String;

    /// `open`, `closed`, `open:NOTE` or `closed:NOTE`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (basic, note) = match s.split_once(':') {
            Some((b, n)) => (b, Some(n.trim().to_string()).filter(|n| !n.is_empty())),
            None => (s, None),
        };
        let status = match basic.trim().to_ascii_lowercase().as_str() {
            "open" => PresenceBasic::Open,
            "closed" => PresenceBasic::Closed,
            other => {
                return Err(format!(
                    "unknown presence status \"{other}\" (expected open or closed, optionally with :NOTE)"
                ))
            }
        };
        Ok(PresenceStatus { status, note })
    }
}
