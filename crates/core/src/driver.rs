//! The driver task: owns the sockets and the sans-IO [`UserAgent`], and turns its outputs into I/O and
//! [`PhoneEvent`]s.
//!
//! One task `select!`s over the command channel, the transports' event channel and `sleep_until` the user agent's
//! next timeout (the mini-redis shape). After every input, every output of the user agent is drained before the task
//! sleeps again (str0m's rule). Time comes from tokio's clock, so tests can pause it.
//!
//! The in-call features live in submodules: `calls` (placing and answering calls, offer/answer with a per-call
//! `session`, hold and resume), `transfer` (REFER both ways, INVITE with Replaces), `messaging` (DTMF and MESSAGE)
//! and `presence` (PUBLISH, SUBSCRIBE), `audio` (what each call's media reports, mute, device switches).

mod address;
mod audio;
mod calls;
mod command;
mod messaging;
mod presence;
mod session;
mod transfer;

use crate::account::{Account, AccountForm, ServerAddress, Transport};
use crate::audio::AudioConfig;
use crate::error::PhoneError;
use crate::event::{CallState, Direction, DtmfMethod, Held, PhoneEvent, RegistrationState};
use crate::media::{AudioNotice, NoticeSender};
use crate::transport::{ConnectOptions, TransportConfig, TransportEvent, Transports};
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip::ua::{
    self, CallId, MessageId, PubId, RegId, SubId, UaConfig, UaEvent, UaOutput, UserAgent,
};
use dialtone_sip_message::{NameAddr, Uri};
use session::CallSession;
pub(crate) use session::CallSettings;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

pub(crate) use command::Command;

pub(crate) use address::callee_uri;
use address::{contact_uri, credentials, proxy_uri, register_config};

/// How the driver binds and behaves.
#[derive(Clone, Debug, Default)]
pub struct DriverOptions {
    /// Local IP to bind signaling sockets to. Default: the address the system would use to reach the server
    /// (so a loopback server gives a loopback Contact, and no other interface leaks into headers).
    pub bind_ip: Option<IpAddr>,
}

/// How long Disconnect waits for the registrar (and presence server) to confirm before closing anyway.
const UNREGISTER_GRACE: Duration = Duration::from_secs(4);
/// RFC 5626 §4.4.1 suggests 95–120 s for stream keep-alives; NAT boxes often forget sooner.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
/// Registration lifetime we ask for.
const REGISTER_EXPIRES: u32 = 600;

/// What every part of the driver shares: options, the event channel and the handle counter.
pub(crate) struct Env {
    options: DriverOptions,
    events: broadcast::Sender<PhoneEvent>,
    /// Handles of calls, messages and subscriptions: unique for the phone's life.
    handles: AtomicU64,
    /// The audio of the next calls (devices, files, tone; inactivity timeout).
    audio: AudioConfig,
    /// Codec policy and extra SDP lines of the next calls.
    settings: CallSettings,
    /// Do not disturb: incoming calls are refused with this status (486 or 480).
    do_not_disturb: Option<u16>,
    /// The calls we place offer the WebRTC media profile (`UDP/TLS/RTP/SAVPF`).
    webrtc_offers: bool,
    /// Where every call's media reports.
    notices: NoticeSender,
}

impl Env {
    fn emit(&self, event: PhoneEvent) {
        // No receiver is fine: nobody is listening right now.
        let _ = self.events.send(event);
    }

    fn next_handle(&self) -> u64 {
        self.handles.fetch_add(1, Ordering::Relaxed) + 1
    }
}

pub(crate) struct Driver {
    env: Env,
    commands: mpsc::Receiver<Command>,
    /// What the calls' media report.
    notices: mpsc::UnboundedReceiver<AudioNotice>,
    active: Option<Active>,
    /// The DTMF method of the account (kept across reconnects).
    dtmf_method: DtmfMethod,
}

/// Per-call bookkeeping on the runtime side.
struct CallInfo {
    handle: u64,
    direction: Direction,
    peer: String,
    display_name: Option<String>,
    /// Offer/answer state and media; `None` for an incoming call not yet answered.
    session: Option<CallSession>,
    /// The peer's SDP offer of an incoming call, kept until we answer.
    remote_offer: Option<Vec<u8>>,
    /// Last state reported (and who held the call then), so a state is reported once.
    last_state: Option<(CallState, Option<Held>)>,
    /// The call has been established.
    established: bool,
    /// We placed this call for the peer's REFER in that call: its progress goes there in NOTIFYs.
    transfer_for: Option<CallId>,
    /// This call replaces that one (INVITE with Replaces).
    replaces: Option<u64>,
    /// The final status of the call placed for the peer's REFER in this call went out.
    transfer_done: bool,
    /// The last `media` event, so a repeat is not reported.
    last_media: Option<PhoneEvent>,
}

impl CallInfo {
    fn new(handle: u64, direction: Direction, peer: String) -> CallInfo {
        CallInfo {
            handle,
            direction,
            peer,
            display_name: None,
            session: None,
            remote_offer: None,
            last_state: None,
            established: false,
            transfer_for: None,
            replaces: None,
            transfer_done: false,
            last_media: None,
        }
    }

    fn held(&self) -> Option<Held> {
        self.session.as_ref().and_then(CallSession::held)
    }

    /// The `media` event when what the media uses changed since the last one.
    fn media_report(&mut self) -> Option<PhoneEvent> {
        let event = self.session.as_ref()?.media_event(self.handle)?;
        if self.last_media.as_ref() == Some(&event) {
            return None;
        }
        self.last_media = Some(event.clone());
        Some(event)
    }

    /// The `call` event for `state`, or `None` when that state (with the same holder) was reported last.
    fn report(
        &mut self,
        state: CallState,
        code: Option<u16>,
        reason: Option<String>,
    ) -> Option<PhoneEvent> {
        let held = (state == CallState::Hold).then(|| self.held()).flatten();
        if self.last_state == Some((state, held)) {
            return None;
        }
        self.last_state = Some((state, held));
        Some(PhoneEvent::Call {
            id: self.handle,
            state,
            direction: self.direction,
            peer: self.peer.clone(),
            display_name: self.display_name.clone(),
            code,
            reason,
            held,
            replaces: self.replaces,
        })
    }
}

/// A connected account.
struct Active {
    account: Account,
    ua: UserAgent,
    transports: Transports,
    transport_events: mpsc::Receiver<TransportEvent>,
    /// Next hop for requests (outbound proxy or server), resolved.
    hop: Peer,
    local_ip: IpAddr,
    reg: Option<RegId>,
    registered: bool,
    /// Last registration state reported, to keep repeated ones out.
    last_reg: Option<RegistrationState>,
    calls: HashMap<CallId, CallInfo>,
    /// Our MESSAGEs awaiting their result, by the handle given out.
    messages: HashMap<MessageId, u64>,
    /// Our presence publication, once started.
    publication: Option<PubId>,
    /// Our presence subscriptions: handle and target.
    subscriptions: HashMap<SubId, (u64, String)>,
    next_keepalive: Option<tokio::time::Instant>,
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

fn kind_of(t: Transport) -> TransportKind {
    match t {
        Transport::Udp => TransportKind::Udp,
        Transport::Tcp => TransportKind::Tcp,
        Transport::Tls => TransportKind::Tls,
        Transport::Ws => TransportKind::Ws,
        Transport::Wss => TransportKind::Wss,
    }
}

/// A seed for tags, branches, Call-IDs and cnonces: unpredictable per process (std's per-process random hash keys).
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

async fn resolve(server: &ServerAddress) -> Result<SocketAddr, PhoneError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((server.host.as_str(), server.port))
        .await
        .map_err(|e| PhoneError::Network(format!("cannot resolve {}: {e}", server.host)))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| PhoneError::Network(format!("{} has no address", server.host)))
}

/// The local address the system would use to reach `dest` (no packet is sent: a UDP "connect" only picks a route).
fn route_source(dest: SocketAddr) -> Result<IpAddr, PhoneError> {
    let any: SocketAddr = if dest.is_ipv4() {
        "0.0.0.0:0".parse()
    } else {
        "[::]:0".parse()
    }
    .map_err(|_| PhoneError::Network("bad wildcard address".into()))?;
    let probe = std::net::UdpSocket::bind(any)
        .map_err(|e| PhoneError::Network(format!("cannot open a socket: {e}")))?;
    probe
        .connect(dest)
        .map_err(|e| PhoneError::Network(format!("no route to {dest}: {e}")))?;
    probe
        .local_addr()
        .map(|a| a.ip())
        .map_err(|e| PhoneError::Network(e.to_string()))
}

impl Driver {
    pub(crate) fn new(
        options: DriverOptions,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<PhoneEvent>,
    ) -> Self {
        let (notice_tx, notices) = mpsc::unbounded_channel();
        Driver {
            env: Env {
                options,
                events,
                handles: AtomicU64::new(0),
                audio: AudioConfig::default(),
                settings: CallSettings::default(),
                do_not_disturb: None,
                webrtc_offers: false,
                notices: notice_tx,
            },
            commands,
            notices,
            active: None,
            dtmf_method: DtmfMethod::default(),
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            let timeout = self
                .active
                .as_ref()
                .and_then(|a| a.ua.poll_timeout())
                .map(tokio::time::Instant::from_std);
            let keepalive = self.active.as_ref().and_then(|a| a.next_keepalive);
            let wake = match (timeout, keepalive) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.handle_command(cmd).await,
                    None => {
                        // Every Phone handle is gone: close quietly.
                        self.close(false).await;
                        return;
                    }
                },
                Some(event) = async {
                    match self.active.as_mut() {
                        Some(a) => a.transport_events.recv().await,
                        None => std::future::pending().await,
                    }
                } => self.handle_transport_event(event),
                Some(notice) = self.notices.recv() => {
                    if let Some(active) = self.active.as_mut() {
                        active.on_media_notice(&self.env, notice);
                    }
                }
                _ = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => self.handle_wake().await,
            }
            self.drain().await;
        }
    }

    async fn handle_wake(&mut self) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        active.ua.handle_timeout(now());
        if active
            .next_keepalive
            .is_some_and(|at| at <= tokio::time::Instant::now())
        {
            active.next_keepalive = Some(tokio::time::Instant::now() + KEEPALIVE_INTERVAL);
            if active.transports.has_flow(active.hop) {
                if let Err(e) = active.transports.send_keepalive(active.hop).await {
                    tracing::debug!("keep-alive to {}: {e}", active.hop.addr);
                }
            }
        }
    }

    fn handle_transport_event(&mut self, event: TransportEvent) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        match event {
            TransportEvent::Message { peer, message, .. } => {
                active.ua.handle_message(now(), peer, *message)
            }
            TransportEvent::FlowClosed { peer, reason, .. } => {
                tracing::debug!(
                    "flow to {peer:?} closed: {}",
                    reason.as_deref().unwrap_or("by peer")
                );
                active.ua.handle_transport_error(now(), peer);
                // The registration was bound to that flow (RFC 5626): register again over a new one.
                if peer == active.hop && active.registered {
                    if let Some(old) = active.reg.take() {
                        let _ = active.ua.unregister(now(), old);
                    }
                    active.registered = false;
                    let config = register_config(
                        &active.account,
                        active.local_ip,
                        active.hop,
                        active.local_port(),
                    );
                    active.reg = Some(active.ua.register(now(), config));
                }
            }
            TransportEvent::Pong { .. } => {}
        }
    }

    /// Sends everything the user agent wants sent, and reports what it wants reported.
    async fn drain(&mut self) {
        loop {
            let Some(active) = self.active.as_mut() else {
                return;
            };
            let Some(output) = active.ua.poll_output() else {
                return;
            };
            match output {
                UaOutput::Transmit { mut dest, message } => {
                    // A route to our proxy may name it with another stream transport than our flow (Kamailio's
                    // Record-Route says transport=ws for a WSS flow): keep using the flow we have (RFC 5626 §5.3).
                    if dest.addr == active.hop.addr
                        && dest.transport.is_reliable()
                        && active.hop.transport.is_reliable()
                    {
                        dest = active.hop;
                    }
                    if let Err(e) = active.transports.send(dest, &message).await {
                        tracing::debug!("send to {}: {e}", dest.addr);
                        active.ua.handle_transport_error(now(), dest);
                        self.env.emit(PhoneEvent::error(format!(
                            "cannot send to {}: {e}",
                            dest.addr
                        )));
                    }
                }
                UaOutput::Event(event) => active.on_ua_event(&self.env, event).await,
            }
        }
    }

    async fn connect(&mut self, form: AccountForm) -> Result<(), PhoneError> {
        let account = form.validate().map_err(PhoneError::InvalidAccount)?;
        self.close(true).await;
        let next = account.next_hop().clone();
        let addr = resolve(&next).await?;
        let local_ip = match self.env.options.bind_ip {
            Some(ip) => ip,
            None => route_source(addr)?,
        };
        let bind = SocketAddr::new(local_ip, 0);
        let config = TransportConfig {
            udp: vec![bind],
            tcp: vec![bind],
            client_tls: Some(
                crate::tls::client_config(&crate::tls::TlsTrust::OsRoots).map_err(|e| {
                    PhoneError::Network(format!(
                        "cannot load the system's trusted certificates: {e}"
                    ))
                })?,
            ),
            ..TransportConfig::default()
        };
        let (transports, transport_events) = Transports::bind(config)
            .await
            .map_err(|e| PhoneError::Network(e.to_string()))?;
        let kind = kind_of(next.transport);
        let hop = if kind == TransportKind::Udp {
            Peer::new(kind, addr)
        } else {
            // Open the flow now so a TLS or WebSocket failure is reported with its real cause at Connect.
            let tls = match kind {
                TransportKind::Tls | TransportKind::Wss => Some(
                    crate::tls::client_config(&account.tls_trust)
                        .map_err(|e| PhoneError::Network(e.to_string()))?,
                ),
                _ => None,
            };
            let options = ConnectOptions {
                server_name: Some(next.host.clone()),
                tls,
                ws_path: (!next.path.is_empty()).then(|| next.path.clone()),
            };
            transports
                .connect(kind, addr, &options)
                .await
                .map_err(|e| PhoneError::Network(e.to_string()))?
        };
        let via_port = transports
            .local_addr(TransportKind::Udp)
            .map(|a| a.port())
            .ok_or_else(|| PhoneError::Network("no UDP listener".into()))?;
        // Session timers (RFC 4028) are on by default: 1800 s asked, 90 s minimum.
        let mut ua_config = UaConfig::new(SocketAddr::new(local_ip, via_port), seed());
        ua_config.user_agent = Some(format!("Dialtone/{}", env!("CARGO_PKG_VERSION")));
        // No automatic 180: the driver rings only once it has decided to (do-not-disturb answers with its final
        // status straight after 100 Trying).
        ua_config.auto_ring = false;
        let mut active = Active {
            ua: UserAgent::new(ua_config),
            transports,
            transport_events,
            hop,
            local_ip,
            reg: None,
            registered: false,
            last_reg: None,
            calls: HashMap::new(),
            messages: HashMap::new(),
            publication: None,
            subscriptions: HashMap::new(),
            next_keepalive: kind
                .is_reliable()
                .then(|| tokio::time::Instant::now() + KEEPALIVE_INTERVAL),
            account,
        };
        self.env.emit(PhoneEvent::Listening {
            contact: contact_uri(&active.account, local_ip, via_port).to_string(),
            addr: SocketAddr::new(local_ip, via_port).to_string(),
        });
        if active.account.register {
            let config = register_config(&active.account, local_ip, hop, via_port);
            active.reg = Some(active.ua.register(now(), config));
        }
        self.active = Some(active);
        Ok(())
    }

    /// Hangs up every call, ends presence subscriptions and publications, unregisters (waiting briefly for the
    /// servers' answers) and closes the sockets.
    async fn close(&mut self, graceful: bool) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let calls: Vec<CallId> = active.calls.keys().copied().collect();
        for call in calls {
            let _ = active.ua.hangup(now(), call);
        }
        active.end_presence();
        let unregistering = match active.reg {
            Some(reg) => active.ua.unregister(now(), reg).is_ok(),
            None => false,
        };
        if graceful && (unregistering || active.publication.is_some()) {
            let deadline = tokio::time::Instant::now() + UNREGISTER_GRACE;
            self.drain().await;
            while self
                .active
                .as_ref()
                .is_some_and(|a| a.reg.is_some() || a.publication.is_some())
            {
                let Some(active) = self.active.as_mut() else {
                    break;
                };
                let timeout = active
                    .ua
                    .poll_timeout()
                    .map(tokio::time::Instant::from_std)
                    .unwrap_or(deadline);
                tokio::select! {
                    Some(event) = active.transport_events.recv() => self.handle_transport_event(event),
                    _ = tokio::time::sleep_until(timeout.min(deadline)) => {
                        if tokio::time::Instant::now() >= deadline {
                            break;
                        }
                        if let Some(a) = self.active.as_mut() { a.ua.handle_timeout(now()) }
                    }
                }
                self.drain().await;
            }
        }
        self.drain().await;
        if let Some(active) = self.active.take() {
            active.transports.shutdown();
            if active.reg.is_some() || active.registered {
                self.env.emit(PhoneEvent::Registration {
                    state: RegistrationState::Unregistered,
                    aor: active.account.aor(),
                    code: None,
                    reason: Some("disconnected before the registrar confirmed".into()),
                    expires: None,
                });
            }
        }
    }
}

impl Active {
    fn local_port(&self) -> u16 {
        self.transports
            .local_addr(TransportKind::Udp)
            .map(|a| a.port())
            .unwrap_or(0)
    }

    fn find_call(&self, handle: u64) -> Result<CallId, PhoneError> {
        self.calls
            .iter()
            .find(|(_, info)| info.handle == handle)
            .map(|(id, _)| *id)
            .ok_or(PhoneError::NoSuchCall(handle))
    }

    /// Our identity (From) with the display name.
    fn from(&self) -> Result<NameAddr, PhoneError> {
        let account = &self.account;
        let mut from =
            NameAddr::parse(&account.aor()).map_err(|e| PhoneError::Network(e.to_string()))?;
        if !account.display_name.is_empty() {
            from.display_name = Some(dialtone_sip::validate::quote_display_name(
                &account.display_name,
            ));
        }
        Ok(from)
    }

    fn contact(&self) -> Uri {
        contact_uri(&self.account, self.local_ip, self.local_port())
    }

    /// Where a request to `target` goes: registered (or proxied) accounts send everything to the next hop; others
    /// send straight to the target's host.
    async fn dest_for(&self, target: &Uri) -> Result<Peer, PhoneError> {
        if self.account.register || self.account.outbound_proxy.is_some() {
            return Ok(self.hop);
        }
        let transport = target
            .transport()
            .and_then(|t| t.parse().ok())
            .unwrap_or(self.account.server.transport);
        let server = ServerAddress {
            host: target
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: target.port.unwrap_or(transport.default_port()),
            transport,
            path: String::new(),
        };
        Ok(Peer::new(kind_of(transport), resolve(&server).await?))
    }

    /// Reads what the user typed as a SIP URI at our domain.
    fn target_uri(&self, target: &str) -> Result<Uri, PhoneError> {
        callee_uri(target, &self.account.domain).map_err(|why| PhoneError::InvalidTarget {
            target: target.to_string(),
            why,
        })
    }

    async fn on_ua_event(&mut self, env: &Env, event: UaEvent) {
        match event {
            UaEvent::Registration { id, state } => self.on_registration(env, id, state),
            UaEvent::IncomingCall {
                id,
                from,
                sdp,
                replaces,
                ..
            } => self.on_incoming_call(env, id, from, sdp, replaces).await,
            UaEvent::Call { id, state } => self.on_call_state(env, id, state).await,
            UaEvent::RemoteSdp { id, sdp } => self.on_remote_sdp(env, id, &sdp),
            UaEvent::RemoteOffer { id, sdp } => self.on_remote_offer(env, id, &sdp),
            UaEvent::OfferFailed { id, code, reason } => {
                self.on_offer_failed(env, id, code, &reason)
            }
            UaEvent::TransferRequested {
                id,
                target,
                referred_by,
            } => {
                self.on_transfer_requested(env, id, target, referred_by)
                    .await
            }
            UaEvent::TransferProgress { id, code, reason } => {
                self.on_transfer_progress(env, id, code, reason)
            }
            UaEvent::Dtmf {
                id,
                digit,
                duration_ms,
            } => self.on_dtmf(env, id, digit, duration_ms),
            UaEvent::DtmfFailed { id, digit, code } => self.on_dtmf_failed(env, id, digit, code),
            UaEvent::MessageResult { id, code, reason } => {
                self.on_message_result(env, id, code, reason)
            }
            UaEvent::MessageReceived {
                from,
                call,
                content_type,
                body,
            } => self.on_message(env, from, call, content_type, body),
            UaEvent::Publication { state, .. } => self.on_publication(env, state),
            UaEvent::Subscription { id, state } => self.on_subscription(env, id, state),
            UaEvent::PresenceChanged {
                id,
                entity,
                open,
                note,
            } => self.on_presence(env, id, entity, open, note),
            other => tracing::debug!("user agent event not handled: {other:?}"),
        }
    }

    fn on_registration(&mut self, env: &Env, id: RegId, state: ua::RegistrationState) {
        if self.reg != Some(id) && !matches!(state, ua::RegistrationState::Unregistered) {
            return; // a registration we already replaced
        }
        let (state, code, reason, expires) = match state {
            ua::RegistrationState::Registering => {
                (RegistrationState::Registering, None, None, None)
            }
            ua::RegistrationState::Registered { expires } => {
                self.registered = true;
                (
                    RegistrationState::Registered,
                    Some(200),
                    Some("OK".to_string()),
                    Some(expires),
                )
            }
            ua::RegistrationState::Failed { code, reason } => {
                self.registered = false;
                (RegistrationState::Failed, Some(code), Some(reason), None)
            }
            ua::RegistrationState::Unregistered => {
                if self.reg == Some(id) {
                    self.reg = None;
                    self.registered = false;
                } else {
                    return;
                }
                (RegistrationState::Unregistered, None, None, None)
            }
        };
        // The UA reports Registering again for each challenge round; users see one.
        if state == RegistrationState::Registering
            && self.last_reg == Some(RegistrationState::Registering)
        {
            return;
        }
        self.last_reg = Some(state);
        env.emit(PhoneEvent::Registration {
            state,
            aor: self.account.aor(),
            code,
            reason,
            expires,
        });
    }
}
