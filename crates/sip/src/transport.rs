//! Transport identities shared by the sans-IO machines and the runtime that owns the sockets.
//!
//! The protocol crate never touches a socket; it only names *where* a message came from or must
//! go. Reliability decides which retransmission timers run (RFC 3261 §17.1.1.2, §17.1.2.2,
//! §17.2.1, §18), and the Via transport token is defined in RFC 3261 §20.42 (RFC 7118 §5 for
//! WebSocket).

use std::fmt;
use std::net::SocketAddr;

/// A SIP transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransportKind {
    /// UDP (RFC 3261 §18): unreliable, the transaction layer retransmits.
    Udp,
    /// TCP (RFC 3261 §18): reliable.
    Tcp,
    /// TLS over TCP (RFC 3261 §26.2): reliable.
    Tls,
    /// WebSocket (RFC 7118): reliable.
    Ws,
    /// Secure WebSocket (RFC 7118): reliable.
    Wss,
}

impl TransportKind {
    /// Whether the transport is reliable. On reliable transports the retransmission timers
    /// (A, E, G) are not set and the wait timers (D, I, J, K) are zero (RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        !matches!(self, TransportKind::Udp)
    }

    /// The transport token as written in a Via header (RFC 3261 §20.42, RFC 7118 §5).
    pub fn via_name(self) -> &'static str {
        match self {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
            TransportKind::Tls => "TLS",
            TransportKind::Ws => "WS",
            TransportKind::Wss => "WSS",
        }
    }

    /// Parses a Via transport token, case-insensitively. Unknown tokens give `None`.
    pub fn from_via_name(name: &str) -> Option<TransportKind> {
        [
            TransportKind::Udp,
            TransportKind::Tcp,
            TransportKind::Tls,
            TransportKind::Ws,
            TransportKind::Wss,
        ]
        .into_iter()
        .find(|kind| kind.via_name().eq_ignore_ascii_case(name))
    }

    /// The port implied when a Via sent-by or URI carries none (RFC 3261 §18.1.1/§19.1.2,
    /// RFC 7118 §5: 80/443 for WS/WSS).
    pub fn default_port(self) -> u16 {
        match self {
            TransportKind::Udp | TransportKind::Tcp => 5060,
            TransportKind::Tls => 5061,
            TransportKind::Ws => 80,
            TransportKind::Wss => 443,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_name())
    }
}

/// The far end of a message: a transport and a socket address. The runtime maps it to a socket
/// or a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// Transport the message travels over.
    pub transport: TransportKind,
    /// Remote address.
    pub addr: SocketAddr,
}

impl Peer {
    /// A peer on `transport` at `addr`.
    pub fn new(transport: TransportKind, addr: SocketAddr) -> Peer {
        Peer { transport, addr }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport, self.addr)
    }
}
