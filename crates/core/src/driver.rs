//! The driver task: owns the sockets and the sans-IO [`UserAgent`], and turns its outputs into I/O and
//! [`PhoneEvent`]s.
//!
//! One task `select!`s over the command channel, the transports' event channel and `sleep_until` the user agent's
//! next timeout (the mini-redis shape). After every input, every output of the user agent is drained before the task
//! sleeps again (str0m's rule). Time comes from tokio's clock, so tests can pause it.

use crate::account::{Account, AccountForm, ServerAddress, Transport};
use crate::error::PhoneError;
use crate::event::{CallState, Direction, PhoneEvent, RegistrationState};
use crate::media::CallMedia;
use crate::transport::{ConnectOptions, TransportConfig, TransportEvent, Transports};
use dialtone_sip::auth::Credentials;
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip::ua::{
    self, CallId, InviteConfig, RegId, RegisterConfig, UaConfig, UaEvent, UaOutput, UserAgent,
};
use dialtone_sip_message::{NameAddr, Scheme, Uri};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};

type Reply<T> = oneshot::Sender<Result<T, PhoneError>>;

/// Commands from [`crate::Phone`] to the driver.
pub(crate) enum Command {
    Connect {
        form: Box<AccountForm>,
        reply: Reply<()>,
    },
    Disconnect {
        reply: Reply<()>,
    },
    Call {
        target: String,
        reply: Reply<u64>,
    },
    Answer {
        id: u64,
        reply: Reply<()>,
    },
    Decline {
        id: u64,
        reply: Reply<()>,
    },
    Hangup {
        id: u64,
        reply: Reply<()>,
    },
}

/// How the driver binds and behaves.
#[derive(Clone, Debug, Default)]
pub struct DriverOptions {
    /// Local IP to bind signaling sockets to. Default: the address the system would use to reach the server
    /// (so a loopback server gives a loopback Contact, and no other interface leaks into headers).
    pub bind_ip: Option<IpAddr>,
}

/// How long Disconnect waits for the registrar to confirm the unregister before closing anyway.
const UNREGISTER_GRACE: Duration = Duration::from_secs(4);
/// RFC 5626 §4.4.1 suggests 95–120 s for stream keep-alives; NAT boxes often forget sooner.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
/// Registration lifetime we ask for.
const REGISTER_EXPIRES: u32 = 600;

pub(crate) struct Driver {
    options: DriverOptions,
    commands: mpsc::Receiver<Command>,
    events: broadcast::Sender<PhoneEvent>,
    active: Option<Active>,
    next_handle: u64,
}

/// Per-call bookkeeping on the runtime side.
struct CallInfo {
    handle: u64,
    direction: Direction,
    peer: String,
    display_name: Option<String>,
    media: Option<CallMedia>,
    /// The peer's SDP offer of an incoming call, kept until we answer.
    remote_offer: Option<Vec<u8>>,
    /// Last state reported, so a state is reported once.
    last_state: Option<CallState>,
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

fn sip_uri(text: &str) -> Result<Uri, String> {
    Uri::parse(text).map_err(|e| e.to_string())
}

fn host_for_uri(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

impl Driver {
    pub(crate) fn new(
        options: DriverOptions,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<PhoneEvent>,
    ) -> Self {
        Driver {
            options,
            commands,
            events,
            active: None,
            next_handle: 0,
        }
    }

    fn emit(&self, event: PhoneEvent) {
        // No receiver is fine: nobody is listening right now.
        let _ = self.events.send(event);
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
                        self.emit(PhoneEvent::Error {
                            message: format!("cannot send to {}: {e}", dest.addr),
                        });
                    }
                }
                UaOutput::Event(event) => self.handle_ua_event(event).await,
            }
        }
    }

    async fn handle_ua_event(&mut self, event: UaEvent) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let aor = active.account.aor();
        match event {
            UaEvent::Registration { id, state } => {
                if active.reg != Some(id) && !matches!(state, ua::RegistrationState::Unregistered) {
                    return; // a registration we already replaced
                }
                let (state, code, reason, expires) = match state {
                    ua::RegistrationState::Registering => {
                        (RegistrationState::Registering, None, None, None)
                    }
                    ua::RegistrationState::Registered { expires } => {
                        active.registered = true;
                        (
                            RegistrationState::Registered,
                            Some(200),
                            Some("OK".to_string()),
                            Some(expires),
                        )
                    }
                    ua::RegistrationState::Failed { code, reason } => {
                        active.registered = false;
                        (RegistrationState::Failed, Some(code), Some(reason), None)
                    }
                    ua::RegistrationState::Unregistered => {
                        if active.reg == Some(id) {
                            active.reg = None;
                            active.registered = false;
                        } else {
                            return;
                        }
                        (RegistrationState::Unregistered, None, None, None)
                    }
                };
                // The UA reports Registering again for each challenge round; users see one.
                if state == RegistrationState::Registering
                    && active.last_reg == Some(RegistrationState::Registering)
                {
                    return;
                }
                active.last_reg = Some(state);
                self.emit(PhoneEvent::Registration {
                    state,
                    aor,
                    code,
                    reason,
                    expires,
                });
            }
            UaEvent::IncomingCall { id, from, sdp, .. } => {
                self.next_handle += 1;
                let info = CallInfo {
                    handle: self.next_handle,
                    direction: Direction::Incoming,
                    peer: from.uri.to_string(),
                    display_name: from.display_name.clone(),
                    media: None,
                    remote_offer: sdp,
                    last_state: Some(CallState::Ring),
                };
                let event = call_event(&info, CallState::Ring, None, None);
                active.calls.insert(id, info);
                self.emit(event);
            }
            UaEvent::Call { id, state } => {
                let Some(info) = active.calls.get_mut(&id) else {
                    return;
                };
                let (state, code, reason, done) = match state {
                    ua::CallState::Pending => (CallState::Pending, None, None, false),
                    ua::CallState::Trying => (CallState::Trying, Some(100), None, false),
                    ua::CallState::Ringing => (CallState::Ring, Some(180), None, false),
                    ua::CallState::RingingMedia { sdp } => {
                        if let Some(media) = info.media.as_mut() {
                            media.apply_remote(&sdp);
                        }
                        (CallState::RingMedia, Some(183), None, false)
                    }
                    ua::CallState::Established { sdp, needs_answer } => {
                        if let Some(sdp) = &sdp {
                            if let Some(media) = info.media.as_mut() {
                                media.apply_remote(sdp);
                            }
                        }
                        if needs_answer {
                            // Late offer in the 2xx: answer it in the ACK.
                            let media = match CallMedia::open(active.local_ip).await {
                                Ok(m) => m,
                                Err(e) => {
                                    self.emit(PhoneEvent::Error {
                                        message: format!("cannot open media: {e}"),
                                    });
                                    return;
                                }
                            };
                            let answer = media.sdp();
                            info.media = Some(media);
                            let _ = active.ua.answer(now(), id, answer);
                        }
                        (CallState::Established, Some(200), None, false)
                    }
                    ua::CallState::Finished { reason } => {
                        (CallState::Finish, None, Some(end_reason(&reason)), true)
                    }
                    ua::CallState::Failed { code, reason } => {
                        (CallState::Failed, Some(code), Some(reason), true)
                    }
                    ua::CallState::Busy { code } => (
                        CallState::Busy,
                        Some(code),
                        Some(dialtone_sip_message::default_reason(code).to_string()),
                        true,
                    ),
                };
                if info.last_state == Some(state) {
                    return;
                }
                info.last_state = Some(state);
                let event = call_event(info, state, code, reason);
                if done {
                    active.calls.remove(&id);
                }
                self.emit(event);
            }
            UaEvent::RemoteSdp { id, sdp } => {
                if let Some(media) = active.calls.get_mut(&id).and_then(|c| c.media.as_mut()) {
                    media.apply_remote(&sdp);
                }
            }
            // In-call features (hold offers from the peer, transfer, DTMF, MESSAGE, presence) are wired in the
            // in-call issue; until then the UA's own defaults answer them.
            _ => {}
        }
    }

    async fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::Connect { form, reply } => {
                let result = self.connect(*form).await;
                let _ = reply.send(result);
            }
            Command::Disconnect { reply } => {
                self.close(true).await;
                let _ = reply.send(Ok(()));
            }
            Command::Call { target, reply } => {
                let result = self.call(&target).await;
                let _ = reply.send(result);
            }
            Command::Answer { id, reply } => {
                let result = self.answer(id).await;
                let _ = reply.send(result);
            }
            Command::Decline { id, reply } => {
                let result = self.with_call(id, |ua, call| ua.reject(now(), call, 603));
                let _ = reply.send(result);
            }
            Command::Hangup { id, reply } => {
                let result = self.with_call(id, |ua, call| ua.hangup(now(), call));
                let _ = reply.send(result);
            }
        }
    }

    fn find_call(&self, handle: u64) -> Result<CallId, PhoneError> {
        let active = self.active.as_ref().ok_or(PhoneError::NotConnected)?;
        active
            .calls
            .iter()
            .find(|(_, info)| info.handle == handle)
            .map(|(id, _)| *id)
            .ok_or(PhoneError::NoSuchCall(handle))
    }

    fn with_call(
        &mut self,
        handle: u64,
        f: impl FnOnce(&mut UserAgent, CallId) -> Result<(), ua::UaError>,
    ) -> Result<(), PhoneError> {
        let call = self.find_call(handle)?;
        let active = self.active.as_mut().ok_or(PhoneError::NotConnected)?;
        f(&mut active.ua, call).map_err(|e| PhoneError::WrongState(e.to_string()))
    }

    async fn answer(&mut self, handle: u64) -> Result<(), PhoneError> {
        let call = self.find_call(handle)?;
        let active = self.active.as_mut().ok_or(PhoneError::NotConnected)?;
        let mut media = CallMedia::open(active.local_ip)
            .await
            .map_err(|e| PhoneError::Network(e.to_string()))?;
        let info = active
            .calls
            .get_mut(&call)
            .ok_or(PhoneError::NoSuchCall(handle))?;
        if let Some(offer) = info.remote_offer.take() {
            media.apply_remote(&offer);
        }
        let sdp = media.sdp();
        info.media = Some(media);
        active
            .ua
            .answer(now(), call, sdp)
            .map_err(|e| PhoneError::WrongState(e.to_string()))
    }

    async fn connect(&mut self, form: AccountForm) -> Result<(), PhoneError> {
        let account = form.validate().map_err(PhoneError::InvalidAccount)?;
        self.close(true).await;
        let next = account.next_hop().clone();
        let addr = resolve(&next).await?;
        let local_ip = match self.options.bind_ip {
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
        let mut ua_config = UaConfig::new(SocketAddr::new(local_ip, via_port), seed());
        ua_config.user_agent = Some(format!("Dialtone/{}", env!("CARGO_PKG_VERSION")));
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
            next_keepalive: kind
                .is_reliable()
                .then(|| tokio::time::Instant::now() + KEEPALIVE_INTERVAL),
            account,
        };
        self.emit(PhoneEvent::Listening {
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

    /// Hangs up every call, unregisters (waiting briefly for the registrar's answer) and closes the sockets.
    async fn close(&mut self, graceful: bool) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let calls: Vec<CallId> = active.calls.keys().copied().collect();
        for call in calls {
            let _ = active.ua.hangup(now(), call);
        }
        if let Some(reg) = active.reg {
            if active.ua.unregister(now(), reg).is_ok() && graceful {
                let deadline = tokio::time::Instant::now() + UNREGISTER_GRACE;
                self.drain().await;
                while self.active.as_ref().is_some_and(|a| a.reg.is_some()) {
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
        }
        self.drain().await;
        if let Some(active) = self.active.take() {
            active.transports.shutdown();
            if active.reg.is_some() || active.registered {
                self.emit(PhoneEvent::Registration {
                    state: RegistrationState::Unregistered,
                    aor: active.account.aor(),
                    code: None,
                    reason: Some("disconnected before the registrar confirmed".into()),
                    expires: None,
                });
            }
        }
    }

    async fn call(&mut self, target: &str) -> Result<u64, PhoneError> {
        let active = self.active.as_mut().ok_or(PhoneError::NotConnected)?;
        let target_uri = callee_uri(target, &active.account.domain).map_err(|why| {
            PhoneError::InvalidTarget {
                target: target.to_string(),
                why,
            }
        })?;
        // Registered (or proxied) accounts send everything to the next hop; a direct call goes to the callee's host.
        let dest = if active.account.register || active.account.outbound_proxy.is_some() {
            active.hop
        } else {
            let transport = target_uri
                .transport()
                .and_then(|t| t.parse().ok())
                .unwrap_or(active.account.server.transport);
            let server = ServerAddress {
                host: target_uri
                    .host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: target_uri.port.unwrap_or(transport.default_port()),
                transport,
                path: String::new(),
            };
            Peer::new(kind_of(transport), resolve(&server).await?)
        };
        let media = CallMedia::open(active.local_ip)
            .await
            .map_err(|e| PhoneError::Network(e.to_string()))?;
        let account = &active.account;
        let mut from =
            NameAddr::parse(&account.aor()).map_err(|e| PhoneError::Network(e.to_string()))?;
        if !account.display_name.is_empty() {
            from.display_name = Some(dialtone_sip::validate::quote_display_name(
                &account.display_name,
            ));
        }
        let contact = contact_uri(account, active.local_ip, active.local_port());
        let mut config =
            InviteConfig::new(target_uri.clone(), from, contact, Some(media.sdp()), dest);
        config.auth = credentials(account);
        config.route = account.outbound_proxy.as_ref().map(proxy_uri);
        let id = active.ua.invite(now(), config);
        self.next_handle += 1;
        let info = CallInfo {
            handle: self.next_handle,
            direction: Direction::Outgoing,
            peer: target_uri.to_string(),
            display_name: None,
            media: Some(media),
            remote_offer: None,
            last_state: Some(CallState::Pending),
        };
        let event = call_event(&info, CallState::Pending, None, None);
        active.calls.insert(id, info);
        self.emit(event);
        Ok(self.next_handle)
    }
}

impl Active {
    fn local_port(&self) -> u16 {
        self.transports
            .local_addr(TransportKind::Udp)
            .map(|a| a.port())
            .unwrap_or(0)
    }
}

fn call_event(
    info: &CallInfo,
    state: CallState,
    code: Option<u16>,
    reason: Option<String>,
) -> PhoneEvent {
    PhoneEvent::Call {
        id: info.handle,
        state,
        direction: info.direction,
        peer: info.peer.clone(),
        display_name: info.display_name.clone(),
        code,
        reason,
    }
}

fn end_reason(reason: &ua::EndReason) -> String {
    reason.to_string()
}

fn credentials(account: &Account) -> Option<Credentials> {
    (!account.password.is_empty()).then(|| {
        Credentials::new(
            account.auth_name.clone(),
            account.password.expose().to_string(),
        )
    })
}

fn proxy_uri(proxy: &ServerAddress) -> Uri {
    let host = if proxy.host.contains(':') {
        format!("[{}]", proxy.host)
    } else {
        proxy.host.clone()
    };
    let mut uri = Uri::sip(None, &host, Some(proxy.port));
    if proxy.transport != Transport::Udp {
        uri.params
            .push(("transport".into(), Some(proxy.transport.as_str().into())));
    }
    uri.params.push(("lr".into(), None));
    uri
}

fn contact_uri(account: &Account, ip: IpAddr, port: u16) -> Uri {
    let mut uri = Uri::sip(Some(&account.login), &host_for_uri(ip), Some(port));
    let t = account.next_hop().transport;
    if t != Transport::Udp {
        uri.params
            .push(("transport".into(), Some(t.as_str().into())));
    }
    uri
}

fn register_config(account: &Account, ip: IpAddr, hop: Peer, port: u16) -> RegisterConfig {
    let domain = &account.domain;
    let registrar = Uri::sip(None, domain, None);
    let aor = Uri::sip(Some(&account.login), domain, None);
    let mut config = RegisterConfig::new(registrar, aor, contact_uri(account, ip, port), hop);
    config.credentials = credentials(account);
    config.expires = REGISTER_EXPIRES;
    config.outbound_proxy = account.outbound_proxy.as_ref().map(proxy_uri);
    config.display_name = (!account.display_name.is_empty()).then(|| account.display_name.clone());
    config
}

/// What the user typed in the callee field, as a SIP URI: `sip:`/`sips:` URIs as they are, `tel:` numbers and bare
/// users at our domain, `user@host` with `sip:` prepended.
pub(crate) fn callee_uri(target: &str, domain: &str) -> Result<Uri, String> {
    let target = target.trim();
    if target.is_empty() {
        return Err("nobody to call: the callee is empty".into());
    }
    let lower = target.to_ascii_lowercase();
    let text = if lower.starts_with("sip:") || lower.starts_with("sips:") {
        target.to_string()
    } else if let Some(number) = lower.strip_prefix("tel:").map(|_| &target[4..]) {
        let number: String = number
            .split(';')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !"-. ()".contains(*c))
            .collect();
        if number.is_empty()
            || !number
                .chars()
                .all(|c| c.is_ascii_digit() || c == '+' || c == '*' || c == '#')
        {
            return Err(format!("\"{target}\" is not a telephone number"));
        }
        format!("sip:{number}@{domain};user=phone")
    } else if target.contains('@') {
        format!("sip:{target}")
    } else {
        dialtone_sip::validate::validate_user_part(target).map_err(|e| e.to_string())?;
        format!("sip:{target}@{domain}")
    };
    let uri = sip_uri(&text)?;
    match uri.scheme {
        Scheme::Sip | Scheme::Sips => Ok(uri),
        _ => Err("only sip:, sips: and tel: addresses can be called".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callee_forms() {
        assert_eq!(
            callee_uri("bob", "example.com").unwrap().to_string(),
            "sip:bob@example.com"
        );
        assert_eq!(
            callee_uri("bob@10.0.0.1:5070", "x").unwrap().to_string(),
            "sip:bob@10.0.0.1:5070"
        );
        assert_eq!(
            callee_uri("tel:+1-555-0100", "pbx").unwrap().to_string(),
            "sip:+15550100@pbx;user=phone"
        );
        assert!(callee_uri("", "x").is_err());
        assert!(callee_uri("bo b", "x").is_err());
        assert!(callee_uri("tel:abc", "x").is_err());
    }
}
