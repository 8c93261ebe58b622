//! The WebRTC leg: one webrtc-rs `PeerConnection` carrying one Opus audio stream — ICE
//! (RFC 8445; host candidates on one address, no STUN/TURN servers, no mDNS), DTLS-SRTP
//! (RFC 5763, RFC 5764), rtcp-mux (RFC 5761) and BUNDLE (RFC 8843), offer/answer per JSEP
//! (RFC 8829) without trickle: descriptions are handed over with every candidate in them.
//!
//! The connection binds one UDP socket on the given address. On loopback (tests, a relay
//! kept on 127.0.0.1) loopback candidates are allowed; otherwise the address is the relay's
//! chosen interface.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dialtone_media::RtpPacket;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
    PeerConnectionEventHandler, RTCBundlePolicy, RTCConfigurationBuilder, RTCIceGatheringState,
    RTCPeerConnectionState, RTCRtcpMuxPolicy, RTCSessionDescription, Registry,
    SettingEngineBuilder,
};

use super::conversion::MediaFormat;
use super::session_text::{ensure_bundle, opus_format};
use super::WebRtcError;

/// The Opus payload type we offer (the one browsers use).
pub const OPUS_PAYLOAD_TYPE: u8 = 111;
/// Opus parameters we ask for (RFC 7587 §6.1): 10 ms minimum packets, in-band FEC.
pub const OPUS_FMTP: &str = "minptime=10;useinbandfec=1";
/// The RFC 4733 telephone-event payload type we offer, at the Opus clock (48 kHz, the one browsers use).
pub const TELEPHONE_EVENT_PAYLOAD_TYPE: u8 = 110;
/// ICE connectivity-check pacing (Ta).
const CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// How long gathering host candidates may take before a description is handed over anyway.
const GATHER_TIMEOUT: Duration = Duration::from_secs(5);

/// What the connection reports.
#[derive(Clone)]
pub enum PeerEvent {
    /// The peer's audio track arrived; read its packets with [`TrackRemote::poll`].
    Track(Arc<dyn TrackRemote>),
    /// The connection state changed (ICE + DTLS, W3C `RTCPeerConnectionState`).
    State(RTCPeerConnectionState),
}

impl std::fmt::Debug for PeerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerEvent::Track(_) => f.write_str("Track"),
            PeerEvent::State(s) => write!(f, "State({s})"),
        }
    }
}

struct Handler {
    events: mpsc::UnboundedSender<PeerEvent>,
    gathered: watch::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(PeerEvent::State(state));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send(PeerEvent::Track(track));
    }
}

/// One WebRTC audio leg.
pub struct WebRtcPeer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    gathered: watch::Receiver<bool>,
}

impl std::fmt::Debug for WebRtcPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcPeer")
            .field("ssrc", &self.ssrc)
            .finish_non_exhaustive()
    }
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: OPUS_FMTP.to_owned(),
        rtcp_feedback: vec![],
    }
}

fn failed(step: &'static str) -> impl Fn(webrtc::error::Error) -> WebRtcError {
    move |e| WebRtcError::PeerConnection {
        step,
        reason: e.to_string(),
    }
}

impl WebRtcPeer {
    /// A connection gathering host candidates on `ip` only, with our Opus track added.
    /// `ssrc` is our stream's SSRC (random, from the caller). Events come out of the returned
    /// receiver.
    pub async fn new(
        ip: IpAddr,
        ssrc: u32,
    ) -> Result<(WebRtcPeer, mpsc::UnboundedReceiver<PeerEvent>), WebRtcError> {
        let mut media_engine = MediaEngine::default();
        media_engine
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: opus_codec(),
                    payload_type: OPUS_PAYLOAD_TYPE,
                },
                RtpCodecKind::Audio,
            )
            .map_err(failed("register Opus"))?;
        // RFC 4733 DTMF events in the Opus stream's clock (RFC 4733 §2.1: the events share the audio's
        // timestamps), as Chromium sends them with Opus.
        media_engine
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: RTCRtpCodec {
                        mime_type: "audio/telephone-event".to_owned(),
                        clock_rate: 48_000,
                        channels: 0,
                        sdp_fmtp_line: "0-15".to_owned(),
                        rtcp_feedback: vec![],
                    },
                    payload_type: TELEPHONE_EVENT_PAYLOAD_TYPE,
                },
                RtpCodecKind::Audio,
            )
            .map_err(failed("register telephone-event"))?;
        let registry = register_default_interceptors(Registry::new(), &mut media_engine)
            .map_err(failed("register interceptors"))?;
        let settings = SettingEngineBuilder::new()
            .with_include_loopback_candidate(ip.is_loopback())
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            // Ta = 50 ms (RFC 8445 §14.2) instead of webrtc-rs's 200 ms tick: the first check
            // goes out at once, which takes ~150 ms off every call setup. 28 attempts keep the
            // default ~1.4 s per candidate pair.
            .with_ice_connection_attempts(Some(CHECK_INTERVAL), Some(28))
            .build();
        let config = RTCConfigurationBuilder::new()
            .with_bundle_policy(RTCBundlePolicy::MaxBundle)
            .with_rtcp_mux_policy(RTCRtcpMuxPolicy::Require)
            .build();
        let (events_tx, events) = mpsc::unbounded_channel();
        let (gathered_tx, gathered) = watch::channel(false);
        let handler = Arc::new(Handler {
            events: events_tx,
            gathered: gathered_tx,
        });
        let pc = PeerConnectionBuilder::new()
            .with_configuration(config)
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .with_handler(handler)
            .with_udp_addrs(vec![SocketAddr::new(ip, 0)])
            .build()
            .await
            .map_err(failed("create the peer connection"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "dialtone".to_owned(),
            "dialtone-audio".to_owned(),
            "audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: opus_codec(),
                ..Default::default()
            }],
        )));
        pc.add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(failed("add the audio track"))?;
        Ok((
            WebRtcPeer {
                pc,
                track,
                ssrc,
                gathered,
            },
            events,
        ))
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Waits until host candidates are gathered, then returns our description's SDP (with its
    /// candidates, and a BUNDLE group).
    async fn local_sdp(&self) -> Result<String, WebRtcError> {
        let mut gathered = self.gathered.clone();
        let _ = tokio::time::timeout(GATHER_TIMEOUT, gathered.wait_for(|done| *done)).await;
        let desc = self
            .pc
            .local_description()
            .await
            .ok_or(WebRtcError::NoDescription)?;
        Ok(ensure_bundle(&desc.sdp))
    }

    /// Answers a WebRTC offer; returns the answer's SDP.
    pub async fn answer(&self, offer: &str) -> Result<String, WebRtcError> {
        let offer =
            RTCSessionDescription::offer(offer.to_owned()).map_err(failed("read the offer"))?;
        self.pc
            .set_remote_description(offer)
            .await
            .map_err(failed("apply the offer"))?;
        let answer = self
            .pc
            .create_answer(None)
            .await
            .map_err(failed("create the answer"))?;
        self.pc
            .set_local_description(answer)
            .await
            .map_err(failed("apply our answer"))?;
        self.local_sdp().await
    }

    /// Creates our offer; returns its SDP.
    pub async fn offer(&self) -> Result<String, WebRtcError> {
        let offer = self
            .pc
            .create_offer(None)
            .await
            .map_err(failed("create the offer"))?;
        self.pc
            .set_local_description(offer)
            .await
            .map_err(failed("apply our offer"))?;
        self.local_sdp().await
    }

    /// Applies the peer's answer to our offer.
    pub async fn accept_answer(&self, answer: &str) -> Result<(), WebRtcError> {
        let answer =
            RTCSessionDescription::answer(answer.to_owned()).map_err(failed("read the answer"))?;
        self.pc
            .set_remote_description(answer)
            .await
            .map_err(failed("apply the answer"))
    }

    /// The negotiated Opus format (after an offer/answer exchange).
    pub async fn format(&self) -> Result<MediaFormat, WebRtcError> {
        let local = self.pc.local_description().await;
        let remote = self.pc.remote_description().await;
        match (local, remote) {
            (Some(local), Some(remote)) => {
                opus_format(&local.sdp, &remote.sdp).ok_or(WebRtcError::NoOpus)
            }
            _ => Err(WebRtcError::NoDescription),
        }
    }

    /// Sends one RTP packet on our track (SSRC replaced with ours). Fails once the connection
    /// is closed.
    pub async fn send(&self, packet: &RtpPacket) -> Result<(), WebRtcError> {
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                marker: packet.marker,
                payload_type: packet.payload_type,
                sequence_number: packet.sequence,
                timestamp: packet.timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(&packet.payload),
        };
        self.track
            .write_rtp(packet)
            .await
            .map_err(failed("send RTP"))
    }

    /// Closes the connection (idempotent).
    pub async fn close(&self) {
        if let Err(e) = self.pc.close().await {
            tracing::debug!("closing a peer connection: {e}");
        }
    }
}

/// A received packet as the media crate's [`RtpPacket`].
pub fn to_rtp_packet(packet: &rtc::rtp::Packet) -> RtpPacket {
    RtpPacket {
        marker: packet.header.marker,
        payload_type: packet.header.payload_type,
        sequence: packet.header.sequence_number,
        timestamp: packet.header.timestamp,
        ssrc: packet.header.ssrc,
        csrcs: Vec::new(),
        extension: None,
        payload: packet.payload.to_vec(),
    }
}
