//! Binding the relay's sockets and driving the sans-IO [`Relay`] with tokio.
//!
//! One task owns the relay: it `select!`s over the transports' events, the media sockets'
//! datagrams and `sleep_until` [`Relay::poll_timeout`]; after every input it drains
//! [`Relay::poll_output`] (sending each message, reporting each event) before it sleeps again.
//! Time comes from tokio's clock (`tokio::time::Instant`), as in the phone's driver.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dialtone_relay::media::MediaConfig;
use dialtone_relay::{
    Listener, MemoryLocationStore, OriginPolicy, Relay, RelayConfig, RelayEvent, RelayOutput, Users,
};
use dialtone_sip::random::Xorshift;
use dialtone_sip::transport::TransportKind;
use tokio::sync::mpsc;

use super::b2bua::{B2bua, B2buaInput};
use super::certificate::{self, RelayCertificate};
use super::listen::{check_bind, transport_name, ListenSpec, MediaPorts};
use super::media_sockets::{MediaPacket, MediaSockets};
use super::page::{PageConfig, PageServer};
use super::report::{flow_name, ListenerReport, RelayReport};
use super::selector::WebRtcBridgeSelector;
use super::RelayError;
use crate::transport::{OriginCheck, Peer, TransportConfig, TransportEvent, Transports};

/// How long opening a connection may take. The relay only opens connections when a flow it
/// needs is gone (a closed flow removes its bindings first), so this rarely matters, but a
/// send waits for it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What the relay is asked to do.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// SIP listeners (at least one).
    pub listen: Vec<ListenSpec>,
    /// The accounts.
    pub users: Users,
    /// Our SIP domain; default: the first listener's IP address.
    pub domain: Option<String>,
    /// Media ports; `None` turns media anchoring off (the parties then send RTP to each other).
    pub media_ports: Option<MediaPorts>,
    /// Allow non-loopback listeners.
    pub expose: bool,
    /// Where the TLS/WSS certificate is kept; default [`certificate::default_state_dir`].
    pub state_dir: Option<PathBuf>,
    /// Serve the browser phone page over HTTP on this address.
    pub http: Option<SocketAddr>,
    /// Serve the browser phone page over HTTPS (the relay's certificate) on this address.
    pub https: Option<SocketAddr>,
    /// Bridge calls between WebRTC browsers and plain-RTP phones (B2BUA); on by default.
    pub webrtc_bridge: bool,
    /// Web origins (`scheme://host[:port]`) allowed to open WebSocket flows besides the relay's
    /// own phone page, e.g. a web app on another port. Browsers send their page's origin with
    /// every WebSocket handshake; any other origin gets `403 Forbidden` (cross-site WebSocket
    /// hijacking: a page the user visits must not register or call through the relay).
    /// Handshakes without an Origin (not a browser) are allowed.
    pub allow_origins: Vec<String>,
    /// Digest algorithms to challenge with, in header order; `None`: the relay's default (MD5,
    /// see [`RelayConfig::digest_algorithms`]).
    pub digest_algorithms: Option<Vec<dialtone_sip::auth::Algorithm>>,
}

impl RelayOptions {
    /// These listeners and users, media on `40000-40100`, loopback only, default domain and
    /// state directory.
    pub fn new(listen: Vec<ListenSpec>, users: Users) -> RelayOptions {
        RelayOptions {
            listen,
            users,
            domain: None,
            media_ports: Some(MediaPorts {
                first: 40000,
                last: 40100,
            }),
            expose: false,
            state_dir: None,
            http: None,
            https: None,
            webrtc_bridge: true,
            allow_origins: Vec::new(),
            digest_algorithms: None,
        }
    }
}

/// A bound relay, ready to [`RelayServer::run`].
pub struct RelayServer {
    relay: Relay<MemoryLocationStore>,
    transports: Transports,
    transport_events: mpsc::Receiver<TransportEvent>,
    media: MediaSockets,
    media_packets: mpsc::Receiver<MediaPacket>,
    certificate: Option<RelayCertificate>,
    media_ip: IpAddr,
    b2bua: B2bua,
    b2bua_inputs: mpsc::UnboundedReceiver<(u64, B2buaInput)>,
    pages: Vec<PageServer>,
    origin_refusals: mpsc::UnboundedReceiver<RelayReport>,
}

impl std::fmt::Debug for RelayServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayServer")
            .field("relay", &self.relay)
            .field("transports", &self.transports)
            .field("media_pairs", &self.media.pairs().len())
            .finish_non_exhaustive()
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// An unpredictable seed for the relay's RNG (nonce keys, flow-token keys, tags, branches).
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    // No OS entropy (should not happen): std's per-process random hash keys and the time.
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// How much of a refused Origin goes into a report.
const MAX_REPORTED_ORIGIN: usize = 120;

/// The WebSocket Origin check of the relay's listeners: `policy` once set (until then only
/// handshakes without an Origin pass); each refusal is reported on `refusals`.
fn origin_check(
    policy: Arc<OnceLock<OriginPolicy>>,
    refusals: mpsc::UnboundedSender<RelayReport>,
) -> OriginCheck {
    OriginCheck::new(move |peer: Peer, origin: Option<&str>| {
        let allowed = match policy.get() {
            Some(policy) => policy.allows(origin),
            None => origin.is_none(),
        };
        if !allowed {
            let _ = refusals.send(RelayReport::OriginRefused {
                flow: flow_name(peer),
                origin: origin.map(|o| o.chars().take(MAX_REPORTED_ORIGIN).collect()),
            });
        }
        allowed
    })
}

/// The origins of a page the relay serves: its own (`http://127.0.0.1:8088`), and for a page
/// on 127.0.0.1 or ::1 also `localhost` with the same port (what a user types).
fn page_origins(page: &PageServer) -> Vec<String> {
    let scheme = if page.secure { "https" } else { "http" };
    let mut origins = vec![format!("{scheme}://{}", page.addr)];
    if matches!(page.addr.ip(), IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::LOCALHOST)
        || page.addr.ip() == IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
    {
        origins.push(format!("{scheme}://localhost:{}", page.addr.port()));
    }
    origins
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

impl RelayServer {
    /// Checks the options and binds the listeners, the certificate (when a TLS or WSS listener
    /// is asked for) and the media ports.
    pub async fn start(options: RelayOptions) -> Result<RelayServer, RelayError> {
        let first = options.listen.first().ok_or(RelayError::NoListeners)?;
        for spec in &options.listen {
            check_bind(spec, options.expose)?;
        }
        for (kind, addr) in [
            (TransportKind::Tcp, options.http),
            (TransportKind::Tls, options.https),
        ] {
            if let Some(addr) = addr {
                check_bind(&ListenSpec { kind, addr }, options.expose)?;
            }
        }
        let media_ip = first.addr.ip();
        let mut config = TransportConfig {
            udp: Vec::new(),
            tcp: Vec::new(),
            connect_timeout: CONNECT_TIMEOUT,
            event_capacity: 1024,
            ..TransportConfig::default()
        };
        for spec in &options.listen {
            let list = match spec.kind {
                TransportKind::Udp => &mut config.udp,
                TransportKind::Tcp => &mut config.tcp,
                TransportKind::Tls => &mut config.tls,
                TransportKind::Ws => &mut config.ws,
                TransportKind::Wss => &mut config.wss,
            };
            list.push(spec.addr);
        }
        let certificate =
            if config.tls.is_empty() && config.wss.is_empty() && options.https.is_none() {
                None
            } else {
                let dir = match &options.state_dir {
                    Some(dir) => dir.clone(),
                    None => certificate::default_state_dir().ok_or(RelayError::NoStateDir)?,
                };
                let mut ips: Vec<IpAddr> = options.listen.iter().map(|s| s.addr.ip()).collect();
                ips.sort();
                ips.dedup();
                let cert = certificate::load_or_create(&dir, &ips)?;
                config.server_tls = Some(cert.server_config.clone());
                Some(cert)
            };
        // Checked now so a bad --allow-origin fails before anything is bound.
        OriginPolicy::new(&options.allow_origins)?;
        let origins = Arc::new(OnceLock::new());
        let (refusals, origin_refusals) = mpsc::unbounded_channel();
        config.ws_origin = Some(origin_check(origins.clone(), refusals));
        let (media, media_packets) = MediaSockets::bind(media_ip, options.media_ports).await;
        if let Some(range) = options.media_ports {
            if media.pairs().is_empty() {
                return Err(RelayError::NoMediaPorts {
                    first: range.first,
                    last: range.last,
                    ip: media_ip,
                });
            }
        }
        let (transports, transport_events) = Transports::bind(config).await?;
        let listeners: Vec<Listener> = transports
            .listeners()
            .iter()
            .map(|(kind, addr)| Listener::new(*kind, *addr))
            .collect();
        let domain = options
            .domain
            .clone()
            .unwrap_or_else(|| host_of(first.addr.ip()));
        let mut relay_config = RelayConfig::new(&domain, listeners);
        if options.listen.iter().all(|s| s.addr.ip().is_loopback()) {
            relay_config.aliases.push("localhost".into());
        }
        relay_config.media = MediaConfig::new(media_ip, media.pairs().to_vec());
        if let Some(algorithms) = &options.digest_algorithms {
            relay_config.digest_algorithms = algorithms.clone();
        }
        let mut relay = Relay::new(
            relay_config,
            options.users,
            MemoryLocationStore::new(),
            Xorshift::new(seed()),
            now(),
        );
        if options.webrtc_bridge {
            relay.set_mode_selector(WebRtcBridgeSelector);
        }
        let (b2bua, b2bua_inputs) = B2bua::new(media_ip, seed());
        let url_of = |kind: TransportKind, scheme: &str| {
            transports
                .listeners()
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, addr)| format!("{scheme}://{addr}"))
        };
        let page_config = PageConfig {
            ws_url: url_of(TransportKind::Ws, "ws"),
            wss_url: url_of(TransportKind::Wss, "wss"),
            domain: domain.clone(),
        };
        let mut pages = Vec::new();
        let page_failed =
            |addr: SocketAddr, source: std::io::Error| RelayError::Page { addr, source };
        if let Some(addr) = options.http {
            let page = PageServer::bind(addr, None, page_config.clone())
                .await
                .map_err(|e| page_failed(addr, e))?;
            pages.push(page);
        }
        if let (Some(addr), Some(cert)) = (options.https, certificate.as_ref()) {
            let page = PageServer::bind(addr, Some(cert.server_config.clone()), page_config)
                .await
                .map_err(|e| page_failed(addr, e))?;
            pages.push(page);
        }
        let mut allowed = options.allow_origins.clone();
        for page in &pages {
            allowed.extend(page_origins(page));
        }
        // The listeners were bound with a check that waits for this list (until now only
        // non-browser handshakes could pass; no page was being served anyway).
        let _ = origins.set(OriginPolicy::new(&allowed)?);
        Ok(RelayServer {
            relay,
            transports,
            transport_events,
            media,
            media_packets,
            certificate,
            media_ip,
            b2bua,
            b2bua_inputs,
            pages,
            origin_refusals,
        })
    }

    /// The bound SIP listeners (ports resolved).
    pub fn listeners(&self) -> &[(TransportKind, SocketAddr)] {
        self.transports.listeners()
    }

    /// Where the browser phone page is served: the HTTP page first (if any), then the HTTPS one.
    pub fn page_addrs(&self) -> Vec<SocketAddr> {
        self.pages.iter().map(|p| p.addr).collect()
    }

    /// The TLS/WSS certificate, when a TLS or WSS listener is bound.
    pub fn certificate(&self) -> Option<&RelayCertificate> {
        self.certificate.as_ref()
    }

    /// The reports describing the started relay (`started`, and `certificate` if any).
    pub fn started_reports(&self) -> Vec<RelayReport> {
        let mut reports = vec![RelayReport::Started {
            domain: self.relay.config().domain.clone(),
            listeners: self
                .listeners()
                .iter()
                .map(|(kind, addr)| ListenerReport {
                    transport: transport_name(*kind).to_string(),
                    addr: *addr,
                })
                .collect(),
            media_ip: self.media_ip,
            media_pairs: self.media.pairs().len(),
            media_pairs_skipped: self.media.skipped(),
            users: self.relay.users().len(),
        }];
        for page in &self.pages {
            reports.push(RelayReport::Page { url: page.url() });
        }
        if let Some(cert) = &self.certificate {
            reports.push(RelayReport::Certificate {
                path: cert.path.display().to_string(),
                fingerprint: cert.fingerprint.to_string(),
                created: cert.created,
            });
        }
        reports
    }

    /// Serves until `shutdown` completes (its output is the reason reported in
    /// [`RelayReport::Stopped`]), handing every report to `report`. The `started` reports are
    /// handed over first.
    pub async fn run<F>(mut self, mut report: impl FnMut(RelayReport), shutdown: F)
    where
        F: Future<Output = String>,
    {
        for r in self.started_reports() {
            report(r);
        }
        tokio::pin!(shutdown);
        let reason = loop {
            let wake = [self.relay.poll_timeout(), self.b2bua.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                reason = &mut shutdown => break reason,
                Some(event) = self.transport_events.recv() => self.handle_transport_event(event),
                Some(packet) = self.media_packets.recv() => self.handle_media(packet),
                Some(refused) = self.origin_refusals.recv() => report(refused),
                Some((key, input)) = self.b2bua_inputs.recv() => {
                    self.b2bua.on_input(&mut self.relay, now(), key, input);
                }
                _ = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    let now = now();
                    self.relay.handle_timeout(now);
                    self.b2bua.handle_timeout(&mut self.relay, now);
                }
            }
            self.drain(&mut report).await;
        };
        self.transports.shutdown();
        self.media.shutdown();
        report(RelayReport::Stopped { reason });
    }

    fn handle_transport_event(&mut self, event: TransportEvent) {
        match event {
            TransportEvent::Message { peer, message, .. } => {
                self.relay.handle_message(now(), peer, *message)
            }
            TransportEvent::FlowClosed { peer, reason, .. } => {
                tracing::debug!(
                    "flow {} closed: {}",
                    flow_name(peer),
                    reason.as_deref().unwrap_or("by peer")
                );
                self.relay.handle_flow_closed(now(), peer);
            }
            TransportEvent::Pong { .. } => {}
        }
    }

    fn handle_media(&mut self, packet: MediaPacket) {
        let forward =
            self.relay
                .handle_media_packet(now(), packet.local_port, packet.source, &packet.bytes);
        if let Some(forward) = forward {
            self.media.send(
                forward.from_port,
                forward.to,
                &packet.bytes[..forward.bytes],
            );
        }
    }

    /// Sends and reports everything the relay has for us.
    async fn drain(&mut self, report: &mut impl FnMut(RelayReport)) {
        while let Some(output) = self.relay.poll_output() {
            match output {
                RelayOutput::Transmit { dest, mut message } => {
                    md5_challenges_for_browsers(dest, &mut message);
                    if let Err(e) = self.transports.send(dest, &message).await {
                        tracing::debug!("send to {}: {e}", flow_name(dest));
                        report(RelayReport::Error {
                            message: format!("cannot send to {}: {e}", flow_name(dest)),
                        });
                        self.relay.handle_transport_error(now(), dest);
                    }
                }
                RelayOutput::Event(RelayEvent::B2bua(event)) => {
                    self.b2bua.on_event(&mut self.relay, now(), event);
                }
                RelayOutput::Event(event) => {
                    if let Some(r) = RelayReport::from_event(event, now()) {
                        report(r);
                    }
                }
            }
        }
        for r in self.b2bua.take_reports() {
            report(r);
        }
    }
}

/// Whether a challenge header value names MD5 (or no algorithm, which means MD5; RFC 7616 §3.3).
fn is_md5_challenge(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    match lower.find("algorithm=") {
        None => true,
        Some(at) => lower[at + "algorithm=".len()..]
            .split(',')
            .next()
            .map(|a| a.trim().trim_matches('"').eq_ignore_ascii_case("md5"))
            .unwrap_or(false),
    }
}

/// 401/407 challenges sent over WebSocket flows keep only their MD5 entries. Browser SIP stacks
/// do only MD5, and JsSIP 3.x keeps the *last* WWW-/Proxy-Authenticate header it parses (its
/// parser replaces earlier ones), so a challenge listing MD5 then SHA-256 (RFC 8760 §2.4 order,
/// which SIPp and other UDP clients need MD5-first for) makes it give up. The same rewrite
/// applies to every WebSocket client alike (unknown users and wrong passwords still get the same
/// answer).
fn md5_challenges_for_browsers(
    dest: dialtone_sip::transport::Peer,
    message: &mut dialtone_sip_message::Message,
) {
    use dialtone_sip_message::{same_name, Headers, Message};
    if !matches!(dest.transport, TransportKind::Ws | TransportKind::Wss) {
        return;
    }
    let Message::Response(response) = message else {
        return;
    };
    if response.status != 401 && response.status != 407 {
        return;
    }
    let is_challenge =
        |name: &str| same_name(name, "WWW-Authenticate") || same_name(name, "Proxy-Authenticate");
    let has_md5 = response
        .headers
        .iter()
        .any(|(n, v)| is_challenge(n) && is_md5_challenge(v));
    if !has_md5 {
        return;
    }
    let mut headers = Headers::new();
    for (name, value) in response.headers.iter() {
        if !is_challenge(name) || is_md5_challenge(value) {
            headers.push(name, value);
        }
    }
    response.headers = headers;
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_sip::transport::Peer;
    use dialtone_sip_message::{Message, Response};

    fn challenge() -> Message {
        let mut r = Response::new(407, "Proxy Authentication Required");
        r.headers
            .push("Via", "SIP/2.0/WS x.invalid;branch=z9hG4bK1");
        r.headers.push(
            "Proxy-Authenticate",
            "Digest realm=\"d\", nonce=\"n\", algorithm=MD5, qop=\"auth\"",
        );
        r.headers.push(
            "Proxy-Authenticate",
            "Digest realm=\"d\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"",
        );
        r.headers.push("Content-Length", "0");
        Message::Response(r)
    }

    #[test]
    fn websocket_clients_get_md5_challenges_only() {
        let mut ws = challenge();
        md5_challenges_for_browsers(
            Peer::new(TransportKind::Ws, "127.0.0.1:1".parse().unwrap()),
            &mut ws,
        );
        let ws = ws.as_response().unwrap();
        let values: Vec<&str> = ws.headers.get_all("Proxy-Authenticate").collect();
        assert_eq!(values.len(), 1);
        assert!(values[0].contains("algorithm=MD5"));
        assert_eq!(ws.headers.iter().next().map(|(n, _)| n), Some("Via"));
        let mut udp = challenge();
        md5_challenges_for_browsers(
            Peer::new(TransportKind::Udp, "127.0.0.1:1".parse().unwrap()),
            &mut udp,
        );
        assert_eq!(
            udp.as_response()
                .unwrap()
                .headers
                .get_all("Proxy-Authenticate")
                .count(),
            2
        );
        assert!(is_md5_challenge("Digest realm=\"x\", nonce=\"y\""));
        assert!(!is_md5_challenge("Digest algorithm=\"SHA-256\""));
    }
}
