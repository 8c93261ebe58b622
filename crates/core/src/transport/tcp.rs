//! SIP over TCP and TLS (RFC 3261 §18.3 framing, §26.2 TLS), plus the listener/connect plumbing
//! shared with WebSocket: accepting connections, opening them on demand, and the per-connection
//! task that frames the byte stream (`StreamFramer`, the incremental `stream_frame`) and
//! answers RFC 5626 §4.4.1 pings.

use std::net::SocketAddr;
use std::sync::Arc;

use dialtone_sip_message::{StreamFramer, StreamItem};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::flow::{Command, Flow, FlowEnd, Outgoing};
use super::inbound::{self, Inbound};
use super::{ws, ConnectOptions, Inner, Peer, TransportError, TransportEvent, TransportKind};

/// A stream buffer larger than this without a complete message closes the connection.
const MAX_STREAM_BUFFER: usize = 256 * 1024;

/// Binds a listening socket; tries `preferred`'s port first (to share the UDP port).
pub(crate) async fn bind_listener(
    kind: TransportKind,
    addr: SocketAddr,
    preferred: Option<SocketAddr>,
) -> Result<TcpListener, TransportError> {
    if let Some(preferred) = preferred {
        if let Ok(listener) = TcpListener::bind(SocketAddr::new(addr.ip(), preferred.port())).await
        {
            return Ok(listener);
        }
    }
    TcpListener::bind(addr)
        .await
        .map_err(|source| TransportError::Bind { kind, addr, source })
}

/// Accepts connections until shutdown; each one is served by its own task.
pub(crate) async fn accept_loop(inner: Arc<Inner>, kind: TransportKind, listener: TcpListener) {
    let mut shutdown = inner.shutdown_signal();
    loop {
        let (stream, remote) = tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off a little instead of spinning.
                    tracing::warn!("{kind} accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        tokio::spawn(serve_accepted(inner.clone(), kind, stream, remote));
    }
}

/// Runs the server side handshakes of an accepted connection, then its flow.
async fn serve_accepted(
    inner: Arc<Inner>,
    kind: TransportKind,
    stream: TcpStream,
    remote: SocketAddr,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let peer = Peer::new(kind, remote);
    let timeout = inner.connect_timeout;
    let tls_acceptor = inner
        .server_tls
        .clone()
        .map(tokio_rustls::TlsAcceptor::from);
    let handshake = async {
        match kind {
            TransportKind::Tcp => {
                spawn_stream(&inner, peer, local, stream);
                Ok(())
            }
            TransportKind::Tls => {
                let acceptor = tls_acceptor.ok_or("no server TLS configuration")?;
                let tls = acceptor.accept(stream).await.map_err(|e| e.to_string())?;
                spawn_stream(&inner, peer, local, tls);
                Ok(())
            }
            TransportKind::Ws => {
                let socket = ws::accept(stream, peer, inner.ws_origin.as_ref()).await?;
                ws::spawn(&inner, peer, local, socket);
                Ok(())
            }
            TransportKind::Wss => {
                let acceptor = tls_acceptor.ok_or("no server TLS configuration")?;
                let tls = acceptor.accept(stream).await.map_err(|e| e.to_string())?;
                let socket = ws::accept(tls, peer, inner.ws_origin.as_ref()).await?;
                ws::spawn(&inner, peer, local, socket);
                Ok(())
            }
            TransportKind::Udp => Err("UDP is not a stream transport".to_owned()),
        }
    };
    match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(())) => tracing::debug!("accepted {peer} on {local}"),
        Ok(Err(e)) => tracing::info!("handshake with {peer} on {local} failed: {e}"),
        Err(_) => tracing::info!("handshake with {peer} on {local} timed out"),
    }
}

/// Opens a client connection to `peer` (TCP, then TLS and/or WebSocket handshakes) and
/// registers its flow.
pub(crate) async fn connect(
    inner: &Arc<Inner>,
    peer: Peer,
    options: &ConnectOptions,
) -> Result<Flow, TransportError> {
    let timeout = inner.connect_timeout;
    match tokio::time::timeout(timeout, connect_inner(inner, peer, options)).await {
        Ok(result) => result,
        Err(_) => Err(TransportError::ConnectTimeout {
            peer,
            seconds: timeout.as_secs(),
        }),
    }
}

async fn connect_inner(
    inner: &Arc<Inner>,
    peer: Peer,
    options: &ConnectOptions,
) -> Result<Flow, TransportError> {
    let tcp = TcpStream::connect(peer.addr)
        .await
        .map_err(|source| TransportError::Connect { peer, source })?;
    let _ = tcp.set_nodelay(true);
    let local = tcp
        .local_addr()
        .map_err(|source| TransportError::Connect { peer, source })?;
    let server_name = options
        .server_name
        .clone()
        .unwrap_or_else(|| peer.addr.ip().to_string());
    let tls_config = || {
        options
            .tls
            .clone()
            .or_else(|| inner.client_tls.clone())
            .ok_or(TransportError::NoClientTls(peer))
    };
    let flow = match peer.transport {
        TransportKind::Tcp => spawn_stream(inner, peer, local, tcp),
        TransportKind::Tls => {
            let tls = crate::tls::connect(tls_config()?, &server_name, tcp)
                .await
                .map_err(|error| TransportError::Tls { peer, error })?;
            spawn_stream(inner, peer, local, tls)
        }
        TransportKind::Ws => {
            let socket = ws::connect(tcp, peer, &server_name, options).await?;
            ws::spawn(inner, peer, local, socket)
        }
        TransportKind::Wss => {
            let tls = crate::tls::connect(tls_config()?, &server_name, tcp)
                .await
                .map_err(|error| TransportError::Tls { peer, error })?;
            let socket = ws::connect(tls, peer, &server_name, options).await?;
            ws::spawn(inner, peer, local, socket)
        }
        TransportKind::Udp => {
            return Err(TransportError::Unsupported("UDP has no connections".into()))
        }
    };
    tracing::debug!("connected to {peer} from {local}");
    Ok(flow)
}

/// Registers a TCP/TLS flow and starts its task.
fn spawn_stream<S>(inner: &Arc<Inner>, peer: Peer, local: SocketAddr, stream: S) -> Flow
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (flow, commands) = inner.flows.register(peer);
    let end = FlowEnd {
        peer,
        local,
        id: flow.id(),
    };
    tokio::spawn(run_stream(inner.clone(), end, stream, commands));
    flow
}

/// The life of one TCP/TLS connection: writes what it is asked to, frames what it reads, and
/// reports its end.
async fn run_stream<S>(
    inner: Arc<Inner>,
    end: FlowEnd,
    stream: S,
    mut commands: mpsc::Receiver<Command>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let FlowEnd { peer, local, .. } = end;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut shutdown = inner.shutdown_signal();
    let mut framer = StreamFramer::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let reason: Option<String> = loop {
        tokio::select! {
            _ = shutdown.changed() => break None,
            command = commands.recv() => {
                let Some(Command { what, done }) = command else {
                    break None; // removed from the table: close
                };
                let bytes: &[u8] = match &what {
                    Outgoing::Message(bytes) => bytes,
                    Outgoing::KeepAlive => b"\r\n\r\n",
                };
                let result = writer.write_all(bytes).await;
                let failed = result.as_ref().err().map(ToString::to_string);
                let _ = done.send(result);
                if let Some(e) = failed {
                    break Some(format!("write failed: {e}"));
                }
            }
            read = reader.read(&mut chunk) => match read {
                Ok(0) => break None,
                Ok(n) => {
                    framer.push(&chunk[..n]);
                    if let Err(e) = drain_frames(&inner, peer, local, &mut framer, &mut writer).await {
                        break Some(e);
                    }
                }
                Err(e) => break Some(format!("read failed: {e}")),
            },
        }
    };
    let _ = writer.shutdown().await;
    finish(&inner, end, reason).await;
}

/// Handles every complete keep-alive and message buffered in `framer`.
async fn drain_frames<W>(
    inner: &Inner,
    peer: Peer,
    local: SocketAddr,
    framer: &mut StreamFramer,
    writer: &mut W,
) -> Result<(), String>
where
    W: AsyncWrite + Unpin,
{
    loop {
        match framer.next_item() {
            Ok(None) => {
                if framer.buffered() > MAX_STREAM_BUFFER {
                    return Err(format!(
                        "no complete message in {} bytes",
                        framer.buffered()
                    ));
                }
                return Ok(());
            }
            Ok(Some(StreamItem::KeepAlive(n))) => {
                if n >= 4 {
                    // RFC 5626 §4.4.1: answer a CRLFCRLF ping with a CRLF pong.
                    writer
                        .write_all(b"\r\n")
                        .await
                        .map_err(|e| format!("cannot answer keep-alive: {e}"))?;
                } else if n == 2 {
                    inner.emit(TransportEvent::Pong { peer }).await;
                }
            }
            Ok(Some(StreamItem::Message(bytes))) => match inbound::process(&bytes, peer) {
                Inbound::Deliver(message) => {
                    inner
                        .emit(TransportEvent::Message {
                            peer,
                            message,
                            local,
                        })
                        .await;
                }
                Inbound::Reply(reply) => writer
                    .write_all(&reply)
                    .await
                    .map_err(|e| format!("cannot answer bad request: {e}"))?,
                Inbound::Discard => {}
            },
            Err(e) => return Err(format!("stream framing lost: {e}")),
        }
    }
}

/// Forgets the flow and reports its end.
pub(crate) async fn finish(inner: &Inner, end: FlowEnd, reason: Option<String>) {
    inner.flows.remove(end.peer, end.id);
    match &reason {
        Some(r) => tracing::info!("flow to {} closed: {r}", end.peer),
        None => tracing::debug!("flow to {} closed", end.peer),
    }
    inner
        .emit(TransportEvent::FlowClosed {
            peer: end.peer,
            local: end.local,
            reason,
        })
        .await;
}
