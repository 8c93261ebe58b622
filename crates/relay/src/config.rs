//! Settings of the relay: who it is (domain, listeners), registrar limits, security policy,
//! timers and media anchoring.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use dialtone_sip::auth::Algorithm;
use dialtone_sip::timer::TimerConfig;
use dialtone_sip::transport::{Peer, TransportKind};

use crate::ban::BanPolicy;
use crate::media::MediaConfig;

/// One bound SIP listener, as the runtime opened it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Its transport.
    pub transport: TransportKind,
    /// Its bound address (port resolved).
    pub addr: SocketAddr,
    /// The host to write in Via and Record-Route instead of the address (e.g. a DNS name for
    /// WSS whose certificate names it); `None` writes the IP address.
    pub host: Option<String>,
}

impl Listener {
    /// A listener written by its IP address.
    pub fn new(transport: TransportKind, addr: SocketAddr) -> Listener {
        Listener {
            transport,
            addr,
            host: None,
        }
    }

    /// The host as written in URIs and Via (IPv6 in brackets).
    pub fn host(&self) -> String {
        match (&self.host, self.addr.ip()) {
            (Some(host), _) => host.clone(),
            (None, IpAddr::V6(v6)) => format!("[{v6}]"),
            (None, IpAddr::V4(v4)) => v4.to_string(),
        }
    }
}

/// Registrar limits (RFC 3261 §10.3 steps 7–8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Shorter requested lifetimes get 423 with this Min-Expires. Default 60 s.
    pub min_expires: u32,
    /// Longer requested lifetimes are cut to this. Default 3600 s.
    pub max_expires: u32,
    /// Lifetime when the REGISTER names none. Default 3600 s.
    pub default_expires: u32,
    /// Contacts one address-of-record may hold; more are refused with 403. Default 10.
    pub max_contacts: usize,
}

impl Default for RegistrarConfig {
    fn default() -> RegistrarConfig {
        RegistrarConfig {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts: 10,
        }
    }
}

/// What a banned source gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BannedAction {
    /// Nothing: its messages are dropped unread (default; costs nothing and tells an attacker
    /// nothing, not even that the relay is up).
    #[default]
    Drop,
    /// A stateless `403 Forbidden` to each request (friendlier while debugging a client).
    Forbidden,
}

/// A domain outside ours that the relay may forward to, and the next hop for it. Without an
/// entry, requests for other domains get `403 Relaying denied` (no open relay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardDomain {
    /// The domain (Request-URI host), compared case-insensitively.
    pub domain: String,
    /// Where requests for it go.
    pub next_hop: Peer,
}

/// Everything the relay needs to know.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Our SIP domain: the host of users' addresses-of-record (`sip:alice@<domain>`).
    pub domain: String,
    /// Other host names that mean this relay (its listener addresses always do).
    pub aliases: Vec<String>,
    /// The bound listeners. At least one is needed to forward anything.
    pub listeners: Vec<Listener>,
    /// Registrar limits.
    pub registrar: RegistrarConfig,
    /// How long a digest nonce stays fresh. Default 300 s.
    pub nonce_lifetime: Duration,
    /// Digest algorithms to challenge with, in header order (MD5 and SHA-256; `-sess`
    /// variants are ignored). Default MD5 alone: baresip/libre 1.x fails the whole REGISTER
    /// ("Function not implemented") when any challenge names an algorithm it does not know, and
    /// JsSIP and SIP.js answer only the first header and only MD5. `[Md5, Sha256]` adds an RFC
    /// 8760 challenge that SHA-256 clients pick wherever it stands; `[Sha256]` alone refuses MD5
    /// (and those clients).
    pub digest_algorithms: Vec<Algorithm>,
    /// When sources are banned.
    pub ban: BanPolicy,
    /// What banned sources get.
    pub banned_action: BannedAction,
    /// Outside domains we forward to (none by default).
    pub forward_domains: Vec<ForwardDomain>,
    /// T1/T2/T4 for the transaction layer.
    pub timers: TimerConfig,
    /// Timer C (RFC 3261 §16.6 step 11): a forwarded INVITE without a final response for this
    /// long is cancelled. Default 180 s.
    pub timer_c: Duration,
    /// Media relay settings; anchoring is on when it has ports.
    pub media: MediaConfig,
}

impl RelayConfig {
    /// Defaults for `domain` with these listeners, media anchoring off (no ports).
    pub fn new(domain: &str, listeners: Vec<Listener>) -> RelayConfig {
        RelayConfig {
            domain: domain.to_owned(),
            aliases: Vec::new(),
            listeners,
            registrar: RegistrarConfig::default(),
            nonce_lifetime: Duration::from_secs(300),
            digest_algorithms: vec![Algorithm::Md5],
            ban: BanPolicy::default(),
            banned_action: BannedAction::Drop,
            forward_domains: Vec::new(),
            timers: TimerConfig::default(),
            timer_c: Duration::from_secs(180),
            media: MediaConfig::new(IpAddr::V4(Ipv4Addr::LOCALHOST), Vec::new()),
        }
    }

    /// The listener to use for `transport`: the first of that kind.
    pub(crate) fn listener(&self, transport: TransportKind) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.transport == transport)
    }
}
