//! SIP over UDP (RFC 3261 §18): one socket per bound address; every datagram is one message.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::inbound::{self, Inbound};
use super::{Inner, Peer, TransportError, TransportEvent, TransportKind};

/// Largest datagram we accept (the UDP maximum).
const MAX_DATAGRAM: usize = 65_535;

/// A bound UDP socket.
pub(crate) struct UdpEndpoint {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
}

impl UdpEndpoint {
    pub(crate) async fn bind(addr: SocketAddr) -> Result<UdpEndpoint, TransportError> {
        let bind_err = |source| TransportError::Bind {
            kind: TransportKind::Udp,
            addr,
            source,
        };
        let socket = UdpSocket::bind(addr).await.map_err(bind_err)?;
        let local = socket.local_addr().map_err(bind_err)?;
        Ok(UdpEndpoint {
            socket: Arc::new(socket),
            local,
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// Receives datagrams on socket `index` until shutdown. Nothing a peer sends can stop it:
/// unparseable datagrams are answered or dropped, socket errors (e.g. ICMP port unreachable
/// reported on a later `recv`) are logged.
pub(crate) async fn receive_loop(inner: Arc<Inner>, index: usize) {
    let Some(endpoint) = inner.udp.get(index) else {
        return;
    };
    let socket = endpoint.socket.clone();
    let local = endpoint.local;
    let mut shutdown = inner.shutdown_signal();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, source) = tokio::select! {
            _ = shutdown.changed() => return,
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!("UDP {local}: receive error {e}");
                    continue;
                }
            },
        };
        let datagram = &buf[..len];
        if datagram.iter().all(|b| b.is_ascii_whitespace()) {
            // CRLF keep-alive (or empty datagram): nothing to answer on UDP.
            continue;
        }
        let peer = Peer::new(TransportKind::Udp, source);
        match inbound::process(datagram, peer) {
            Inbound::Deliver(message) => {
                inner
                    .emit(TransportEvent::Message {
                        peer,
                        message,
                        local,
                    })
                    .await;
            }
            Inbound::Reply(bytes) => {
                if let Err(e) = socket.send_to(&bytes, source).await {
                    tracing::debug!("UDP {local}: cannot answer {source}: {e}");
                }
            }
            Inbound::Discard => {}
        }
    }
}

/// Sends one datagram to `peer` from the first socket of the same address family.
pub(crate) async fn send_to(inner: &Inner, peer: Peer, bytes: &[u8]) -> Result<(), TransportError> {
    let endpoint = inner
        .udp
        .iter()
        .find(|e| e.local.is_ipv4() == peer.addr.is_ipv4())
        .ok_or(TransportError::NoListener(TransportKind::Udp))?;
    endpoint
        .socket
        .send_to(bytes, peer.addr)
        .await
        .map(|_| ())
        .map_err(|source| TransportError::Send { peer, source })
}
