//! Binding the relay's sockets and driving the sans-IO [`Relay`] with tokio.
//!
//! One task owns the relay: it `select!`s over the transports' events, the media sockets'
//! datagrams and `sleep_until` [`Relay::poll_timeout`]; after every input it drains
//! [`Relay::poll_output`] (sending each message, reporting each event) before it sleeps again.
//! Time comes from tokio's clock (`tokio::time::Instant`), as in the phone's driver.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dialtone_relay::media::MediaConfig;
use dialtone_relay::{Listener, MemoryLocationStore, Relay, RelayConfig, RelayOutput, Users};
use dialtone_sip::random::Xorshift;
use dialtone_sip::transport::TransportKind;
use tokio::sync::mpsc;

use super::certificate::{self, RelayCertificate};
use super::listen::{check_bind, transport_name, ListenSpec, MediaPorts};
use super::media_sockets::{MediaPacket, MediaSockets};
use super::report::{flow_name, ListenerReport, RelayReport};
use super::RelayError;
use crate::transport::{TransportConfig, TransportEvent, Transports};

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
        let certificate = if config.tls.is_empty() && config.wss.is_empty() {
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
        let relay = Relay::new(
            relay_config,
            options.users,
            MemoryLocationStore::new(),
            Xorshift::new(seed()),
            now(),
        );
        Ok(RelayServer {
            relay,
            transports,
            transport_events,
            media,
            media_packets,
            certificate,
            media_ip,
        })
    }

    /// The bound SIP listeners (ports resolved).
    pub fn listeners(&self) -> &[(TransportKind, SocketAddr)] {
        self.transports.listeners()
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
            let wake = self
                .relay
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                reason = &mut shutdown => break reason,
                Some(event) = self.transport_events.recv() => self.handle_transport_event(event),
                Some(packet) = self.media_packets.recv() => self.handle_media(packet),
                _ = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => self.relay.handle_timeout(now()),
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
                RelayOutput::Transmit { dest, message } => {
                    if let Err(e) = self.transports.send(dest, &message).await {
                        tracing::debug!("send to {}: {e}", flow_name(dest));
                        report(RelayReport::Error {
                            message: format!("cannot send to {}: {e}", flow_name(dest)),
                        });
                        self.relay.handle_transport_error(now(), dest);
                    }
                }
                RelayOutput::Event(event) => {
                    if let Some(r) = RelayReport::from_event(event, now()) {
                        report(r);
                    } else {
                        tracing::debug!("B2BUA traffic without a B2BUA; ignored");
                    }
                }
            }
        }
    }
}
