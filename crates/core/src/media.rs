//! Per-call media endpoint: the seam between call signalling and the audio path.
//!
//! One [`CallMedia`] per call. Until the audio path lands (issue 5) it binds a real RTP port on the signalling address,
//! takes note of what each offer/answer exchange settled (RFC 3264 §6–§8: codec, where the peer wants RTP, the
//! direction from our side — `sendonly` while we hold, `recvonly` while the peer holds us) and counts what arrives. It
//! sends no audio yet, so there is nothing to stop on hold and no RFC 4733 event to send: the driver asks
//! [`CallMedia::can_send_telephone_events`] before choosing RFC 4733 for DTMF.

use dialtone_sdp::{AcceptedMedia, Direction, NegotiatedCodec, TelephoneEvent};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::UdpSocket;

/// The media side of one call.
pub(crate) struct CallMedia {
    local: SocketAddr,
    remote: Option<SocketAddr>,
    codec: Option<NegotiatedCodec>,
    telephone_event: Option<TelephoneEvent>,
    direction: Direction,
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
        Ok(CallMedia {
            local,
            remote: None,
            codec: None,
            telephone_event: None,
            direction: Direction::SendRecv,
            received,
            task,
        })
    }

    /// Our RTP address (written into our offers and answers).
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Applies the outcome of an offer/answer exchange for the audio stream.
    pub(crate) fn apply(&mut self, audio: &AcceptedMedia) {
        self.remote = Some(audio.remote_rtp);
        self.codec = Some(audio.codec.clone());
        self.telephone_event = audio.telephone_event.clone();
        self.direction = audio.direction;
    }

    /// The audio stream was rejected or disabled (port 0): nothing to send or play.
    pub(crate) fn disable(&mut self) {
        self.direction = Direction::Inactive;
    }

    /// Applies a peer's description we could not match to an offer of ours (it came in the ACK to a re-INVITE of the
    /// peer without SDP, or in the answer to a session refresh): only where to send and the direction change.
    pub(crate) fn update_remote(&mut self, remote: SocketAddr, direction: Direction) {
        self.remote = Some(remote);
        self.direction = direction;
    }

    /// Whether RFC 4733 telephone-events can go out in the media stream. Always false here: this endpoint sends no
    /// RTP until the audio path lands.
    pub(crate) fn can_send_telephone_events(&self) -> bool {
        false
    }

    /// The negotiated RFC 4733 payload, if any.
    pub(crate) fn telephone_event(&self) -> Option<&TelephoneEvent> {
        self.telephone_event.as_ref()
    }

    /// The codec in use, if negotiated.
    pub(crate) fn codec(&self) -> Option<&NegotiatedCodec> {
        self.codec.as_ref()
    }

    /// The direction from our side.
    pub(crate) fn direction(&self) -> Direction {
        self.direction
    }

    /// Where the peer wants our RTP.
    pub(crate) fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// RTP packets received so far.
    #[allow(dead_code)] // read by the audio path and by debugging sessions
    pub(crate) fn packets_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

impl Drop for CallMedia {
    fn drop(&mut self) {
        self.task.abort();
    }
}
