//! SIP over WebSocket and secure WebSocket (RFC 7118) with tokio-tungstenite.
//!
//! The handshake must agree on subprotocol `sip` (RFC 7118 §4.1, §4.2). Each SIP message is one
//! WebSocket message, in a text frame when it is UTF-8 and a binary frame otherwise (§5.1); no
//! stream framing is needed. Keep-alives are WebSocket Ping frames; tungstenite answers the
//! peer's pings by itself, and Pong frames are reported as [`TransportEvent::Pong`].

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::client::Request as HandshakeRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use super::flow::{Command, Flow, FlowEnd, Outgoing};
use super::inbound::{self, Inbound};
use super::tcp::finish;
use super::{ConnectOptions, Inner, OriginCheck, Peer, TransportError, TransportEvent};

/// The WebSocket subprotocol for SIP (RFC 7118 §4.1).
pub const SUBPROTOCOL: &str = "sip";

/// Largest WebSocket message accepted.
const MAX_MESSAGE: usize = 256 * 1024;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Whether a `Sec-WebSocket-Protocol` header value offers `sip`.
fn offers_sip(value: &HeaderValue) -> bool {
    value
        .to_str()
        .map(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL))
        })
        .unwrap_or(false)
}

/// How much of a refused `Origin` value is logged.
const MAX_LOGGED_ORIGIN: usize = 120;

/// An `Origin` header value fit for a log line: control characters escaped, cut to a bounded
/// length (it is the peer's text).
fn loggable(origin: &str) -> String {
    let mut shown: String = origin.chars().take(MAX_LOGGED_ORIGIN).collect();
    if shown.len() < origin.len() {
        shown.push('…');
    }
    shown.escape_debug().to_string()
}

/// Server side of the handshake: the `Origin` must pass `origin` (when given; refused with
/// 403 Forbidden), and only clients offering subprotocol `sip` are accepted (400 otherwise).
pub(crate) async fn accept<S>(
    stream: S,
    peer: Peer,
    origin: Option<&OriginCheck>,
) -> Result<WebSocketStream<S>, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // The callback's signature (a large `ErrorResponse` error) is tungstenite's.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, mut response: Response| {
        if let Some(check) = origin {
            let value = request.headers().get(header::ORIGIN);
            // A header that is not visible ASCII cannot be a serialised origin (RFC 6454 §6.1).
            let text = value.map(|v| v.to_str().unwrap_or("\u{fffd}"));
            if !check.allows(peer, text) {
                match text {
                    Some(o) => tracing::warn!(
                        "refused a WebSocket upgrade from {peer}: Origin \"{}\" is not allowed",
                        loggable(o)
                    ),
                    None => {
                        tracing::warn!("refused a WebSocket upgrade from {peer}: no Origin header")
                    }
                }
                let mut refusal = ErrorResponse::new(Some("Origin not allowed".into()));
                *refusal.status_mut() = StatusCode::FORBIDDEN;
                return Err(refusal);
            }
        }
        let offered = request
            .headers()
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .any(offers_sip);
        if offered {
            response.headers_mut().insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(SUBPROTOCOL),
            );
            Ok(response)
        } else {
            let mut refusal =
                ErrorResponse::new(Some("subprotocol \"sip\" required (RFC 7118)".into()));
            *refusal.status_mut() = StatusCode::BAD_REQUEST;
            Err(refusal)
        }
    };
    tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config()))
        .await
        .map_err(|e| format!("WebSocket handshake: {e}"))
}

/// Client side of the handshake on an open (possibly TLS) stream.
pub(crate) async fn connect<S>(
    stream: S,
    peer: Peer,
    server_name: &str,
    options: &ConnectOptions,
) -> Result<WebSocketStream<S>, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let failed = |reason: String| TransportError::WebSocket { peer, reason };
    let scheme = match peer.transport {
        super::TransportKind::Wss => "wss",
        _ => "ws",
    };
    let host = if server_name.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{server_name}]")
    } else {
        server_name.to_owned()
    };
    let path = options.ws_path.as_deref().unwrap_or("/");
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let url = format!("{scheme}://{host}:{}{path}", peer.addr.port());
    let mut request = HandshakeRequest::builder()
        .method("GET")
        .uri(url.as_str())
        .header(header::HOST, format!("{host}:{}", peer.addr.port()))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(
            header::SEC_WEBSOCKET_KEY,
            tokio_tungstenite::tungstenite::handshake::client::generate_key(),
        )
        .body(())
        .map_err(|e| failed(format!("bad WebSocket URL {url}: {e}")))?;
    request.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (socket, response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
            .await
            .map_err(|e| failed(e.to_string()))?;
    let agreed = response
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .is_some_and(offers_sip);
    if !agreed {
        return Err(failed("server did not accept subprotocol \"sip\"".into()));
    }
    Ok(socket)
}

/// Registers a WebSocket flow and starts its task.
pub(crate) fn spawn<S>(
    inner: &Arc<Inner>,
    peer: Peer,
    local: SocketAddr,
    socket: WebSocketStream<S>,
) -> Flow
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (flow, commands) = inner.flows.register(peer);
    let end = FlowEnd {
        peer,
        local,
        id: flow.id(),
    };
    tokio::spawn(run(inner.clone(), end, socket, commands));
    flow
}

/// The life of one WebSocket connection.
async fn run<S>(
    inner: Arc<Inner>,
    end: FlowEnd,
    socket: WebSocketStream<S>,
    mut commands: mpsc::Receiver<Command>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let FlowEnd { peer, local, .. } = end;
    let (mut sink, mut source) = socket.split();
    let mut shutdown = inner.shutdown_signal();
    let reason: Option<String> = loop {
        tokio::select! {
            _ = shutdown.changed() => break None,
            command = commands.recv() => {
                let Some(Command { what, done }) = command else {
                    break None;
                };
                let frame = match what {
                    Outgoing::Message(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => WsMessage::text(text),
                        Err(not_utf8) => WsMessage::binary(not_utf8.into_bytes()),
                    },
                    Outgoing::KeepAlive => WsMessage::Ping(Default::default()),
                };
                let result = sink.send(frame).await.map_err(std::io::Error::other);
                let failed = result.as_ref().err().map(ToString::to_string);
                let _ = done.send(result);
                if let Some(e) = failed {
                    break Some(format!("write failed: {e}"));
                }
            }
            frame = source.next() => match frame {
                None => break None,
                Some(Err(e)) => break Some(e.to_string()),
                Some(Ok(WsMessage::Close(_))) => break None,
                Some(Ok(WsMessage::Pong(_))) => inner.emit(TransportEvent::Pong { peer }).await,
                Some(Ok(WsMessage::Ping(_) | WsMessage::Frame(_))) => {}
                Some(Ok(WsMessage::Text(text))) => {
                    if let Err(e) = handle(&inner, peer, local, text.as_bytes(), &mut sink).await {
                        break Some(e);
                    }
                }
                Some(Ok(WsMessage::Binary(bytes))) => {
                    if let Err(e) = handle(&inner, peer, local, &bytes, &mut sink).await {
                        break Some(e);
                    }
                }
            },
        }
    };
    let _ = sink.close().await;
    finish(&inner, end, reason).await;
}

/// One received WebSocket message = one SIP message (RFC 7118 §5.2).
async fn handle<K>(
    inner: &Inner,
    peer: Peer,
    local: SocketAddr,
    bytes: &[u8],
    sink: &mut K,
) -> Result<(), String>
where
    K: futures_util::Sink<WsMessage> + Unpin,
    K::Error: std::fmt::Display,
{
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(());
    }
    match inbound::process(bytes, peer) {
        Inbound::Deliver(message) => {
            inner
                .emit(TransportEvent::Message {
                    peer,
                    message,
                    local,
                })
                .await;
        }
        Inbound::Reply(reply) => {
            let frame = match String::from_utf8(reply) {
                Ok(text) => WsMessage::text(text),
                Err(not_utf8) => WsMessage::binary(not_utf8.into_bytes()),
            };
            sink.send(frame)
                .await
                .map_err(|e| format!("cannot answer bad request: {e}"))?;
        }
        Inbound::Discard => {}
    }
    Ok(())
}
