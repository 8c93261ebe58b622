//! One call's offer/answer state (RFC 3264) next to its media object.
//!
//! A [`CallSession`] owns the call's [`Negotiator`] and its [`CallMedia`]. Every SDP we send comes from the
//! negotiator: the initial offer or answer, hold re-offers (`a=sendonly`, RFC 3264 §8.4) and resume re-offers
//! (`a=sendrecv`), and answers to the peer's re-offers, whose direction is the offer's reversed and limited by ours
//! (§6.1: their `sendonly` gets our `recvonly`). An offer of ours is kept as a [`PendingOffer`] token until its
//! answer arrives; a refused re-INVITE drops the token and the previous descriptions stay in force (§8, RFC 3261
//! §14.1). Each completed exchange is applied to the media object.
//!
//! Hold is tracked both ways: `local` once the peer answered our hold offer, `remote` when the peer's description
//! stops it receiving from us (`sendonly`/`inactive`, or the RFC 2543 `c=0.0.0.0` that RFC 3264 §8.4 still asks us to
//! understand).

use super::super::event::{Held, PhoneEvent};
use super::super::media::CallMedia;
use crate::webrtc::{direction_of, is_webrtc_sdp, PendingWebRtc, PhoneWebRtc, WebRtcError};
use dialtone_sdp::{
    CodecName, CodecPolicy, Direction, ExtraLine, MediaKind, Negotiated, NegotiatedMedia,
    Negotiator, PendingOffer, SdpError, SessionDescription, SessionParams, SrtpPolicy,
};
use std::net::SocketAddr;

/// Why a description could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    /// The body is not UTF-8 text.
    #[error("the session description is not text")]
    NotText,
    /// Parsing or negotiation failed.
    #[error(transparent)]
    Sdp(#[from] SdpError),
    /// The WebRTC media profile (`UDP/TLS/RTP/SAVPF`) could not be set up or renegotiated.
    #[error(transparent)]
    WebRtc(#[from] WebRtcError),
}

impl SessionError {
    /// The status to refuse a peer's offer with: 488 when nothing in it fits (RFC 3261 §13.3.1.3), 400 when it
    /// cannot be read.
    pub(crate) fn status(&self) -> u16 {
        match self {
            SessionError::Sdp(SdpError::NoAcceptableMedia { .. })
            | SessionError::Sdp(SdpError::Media { .. }) => 488,
            SessionError::WebRtc(WebRtcError::Bind(_) | WebRtcError::Codec(_)) => 500,
            SessionError::WebRtc(_) => 488,
            _ => 400,
        }
    }
}

/// An offer of ours waiting for its answer.
struct OurOffer {
    /// The negotiator's token; `None` for a WebRTC re-offer (made from our last description).
    token: Option<PendingOffer>,
    /// The offer puts the call on hold.
    hold: bool,
}

/// What answering the peer's offer produced.
pub(crate) struct Answered {
    /// Our answer.
    pub sdp: Vec<u8>,
    /// An offer of ours was superseded by the peer's (glare): `Some(hold)` to make it again.
    pub superseded: Option<bool>,
}

/// The offer/answer state and media of one call.
pub(crate) struct CallSession {
    negotiator: Negotiator,
    media: CallMedia,
    pending: Option<OurOffer>,
    local_hold: bool,
    remote_hold: bool,
    /// The peer description applied last, to tell a new one from a repeat.
    last_remote: Option<Vec<u8>>,
    /// Extra `b=` lines of our descriptions.
    extra_lines: Vec<ExtraLine>,
    /// Codecs left out of this call.
    strip: Vec<CodecName>,
    /// SDES-SRTP (RFC 4568): offered with our key only when signaling is TLS/WSS.
    srtp: SrtpPolicy,
    /// The WebRTC media profile: the peer offered `UDP/TLS/RTP/SAVPF` and the audio runs through a bridge.
    webrtc: Option<PhoneWebRtc>,
    /// Our WebRTC answer made by [`CallSession::start_webrtc`], handed out by the next [`CallSession::answer`].
    prepared: Option<Vec<u8>>,
    /// Our initial WebRTC offer ([`CallSession::offer_webrtc`]) until its answer completes it.
    pending_webrtc: Option<PendingWebRtc>,
}

/// How a call's descriptions are made: the phone's codec policy and extra SDP lines, and the call's strip list.
#[derive(Clone, Debug)]
pub(crate) struct CallSettings {
    /// Codec order and what is left out of offers.
    pub codecs: CodecPolicy,
    /// Lines such as `b=AS:3000` placed after `c=` in our offers and answers.
    pub extra_lines: Vec<ExtraLine>,
    /// Codecs this call must not use (per-call strip list).
    pub strip: Vec<CodecName>,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            codecs: default_policy(),
            extra_lines: Vec::new(),
            strip: Vec::new(),
        }
    }
}

/// The codecs offered and accepted when the account says nothing: wideband first (Opus, G.722), then G.711, Speex
/// (16 then 8 kHz) and RFC 4733 events.
pub(crate) fn default_policy() -> CodecPolicy {
    CodecPolicy::new(vec![
        CodecName::Opus,
        CodecName::G722,
        CodecName::Ulaw,
        CodecName::Alaw,
        CodecName::Speex16,
        CodecName::Speex,
        CodecName::TelephoneEvent,
    ])
}

impl super::Active {
    /// Whether our signaling runs over TLS or WSS, so SDES keys may go into SDP.
    pub(super) fn secure_signaling(&self) -> bool {
        use dialtone_sip::transport::TransportKind;
        matches!(self.hop.transport, TransportKind::Tls | TransportKind::Wss)
    }
}

fn text(sdp: &[u8]) -> Result<SessionDescription, SessionError> {
    let text = std::str::from_utf8(sdp).map_err(|_| SessionError::NotText)?;
    Ok(SessionDescription::parse(text)?)
}

impl CallSession {
    /// A session around `media`; `session_id` goes into our `o=` lines.
    pub(crate) fn new(media: CallMedia, settings: &CallSettings, session_id: u64) -> CallSession {
        CallSession {
            negotiator: Negotiator::new(settings.codecs.clone(), session_id, 1),
            extra_lines: settings.extra_lines.clone(),
            strip: settings.strip.clone(),
            media,
            pending: None,
            local_hold: false,
            remote_hold: false,
            last_remote: None,
            srtp: SrtpPolicy::Off,
            webrtc: None,
            prepared: None,
            pending_webrtc: None,
        }
    }

    /// SDES-SRTP for this call when `secure_signaling` (TLS or WSS: the keys travel in the SDP): best effort
    /// (`RTP/AVP` with `a=crypto`, `RTP/SAVP` offers accepted) with a key from the OS kept for the whole call.
    /// Otherwise off, and an `RTP/SAVP`-only offer is refused with 488.
    pub(crate) fn with_sdes(mut self, secure_signaling: bool) -> CallSession {
        let mut key = [0u8; dialtone_sdp::SRTP_KEY_SALT_LEN];
        if secure_signaling && getrandom::getrandom(&mut key).is_ok() {
            self.srtp = SrtpPolicy::Offer(dialtone_sdp::SrtpKey::new(key));
        }
        self
    }

    /// Takes the media object out (an INVITE with Replaces takes over the replaced call's media). A WebRTC bridge in
    /// front of it is stopped and its peer connection closed: its ICE/DTLS session belongs to the replaced dialog's
    /// peer, and the replacing INVITE's offer sets up media of its own (a new bridge when it is WebRTC too).
    pub(crate) async fn into_media(self) -> CallMedia {
        if let Some(webrtc) = self.webrtc {
            let bridge = webrtc.stop().await;
            tracing::debug!(?bridge, "WebRTC bridge of the replaced call stopped");
        }
        self.media
    }

    /// Ends the call's media: the audio first (RTCP BYE, recording completed), then the WebRTC bridge if any.
    pub(crate) async fn close(self) -> Option<dialtone_media::MediaStats> {
        let stats = self.media.close().await;
        if let Some(webrtc) = self.webrtc {
            let bridge = webrtc.stop().await;
            tracing::debug!(?bridge, "WebRTC bridge of the call stopped");
        }
        stats
    }

    /// Sets the call up for the WebRTC media profile when `offer` (the peer's initial offer) is
    /// `UDP/TLS/RTP/SAVPF`: a peer connection on the call's local address answers it, and the bridge's plain leg
    /// answers the audio task's own plain-RTP offer (SDES off: that hop never leaves the phone's address). The
    /// next [`CallSession::answer`] of the same offer returns the WebRTC answer. Does nothing for other offers.
    pub(crate) async fn start_webrtc(&mut self, offer: &[u8]) -> Result<(), SessionError> {
        if !is_webrtc_sdp(offer) || self.webrtc.is_some() {
            return Ok(());
        }
        let text = std::str::from_utf8(offer).map_err(|_| SessionError::NotText)?;
        let (phone_offer, token) = self.bridge_leg_offer()?;
        let ours = Direction::answer_to(direction_of(text), self.our_direction(self.local_hold));
        let (webrtc, answer, phone_answer) = PhoneWebRtc::answer(
            self.media.local_addr().ip(),
            text,
            &phone_offer.to_string(),
            ours,
            self.media.bridge_events(),
        )
        .await?;
        self.apply_bridge_leg_answer(token, &phone_answer, ours, self.local_hold)?;
        self.last_remote = Some(offer.to_vec());
        self.prepared = Some(answer.into_bytes());
        self.webrtc = Some(webrtc);
        Ok(())
    }

    /// Our initial offer with the WebRTC media profile (a call to a WebRTC peer, e.g. a browser): a peer connection
    /// on the call's local address makes it; [`CallSession::complete_webrtc`] takes the answer.
    pub(crate) async fn offer_webrtc(&mut self) -> Result<Vec<u8>, SessionError> {
        let (pending, offer) = PhoneWebRtc::offer(self.media.local_addr().ip()).await?;
        self.pending_webrtc = Some(pending);
        Ok(offer.into_bytes())
    }

    /// Whether our initial WebRTC offer waits for its answer.
    pub(crate) fn awaits_webrtc_answer(&self) -> bool {
        self.pending_webrtc.is_some()
    }

    /// The answer to our initial WebRTC offer: ICE/DTLS start, and the bridge's plain leg answers the audio task's
    /// own plain-RTP offer (as in [`CallSession::start_webrtc`]).
    pub(crate) async fn complete_webrtc(&mut self, answer: &[u8]) -> Result<(), SessionError> {
        let Some(pending) = self.pending_webrtc.take() else {
            return self.accept_answer(answer);
        };
        let text = std::str::from_utf8(answer).map_err(|_| SessionError::NotText)?;
        let (phone_offer, token) = self.bridge_leg_offer()?;
        let (webrtc, phone_answer) = PhoneWebRtc::accept(
            pending,
            text,
            &phone_offer.to_string(),
            self.media.bridge_events(),
        )
        .await?;
        let ours = Direction::SendRecv.intersect(direction_of(text).reversed());
        self.apply_bridge_leg_answer(token, &phone_answer, ours, false)?;
        self.last_remote = Some(answer.to_vec());
        self.webrtc = Some(webrtc);
        Ok(())
    }

    /// The audio task's own plain-RTP offer (the account's codec policy, no SDES) for the bridge's plain leg.
    fn bridge_leg_offer(&mut self) -> Result<(SessionDescription, PendingOffer), SessionError> {
        let mut params = self.params(false);
        params.srtp = SrtpPolicy::Off;
        Ok(self.negotiator.create_offer(&params)?)
    }

    /// The bridge's plain-leg answer to [`CallSession::bridge_leg_offer`]: the audio task runs its codec in the
    /// direction the WebRTC side agreed (`ours`).
    fn apply_bridge_leg_answer(
        &mut self,
        token: PendingOffer,
        phone_answer: &str,
        ours: Direction,
        hold: bool,
    ) -> Result<(), SessionError> {
        let negotiated = self
            .negotiator
            .accept_answer(token, &SessionDescription::parse(phone_answer)?)?;
        let Some(audio) = negotiated.audio() else {
            return Err(WebRtcError::NoCommonCodec.into());
        };
        let mut audio = audio.clone();
        audio.direction = ours;
        self.media.apply(&audio, hold);
        self.remote_hold = !ours.sends();
        Ok(())
    }

    fn our_direction(&self, hold: bool) -> Direction {
        if hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        }
    }

    /// A new direction in a WebRTC call (the ICE/DTLS session and codec stay): the audio task sends and plays as
    /// `ours` says.
    fn apply_webrtc_direction(&mut self, ours: Direction, hold: bool) {
        self.local_hold = hold;
        if let Some(remote) = self.media.remote() {
            self.media.update_remote(remote, ours, hold);
        }
        self.remote_hold = !ours.sends();
    }

    /// The media object.
    pub(crate) fn media(&self) -> &CallMedia {
        &self.media
    }

    /// The media object, to change.
    pub(crate) fn media_mut(&mut self) -> &mut CallMedia {
        &mut self.media
    }

    fn params(&self, hold: bool) -> SessionParams {
        let local = self.media.local_addr();
        let mut params = SessionParams::new(local.ip(), local.port());
        params.extra_lines = self.extra_lines.clone();
        params.strip = self.strip.clone();
        params.srtp = self.srtp.clone();
        params.direction = if hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        params
    }

    /// Makes an offer (initial, hold or resume); its answer goes to [`CallSession::accept_answer`].
    pub(crate) fn offer(&mut self, hold: bool) -> Result<Vec<u8>, SessionError> {
        let direction = self.our_direction(hold);
        if let Some(webrtc) = self.webrtc.as_mut() {
            let sdp = webrtc.offer_again(direction);
            self.pending = Some(OurOffer { token: None, hold });
            return Ok(sdp.into_bytes());
        }
        let params = self.params(hold);
        let (sdp, token) = self.negotiator.create_offer(&params)?;
        self.pending = Some(OurOffer {
            token: Some(token),
            hold,
        });
        Ok(sdp.to_string().into_bytes())
    }

    /// Whether an offer of ours awaits its answer.
    pub(crate) fn has_pending_offer(&self) -> bool {
        self.pending.is_some()
    }

    /// Gives up our pending offer (the re-INVITE was refused): the session stays as it was. Returns whether the
    /// offer was a hold.
    pub(crate) fn abandon_offer(&mut self) -> Option<bool> {
        self.pending.take().map(|p| p.hold)
    }

    /// Answers the peer's offer and applies the result.
    pub(crate) fn answer(&mut self, offer: &[u8]) -> Result<Answered, SessionError> {
        if let Some(sdp) = self.prepared.take() {
            if self.last_remote.as_deref() == Some(offer) {
                return Ok(Answered {
                    sdp,
                    superseded: None,
                });
            }
        }
        let hold = self.local_hold;
        let ours_wanted = self.our_direction(hold);
        if let Some(webrtc) = self.webrtc.as_mut() {
            let text = std::str::from_utf8(offer).map_err(|_| SessionError::NotText)?;
            let ours = Direction::answer_to(direction_of(text), ours_wanted);
            let sdp = webrtc.answer_again(text, ours)?.into_bytes();
            let superseded = self.pending.take().map(|p| p.hold);
            self.last_remote = Some(offer.to_vec());
            self.apply_webrtc_direction(ours, hold);
            return Ok(Answered { sdp, superseded });
        }
        if is_webrtc_sdp(offer) {
            // Only an initial offer sets a call up for WebRTC (CallSession::start_webrtc).
            return Err(WebRtcError::Sdp(
                "a plain-RTP call cannot change to the WebRTC profile".into(),
            )
            .into());
        }
        let parsed = text(offer)?;
        let params = self.params(self.local_hold);
        let (answer, negotiated) = self.negotiator.answer_offer(&parsed, &params)?;
        // The negotiator refuses the token of an offer made before this exchange.
        let superseded = self.pending.take().map(|p| p.hold);
        self.last_remote = Some(offer.to_vec());
        self.apply(&negotiated, self.local_hold);
        Ok(Answered {
            sdp: answer.to_string().into_bytes(),
            superseded,
        })
    }

    /// The peer's answer to our pending offer; without one (the peer answered a session refresh with a new
    /// description, or offered in the ACK to its own SDP-less re-INVITE), the description is applied as far as it
    /// can be read: where to send and the direction.
    pub(crate) fn accept_answer(&mut self, answer: &[u8]) -> Result<(), SessionError> {
        if self.last_remote.as_deref() == Some(answer) && self.pending.is_none() {
            return Ok(());
        }
        if let Some(webrtc) = self.webrtc.as_ref() {
            let text = std::str::from_utf8(answer).map_err(|_| SessionError::NotText)?;
            webrtc.accept_answer(text)?;
            let hold = self.pending.take().map_or(self.local_hold, |p| p.hold);
            let ours = self
                .our_direction(hold)
                .intersect(direction_of(text).reversed());
            self.last_remote = Some(answer.to_vec());
            self.apply_webrtc_direction(ours, hold);
            return Ok(());
        }
        let parsed = text(answer)?;
        match self.pending.take() {
            Some(OurOffer {
                token: Some(token),
                hold,
            }) => {
                let negotiated = self.negotiator.accept_answer(token, &parsed)?;
                self.last_remote = Some(answer.to_vec());
                self.apply(&negotiated, hold);
            }
            Some(OurOffer { token: None, .. }) | None => {
                self.last_remote = Some(answer.to_vec());
                self.apply_unmatched(&parsed);
            }
        }
        Ok(())
    }

    fn apply(&mut self, negotiated: &Negotiated, hold: bool) {
        self.local_hold = hold;
        match negotiated.audio() {
            Some(audio) => {
                self.media.apply(audio, hold);
                let held_address = audio.remote_rtp.ip().is_unspecified();
                self.remote_hold = !audio.direction.sends() || held_address;
            }
            None => {
                let rejected = negotiated.media.iter().any(|m| {
                    matches!(m, NegotiatedMedia::Rejected { media, .. } if MediaKind::from_media(media) == Some(MediaKind::Audio))
                });
                if rejected {
                    self.media.disable();
                }
            }
        }
    }

    /// Reads the first audio stream of a description that answers no offer of ours.
    fn apply_unmatched(&mut self, sdp: &SessionDescription) {
        let Some(audio) = sdp
            .media
            .iter()
            .find(|m| MediaKind::from_media(&m.media) == Some(MediaKind::Audio) && m.port != 0)
        else {
            return;
        };
        let ip = audio
            .connections
            .first()
            .or(sdp.connection.as_ref())
            .and_then(|c| c.ip());
        let Some(ip) = ip else {
            return;
        };
        let declared = audio
            .direction()
            .or_else(|| sdp.direction())
            .unwrap_or_default();
        let theirs = if ip.is_unspecified() {
            declared.intersect(Direction::SendOnly)
        } else {
            declared
        };
        let ours = if self.local_hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        let direction = Direction::answer_to(theirs, ours);
        self.media
            .update_remote(SocketAddr::new(ip, audio.port), direction, self.local_hold);
        self.remote_hold = !direction.sends() || ip.is_unspecified();
    }

    /// Who holds the call, if anyone.
    pub(crate) fn held(&self) -> Option<Held> {
        match (self.local_hold, self.remote_hold) {
            (false, false) => None,
            (true, false) => Some(Held::Local),
            (false, true) => Some(Held::Remote),
            (true, true) => Some(Held::Both),
        }
    }

    /// Whether we hold the call.
    pub(crate) fn local_hold(&self) -> bool {
        self.local_hold
    }

    /// The `media` event for call `id`, once something was negotiated.
    pub(crate) fn media_event(&self, id: u64) -> Option<PhoneEvent> {
        let codec = self.media.codec()?;
        let remote = self.media.remote()?;
        Some(PhoneEvent::Media {
            id,
            codec: format!("{}/{}", codec.name.encoding(), codec.clock_rate),
            payload_type: codec.payload_type,
            remote: remote.to_string(),
            local: self.media.local_addr().to_string(),
            direction: self.media.direction().as_str().to_string(),
            telephone_event: self.media.telephone_event().map(|t| t.payload_type),
        })
    }
}
