//! Where requests go: recognising our own URIs (RFC 3261 §16.4 Route processing), loose
//! routing (§16.12), Record-Route with flow tokens (RFC 5626 §5.3, double Record-Route of
//! RFC 5658) and the next hop of a URI without DNS.
//!
//! When the relay forwards a dialog-creating request it inserts two Record-Route entries: the
//! one on top faces the callee (transport and listener of the callee's flow), the other faces
//! the caller. Each carries, in its user part, a flow token: the flow of the party on its side
//! and an HMAC over that flow and the Call-ID, so only the relay can mint one and only for that
//! call. An in-dialog request then arrives with both entries as Route; the relay pops them, and
//! the *last* one popped faces the request's destination (for the caller's requests the route
//! set is reversed, RFC 3261 §12.1.2), so its token names the flow to send over — the only way
//! to reach a WebSocket client, whose Contact host is `.invalid`.

use std::net::{IpAddr, SocketAddr};

use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip_message::{Headers, NameAddr, Request, Scheme, Uri};

use crate::config::RelayConfig;
use crate::hmac::Key;
use crate::users::hex;

/// Bytes of MAC kept in a flow token.
const TOKEN_MAC: usize = 10;

/// Mints and checks flow tokens.
#[derive(Debug)]
pub(crate) struct FlowTokens {
    key: Key,
}

fn transport_code(kind: TransportKind) -> u8 {
    match kind {
        TransportKind::Udp => 0,
        TransportKind::Tcp => 1,
        TransportKind::Tls => 2,
        TransportKind::Ws => 3,
        TransportKind::Wss => 4,
    }
}

fn transport_of(code: u8) -> Option<TransportKind> {
    Some(match code {
        0 => TransportKind::Udp,
        1 => TransportKind::Tcp,
        2 => TransportKind::Tls,
        3 => TransportKind::Ws,
        4 => TransportKind::Wss,
        _ => return None,
    })
}

impl FlowTokens {
    pub(crate) fn new(key: Key) -> FlowTokens {
        FlowTokens { key }
    }

    fn body(flow: Peer) -> Vec<u8> {
        let mut body = vec![transport_code(flow.transport)];
        match flow.addr.ip() {
            IpAddr::V4(v4) => body.extend_from_slice(&v4.octets()),
            IpAddr::V6(v6) => body.extend_from_slice(&v6.octets()),
        }
        body.extend_from_slice(&flow.addr.port().to_be_bytes());
        body
    }

    /// A MAC under the relay's token key (for derived branches).
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.key.mac(parts)
    }

    /// A token for `flow` in call `call_id` (hex: a valid URI user part).
    pub(crate) fn encode(&self, flow: Peer, call_id: &str) -> String {
        let mut body = Self::body(flow);
        let mac = self.key.mac(&[&body, call_id.as_bytes()]);
        body.extend_from_slice(&mac[..TOKEN_MAC]);
        hex(&body)
    }

    /// The flow in `token` if we minted it for `call_id`.
    pub(crate) fn decode(&self, token: &str, call_id: &str) -> Option<Peer> {
        let raw = unhex(token)?;
        let (body, mac) = raw.split_at(raw.len().checked_sub(TOKEN_MAC)?);
        let expected = self.key.mac(&[body, call_id.as_bytes()]);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..TOKEN_MAC], mac)) {
            return None;
        }
        let (&code, rest) = body.split_first()?;
        let transport = transport_of(code)?;
        let (ip, port) = match rest.len() {
            6 => {
                let octets: [u8; 4] = rest[..4].try_into().ok()?;
                (IpAddr::from(octets), &rest[4..])
            }
            18 => {
                let octets: [u8; 16] = rest[..16].try_into().ok()?;
                (IpAddr::from(octets), &rest[16..])
            }
            _ => return None,
        };
        let port = u16::from_be_bytes(port.try_into().ok()?);
        Some(Peer::new(transport, SocketAddr::new(ip, port)))
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.is_empty() {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// The host of a URI or Via as an IP address, if it is one.
pub(crate) fn host_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The transport a SIP URI asks for (`transport=` parameter, `sips:` → TLS, else UDP).
pub(crate) fn uri_transport(uri: &Uri) -> Option<TransportKind> {
    match uri.transport() {
        Some(t) => TransportKind::from_via_name(t),
        None if uri.scheme == Scheme::Sips => Some(TransportKind::Tls),
        None => Some(TransportKind::Udp),
    }
}

/// Where a URI with an IP-literal host leads (no DNS inside the relay).
pub(crate) fn peer_for_uri(uri: &Uri) -> Option<Peer> {
    let ip = host_ip(&uri.host)?;
    let transport = uri_transport(uri)?;
    let port = uri.port.unwrap_or_else(|| transport.default_port());
    Some(Peer::new(transport, SocketAddr::new(ip, port)))
}

impl RelayConfig {
    /// Whether `host` names our domain (domain or alias, any port).
    pub(crate) fn is_our_domain_name(&self, host: &str) -> bool {
        host.eq_ignore_ascii_case(&self.domain)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(host))
    }

    /// Whether `uri` designates this relay: our domain or an alias, or the address and port
    /// of one of our listeners (an IP alone is not enough: other UAs share loopback).
    pub(crate) fn is_us(&self, uri: &Uri) -> bool {
        if !uri.is_sip() {
            return false;
        }
        if self.is_our_domain_name(&uri.host) {
            return true;
        }
        let Some(ip) = host_ip(&uri.host) else {
            return self.listeners.iter().any(|l| {
                l.host
                    .as_deref()
                    .is_some_and(|h| h.eq_ignore_ascii_case(&uri.host))
            });
        };
        let transport = uri_transport(uri).unwrap_or(TransportKind::Udp);
        let port = uri.port.unwrap_or_else(|| transport.default_port());
        self.listeners
            .iter()
            .any(|l| (l.addr.ip() == ip || l.addr.ip().is_unspecified()) && l.addr.port() == port)
    }

    /// The next hop configured for an outside domain.
    pub(crate) fn forward_domain(&self, host: &str) -> Option<Peer> {
        self.forward_domains
            .iter()
            .find(|d| d.domain.eq_ignore_ascii_case(host))
            .map(|d| d.next_hop)
    }

    /// Our Via for a request leaving over `transport`.
    pub(crate) fn via(&self, transport: TransportKind, branch: &str) -> Option<String> {
        let listener = self.listener(transport)?;
        Some(format!(
            "SIP/2.0/{} {}:{};branch={branch};rport",
            transport.via_name(),
            listener.host(),
            listener.addr.port()
        ))
    }

    /// A Record-Route value for our listener of `transport`, carrying `token`.
    pub(crate) fn record_route(&self, transport: TransportKind, token: &str) -> Option<String> {
        let listener = self.listener(transport)?;
        let scheme = if transport == TransportKind::Tls {
            "sips"
        } else {
            "sip"
        };
        let transport_param = transport.via_name().to_ascii_lowercase();
        Some(format!(
            "<{scheme}:{token}@{}:{};transport={transport_param};lr>",
            listener.host(),
            listener.addr.port()
        ))
    }
}

/// Removes the Route entries at the top of `request` that designate us (§16.4) and returns
/// the last one removed.
pub(crate) fn pop_own_routes(
    config: &RelayConfig,
    request: &mut Request,
) -> Result<Option<NameAddr>, dialtone_sip_message::ParseError> {
    let mut routes = request.routes()?;
    let ours = routes.iter().take_while(|r| config.is_us(&r.uri)).count();
    if ours == 0 {
        return Ok(None);
    }
    let last = routes.drain(..ours).next_back();
    request.headers.remove("Route");
    for route in routes {
        request.headers.push("Route", route.to_string());
    }
    Ok(last)
}

/// Puts a header line in front of every other (for Via and Record-Route only the order among
/// lines of the same name matters, so the front is always right).
pub(crate) fn prepend(headers: &mut Headers, name: &str, value: String) {
    let mut out = Headers::new();
    out.push(name, value);
    for (n, v) in headers.iter() {
        out.push(n, v);
    }
    *headers = out;
}

/// Removes the top Via entry (ours) of a response; `false` if none would remain.
pub(crate) fn pop_via(headers: &mut Headers) -> bool {
    let mut vias = Vec::new();
    for line in headers.get_all("Via") {
        match dialtone_sip_message::Via::parse_list(line) {
            Ok(list) => vias.extend(list),
            Err(_) => return false,
        }
    }
    if vias.len() < 2 {
        return false;
    }
    let position = headers
        .iter()
        .position(|(n, _)| dialtone_sip_message::same_name(n, "Via"))
        .unwrap_or(0);
    let mut out = Headers::new();
    for (i, (n, v)) in headers.iter().enumerate() {
        if dialtone_sip_message::same_name(n, "Via") {
            if i == position {
                for via in &vias[1..] {
                    out.push("Via", via.to_string());
                }
            }
            continue;
        }
        out.push(n, v);
    }
    *headers = out;
    true
}

/// Where a response goes when no server transaction remains to send it (RFC 3261 §18.2.2,
/// RFC 3581 §4): the top Via's `received`/`rport`, else its sent-by.
pub(crate) fn response_peer(headers: &Headers) -> Option<Peer> {
    let via = dialtone_sip_message::Via::parse_list(headers.get("Via")?)
        .ok()?
        .into_iter()
        .next()?;
    let transport = TransportKind::from_via_name(&via.transport)?;
    let ip = via
        .received()
        .and_then(host_ip)
        .or_else(|| host_ip(&via.host))?;
    let port = via
        .rport()
        .flatten()
        .or(via.port)
        .unwrap_or_else(|| transport.default_port());
    Some(Peer::new(transport, SocketAddr::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> FlowTokens {
        FlowTokens::new(Key::from_words([7, 7, 7, 7]))
    }

    #[test]
    fn tokens_round_trip_for_their_call_only() {
        let t = tokens();
        for flow in [
            Peer::new(TransportKind::Ws, "127.0.0.1:40123".parse().unwrap()),
            Peer::new(TransportKind::Udp, "[2001:db8::5]:5060".parse().unwrap()),
        ] {
            let token = t.encode(flow, "call-1");
            assert!(Uri::parse(&format!("sip:{token}@127.0.0.1")).is_ok());
            assert_eq!(t.decode(&token, "call-1"), Some(flow));
            assert_eq!(t.decode(&token, "call-2"), None);
        }
    }

    #[test]
    fn forged_tokens_are_refused() {
        let t = tokens();
        let flow = Peer::new(TransportKind::Udp, "192.0.2.9:5060".parse().unwrap());
        let token = t.encode(flow, "c");
        let mut bytes = token.into_bytes();
        bytes[3] = if bytes[3] == b'0' { b'1' } else { b'0' };
        assert_eq!(t.decode(&String::from_utf8(bytes).unwrap(), "c"), None);
        assert_eq!(t.decode("nothex", "c"), None);
        assert_eq!(t.decode("", "c"), None);
    }

    #[test]
    fn pop_via_keeps_the_rest_in_order() {
        let mut h = Headers::new();
        h.push(
            "Via",
            "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb",
        );
        h.push("To", "<sip:a@b>");
        h.push("Via", "SIP/2.0/TCP 10.0.0.3;branch=z9hG4bKc");
        assert!(pop_via(&mut h));
        let vias: Vec<&str> = h.get_all("Via").collect();
        assert_eq!(vias.len(), 2);
        assert!(vias[0].contains("10.0.0.2") && vias[1].contains("10.0.0.3"));
        assert!(h.contains("To"));
    }
}
