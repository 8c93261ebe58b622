//! The media relay, sans-IO: port pairs per call leg, SDP rewriting so both parties send to
//! the relay, latching, forwarding and release (the rtpproxy/rtpengine model, RFC 3550 §11
//! for the RTP/RTCP port pair, RFC 5761 for rtcp-mux).
//!
//! The runtime binds the UDP sockets and hands their ports over in [`MediaConfig::ports`];
//! [`MediaRelay`] decides, per datagram, whether and where it goes:
//!
//! - each media stream of a call has two [`PortPair`]s: one facing the caller, one facing the
//!   callee. SDP coming *from* one side is rewritten ([`MediaRelay::rewrite_sdp`]) so that the
//!   other side sends to the pair facing it;
//! - once both sides' SDP is known (offer/answer done), each port latches onto the first
//!   source that sends to it; packets from any other source are dropped and counted (no RTP
//!   bleed, no injection after latching). A new address in a re-offer unlatches that side;
//! - a packet on a latched port is forwarded out of the pair facing the other side, to the
//!   address that side latched (symmetric RTP) or, before it sends, to its SDP address:
//!   [`MediaRelay::handle_packet`] returns a [`Forward`];
//! - a session is released by the signalling ([`MediaRelay::release`], on BYE, CANCEL or a
//!   failed INVITE), or when no packet flowed for [`MediaConfig::inactivity_timeout`] (or the
//!   call was not set up within [`MediaConfig::setup_timeout`]). Ports go back to the pool.
//!
//! ```
//! use std::time::Instant;
//! use dialtone_relay::media::{MediaConfig, MediaRelay, PortPair, Side};
//!
//! let now = Instant::now();
//! let ports = vec![PortPair::consecutive(40_000).unwrap(), PortPair::consecutive(40_002).unwrap()];
//! let mut relay = MediaRelay::new(MediaConfig::new("203.0.113.1".parse().unwrap(), ports));
//! let session = relay.create_session(now);
//! let offer = "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//!              m=audio 5004 RTP/AVP 0\r\n";
//! let to_callee = relay.rewrite_sdp(now, session, Side::Caller, offer).unwrap();
//! assert!(to_callee.contains("c=IN IP4 203.0.113.1") && to_callee.contains("m=audio 40002 "));
//! ```

mod rewrite;
mod table;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use table::MediaRelay;

/// Media relay settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// The address written into rewritten SDP (`c=`), where both parties send.
    pub advertised_ip: IpAddr,
    /// The port pairs the runtime has bound on that address; an empty list turns anchoring off.
    pub ports: Vec<PortPair>,
    /// A set-up session is released after this long without a forwarded packet. Default 60 s.
    pub inactivity_timeout: Duration,
    /// A session whose offer/answer never completes is released after this long. Default
    /// 180 s (Timer C).
    pub setup_timeout: Duration,
}

impl MediaConfig {
    /// Defaults with these ports.
    pub fn new(advertised_ip: IpAddr, ports: Vec<PortPair>) -> MediaConfig {
        MediaConfig {
            advertised_ip,
            ports,
            inactivity_timeout: Duration::from_secs(60),
            setup_timeout: Duration::from_secs(180),
        }
    }
}

/// An RTP port and its RTCP port, both bound by the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortPair {
    /// The RTP port (also carries RTCP with rtcp-mux).
    pub rtp: u16,
    /// The RTCP port.
    pub rtcp: u16,
}

impl PortPair {
    /// The RFC 3550 §11 convention: an even RTP port and the next one for RTCP. `None` for an
    /// odd port or 65534.
    pub fn consecutive(rtp: u16) -> Option<PortPair> {
        if !rtp.is_multiple_of(2) || rtp == 0 {
            return None;
        }
        Some(PortPair {
            rtp,
            rtcp: rtp.checked_add(1)?,
        })
    }

    /// The port of `component`.
    pub fn port(self, component: Component) -> u16 {
        match component {
            Component::Rtp => self.rtp,
            Component::Rtcp => self.rtcp,
        }
    }
}

/// A party of a call, from the relay's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The party that sent the initial INVITE.
    Caller,
    /// The party it called.
    Callee,
}

impl Side {
    /// The other party.
    pub fn other(self) -> Side {
        match self {
            Side::Caller => Side::Callee,
            Side::Callee => Side::Caller,
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Side::Caller => 0,
            Side::Callee => 1,
        }
    }
}

/// RTP or RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// RTP (and muxed RTCP).
    Rtp,
    /// RTCP on its own port.
    Rtcp,
}

/// Identifies one call's media session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaSessionId(pub(crate) u64);

impl std::fmt::Display for MediaSessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "media{}", self.0)
    }
}

/// The verdict on a datagram: send `bytes` bytes (the datagram as received, unchanged) from
/// our socket on `from_port` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// Our port to send from (the one facing the receiver).
    pub from_port: u16,
    /// The receiver.
    pub to: SocketAddr,
    /// Length of the datagram.
    pub bytes: usize,
}

/// Counters for the packets one side sent to the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LegStats {
    /// Packets forwarded to the other side.
    pub packets: u64,
    /// Bytes forwarded to the other side.
    pub bytes: u64,
    /// Packets dropped because they came from another source than the latched one.
    pub dropped_spoofed: u64,
    /// Packets dropped because the offer/answer was not complete yet.
    pub dropped_early: u64,
}

/// Counters of a session, per sending side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionStats {
    /// What the caller sent.
    pub caller: LegStats,
    /// What the callee sent.
    pub callee: LegStats,
}

impl SessionStats {
    /// The counters of what `side` sent.
    pub fn from(&self, side: Side) -> &LegStats {
        match side {
            Side::Caller => &self.caller,
            Side::Callee => &self.callee,
        }
    }

    fn of_mut(&mut self, side: Side) -> &mut LegStats {
        match side {
            Side::Caller => &mut self.caller,
            Side::Callee => &mut self.callee,
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseReason {
    /// The signalling ended the call (BYE, CANCEL, failed INVITE) or the runtime asked.
    Ended,
    /// No packet flowed for the inactivity timeout.
    Inactivity,
    /// The offer/answer did not complete within the setup timeout.
    SetupTimeout,
}

/// Something the runtime may log or show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A port latched onto its sender.
    Latched {
        /// The session.
        session: MediaSessionId,
        /// Index of the `m=` line.
        stream: usize,
        /// Which party sends from `source`.
        side: Side,
        /// RTP or RTCP port.
        component: Component,
        /// The latched source.
        source: SocketAddr,
    },
    /// A session ended and its ports went back to the pool.
    Released {
        /// The session.
        session: MediaSessionId,
        /// Why.
        reason: ReleaseReason,
        /// Its final counters.
        stats: SessionStats,
    },
}

/// Why SDP could not be anchored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// Not enough free port pairs for the streams.
    #[error("no free media ports")]
    NoPorts,
    /// The session does not exist (released or never created).
    #[error("no media session {0}")]
    UnknownSession(MediaSessionId),
    /// The SDP does not parse.
    #[error("SDP: {0}")]
    Sdp(#[from] dialtone_sdp::SdpError),
}
