//! What the relay is told to bind: SIP listeners (`udp:127.0.0.1:5060`, `ws:[::1]:8080`, ...)
//! and the media port range (`40000-40100`), and the loopback-only rule.
//!
//! The relay listens on loopback unless the user explicitly exposes it: an exposed relay
//! accepts password guesses from anyone who can reach it (the bans in `dialtone-relay` slow
//! them down, they do not stop a patient attacker), so exposing it is a decision, not a
//! default (issue #6, "safe by default").

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use dialtone_sip::transport::TransportKind;

use super::RelayError;

/// One SIP listener to bind: `KIND:ADDRESS:PORT`, e.g. `udp:127.0.0.1:5060`, `wss:[::1]:8443`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenSpec {
    /// The transport.
    pub kind: TransportKind,
    /// The address and port (port 0: any free port, reported once bound).
    pub addr: SocketAddr,
}

/// Why a `--listen` or `--media-ports` value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(String);

fn kind_name(kind: TransportKind) -> &'static str {
    match kind {
        TransportKind::Udp => "udp",
        TransportKind::Tcp => "tcp",
        TransportKind::Tls => "tls",
        TransportKind::Ws => "ws",
        TransportKind::Wss => "wss",
    }
}

/// A transport's lower-case name as used on the command line and in reports.
pub fn transport_name(kind: TransportKind) -> &'static str {
    kind_name(kind)
}

impl FromStr for ListenSpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<ListenSpec, SpecError> {
        let bad = |why: &str| {
            SpecError(format!(
                "--listen \"{s}\": {why}; expected KIND:ADDRESS:PORT with KIND one of udp, tcp, tls, ws, wss \
                 (e.g. udp:127.0.0.1:5060 or ws:[::1]:8080)"
            ))
        };
        let (kind, addr) = s.split_once(':').ok_or_else(|| bad("no transport"))?;
        let kind = match kind.to_ascii_lowercase().as_str() {
            "udp" => TransportKind::Udp,
            "tcp" => TransportKind::Tcp,
            "tls" => TransportKind::Tls,
            "ws" => TransportKind::Ws,
            "wss" => TransportKind::Wss,
            _ => return Err(bad("unknown transport")),
        };
        let addr: SocketAddr = addr
            .parse()
            .map_err(|_| bad("not an IP address and port"))?;
        Ok(ListenSpec { kind, addr })
    }
}

impl fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", kind_name(self.kind), self.addr)
    }
}

/// The UDP port range for media, inclusive: `FIRST-LAST`. Each even port `p` with `p + 1` in
/// the range gives one RTP/RTCP pair (RFC 3550 §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPorts {
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
}

impl MediaPorts {
    /// The even RTP ports of the range whose RTCP port is in the range too.
    pub fn rtp_ports(self) -> impl Iterator<Item = u16> {
        let start = self.first.saturating_add(self.first % 2);
        (u32::from(start)..u32::from(self.last))
            .step_by(2)
            .filter_map(|p| u16::try_from(p).ok())
    }
}

impl FromStr for MediaPorts {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<MediaPorts, SpecError> {
        let bad = |why: &str| {
            SpecError(format!(
                "--media-ports \"{s}\": {why}; expected FIRST-LAST, e.g. 40000-40100"
            ))
        };
        let (first, last) = s.split_once('-').ok_or_else(|| bad("no '-'"))?;
        let first: u16 = first.trim().parse().map_err(|_| bad("not a port"))?;
        let last: u16 = last.trim().parse().map_err(|_| bad("not a port"))?;
        if first == 0 || last < first {
            return Err(bad("the range is empty"));
        }
        let ports = MediaPorts { first, last };
        if ports.rtp_ports().next().is_none() {
            return Err(bad("the range holds no even port followed by an odd one"));
        }
        Ok(ports)
    }
}

/// Refuses addresses the relay must not bind: the wildcard (it would write `0.0.0.0` into
/// Via, Record-Route and SDP) always, and non-loopback addresses unless `expose`.
pub(crate) fn check_bind(spec: &ListenSpec, expose: bool) -> Result<(), RelayError> {
    let ip = spec.addr.ip();
    if ip.is_unspecified() {
        return Err(RelayError::Unspecified(*spec));
    }
    if !is_loopback(ip) && !expose {
        return Err(RelayError::NotLoopback(*spec));
    }
    Ok(())
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_specs_parse() {
        let spec: ListenSpec = "udp:127.0.0.1:5060".parse().unwrap();
        assert_eq!(spec.kind, TransportKind::Udp);
        assert_eq!(spec.addr, "127.0.0.1:5060".parse::<SocketAddr>().unwrap());
        let spec: ListenSpec = "WSS:[::1]:8443".parse().unwrap();
        assert_eq!(spec.kind, TransportKind::Wss);
        assert_eq!(spec.to_string(), "wss:[::1]:8443");
        assert!("sctp:127.0.0.1:5060".parse::<ListenSpec>().is_err());
        assert!("udp:localhost:5060".parse::<ListenSpec>().is_err());
        assert!("127.0.0.1:5060".parse::<ListenSpec>().is_err());
    }

    #[test]
    fn media_ranges_give_even_odd_pairs() {
        let ports: MediaPorts = "40001-40006".parse().unwrap();
        assert_eq!(ports.rtp_ports().collect::<Vec<_>>(), vec![40002, 40004]);
        let ports: MediaPorts = "40000-40001".parse().unwrap();
        assert_eq!(ports.rtp_ports().collect::<Vec<_>>(), vec![40000]);
        assert!("40001-40001".parse::<MediaPorts>().is_err());
        assert!("40010-40000".parse::<MediaPorts>().is_err());
        assert!("65534-65535".parse::<MediaPorts>().is_ok());
        assert!("x-1".parse::<MediaPorts>().is_err());
    }

    #[test]
    fn only_loopback_unless_exposed() {
        let lan: ListenSpec = "udp:192.168.1.5:5060".parse().unwrap();
        assert!(matches!(
            check_bind(&lan, false),
            Err(RelayError::NotLoopback(_))
        ));
        assert!(check_bind(&lan, true).is_ok());
        let any: ListenSpec = "tcp:0.0.0.0:5060".parse().unwrap();
        assert!(matches!(
            check_bind(&any, true),
            Err(RelayError::Unspecified(_))
        ));
        let lo: ListenSpec = "ws:127.0.0.2:8080".parse().unwrap();
        assert!(check_bind(&lo, false).is_ok());
        let lo6: ListenSpec = "udp:[::1]:5060".parse().unwrap();
        assert!(check_bind(&lo6, false).is_ok());
    }
}
