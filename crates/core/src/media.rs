//! Per-call media endpoint.
//!
//! Until the audio path lands (issue 5) this offers a fixed G.711 audio stream (PCMU, PCMA, telephone-event) on a
//! real RTP port bound on the signaling address, records where the peer wants RTP, and counts what arrives. It sends
//! no audio yet.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::UdpSocket;

/// The media side of one call.
pub(crate) struct CallMedia {
    local: SocketAddr,
    remote: Option<SocketAddr>,
    received: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl CallMedia {
    /// Binds an RTP port on `ip` and starts counting what arrives on it.
    pub(crate) async fn open(ip: IpAddr) -> std::io::Result<CallMedia> {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let local = socket.local_addr()?;
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            while let Ok((n, _)) = socket.recv_from(&mut buf).await {
                if n >= 12 {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Ok(CallMedia { local, remote: None, received, task })
    }

    /// Our session description for this call.
    pub(crate) fn sdp(&self) -> Vec<u8> {
        let ip = self.local.ip();
        let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
        let port = self.local.port();
        format!(
            "v=0\r\no=dialtone {port} 1 IN {family} {ip}\r\ns=Dialtone\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        )
        .into_bytes()
    }

    /// Takes note of the peer's session description (where it wants RTP).
    pub(crate) fn apply_remote(&mut self, sdp: &[u8]) {
        let text = String::from_utf8_lossy(sdp);
        let mut ip: Option<IpAddr> = None;
        let mut port: Option<u16> = None;
        for line in text.lines() {
            if let Some(c) = line.strip_prefix("c=IN IP4 ").or_else(|| line.strip_prefix("c=IN IP6 ")) {
                ip = c.split('/').next().and_then(|a| a.trim().parse().ok()).or(ip);
            } else if let Some(m) = line.strip_prefix("m=audio ") {
                port = m.split_whitespace().next().and_then(|p| p.parse().ok());
            }
        }
        if let (Some(ip), Some(port)) = (ip, port) {
            self.remote = Some(SocketAddr::new(ip, port));
        }
    }

    /// RTP packets received so far.
    #[allow(dead_code)]
    pub(crate) fn packets_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Where the peer wants our RTP.
    #[allow(dead_code)]
    pub(crate) fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }
}

impl Drop for CallMedia {
    fn drop(&mut self) {
        self.task.abort();
    }
}
