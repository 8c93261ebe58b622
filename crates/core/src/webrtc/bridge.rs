//! The media bridge of one call: a [`WebRtcPeer`] on one side, a plain-RTP port pair on the
//! other, and a [`Conversion`] per direction (forwarding when both legs use the same codec,
//! transcoding Opus ↔ G.711 otherwise).
//!
//! Two tasks run per call. The *plain* task reads the RTP socket (latching the first source,
//! RFC 4961, and dropping packets from any other), converts and writes to the WebRTC track; it
//! also watches the peer connection's state and ends the bridge when ICE/DTLS fails or the
//! connection closes. The *WebRTC* task reads the remote track (SRTP already removed by the
//! peer connection), converts and sends to the plain peer. RTCP from the plain peer is read and
//! counted, not forwarded: each leg's RTCP is its own (the peer connection's interceptors send
//! receiver and sender reports on the WebRTC side).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dialtone_media::{classify, PacketKind, RtpPacket};
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::RTCPeerConnectionState;

use super::conversion::{Conversion, MediaFormat};
use super::peer::{to_rtp_packet, PeerEvent, WebRtcPeer};
use super::plain::PlainMedia;
use super::WebRtcError;

/// Largest datagram read from the plain leg.
const MAX_DATAGRAM: usize = 2048;

/// Packet counters of a bridge.
#[derive(Debug, Default)]
struct Counters {
    to_plain_packets: AtomicU64,
    to_plain_bytes: AtomicU64,
    to_webrtc_packets: AtomicU64,
    to_webrtc_bytes: AtomicU64,
    from_plain_packets: AtomicU64,
    from_webrtc_packets: AtomicU64,
    dropped_spoofed: AtomicU64,
    plain_rtcp_packets: AtomicU64,
    send_errors: AtomicU64,
}

/// What a bridge has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BridgeStats {
    /// RTP packets received from the plain peer (from the latched source).
    pub from_plain_packets: u64,
    /// RTP packets received from the WebRTC peer (after SRTP).
    pub from_webrtc_packets: u64,
    /// RTP packets sent to the plain peer.
    pub to_plain_packets: u64,
    /// Their payload bytes.
    pub to_plain_bytes: u64,
    /// RTP packets written to the WebRTC track.
    pub to_webrtc_packets: u64,
    /// Their payload bytes.
    pub to_webrtc_bytes: u64,
    /// Packets from another source than the latched plain peer, dropped.
    pub dropped_spoofed: u64,
    /// RTCP packets received from the plain peer (read, not forwarded).
    pub plain_rtcp_packets: u64,
    /// Packets that could not be sent.
    pub send_errors: u64,
}

impl Counters {
    fn snapshot(&self) -> BridgeStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        BridgeStats {
            from_plain_packets: get(&self.from_plain_packets),
            from_webrtc_packets: get(&self.from_webrtc_packets),
            to_plain_packets: get(&self.to_plain_packets),
            to_plain_bytes: get(&self.to_plain_bytes),
            to_webrtc_packets: get(&self.to_webrtc_packets),
            to_webrtc_bytes: get(&self.to_webrtc_bytes),
            dropped_spoofed: get(&self.dropped_spoofed),
            plain_rtcp_packets: get(&self.plain_rtcp_packets),
            send_errors: get(&self.send_errors),
        }
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// Why a bridge ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BridgeEnd {
    /// [`MediaBridge::stop`] was called (the call ended).
    Stopped,
    /// ICE or DTLS failed, or the WebRTC peer went away.
    WebRtcFailed,
    /// The plain leg's socket failed.
    PlainFailed(String),
}

/// What a bridge reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeEvent {
    /// ICE and DTLS are up: media can flow.
    Connected,
    /// The bridge stopped by itself (not through [`MediaBridge::stop`]).
    Ended(BridgeEnd),
}

/// How a bridge is set up.
#[derive(Debug, Clone)]
pub struct BridgePlan {
    /// The plain leg's negotiated media.
    pub plain: PlainMedia,
    /// The WebRTC leg's negotiated Opus format.
    pub webrtc: MediaFormat,
    /// Random starting sequence numbers and timestamps of the two outgoing streams (RFC 3550
    /// §5.1): (to plain, to WebRTC).
    pub start: ((u16, u32), (u16, u32)),
}

/// A running bridge.
pub struct MediaBridge {
    counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    peer: Arc<WebRtcPeer>,
    transcoding: bool,
}

impl std::fmt::Debug for MediaBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaBridge")
            .field("transcoding", &self.transcoding)
            .field("stats", &self.counters.snapshot())
            .finish_non_exhaustive()
    }
}

/// Where RTP for the plain peer goes: its SDP address until it sends, then the latched source.
#[derive(Debug)]
struct PlainDest {
    addr: SocketAddr,
    latched: bool,
}

impl MediaBridge {
    /// Starts bridging `peer` (whose events arrive on `peer_events`) and the plain leg's
    /// sockets. Events go to `events`. Fails only when a codec cannot be created.
    pub fn start(
        peer: WebRtcPeer,
        peer_events: mpsc::UnboundedReceiver<PeerEvent>,
        sockets: (UdpSocket, UdpSocket),
        plan: BridgePlan,
        events: mpsc::UnboundedSender<BridgeEvent>,
    ) -> Result<MediaBridge, WebRtcError> {
        let ((plain_seq, plain_ts), (webrtc_seq, webrtc_ts)) = plan.start;
        let to_plain = Conversion::new(&plan.webrtc, &plan.plain.format, plain_seq, plain_ts)
            .map_err(|e| WebRtcError::Codec(e.to_string()))?;
        let to_webrtc = Conversion::new(&plan.plain.format, &plan.webrtc, webrtc_seq, webrtc_ts)
            .map_err(|e| WebRtcError::Codec(e.to_string()))?;
        let transcoding = to_plain.is_transcoding();
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = watch::channel(false);
        let peer = Arc::new(peer);
        let (rtp, rtcp) = sockets;
        let rtp = Arc::new(rtp);
        let dest = Arc::new(Mutex::new(PlainDest {
            addr: plan.plain.remote,
            latched: false,
        }));
        let plain_ssrc = peer.ssrc() ^ 0x5a5a_5a5a;
        let ctx = Shared {
            counters: counters.clone(),
            peer: peer.clone(),
            rtp,
            dest,
            plain_ssrc,
            ended: Arc::new(AtomicBool::new(false)),
            events,
        };
        tokio::spawn(run_plain(
            ctx,
            rtcp,
            peer_events,
            to_plain,
            to_webrtc,
            stopped,
        ));
        Ok(MediaBridge {
            counters,
            stop,
            peer,
            transcoding,
        })
    }

    /// Whether the legs use different codecs (and this bridge transcodes).
    pub fn is_transcoding(&self) -> bool {
        self.transcoding
    }

    /// The counters so far.
    pub fn stats(&self) -> BridgeStats {
        self.counters.snapshot()
    }

    /// Stops the tasks and closes the peer connection; returns the final counters.
    pub async fn stop(self) -> BridgeStats {
        let _ = self.stop.send(true);
        self.peer.close().await;
        self.counters.snapshot()
    }
}

/// What both tasks share.
#[derive(Clone)]
struct Shared {
    counters: Arc<Counters>,
    peer: Arc<WebRtcPeer>,
    rtp: Arc<UdpSocket>,
    dest: Arc<Mutex<PlainDest>>,
    plain_ssrc: u32,
    ended: Arc<AtomicBool>,
    events: mpsc::UnboundedSender<BridgeEvent>,
}

impl Shared {
    /// Reports the end once (whichever task notices first).
    fn end(&self, why: BridgeEnd) {
        if !self.ended.swap(true, Ordering::SeqCst) {
            let _ = self.events.send(BridgeEvent::Ended(why));
        }
    }
}

async fn run_plain(
    ctx: Shared,
    rtcp: UdpSocket,
    mut peer_events: mpsc::UnboundedReceiver<PeerEvent>,
    to_plain: Conversion,
    mut to_webrtc: Conversion,
    mut stopped: watch::Receiver<bool>,
) {
    let mut to_plain = Some(to_plain);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut rtcp_buf = vec![0u8; MAX_DATAGRAM];
    let mut out = Vec::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            event = peer_events.recv() => match event {
                Some(PeerEvent::Track(track)) => {
                    if let Some(conversion) = to_plain.take() {
                        tokio::spawn(run_webrtc(ctx.clone(), track, conversion, stopped.clone()));
                    }
                }
                Some(PeerEvent::State(RTCPeerConnectionState::Connected)) => {
                    let _ = ctx.events.send(BridgeEvent::Connected);
                }
                Some(PeerEvent::State(
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed,
                )) | None => {
                    ctx.end(BridgeEnd::WebRtcFailed);
                    return;
                }
                Some(PeerEvent::State(_)) => {}
            },
            received = ctx.rtp.recv_from(&mut buf) => {
                let (n, source) = match received {
                    Ok(r) => r,
                    // ICMP port unreachable from an earlier send shows up here on Linux.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                    Err(e) => {
                        ctx.end(BridgeEnd::PlainFailed(e.to_string()));
                        return;
                    }
                };
                let bytes = &buf[..n];
                let kind = classify(bytes);
                if !matches!(kind, PacketKind::Rtp | PacketKind::Rtcp) || !accept_source(&ctx, source) {
                    continue;
                }
                if kind == PacketKind::Rtcp {
                    bump(&ctx.counters.plain_rtcp_packets, 1); // rtcp-mux
                    continue;
                }
                let Ok(packet) = RtpPacket::parse(bytes) else { continue };
                bump(&ctx.counters.from_plain_packets, 1);
                out.clear();
                to_webrtc.push(&packet, &mut out);
                for p in &out {
                    match ctx.peer.send(p).await {
                        Ok(()) => {
                            bump(&ctx.counters.to_webrtc_packets, 1);
                            bump(&ctx.counters.to_webrtc_bytes, p.payload.len() as u64);
                        }
                        Err(_) => bump(&ctx.counters.send_errors, 1),
                    }
                }
            },
            received = rtcp.recv_from(&mut rtcp_buf) => {
                if received.is_ok() {
                    bump(&ctx.counters.plain_rtcp_packets, 1);
                }
            },
        }
    }
}

/// Latches the plain peer's first source; afterwards only that source is accepted.
fn accept_source(ctx: &Shared, source: SocketAddr) -> bool {
    // The lock is never held across an await and no code under it panics.
    let Ok(mut dest) = ctx.dest.lock() else {
        return false;
    };
    if dest.latched {
        if dest.addr == source {
            return true;
        }
        bump(&ctx.counters.dropped_spoofed, 1);
        return false;
    }
    dest.addr = source;
    dest.latched = true;
    true
}

async fn run_webrtc(
    ctx: Shared,
    track: Arc<dyn TrackRemote>,
    mut conversion: Conversion,
    mut stopped: watch::Receiver<bool>,
) {
    let mut out = Vec::new();
    let mut wire = Vec::new();
    loop {
        let event = tokio::select! {
            _ = stopped.changed() => return,
            event = track.poll() => event,
        };
        match event {
            Some(TrackRemoteEvent::OnRtpPacket(packet)) => {
                bump(&ctx.counters.from_webrtc_packets, 1);
                out.clear();
                conversion.push(&to_rtp_packet(&packet), &mut out);
                let dest = match ctx.dest.lock() {
                    Ok(d) => d.addr,
                    Err(_) => return,
                };
                for p in &mut out {
                    p.ssrc = ctx.plain_ssrc;
                    wire.clear();
                    p.write(&mut wire);
                    match ctx.rtp.try_send_to(&wire, dest) {
                        Ok(_) => {
                            bump(&ctx.counters.to_plain_packets, 1);
                            bump(&ctx.counters.to_plain_bytes, p.payload.len() as u64);
                        }
                        Err(_) => bump(&ctx.counters.send_errors, 1),
                    }
                }
            }
            Some(TrackRemoteEvent::OnEnded) | None => return,
            Some(_) => {}
        }
    }
}
