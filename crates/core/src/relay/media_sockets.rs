//! The media relay's UDP sockets: one per RTP port and one per RTCP port of each pair
//! (RFC 3550 §11), bound on the relay's media address. Each socket has a receive task that
//! hands datagrams to the driver; the driver asks the sans-IO `MediaRelay` where each goes and
//! sends it from the socket it names.
//!
//! Ports of the range that are taken by someone else are skipped (the pair is not offered).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use dialtone_relay::media::PortPair;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use super::listen::MediaPorts;

/// Largest datagram read (RTP over UDP fits well under this).
const MAX_DATAGRAM: usize = 2048;
/// Datagrams waiting for the driver before new ones are dropped (UDP semantics).
const QUEUE: usize = 1024;

/// One received datagram.
#[derive(Debug)]
pub(crate) struct MediaPacket {
    /// Our port it arrived on.
    pub local_port: u16,
    /// Who sent it.
    pub source: SocketAddr,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The bound media sockets.
pub(crate) struct MediaSockets {
    sockets: HashMap<u16, Arc<UdpSocket>>,
    pairs: Vec<PortPair>,
    skipped: usize,
    stop: watch::Sender<bool>,
}

impl MediaSockets {
    /// Binds every pair of `range` on `ip` that is free and starts the receive tasks, which
    /// feed the returned channel until [`MediaSockets::shutdown`] or drop.
    pub(crate) async fn bind(
        ip: IpAddr,
        range: Option<MediaPorts>,
    ) -> (MediaSockets, mpsc::Receiver<MediaPacket>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = watch::channel(false);
        let mut media = MediaSockets {
            sockets: HashMap::new(),
            pairs: Vec::new(),
            skipped: 0,
            stop,
        };
        let Some(range) = range else {
            return (media, rx);
        };
        for rtp in range.rtp_ports() {
            let Some(pair) = PortPair::consecutive(rtp) else {
                continue;
            };
            let bound = match UdpSocket::bind(SocketAddr::new(ip, pair.rtp)).await {
                Ok(rtp_socket) => match UdpSocket::bind(SocketAddr::new(ip, pair.rtcp)).await {
                    Ok(rtcp_socket) => Some((rtp_socket, rtcp_socket)),
                    Err(e) => {
                        tracing::debug!("media port {} unavailable: {e}", pair.rtcp);
                        None
                    }
                },
                Err(e) => {
                    tracing::debug!("media port {} unavailable: {e}", pair.rtp);
                    None
                }
            };
            let Some((rtp_socket, rtcp_socket)) = bound else {
                media.skipped += 1;
                continue;
            };
            for (port, socket) in [(pair.rtp, rtp_socket), (pair.rtcp, rtcp_socket)] {
                let socket = Arc::new(socket);
                tokio::spawn(receive(socket.clone(), port, tx.clone(), stopped.clone()));
                media.sockets.insert(port, socket);
            }
            media.pairs.push(pair);
        }
        (media, rx)
    }

    /// The pairs bound.
    pub(crate) fn pairs(&self) -> &[PortPair] {
        &self.pairs
    }

    /// Pairs of the range that could not be bound.
    pub(crate) fn skipped(&self) -> usize {
        self.skipped
    }

    /// Sends `bytes` from our socket on `from_port` to `to`; a full socket buffer or an
    /// unreachable destination loses the datagram, as UDP would.
    pub(crate) fn send(&self, from_port: u16, to: SocketAddr, bytes: &[u8]) {
        let Some(socket) = self.sockets.get(&from_port) else {
            tracing::warn!("no media socket on port {from_port}");
            return;
        };
        if let Err(e) = socket.try_send_to(bytes, to) {
            tracing::debug!("media {from_port} -> {to}: {e}");
        }
    }

    /// Stops the receive tasks and closes the sockets.
    pub(crate) fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        self.sockets.clear();
    }
}

impl Drop for MediaSockets {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn receive(
    socket: Arc<UdpSocket>,
    port: u16,
    tx: mpsc::Sender<MediaPacket>,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, source)) => {
                    let packet = MediaPacket { local_port: port, source, bytes: buf[..n].to_vec() };
                    match tx.try_send(packet) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            tracing::debug!("media queue full; datagram on {port} dropped");
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => return,
                    }
                }
                // ICMP port unreachable from an earlier send shows up here on Linux: not fatal.
                Err(e) => tracing::debug!("media port {port}: {e}"),
            },
        }
    }
}
