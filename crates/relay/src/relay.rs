//! The relay endpoint: one sans-IO object the runtime drives, owning the transaction layer
//! (RFC 3261 §17), the registrar (§10.3), the proxy core (§16) and the media relay.
//!
//! Inputs: [`Relay::handle_message`] (a parsed message and the flow it came over),
//! [`Relay::handle_timeout`], [`Relay::handle_flow_closed`], [`Relay::handle_transport_error`]
//! and, for media, [`Relay::handle_media_packet`]. Outputs: drain [`Relay::poll_output`] after
//! every input ([`RelayOutput::Transmit`] for the SIP sockets, [`RelayOutput::Event`] for logs,
//! UI and the B2BUA), then sleep until [`Relay::poll_timeout`].
//!
//! A request is handled in this order: banned sources are dropped first (nothing is parsed
//! for them); the transaction layer absorbs retransmissions; Call-IDs claimed by the B2BUA go
//! to it; Max-Forwards and the essential headers are checked (§16.3); our own Route entries are
//! popped (§16.4); then requests with a To tag are routed in-dialog, REGISTERs go to the
//! registrar (401 digest), OPTIONS for the relay itself are answered, and everything else is
//! an initial request: refused for outside domains (403 Relaying denied) before any
//! authentication, then authenticated (407), then routed to the callee's bindings.

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use dialtone_sip::random::Random;
use dialtone_sip::transaction::{
    InboundError, TransactionEvent, TransactionId, TransactionLayer, TransactionOutput,
};
use dialtone_sip::transport::Peer;
use dialtone_sip_message::{Message, Method, Request, Response};

use crate::b2bua::{AlwaysProxy, B2buaEvent, B2buaFailure, ModeSelector};
use crate::ban::{source_of, BanList};
use crate::config::{BannedAction, RelayConfig};
use crate::digest::{DigestServer, Verdict};
use crate::event::{RelayEvent, RelayOutput, UnregisterReason};
use crate::hmac::Key;
use crate::location::{LocationStore, MemoryLocationStore};
use crate::media::{Forward, MediaEvent, MediaRelay};
use crate::proxy::ProxyState;
use crate::registrar;
use crate::routing::{self, FlowTokens};
use crate::users::Users;

/// How often expired nonce counts and failure records are swept.
const HOUSEKEEPING: Duration = Duration::from_secs(30);

/// Methods listed in our `Allow` (the relay forwards any method between users).
const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, MESSAGE, SUBSCRIBE, NOTIFY, \
                     REFER, INFO, UPDATE, PRACK, PUBLISH";

/// The relay endpoint. Inputs: [`Relay::handle_message`], [`Relay::handle_timeout`],
/// [`Relay::handle_flow_closed`], [`Relay::handle_transport_error`],
/// [`Relay::handle_media_packet`]; outputs: drain [`Relay::poll_output`] after each, then sleep
/// until [`Relay::poll_timeout`]. See the [crate documentation](crate) for an example.
pub struct Relay<S: LocationStore = MemoryLocationStore> {
    pub(crate) config: RelayConfig,
    pub(crate) users: Users,
    pub(crate) location: S,
    pub(crate) rng: Box<dyn Random + Send>,
    pub(crate) layer: TransactionLayer,
    pub(crate) digest: DigestServer,
    pub(crate) bans: BanList,
    pub(crate) tokens: FlowTokens,
    pub(crate) media: MediaRelay,
    pub(crate) proxy: ProxyState,
    pub(crate) selector: Box<dyn ModeSelector>,
    /// Call-IDs handed to the B2BUA.
    pub(crate) claimed: HashSet<String>,
    /// Client transactions the B2BUA started.
    pub(crate) b2bua_clients: HashSet<TransactionId>,
    pub(crate) out: VecDeque<RelayOutput>,
    housekeeping: Instant,
}

impl<S: LocationStore> std::fmt::Debug for Relay<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("domain", &self.config.domain)
            .field("users", &self.users.len())
            .field("media_sessions", &self.media.sessions())
            .finish_non_exhaustive()
    }
}

impl<S: LocationStore> Relay<S> {
    /// A relay for `users`, storing bindings in `location`, drawing tags, branches, nonces and
    /// keys from `rng` (seed it from OS entropy in the runtime). `now` is the epoch of its
    /// nonces.
    pub fn new(
        config: RelayConfig,
        users: Users,
        location: S,
        rng: impl Random + Send + 'static,
        now: Instant,
    ) -> Relay<S> {
        let mut rng: Box<dyn Random + Send> = Box::new(rng);
        let digest = DigestServer::new(
            &mut *rng,
            now,
            config.nonce_lifetime,
            &config.digest_algorithms,
        );
        let tokens = FlowTokens::new(Key::from_words([
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
        ]));
        Relay {
            layer: TransactionLayer::new(config.timers),
            bans: BanList::new(config.ban),
            media: MediaRelay::new(config.media.clone()),
            config,
            users,
            location,
            rng,
            digest,
            tokens,
            proxy: ProxyState::default(),
            selector: Box::new(AlwaysProxy),
            claimed: HashSet::new(),
            b2bua_clients: HashSet::new(),
            out: VecDeque::new(),
            housekeeping: now + HOUSEKEEPING,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// The accounts.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// Replaces the accounts (e.g. `users.toml` changed). Bindings of removed users stay until
    /// they expire but no longer authenticate.
    pub fn set_users(&mut self, users: Users) {
        self.users = users;
    }

    /// The location store.
    pub fn location(&self) -> &S {
        &self.location
    }

    /// The media relay (for counters and the B2BUA's plain-RTP legs).
    pub fn media(&mut self) -> &mut MediaRelay {
        &mut self.media
    }

    /// Chooses how new calls are handled (default: proxy every call).
    pub fn set_mode_selector(&mut self, selector: impl ModeSelector + 'static) {
        self.selector = Box::new(selector);
    }

    /// Whether `ip` is banned at `now`; the runtime may drop its datagrams before parsing.
    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.bans.is_banned(ip, now)
    }

    /// A SIP message arrived from `from` (for stream transports: over the flow to `from`).
    pub fn handle_message(&mut self, now: Instant, from: Peer, message: Message) {
        if self.bans.is_banned(from.addr.ip(), now) {
            self.answer_banned(from, &message);
            return;
        }
        let stray_2xx = match &message {
            Message::Response(r) if (200..300).contains(&r.status) => Some(r.clone()),
            _ => None,
        };
        match self.layer.handle_message(now, from, message) {
            Ok(()) => {}
            Err(InboundError::StrayResponse { .. }) => {
                if let Some(response) = stray_2xx {
                    self.forward_stray_2xx(response);
                }
            }
            Err(e) => self.event(RelayEvent::Dropped {
                from,
                reason: e.to_string(),
            }),
        }
        self.drain(now);
    }

    /// A datagram arrived on media port `local_port` from `source`: where to send it, if
    /// anywhere. Drain [`Relay::poll_output`] afterwards for latching events.
    pub fn handle_media_packet(
        &mut self,
        now: Instant,
        local_port: u16,
        source: SocketAddr,
        packet: &[u8],
    ) -> Option<Forward> {
        let forward = self.media.handle_packet(now, local_port, source, packet);
        self.drain_media();
        forward
    }

    /// Time passed: fires transaction timers, Timer C, binding and media expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        self.drain(now);
        for (aor, binding) in self.location.expire(now) {
            self.event(RelayEvent::Unregistered {
                aor,
                contact: binding.contact.uri,
                reason: UnregisterReason::Expired,
            });
        }
        self.fire_timer_c(now);
        self.media.handle_timeout(now);
        let mut released = Vec::new();
        while let Some(event) = self.media.poll_event() {
            if let MediaEvent::Released { session, .. } = &event {
                released.push(*session);
            }
            self.event(RelayEvent::Media(event));
        }
        if now >= self.housekeeping || !released.is_empty() {
            self.forget_calls(now, &released);
        }
        if now >= self.housekeeping {
            self.digest.prune(now);
            self.bans.prune(now);
            self.housekeeping = now + HOUSEKEEPING;
        }
        self.drain(now);
    }

    /// A connection closed: bindings registered over it end (RFC 5626 §5.2: the flow is the
    /// only way to reach such contacts) and transactions sending over it fail.
    pub fn handle_flow_closed(&mut self, now: Instant, flow: Peer) {
        for (aor, binding) in self.location.remove_flow(flow) {
            self.event(RelayEvent::Unregistered {
                aor,
                contact: binding.contact.uri,
                reason: UnregisterReason::FlowClosed,
            });
        }
        self.layer.handle_transport_error(now, flow);
        self.drain(now);
    }

    /// Sending to `dest` failed (ICMP unreachable, connection refused).
    pub fn handle_transport_error(&mut self, now: Instant, dest: Peer) {
        self.layer.handle_transport_error(now, dest);
        self.drain(now);
    }

    /// The next output. Drain until `None` after every input.
    pub fn poll_output(&mut self) -> Option<RelayOutput> {
        self.out.pop_front()
    }

    /// When [`Relay::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.layer.poll_timeout(),
            self.location.next_expiry(),
            self.proxy.next_timer_c(),
            self.media.poll_timeout(),
            Some(self.housekeeping),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub(crate) fn event(&mut self, event: RelayEvent) {
        self.out.push_back(RelayOutput::Event(event));
    }

    /// A random tag / token word.
    pub(crate) fn token(&mut self) -> String {
        format!("{:016x}", self.rng.next_u64())
    }

    /// A response to `request` with a To tag (RFC 3261 §8.2.6.2) when it needs one.
    pub(crate) fn response(&mut self, request: &Request, status: u16, reason: &str) -> Response {
        let mut response = Response::for_request(request, status, reason);
        if status > 100 {
            if let Ok(mut to) = request.to() {
                if to.tag().is_none() {
                    to.set_tag(&self.token());
                    response.headers.set("To", to.to_string());
                }
            }
        }
        response
    }

    /// Answers server transaction `id` locally.
    pub(crate) fn reply(
        &mut self,
        now: Instant,
        id: TransactionId,
        request: &Request,
        status: u16,
        reason: &str,
        headers: Vec<(&'static str, String)>,
    ) {
        let mut response = self.response(request, status, reason);
        for (name, value) in headers {
            response.headers.push(name, value);
        }
        // The transaction may be gone (e.g. the transport failed); nothing else to do then.
        let _ = self.layer.send_response(now, id, response);
    }

    /// Drains the transaction layer (and media events), handling its events as the TU.
    pub(crate) fn drain(&mut self, now: Instant) {
        while let Some(output) = self.layer.poll_output() {
            match output {
                TransactionOutput::Transmit { dest, message } => {
                    self.out.push_back(RelayOutput::Transmit { dest, message })
                }
                TransactionOutput::Event(event) => self.on_transaction_event(now, event),
            }
        }
        self.drain_media();
    }

    fn drain_media(&mut self) {
        while let Some(event) = self.media.poll_event() {
            self.event(RelayEvent::Media(event));
        }
    }

    fn on_transaction_event(&mut self, now: Instant, event: TransactionEvent) {
        match event {
            TransactionEvent::Request { id, from, request } => {
                if request.method == Method::Ack {
                    self.on_ack(now, from, request);
                } else {
                    self.on_request(now, id, from, request);
                }
            }
            TransactionEvent::StrayAck { from, request } => self.on_ack(now, from, request),
            TransactionEvent::Cancel {
                id,
                invite,
                from,
                request,
            } => self.on_cancel(now, id, invite, from, request),
            TransactionEvent::Response { id, response } => {
                if self.b2bua_clients.contains(&id) {
                    self.event(RelayEvent::B2bua(B2buaEvent::Response {
                        client: id,
                        response,
                    }));
                } else {
                    self.on_branch_response(now, id, response);
                }
            }
            TransactionEvent::Timeout { id } => {
                if self.b2bua_clients.contains(&id) {
                    self.b2bua_failed(id, B2buaFailure::Timeout);
                } else {
                    self.on_branch_failure(now, id, 408, "Request Timeout");
                }
            }
            TransactionEvent::TransportError { id } => {
                if self.b2bua_clients.contains(&id) {
                    self.b2bua_failed(id, B2buaFailure::TransportError);
                } else {
                    self.on_branch_failure(now, id, 480, "Temporarily Unavailable");
                }
            }
            TransactionEvent::Terminated { id } => {
                self.b2bua_clients.remove(&id);
                self.on_terminated(id);
            }
        }
    }

    fn b2bua_failed(&mut self, client: TransactionId, reason: B2buaFailure) {
        self.event(RelayEvent::B2bua(B2buaEvent::Failed { client, reason }));
    }

    /// A new request (server transaction `id`), not ACK.
    fn on_request(&mut self, now: Instant, id: TransactionId, from: Peer, mut request: Request) {
        if request
            .call_id()
            .is_ok_and(|call_id| self.claimed.contains(call_id))
        {
            let event = B2buaEvent::Request {
                server: id,
                from,
                request,
            };
            self.event(RelayEvent::B2bua(event));
            return;
        }
        let Ok(max_forwards) = request.max_forwards() else {
            self.reply(now, id, &request, 400, "Invalid Max-Forwards", Vec::new());
            return;
        };
        let Ok(to) = request.to() else {
            self.reply(now, id, &request, 400, "Invalid To", Vec::new());
            return;
        };
        if request.from().is_err() || request.call_id().is_err() {
            self.reply(
                now,
                id,
                &request,
                400,
                "Invalid From or Call-ID",
                Vec::new(),
            );
            return;
        }
        if !request.uri.is_sip() {
            self.reply(now, id, &request, 416, "Unsupported URI Scheme", Vec::new());
            return;
        }
        // §16.3 step 5: the relay supports no proxy extension.
        let unsupported: Vec<String> = request
            .headers
            .get_all("Proxy-Require")
            .flat_map(|line| line.split(','))
            .map(|tag| tag.trim().to_owned())
            .filter(|tag| !tag.is_empty())
            .collect();
        if !unsupported.is_empty() {
            let headers = vec![("Unsupported", unsupported.join(", "))];
            self.reply(now, id, &request, 420, "Bad Extension", headers);
            return;
        }
        let popped = match routing::pop_own_routes(&self.config, &mut request) {
            Ok(popped) => popped,
            Err(_) => {
                self.reply(now, id, &request, 400, "Invalid Route", Vec::new());
                return;
            }
        };
        let for_us = self.config.is_us(&request.uri) && request.uri.user.is_none();
        if request.method == Method::Options && for_us && to.tag().is_none() {
            let headers = vec![("Allow", ALLOW.to_owned())];
            self.reply(now, id, &request, 200, "OK", headers);
            return;
        }
        if max_forwards == Some(0) {
            self.reply(now, id, &request, 483, "Too Many Hops", Vec::new());
            return;
        }
        if to.tag().is_some() {
            self.route_in_dialog(now, id, request, popped, max_forwards);
        } else if request.method == Method::Register {
            self.on_register(now, id, from, request);
        } else {
            self.route_initial(now, id, from, request, max_forwards);
        }
    }

    /// Checks the digest credentials of `request`. Valid: the user. Otherwise the request is
    /// answered with a challenge — 401 for the registrar, 407 for the proxy (RFC 3261 §22.3) —
    /// whose shape does not depend on whether the user exists, and a failure is counted
    /// against the source (which may ban it).
    pub(crate) fn authenticate(
        &mut self,
        now: Instant,
        id: TransactionId,
        from: Peer,
        request: &Request,
        proxy: bool,
    ) -> Option<String> {
        let header = if proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        let stale = match self.digest.verify(now, request, header, &self.users) {
            Verdict::Valid(user) => return Some(user),
            Verdict::Missing => false,
            Verdict::Stale => true,
            Verdict::Invalid { username } => {
                let source = from.addr.ip();
                self.event(RelayEvent::AuthFailed { source, username });
                if let Some(until) = self.bans.record_failure(source, now) {
                    let source = source_of(source);
                    self.event(RelayEvent::SourceBanned { source, until });
                }
                false
            }
        };
        let (status, reason, name) = if proxy {
            (407, "Proxy Authentication Required", "Proxy-Authenticate")
        } else {
            (401, "Unauthorized", "WWW-Authenticate")
        };
        let challenges = self
            .digest
            .challenge(now, &mut *self.rng, &self.users, stale);
        let headers = challenges.into_iter().map(|c| (name, c)).collect();
        self.reply(now, id, request, status, reason, headers);
        None
    }

    /// REGISTER (RFC 3261 §10.3).
    fn on_register(&mut self, now: Instant, id: TransactionId, from: Peer, request: Request) {
        if !self.config.is_us(&request.uri) {
            self.reply(now, id, &request, 403, "Relaying denied", Vec::new());
            return;
        }
        let Some(user) = self.authenticate(now, id, from, &request, false) else {
            return;
        };
        let own_aor = request.to().is_ok_and(|to| {
            to.uri.user.as_deref() == Some(user.as_str()) && self.config.is_our_host(&to.uri.host)
        });
        if !own_aor {
            self.reply(now, id, &request, 403, "Forbidden", Vec::new());
            return;
        }
        let mut events = Vec::new();
        let reply = registrar::register(
            &self.config.registrar,
            now,
            from,
            &request,
            &user,
            &mut self.location,
            &mut events,
        );
        for event in events {
            self.event(event);
        }
        self.reply(now, id, &request, reply.status, reply.reason, reply.headers);
    }

    /// Banned sources get nothing, or a stateless 403 when so configured.
    fn answer_banned(&mut self, from: Peer, message: &Message) {
        let Message::Request(request) = message else {
            return;
        };
        if self.config.banned_action == BannedAction::Forbidden && request.method != Method::Ack {
            let response = self.response(request, 403, "Forbidden");
            self.out.push_back(RelayOutput::Transmit {
                dest: from,
                message: Message::Response(response),
            });
        }
    }

    /// A 2xx to an INVITE that matches no transaction any more (a retransmission after the
    /// client transaction ended): forwarded statelessly along the Via (RFC 3261 §16.7 step 5).
    fn forward_stray_2xx(&mut self, mut response: Response) {
        let invite = response.cseq().is_ok_and(|c| c.method == Method::Invite);
        let ours = response.top_via().is_ok_and(|via| {
            let port = via.port.unwrap_or(5060);
            self.config.listeners.iter().any(|l| {
                l.addr.port() == port
                    && (l.host().eq_ignore_ascii_case(&via.host)
                        || routing::host_ip(&via.host) == Some(l.addr.ip()))
            })
        });
        if !invite || !ours || !routing::pop_via(&mut response.headers) {
            return;
        }
        if let Some(dest) = routing::response_peer(&response.headers) {
            self.out.push_back(RelayOutput::Transmit {
                dest,
                message: Message::Response(response),
            });
        }
    }
}

impl RelayConfig {
    /// Whether `host` (of an address-of-record) is ours: the domain, an alias, or the IP of a
    /// listener (any port: users may write `alice@127.0.0.1` when the relay is not on 5060).
    pub(crate) fn is_our_host(&self, host: &str) -> bool {
        self.is_our_domain_name(host)
            || routing::host_ip(host)
                .is_some_and(|ip| self.listeners.iter().any(|l| l.addr.ip() == ip))
    }
}
