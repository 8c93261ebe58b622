//! The session description and its session-level fields (RFC 8866 §5).
//!
//! Field order on output follows RFC 8866 §5:
//! `v o s i u e p c b t r z k a`, then each media description (`m i c b k a`).
//! Every line ends with CRLF.

use std::fmt;
use std::net::IpAddr;

use crate::attribute::Attribute;
use crate::direction::Direction;
use crate::error::SdpError;
use crate::media::MediaDescription;

/// A whole SDP session description (RFC 8866 §5). `v=` is always `0` and not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=` originator and session identifier (§5.2).
    pub origin: Origin,
    /// `s=` session name (§5.3); may be empty or `-`.
    pub session_name: String,
    /// `i=` session information (§5.4).
    pub information: Option<String>,
    /// `u=` URI of description (§5.5).
    pub uri: Option<String>,
    /// `e=` email addresses (§5.6).
    pub emails: Vec<String>,
    /// `p=` phone numbers (§5.6).
    pub phones: Vec<String>,
    /// Session-level `c=` (§5.7); media-level `c=` lines override it.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines (§5.8), in order. Per-call extra lines land here.
    pub bandwidths: Vec<Bandwidth>,
    /// One or more time descriptions `t=` with their `r=`/`z=` lines (§5.9-5.11).
    pub times: Vec<Timing>,
    /// `k=` (obsolete, §5.12), kept for round trips.
    pub key: Option<String>,
    /// Session-level `a=` lines (§5.13), in order, unknown ones included.
    pub attributes: Vec<Attribute>,
    /// The media descriptions, `m=` sections (§5.14), in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// Parses SDP text. Lines may end in CRLF or LF; empty lines are ignored. Never
    /// panics; errors name the 1-based line.
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        crate::parser::parse(text)
    }

    /// The first session-level attribute called `name` (ASCII case ignored); its value,
    /// or `Some("")` for a property attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.is(name))
            .map(|a| a.value().unwrap_or(""))
    }

    /// True when a session-level attribute `name` is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.is(name))
    }

    /// The session-level direction attribute, if one is present (RFC 3264 §5.1).
    pub fn direction(&self) -> Option<Direction> {
        self.attributes
            .iter()
            .find_map(|a| a.value().is_none().then(|| a.name().parse().ok()).flatten())
    }
}

impl fmt::Display for SessionDescription {
    /// Writes the whole description, CRLF line endings, in RFC 8866 §5 order.
    ///
    /// Fields are written as they are. Parsed descriptions and everything
    /// [`crate::Negotiator`] builds never hold CR or LF; text set by hand in the public
    /// `String` fields must not either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=0\r\n")?;
        write!(f, "{}", self.origin)?;
        write!(f, "s={}\r\n", self.session_name)?;
        if let Some(i) = &self.information {
            write!(f, "i={i}\r\n")?;
        }
        if let Some(u) = &self.uri {
            write!(f, "u={u}\r\n")?;
        }
        for e in &self.emails {
            write!(f, "e={e}\r\n")?;
        }
        for p in &self.phones {
            write!(f, "p={p}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "{c}")?;
        }
        for b in &self.bandwidths {
            write!(f, "{b}")?;
        }
        for t in &self.times {
            write!(f, "{t}")?;
        }
        if let Some(k) = &self.key {
            write!(f, "k={k}\r\n")?;
        }
        for a in &self.attributes {
            write!(f, "{a}")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`
/// (RFC 8866 §5.2).
///
/// The id and version are kept as written (they are digit strings by the grammar, but
/// some peers exceed 64 bits); [`crate::Negotiator`] writes its own from `u64`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name, `-` when the host has no notion of users.
    pub username: String,
    /// Session id, constant for the life of the session.
    pub session_id: String,
    /// Session version, incremented when the description changes (RFC 3264 §8).
    pub session_version: String,
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// The originating host's address or name.
    pub address: String,
}

impl Origin {
    /// An `IN` origin for a local IP address, with the right address type.
    pub fn new(username: &str, session_id: u64, session_version: u64, address: IpAddr) -> Self {
        Origin {
            username: username.to_string(),
            session_id: session_id.to_string(),
            session_version: session_version.to_string(),
            net_type: "IN".to_string(),
            addr_type: addr_type(address).to_string(),
            address: address.to_string(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "o={} {} {} {} {} {}\r\n",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// The address as written, including any multicast `/ttl/count` suffix.
    pub address: String,
}

impl Connection {
    /// An `IN` connection line for an IP address.
    pub fn new(address: IpAddr) -> Self {
        Connection {
            net_type: "IN".to_string(),
            addr_type: addr_type(address).to_string(),
            address: address.to_string(),
        }
    }

    /// The address as an IP literal (the part before any `/`), if it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        let host = self.address.split('/').next().unwrap_or("");
        host.parse().ok()
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "c={} {} {}\r\n",
            self.net_type, self.addr_type, self.address
        )
    }
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8; `TIAS` RFC 3890; `RS`/`RR` RFC 3556).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// The bandwidth type as written: `AS`, `CT`, `TIAS`, `RS`, `RR`, or an extension.
    pub kind: String,
    /// The value (kbit/s for `AS`/`CT`, bit/s for `TIAS`/`RS`/`RR`).
    pub value: u64,
}

impl Bandwidth {
    /// Parses the text after `b=`; `None` unless it is `<token>:<digits>` (surrounding
    /// blanks tolerated).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (kind, value) = text.trim_matches([' ', '\t']).split_once(':')?;
        if kind.is_empty() || !kind.bytes().all(crate::attribute::is_token_char) {
            return None;
        }
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Bandwidth {
            kind: kind.to_string(),
            value: value.parse().ok()?,
        })
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b={}:{}\r\n", self.kind, self.value)
    }
}

/// One time description: `t=<start> <stop>`, its `r=` repeat lines and an optional
/// `z=` line (RFC 8866 §5.9-5.11). SIP sessions use `t=0 0`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timing {
    /// Start time (NTP seconds), 0 for unbounded.
    pub start: u64,
    /// Stop time (NTP seconds), 0 for unbounded.
    pub stop: u64,
    /// `r=` lines, verbatim.
    pub repeats: Vec<String>,
    /// A `z=` line following this time description, verbatim.
    pub zone: Option<String>,
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={} {}\r\n", self.start, self.stop)?;
        for r in &self.repeats {
            write!(f, "r={r}\r\n")?;
        }
        if let Some(z) = &self.zone {
            write!(f, "z={z}\r\n")?;
        }
        Ok(())
    }
}

pub(crate) fn addr_type(address: IpAddr) -> &'static str {
    match address {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}
