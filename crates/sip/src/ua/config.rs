//! Settings: the whole user agent's ([`UaConfig`], with the RFC 4028 session timer defaults of
//! [`SessionTimerConfig`]) and one outgoing call's ([`InviteConfig`]).

use std::net::SocketAddr;
use std::time::Duration;

use dialtone_sip_message::{NameAddr, UasPolicy, Uri};

use crate::auth::Credentials;
use crate::timer::TimerConfig;
use crate::transport::Peer;

/// Body types we take in requests (RFC 3261 §8.2.3), by method; [`UaConfig::new`] accepts all of
/// them, and each request is then checked against its method's list.
pub const ACCEPTED_BODIES: &[&str] = &[
    "application/sdp",
    "application/dtmf-relay",
    "application/dtmf",
    "text/plain",
    "message/sipfrag",
    "application/pidf+xml",
];

/// Option tags we support (RFC 3261 §20.37): session timers (RFC 4028), Replaces (RFC 3891).
pub const SUPPORTED: &str = "timer, replaces";

/// Session timer settings (RFC 4028).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// Ask for and honour session timers. When off, our INVITEs carry no Session-Expires and we
    /// refresh nothing; requests asking for a timer are still answered per RFC 4028 §9.
    pub enabled: bool,
    /// The session interval we ask for, in seconds (`Session-Expires`, default 1800).
    pub session_expires: u32,
    /// The smallest interval we accept, in seconds (`Min-SE`, default 90, RFC 4028 §4 floor).
    pub min_se: u32,
}

impl Default for SessionTimerConfig {
    /// On, 1800 s asked, 90 s minimum.
    fn default() -> Self {
        SessionTimerConfig {
            enabled: true,
            session_expires: 1800,
            min_se: 90,
        }
    }
}

/// Settings of the whole user agent.
#[derive(Debug, Clone)]
pub struct UaConfig {
    /// Our address as written in Via sent-by and in the Contact of calls we answer.
    pub local_addr: SocketAddr,
    /// Seed of the RNG behind tags, Call-IDs, branches and cnonces. Seed from OS entropy in the
    /// runtime, with a constant in tests.
    pub seed: u64,
    /// T1/T2/T4.
    pub timers: TimerConfig,
    /// `User-Agent` header value; `None` sends none.
    pub user_agent: Option<String>,
    /// What incoming requests are checked against (RFC 3261 §8.2). The body types are further
    /// narrowed per method (SDP for INVITE, DTMF types for INFO, text for MESSAGE...).
    pub policy: UasPolicy,
    /// An incoming call not answered within this time is rejected with 480.
    pub incoming_ring_timeout: Duration,
    /// Session timers (RFC 4028).
    pub session_timer: SessionTimerConfig,
    /// Send 180 Ringing as soon as an incoming INVITE is accepted (default). Off, the application
    /// decides first and rings with [`super::UserAgent::ring`], or refuses with
    /// [`super::UserAgent::reject`] and no 180 is ever sent (do-not-disturb, call screening).
    pub auto_ring: bool,
}

impl UaConfig {
    /// Defaults: RFC 3261 timers, `User-Agent: Dialtone`, the bodies of [`ACCEPTED_BODIES`],
    /// `timer` and `replaces` supported, 120 s ring timeout, session timers of 1800 s, 180 Ringing
    /// sent at once.
    pub fn new(local_addr: SocketAddr, seed: u64) -> UaConfig {
        let policy = UasPolicy {
            supported: SUPPORTED.split(", ").map(str::to_owned).collect(),
            accept: ACCEPTED_BODIES.iter().map(|s| (*s).to_owned()).collect(),
            ..UasPolicy::default()
        };
        UaConfig {
            local_addr,
            seed,
            timers: TimerConfig::default(),
            user_agent: Some("Dialtone".to_owned()),
            policy,
            incoming_ring_timeout: Duration::from_secs(120),
            session_timer: SessionTimerConfig::default(),
            auto_ring: true,
        }
    }
}

/// An outgoing call (RFC 3261 §13.2).
#[derive(Debug, Clone)]
pub struct InviteConfig {
    /// Request-URI and To. A `Replaces` URI header (`?Replaces=...`, as a REFER's Refer-To
    /// carries for an attended transfer, RFC 3891 §5) becomes a `Replaces` header of the
    /// INVITE; other URI headers are dropped.
    pub target: Uri,
    /// Our identity (From); a tag is added.
    pub from: NameAddr,
    /// Our Contact.
    pub contact: Uri,
    /// The SDP offer; `None` makes a late-offer INVITE (the peer offers in its 2xx, we answer
    /// in the ACK through [`super::UserAgent::answer`]).
    pub sdp: Option<Vec<u8>>,
    /// Credentials for 401/407 challenges.
    pub auth: Option<Credentials>,
    /// Outbound proxy, sent as `Route: <uri;lr>`.
    pub route: Option<Uri>,
    /// Where the INVITE goes (the outbound proxy or the target, resolved by the runtime).
    pub dest: Peer,
    /// Give up (CANCEL) when no final answer arrives in this time after the INVITE.
    pub no_answer_timeout: Option<Duration>,
}

impl InviteConfig {
    /// A call to `target` from `from`, no auth, no proxy, no no-answer timeout.
    pub fn new(
        target: Uri,
        from: NameAddr,
        contact: Uri,
        sdp: Option<Vec<u8>>,
        dest: Peer,
    ) -> InviteConfig {
        InviteConfig {
            target,
            from,
            contact,
            sdp,
            auth: None,
            route: None,
            dest,
            no_answer_timeout: None,
        }
    }
}
