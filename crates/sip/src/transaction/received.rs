//! Where a server transaction's responses go: the server transport stamps the top Via with
//! `received` (RFC 3261 §18.2.1) and fills in an empty `rport` (RFC 3581 §4), and responses
//! follow it back (RFC 3261 §18.2.2, RFC 3581 §4).

use std::net::{IpAddr, SocketAddr};

use dialtone_sip_message::{Request, Via};

use super::error::InboundError;
use crate::transport::Peer;

/// Stamps `request`'s top Via for a request that arrived from `from` and returns that Via.
///
/// `received` is added when the sent-by host is not the source address, or whenever `rport`
/// asks for it; an empty `rport` gets the source port. If the Via arrived as several header
/// lines, they are rewritten as one comma-separated line (equivalent by RFC 3261 §7.3.1).
pub(crate) fn stamp(request: &mut Request, from: Peer) -> Result<Via, InboundError> {
    let mut vias = request.vias().map_err(|_| InboundError::MissingVia)?;
    let top = vias.first_mut().ok_or(InboundError::MissingVia)?;
    let source = from.addr.ip();
    let wants_rport = top.rport() == Some(None);
    let changed = wants_rport || host_ip(&top.host) != Some(source);
    if changed {
        top.set_param("received", Some(&source.to_string()));
    }
    if wants_rport {
        top.set_param("rport", Some(&from.addr.port().to_string()));
    }
    let top = top.clone();
    if changed {
        let line = vias
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        request.headers.set("Via", line);
    }
    Ok(top)
}

/// Where responses to a request with (stamped) top Via `top_via`, received from `from`, go.
///
/// Reliable transports answer over the connection the request came on. Over UDP the response
/// goes to the source address (the `received` address), at the source port when `rport` was
/// used and at the sent-by port otherwise. A sent-by host name is never resolved: `received`
/// always holds the source address, so the source address is where RFC 3261 §18.2.2 leads.
pub(crate) fn response_dest(top_via: &Via, from: Peer) -> Peer {
    if from.transport.is_reliable() || top_via.rport().is_some() {
        return from;
    }
    let port = top_via
        .port
        .unwrap_or_else(|| from.transport.default_port());
    Peer::new(from.transport, SocketAddr::new(from.addr.ip(), port))
}

/// The sent-by host as an IP address, if it is one (IPv6 references keep their brackets).
fn host_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}
