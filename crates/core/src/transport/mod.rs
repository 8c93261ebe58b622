//! SIP transports on tokio: UDP, TCP, TLS, WebSocket and secure WebSocket (RFC 3261 §18,
//! RFC 7118), with connection reuse (RFC 3261 §18, RFC 5923 spirit) and RFC 5626 keep-alives.
//!
//! [`Transports::bind`] opens the listeners and returns the receiving end of an event channel:
//! every message received on any transport arrives as [`TransportEvent::Message`] (`peer`,
//! `message`, `local` address); a connection that ends is reported as
//! [`TransportEvent::FlowClosed`] so a registration bound to it can re-register (RFC 5626 §4.4).
//!
//! Sending ([`Transports::send`]) goes to a [`Peer`] (`TransportKind` + address). Stream
//! transports reuse the connection to that peer: one we opened earlier (client connections are
//! opened on demand) or one the peer opened to us (responses and requests to a peer that
//! connected to us go back over its connection). A request over UDP larger than
//! [`UDP_MTU_LIMIT`] goes over TCP to the same address instead, with its top Via rewritten
//! (RFC 3261 §18.1.1; see [`mtu_fallback`]).
//!
//! On receipt (RFC 3261 §18.2.1, RFC 3581 §4) the top Via of a request is stamped with
//! `received`/`rport`; unparseable datagrams/frames are logged and dropped, except requests that
//! can still be answered, which get the parse error's response (400, 505, ...). Stream framing
//! uses `stream_frame`; a `CRLFCRLF` ping is answered with `CRLF` (RFC 5626 §4.4.1) and a
//! `CRLF` pong is reported as [`TransportEvent::Pong`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), dialtone_core::transport::TransportError> {
//! use dialtone_core::transport::{Peer, TransportConfig, TransportEvent, TransportKind, Transports};
//! let (transports, mut events) = Transports::bind(TransportConfig::default()).await?;
//! # let options: dialtone_sip_message::Message = todo_message();
//! let proxy = Peer::new(TransportKind::Udp, "127.0.0.1:5060".parse().unwrap());
//! transports.send(proxy, &options).await?;
//! while let Some(event) = events.recv().await {
//!     if let TransportEvent::Message { peer, message, local } = event {
//!         println!("{peer} -> {local}: {:?}", message.as_response().map(|r| r.status));
//!     }
//! }
//! # Ok(()) }
//! # fn todo_message() -> dialtone_sip_message::Message { unreachable!() }
//! ```

mod flow;
mod inbound;
mod mtu;
mod tcp;
mod udp;
mod ws;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dialtone_sip_message::Message;
use tokio::sync::{mpsc, watch};

pub use dialtone_sip::transport::{Peer, TransportKind};
pub use inbound::stamp_received;
pub use mtu::{mtu_fallback, rewrite_top_via_transport, UDP_MTU_LIMIT};

use crate::tls::TlsError;
use flow::{FlowTable, Outgoing};

/// What the transports report on their event channel.
#[derive(Debug)]
pub enum TransportEvent {
    /// A message arrived from `peer` on our address `local`. Requests have their top Via
    /// stamped with `received`/`rport` already.
    Message {
        /// Who sent it (for stream transports: the connection's remote address).
        peer: Peer,
        /// The parsed message.
        message: Box<Message>,
        /// Our address it arrived on.
        local: SocketAddr,
    },
    /// A connection (flow) ended: closed by the peer, broken, or closed by us. Anything bound
    /// to it (e.g. an RFC 5626 registration) must be re-established.
    FlowClosed {
        /// The far end of the flow.
        peer: Peer,
        /// Our end of the flow.
        local: SocketAddr,
        /// Why, if it ended with an error.
        reason: Option<String>,
    },
    /// A keep-alive answer arrived on a flow: a `CRLF` pong (RFC 5626 §4.4.1) or a WebSocket
    /// Pong frame.
    Pong {
        /// The far end of the flow.
        peer: Peer,
    },
}

/// Why a transport operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No listener of that kind was bound, so there is nothing to send from.
    #[error("no {0} transport is configured")]
    NoListener(TransportKind),
    /// A listener could not be bound.
    #[error("cannot listen for SIP over {kind} on {addr}: {source}")]
    Bind {
        /// Transport.
        kind: TransportKind,
        /// Requested address.
        addr: SocketAddr,
        /// OS error.
        source: io::Error,
    },
    /// The connection could not be opened.
    #[error("cannot connect to {peer}: {source}")]
    Connect {
        /// Destination.
        peer: Peer,
        /// OS error (refused, unreachable...).
        source: io::Error,
    },
    /// The connection attempt took longer than the configured timeout.
    #[error("connecting to {peer} timed out after {seconds} s")]
    ConnectTimeout {
        /// Destination.
        peer: Peer,
        /// The timeout.
        seconds: u64,
    },
    /// The TLS handshake failed (certificate problems are spelled out).
    #[error("{peer}: {error}")]
    Tls {
        /// Destination.
        peer: Peer,
        /// What went wrong.
        error: TlsError,
    },
    /// The WebSocket handshake failed (e.g. the server did not accept subprotocol `sip`).
    #[error("WebSocket handshake with {peer} failed: {reason}")]
    WebSocket {
        /// Destination.
        peer: Peer,
        /// What went wrong.
        reason: String,
    },
    /// Writing to the socket failed.
    #[error("sending to {peer} failed: {source}")]
    Send {
        /// Destination.
        peer: Peer,
        /// OS error.
        source: io::Error,
    },
    /// The connection ended before the message could be written.
    #[error("the connection to {0} is closed")]
    FlowClosed(Peer),
    /// A TLS or WSS connection was needed but no client TLS configuration was given.
    #[error("no TLS client configuration to connect to {0}")]
    NoClientTls(Peer),
    /// A TLS or WSS listener was requested without a server certificate.
    #[error("a TLS/WSS listener needs a server certificate (TransportConfig::server_tls)")]
    NoServerTls,
    /// The operation makes no sense for this transport (e.g. keep-alive on UDP without a socket).
    #[error("{0}")]
    Unsupported(String),
}

/// Listeners and client settings.
#[derive(Clone)]
pub struct TransportConfig {
    /// UDP sockets to bind.
    pub udp: Vec<SocketAddr>,
    /// TCP listeners. Port 0 reuses the port of a UDP listener on the same IP when it is free.
    pub tcp: Vec<SocketAddr>,
    /// TLS listeners (need `server_tls`).
    pub tls: Vec<SocketAddr>,
    /// WebSocket listeners (RFC 7118).
    pub ws: Vec<SocketAddr>,
    /// Secure WebSocket listeners (need `server_tls`).
    pub wss: Vec<SocketAddr>,
    /// Certificate for TLS/WSS listeners (see [`crate::tls::server_config`]).
    pub server_tls: Option<Arc<rustls::ServerConfig>>,
    /// Default client configuration for TLS/WSS connections opened by [`Transports::send`]
    /// (per-account trust goes through [`Transports::connect`] with [`ConnectOptions`]).
    pub client_tls: Option<Arc<rustls::ClientConfig>>,
    /// How long opening a connection (TCP + TLS + WebSocket handshakes) may take.
    pub connect_timeout: Duration,
    /// Capacity of the event channel.
    pub event_capacity: usize,
    /// Who may open WebSocket flows to our WS/WSS listeners, judged by the handshake's `Origin`
    /// header (RFC 6455 §10.2). `None`: every handshake offering subprotocol `sip` is accepted.
    pub ws_origin: Option<OriginCheck>,
}

/// The `Origin` check of WebSocket upgrades on our listeners: called with the connecting peer
/// and the handshake's `Origin` header (`None` when it has none, i.e. not a browser). A refused
/// handshake is answered `403 Forbidden` and logged (peer and origin only; no other header of
/// the request is logged, since cookies and credentials may ride on it).
#[derive(Clone)]
pub struct OriginCheck(Arc<OriginFn>);

/// The function behind an [`OriginCheck`].
type OriginFn = dyn Fn(Peer, Option<&str>) -> bool + Send + Sync;

impl OriginCheck {
    /// A check calling `allows(peer, origin)` for every WebSocket upgrade.
    pub fn new(allows: impl Fn(Peer, Option<&str>) -> bool + Send + Sync + 'static) -> OriginCheck {
        OriginCheck(Arc::new(allows))
    }

    /// Whether an upgrade from `peer` with this `Origin` may proceed.
    pub fn allows(&self, peer: Peer, origin: Option<&str>) -> bool {
        (self.0)(peer, origin)
    }
}

impl std::fmt::Debug for OriginCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginCheck(..)")
    }
}

impl Default for TransportConfig {
    /// UDP and TCP on 127.0.0.1, one ephemeral port shared by both; no TLS/WS.
    fn default() -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        TransportConfig {
            udp: vec![loopback],
            tcp: vec![loopback],
            tls: Vec::new(),
            ws: Vec::new(),
            wss: Vec::new(),
            server_tls: None,
            client_tls: None,
            connect_timeout: Duration::from_secs(10),
            event_capacity: 256,
            ws_origin: None,
        }
    }
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("udp", &self.udp)
            .field("tcp", &self.tcp)
            .field("tls", &self.tls)
            .field("ws", &self.ws)
            .field("wss", &self.wss)
            .field("server_tls", &self.server_tls.is_some())
            .field("client_tls", &self.client_tls.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("ws_origin", &self.ws_origin.is_some())
            .finish()
    }
}

/// How to open a client connection (TLS trust and names, WebSocket path).
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// Name to verify the server certificate against and to send as SNI / WebSocket Host
    /// (default: the IP address).
    pub server_name: Option<String>,
    /// TLS client configuration (per-account trust, see [`crate::tls::client_config`]);
    /// default: [`TransportConfig::client_tls`].
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// WebSocket resource path (default `/`).
    pub ws_path: Option<String>,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("server_name", &self.server_name)
            .field("tls", &self.tls.is_some())
            .field("ws_path", &self.ws_path)
            .finish()
    }
}

/// Shared state of all transport tasks.
pub(crate) struct Inner {
    udp: Vec<udp::UdpEndpoint>,
    listeners: Vec<(TransportKind, SocketAddr)>,
    flows: FlowTable,
    events: mpsc::Sender<TransportEvent>,
    shutdown: watch::Receiver<bool>,
    client_tls: Option<Arc<rustls::ClientConfig>>,
    server_tls: Option<Arc<rustls::ServerConfig>>,
    connect_timeout: Duration,
    ws_origin: Option<OriginCheck>,
}

impl Inner {
    /// Hands an event to the consumer (dropped silently once the consumer is gone).
    pub(crate) async fn emit(&self, event: TransportEvent) {
        let _ = self.events.send(event).await;
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }
}

/// Signals every task to stop when the last [`Transports`] handle goes away.
struct ShutdownGuard(watch::Sender<bool>);

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

/// The set of bound transports. Cheap to clone; when the last clone is dropped (or
/// [`Transports::shutdown`] is called) every listener and connection is closed.
#[derive(Clone)]
pub struct Transports {
    inner: Arc<Inner>,
    guard: Arc<ShutdownGuard>,
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transports")
            .field("listeners", &self.inner.listeners)
            .finish_non_exhaustive()
    }
}

impl Transports {
    /// Binds every listener in `config` and starts receiving. Events arrive on the returned
    /// channel until the transports shut down.
    pub async fn bind(
        config: TransportConfig,
    ) -> Result<(Transports, mpsc::Receiver<TransportEvent>), TransportError> {
        let (events_tx, events_rx) = mpsc::channel(config.event_capacity.max(1));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        if (!config.tls.is_empty() || !config.wss.is_empty()) && config.server_tls.is_none() {
            return Err(TransportError::NoServerTls);
        }

        let mut listeners = Vec::new();
        let mut udp_endpoints = Vec::new();
        for addr in &config.udp {
            let endpoint = udp::UdpEndpoint::bind(*addr).await?;
            listeners.push((TransportKind::Udp, endpoint.local_addr()));
            udp_endpoints.push(endpoint);
        }
        let mut stream_listeners = Vec::new();
        for (kind, addrs) in [
            (TransportKind::Tcp, &config.tcp),
            (TransportKind::Tls, &config.tls),
            (TransportKind::Ws, &config.ws),
            (TransportKind::Wss, &config.wss),
        ] {
            for addr in addrs {
                let preferred = if kind == TransportKind::Tcp && addr.port() == 0 {
                    listeners
                        .iter()
                        .find(|(k, a)| *k == TransportKind::Udp && a.ip() == addr.ip())
                        .map(|(_, a)| *a)
                } else {
                    None
                };
                let listener = tcp::bind_listener(kind, *addr, preferred).await?;
                let local = listener
                    .local_addr()
                    .map_err(|source| TransportError::Bind {
                        kind,
                        addr: *addr,
                        source,
                    })?;
                listeners.push((kind, local));
                stream_listeners.push((kind, listener));
            }
        }

        let inner = Arc::new(Inner {
            udp: udp_endpoints,
            listeners,
            flows: FlowTable::default(),
            events: events_tx,
            shutdown: shutdown_rx,
            client_tls: config.client_tls,
            server_tls: config.server_tls,
            connect_timeout: config.connect_timeout,
            ws_origin: config.ws_origin,
        });
        for index in 0..inner.udp.len() {
            tokio::spawn(udp::receive_loop(inner.clone(), index));
        }
        for (kind, listener) in stream_listeners {
            tokio::spawn(tcp::accept_loop(inner.clone(), kind, listener));
        }
        Ok((
            Transports {
                inner,
                guard: Arc::new(ShutdownGuard(shutdown_tx)),
            },
            events_rx,
        ))
    }

    /// Every bound listener with its actual address (ports resolved).
    pub fn listeners(&self) -> &[(TransportKind, SocketAddr)] {
        &self.inner.listeners
    }

    /// The first listener of `kind`, for Via sent-by and Contact.
    pub fn local_addr(&self, kind: TransportKind) -> Option<SocketAddr> {
        self.inner
            .listeners
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, a)| *a)
    }

    /// Sends `message` to `dest` and returns the peer it actually went to: the same, or
    /// `(Tcp, dest.addr)` when an oversized UDP request was moved to TCP (RFC 3261 §18.1.1; if
    /// that connection is refused the request goes over UDP after all, as the RFC asks).
    /// Stream transports reuse the flow to `dest` or open one with the default options.
    pub async fn send(&self, dest: Peer, message: &Message) -> Result<Peer, TransportError> {
        let bytes = message.to_bytes();
        if mtu_fallback(dest.transport, message, bytes.len()) != dest.transport {
            if let Message::Request(request) = message {
                let mut over_tcp = request.clone();
                rewrite_top_via_transport(&mut over_tcp, TransportKind::Tcp);
                let tcp_peer = Peer::new(TransportKind::Tcp, dest.addr);
                match self
                    .send_bytes(tcp_peer, over_tcp.to_bytes(), &ConnectOptions::default())
                    .await
                {
                    Ok(()) => return Ok(tcp_peer),
                    Err(TransportError::Connect { source, .. })
                        if source.kind() == io::ErrorKind::ConnectionRefused =>
                    {
                        tracing::debug!(
                            "{tcp_peer} refused the connection; sending the large request over UDP"
                        );
                    }
                    Err(other) => return Err(other),
                }
            }
        }
        self.send_bytes(dest, bytes, &ConnectOptions::default())
            .await?;
        Ok(dest)
    }

    /// Opens (or reuses) a flow to `addr` over a stream transport with explicit options
    /// (per-account TLS trust, server name, WebSocket path) and returns its peer; later
    /// [`Transports::send`] calls to that peer reuse it.
    pub async fn connect(
        &self,
        kind: TransportKind,
        addr: SocketAddr,
        options: &ConnectOptions,
    ) -> Result<Peer, TransportError> {
        let peer = Peer::new(kind, addr);
        if kind == TransportKind::Udp {
            return Err(TransportError::Unsupported("UDP has no connections".into()));
        }
        self.flow(peer, options).await?;
        Ok(peer)
    }

    /// Sends an RFC 5626 keep-alive on the flow to `peer`: `CRLFCRLF` on TCP/TLS (answered with
    /// a `CRLF` pong, reported as [`TransportEvent::Pong`]), a WebSocket Ping frame on WS/WSS,
    /// and a `CRLFCRLF` datagram on UDP (accepted and ignored by common registrars; no pong).
    /// Stream keep-alives need an existing flow: they never open one.
    pub async fn send_keepalive(&self, peer: Peer) -> Result<(), TransportError> {
        if peer.transport == TransportKind::Udp {
            return udp::send_to(&self.inner, peer, b"\r\n\r\n").await;
        }
        let flow = self
            .inner
            .flows
            .get(peer)
            .ok_or(TransportError::FlowClosed(peer))?;
        flow.send(peer, Outgoing::KeepAlive).await
    }

    /// Closes the flow to `peer`, if any ([`TransportEvent::FlowClosed`] follows).
    pub fn close(&self, peer: Peer) {
        self.inner.flows.remove_peer(peer);
    }

    /// Whether a live flow to `peer` exists.
    pub fn has_flow(&self, peer: Peer) -> bool {
        self.inner.flows.get(peer).is_some()
    }

    /// Stops every listener and connection now (also done when the last handle is dropped).
    pub fn shutdown(&self) {
        let _ = self.guard.0.send(true);
    }

    async fn send_bytes(
        &self,
        dest: Peer,
        bytes: Vec<u8>,
        options: &ConnectOptions,
    ) -> Result<(), TransportError> {
        if dest.transport == TransportKind::Udp {
            return udp::send_to(&self.inner, dest, &bytes).await;
        }
        let flow = self.flow(dest, options).await?;
        flow.send(dest, Outgoing::Message(bytes)).await
    }

    /// The live flow to `peer`, opening a client connection if there is none.
    async fn flow(
        &self,
        peer: Peer,
        options: &ConnectOptions,
    ) -> Result<flow::Flow, TransportError> {
        if let Some(flow) = self.inner.flows.get(peer) {
            return Ok(flow);
        }
        let lock = self.inner.flows.connect_lock(peer);
        let _guard = lock.lock().await;
        // Someone else may have connected (or the peer connected to us) while we waited.
        if let Some(flow) = self.inner.flows.get(peer) {
            return Ok(flow);
        }
        let result = tcp::connect(&self.inner, peer, options).await;
        drop(_guard);
        self.inner.flows.release_connect_lock(peer, lock);
        result
    }
}
