//! What a usage may touch while it handles one input: the clock reading, the transaction layer,
//! the RNG, the configuration and the output queue. Also the request/response plumbing every
//! usage shares: our Via (RFC 3261 §8.1.1.7, RFC 3581 `rport`), identifiers (§19.3), and where a
//! URI leads without DNS.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use dialtone_sip_message::{Headers, Message, Request, Response, Uri};

use super::{UaConfig, UaEvent, UaOutput};
use crate::random::{Random, Xorshift};
use crate::transaction::{new_branch, TransactionError, TransactionId, TransactionLayer};
use crate::transport::{Peer, TransportKind};

/// Borrowed state for one input.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub tl: &'a mut TransactionLayer,
    pub rng: &'a mut Xorshift,
    pub config: &'a UaConfig,
    pub out: &'a mut VecDeque<UaOutput>,
}

impl Ctx<'_> {
    /// 64 random bits as 16 hex digits.
    pub fn token(&mut self) -> String {
        format!("{:016x}", self.rng.next_u64())
    }

    /// A From/To tag (§19.3: at least 32 random bits).
    pub fn tag(&mut self) -> String {
        self.token()
    }

    /// A Call-ID (§8.1.1.4): 128 random bits; no host part, so it reveals no address.
    pub fn call_id(&mut self) -> String {
        format!("{}{}", self.token(), self.token())
    }

    /// A client nonce for digest authentication.
    pub fn cnonce(&mut self) -> String {
        self.token()
    }

    pub fn event(&mut self, event: UaEvent) {
        self.out.push_back(UaOutput::Event(event));
    }

    /// Puts our Via (fresh branch, `rport`) on top of `request`, removing any other, and the
    /// headers every request carries; returns the request as sent.
    pub fn stamp(&mut self, dest: Peer, mut request: Request) -> Request {
        let via = format!(
            "SIP/2.0/{} {};branch={};rport",
            dest.transport.via_name(),
            self.config.local_addr,
            new_branch(self.rng)
        );
        let mut headers = Headers::new();
        headers.push("Via", via);
        for (name, value) in request.headers.iter() {
            if !dialtone_sip_message::same_name(name, "Via") {
                headers.push(name, value);
            }
        }
        if !headers.contains("Max-Forwards") {
            headers.push("Max-Forwards", "70");
        }
        if let Some(ua) = &self.config.user_agent {
            if !headers.contains("User-Agent") {
                headers.push("User-Agent", ua.clone());
            }
        }
        request.headers = headers;
        request
    }

    /// Starts a client transaction for `request` (stamped here) and returns its id and the
    /// request as sent.
    pub fn send_request(
        &mut self,
        dest: Peer,
        request: Request,
    ) -> Result<(TransactionId, Request), TransactionError> {
        let request = self.stamp(dest, request);
        let id = self.tl.send_request(self.now, dest, request.clone())?;
        Ok((id, request))
    }

    /// Sends an ACK for a 2xx (no transaction, §13.2.2.4), stamped here; returns it as sent.
    pub fn send_ack(&mut self, dest: Peer, ack: Request) -> Request {
        let ack = self.stamp(dest, ack);
        self.tl.send_stateless(dest, Message::Request(ack.clone()));
        ack
    }

    /// Answers server transaction `id`; a refused response (the transaction is gone) is
    /// dropped, as there is nobody left to tell.
    pub fn respond(&mut self, id: TransactionId, response: Response) {
        let _ = self.tl.send_response(self.now, id, response);
    }
}

/// A `Route` value for an outbound proxy: `<uri;lr>` (loose routing, RFC 3261 §16.12).
pub(crate) fn loose_route(proxy: &Uri) -> String {
    let mut proxy = proxy.clone();
    if proxy.param("lr").is_none() {
        proxy.set_param("lr", None);
    }
    format!("<{proxy}>")
}

/// Where a request to `uri` goes without DNS: an IP-literal host is used directly (port from
/// the URI or the transport default, transport from `;transport=` or `fallback`'s); a host name
/// falls back to `fallback` (the peer the runtime resolved for this usage).
pub(crate) fn resolve(uri: &Uri, fallback: Peer) -> Peer {
    let transport = uri
        .transport()
        .and_then(TransportKind::from_via_name)
        .unwrap_or(fallback.transport);
    let host = uri.host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            let port = uri.port.unwrap_or_else(|| transport.default_port());
            Peer::new(transport, SocketAddr::new(ip, port))
        }
        Err(_) => fallback,
    }
}
