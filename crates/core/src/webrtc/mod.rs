//! The WebRTC-to-RTP bridge (issue #6): a browser's WebRTC media — ICE (RFC 8445), DTLS-SRTP
//! (RFC 5763/5764), Opus (RFC 7587), rtcp-mux (RFC 5761), BUNDLE (RFC 8843) — terminated with
//! webrtc-rs and bridged to plain `RTP/AVP` (RFC 3550/3551), transcoding Opus ↔ G.711 when the
//! two legs share no codec and forwarding untouched when they do.
//!
//! * [`WebRtcPeer`]: the WebRTC leg (one peer connection, one Opus track, host candidates on
//!   one address, no STUN/TURN, no mDNS; answers and offers carry every candidate and a BUNDLE
//!   group).
//! * [`PlainLeg`]: the plain leg's port pair and offer/answer (Opus, PCMU, PCMA).
//! * [`MediaBridge`]: the two legs joined, one [`Conversion`] per direction.
//! * [`is_webrtc_sdp`], [`ensure_bundle`], [`opus_format`]: SDP readings the B2BUA needs.
//! * [`PhoneWebRtc`]: the same bridge inside a Dialtone phone's own call, when a SIP peer
//!   offers `UDP/TLS/RTP/SAVPF`: the call's audio task sits on the bridge's plain leg.
//!
//! The relay's B2BUA (`crate::relay`) drives these for calls between a browser and a
//! plain-RTP phone:
//!
//! ```no_run
//! # async fn demo(browser_offer: &str, phone_answer: &[u8]) -> Result<(), dialtone_core::webrtc::WebRtcError> {
//! use dialtone_core::webrtc::{BridgePlan, MediaBridge, PlainLeg, WebRtcPeer};
//! let ip = "127.0.0.1".parse().unwrap();
//! // Leg B: offer plain RTP to the phone.
//! let mut plain = PlainLeg::bind(ip, 1234).await?;
//! let (phone_offer, pending) = plain.create_offer()?;
//! // ... INVITE the phone with `phone_offer`; its 200 carries `phone_answer` ...
//! let plain_media = plain.accept_answer(pending, phone_answer)?;
//! // Leg A: answer the browser.
//! let (peer, peer_events) = WebRtcPeer::new(ip, 0x1234_5678).await?;
//! let browser_answer = peer.answer(browser_offer).await?; // -> the 200 to the browser
//! let webrtc = peer.format().await?;
//! let (events, _bridge_events) = tokio::sync::mpsc::unbounded_channel();
//! let plan = BridgePlan { plain: plain_media, webrtc, start: ((1, 2), (3, 4)) };
//! let bridge = MediaBridge::start(peer, peer_events, plain.into_sockets(), plan, events)?;
//! // ... at BYE:
//! let stats = bridge.stop().await;
//! # let _ = (browser_answer, phone_offer, stats); Ok(()) }
//! ```

mod bridge;
mod conversion;
mod peer;
mod phone_media;
mod plain;
mod session_text;

pub use bridge::{BridgeEnd, BridgeEvent, BridgePlan, BridgeStats, MediaBridge};
pub use conversion::{
    Conversion, EventFormat, Forwarder, MediaFormat, Transcoder, FRAME_MS, MAX_CONCEAL_MS,
};
pub use peer::{
    to_rtp_packet, PeerEvent, WebRtcPeer, OPUS_FMTP, OPUS_PAYLOAD_TYPE,
    TELEPHONE_EVENT_PAYLOAD_TYPE,
};
pub use phone_media::{direction_of, PendingWebRtc, PhoneWebRtc};
pub use plain::{PlainLeg, PlainMedia, PLAIN_CODECS};
pub use session_text::{ensure_bundle, is_webrtc_sdp, opus_format};

/// Why a bridge leg could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebRtcError {
    /// A step of the peer connection failed (webrtc-rs's own words in `reason`).
    #[error("WebRTC: cannot {step}: {reason}")]
    PeerConnection {
        /// What was being done.
        step: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The peer connection has no local or remote description yet.
    #[error("WebRTC: no session description yet")]
    NoDescription,
    /// The WebRTC session did not negotiate Opus.
    #[error("WebRTC: the session has no Opus stream")]
    NoOpus,
    /// The plain peer's SDP could not be read or answered.
    #[error("SDP: {0}")]
    Sdp(String),
    /// The plain peer offered or answered none of Opus, PCMU, PCMA.
    #[error("no codec in common with the plain-RTP peer (need Opus, PCMU or PCMA)")]
    NoCommonCodec,
    /// A media socket could not be bound.
    #[error("cannot bind a media port: {0}")]
    Bind(std::io::Error),
    /// A codec could not be created.
    #[error("codec: {0}")]
    Codec(String),
}
