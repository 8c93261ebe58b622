//! The plain-RTP leg: `RTP/AVP` (RFC 3551) on a UDP port pair of our own (RTP on an even
//! port, RTCP on the next, RFC 3550 §11; rtcp-mux accepted when offered, RFC 5761), with the
//! offer/answer of `dialtone-sdp` (RFC 3264). Codecs, in order of preference: Opus (forwarded
//! untouched to and from a WebRTC leg), then G.711 µ-law and A-law (transcoded); RFC 4733
//! telephone-events next to them (48 kHz with Opus, 8 kHz with G.711) unless the leg is bound
//! without them (the WebRTC side negotiated none).
//!
//! Media from the peer is *latched* (symmetric RTP, RFC 4961): the first source that sends to
//! our RTP port is where our RTP goes from then on, and packets from any other source are
//! dropped — nobody else can inject audio into the call. Until the peer sends, RTP goes to the
//! address of its SDP.

use std::net::{IpAddr, SocketAddr};

use dialtone_sdp::{
    CodecName, CodecPolicy, Negotiated, Negotiator, PendingOffer, SessionDescription, SessionParams,
};
use tokio::net::UdpSocket;

use super::conversion::{EventFormat, MediaFormat};
use super::WebRtcError;

/// The codecs of the plain leg, in order of preference.
pub const PLAIN_CODECS: &str = "opus, ulaw, alaw, telephone-event";
/// The codecs of a plain leg without telephone-events.
const PLAIN_CODECS_NO_EVENTS: &str = "opus, ulaw, alaw";
/// Attempts at finding a free even/odd port pair.
const BIND_ATTEMPTS: usize = 64;

/// What the offer/answer settled for the plain leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainMedia {
    /// The codec and its payload type.
    pub format: MediaFormat,
    /// Where the peer wants RTP (until it sends itself).
    pub remote: SocketAddr,
}

/// A plain-RTP leg: its sockets and its offer/answer state.
#[derive(Debug)]
pub struct PlainLeg {
    rtp: UdpSocket,
    rtcp: UdpSocket,
    negotiator: Negotiator,
}

fn media_of(negotiated: &Negotiated) -> Result<PlainMedia, WebRtcError> {
    let audio = negotiated.audio().ok_or(WebRtcError::NoCommonCodec)?;
    let codec = &audio.codec;
    if !matches!(
        codec.name,
        CodecName::Opus | CodecName::Ulaw | CodecName::Alaw
    ) {
        return Err(WebRtcError::NoCommonCodec);
    }
    Ok(PlainMedia {
        format: MediaFormat {
            codec: codec.name,
            payload_type: codec.payload_type,
            clock_rate: codec.clock_rate,
            fmtp: codec.fmtp.clone(),
            events: audio.telephone_event.as_ref().map(|te| EventFormat {
                payload_type: te.payload_type,
                clock_rate: te.clock_rate,
            }),
        },
        remote: audio.remote_rtp,
    })
}

impl PlainLeg {
    /// Binds an even RTP port and the odd RTCP port after it on `ip`. `session_id` is the
    /// SDP `o=` session id (random, from the caller). The leg offers and accepts telephone-events.
    pub async fn bind(ip: IpAddr, session_id: u64) -> Result<PlainLeg, WebRtcError> {
        Self::bind_with_events(ip, session_id, true).await
    }

    /// [`bind`](Self::bind), with RFC 4733 telephone-events in the leg's offers and answers only
    /// when `telephone_events` (the WebRTC leg negotiated them: events the bridge could not pass
    /// on are not negotiated on this hop either, so the plain peer falls back to SIP INFO).
    pub async fn bind_with_events(
        ip: IpAddr,
        session_id: u64,
        telephone_events: bool,
    ) -> Result<PlainLeg, WebRtcError> {
        let codecs = if telephone_events {
            PLAIN_CODECS
        } else {
            PLAIN_CODECS_NO_EVENTS
        };
        let policy =
            CodecPolicy::from_lists(codecs, "").map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        for _ in 0..BIND_ATTEMPTS {
            let rtp = UdpSocket::bind(SocketAddr::new(ip, 0))
                .await
                .map_err(WebRtcError::Bind)?;
            let port = rtp.local_addr().map_err(WebRtcError::Bind)?.port();
            if port % 2 != 0 || port == u16::MAX {
                continue;
            }
            let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await else {
                continue;
            };
            return Ok(PlainLeg {
                rtp,
                rtcp,
                negotiator: Negotiator::new(policy, session_id, 1),
            });
        }
        Err(WebRtcError::Bind(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "no free even/odd UDP port pair",
        )))
    }

    /// Our RTP address.
    pub fn local_addr(&self) -> Result<SocketAddr, WebRtcError> {
        self.rtp.local_addr().map_err(WebRtcError::Bind)
    }

    fn params(&self) -> Result<SessionParams, WebRtcError> {
        let local = self.local_addr()?;
        Ok(SessionParams::new(local.ip(), local.port()))
    }

    /// Our offer (SDP text) and the token its answer must come back with.
    pub fn create_offer(&mut self) -> Result<(String, PendingOffer), WebRtcError> {
        let params = self.params()?;
        let (sdp, pending) = self
            .negotiator
            .create_offer(&params)
            .map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        Ok((sdp.to_string(), pending))
    }

    /// Applies the peer's answer to our offer.
    pub fn accept_answer(
        &mut self,
        pending: PendingOffer,
        answer: &[u8],
    ) -> Result<PlainMedia, WebRtcError> {
        let text = std::str::from_utf8(answer).map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        let answer =
            SessionDescription::parse(text).map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        let negotiated = self
            .negotiator
            .accept_answer(pending, &answer)
            .map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        media_of(&negotiated)
    }

    /// Answers the peer's offer: our answer (SDP text) and the settled media. An offer with
    /// none of our codecs is [`WebRtcError::NoCommonCodec`] (answer 488).
    pub fn answer_offer(&mut self, offer: &[u8]) -> Result<(String, PlainMedia), WebRtcError> {
        let text = std::str::from_utf8(offer).map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        let offer = SessionDescription::parse(text).map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        let params = self.params()?;
        let (answer, negotiated) =
            self.negotiator
                .answer_offer(&offer, &params)
                .map_err(|e| match e {
                    dialtone_sdp::SdpError::NoAcceptableMedia { .. } => WebRtcError::NoCommonCodec,
                    other => WebRtcError::Sdp(other.to_string()),
                })?;
        Ok((answer.to_string(), media_of(&negotiated)?))
    }

    /// The sockets, for the bridge: (RTP, RTCP).
    pub fn into_sockets(self) -> (UdpSocket, UdpSocket) {
        (self.rtp, self.rtcp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_an_even_odd_pair_and_answers_g711_only_offers_with_pcmu() {
        let mut leg = PlainLeg::bind("127.0.0.1".parse().unwrap(), 42)
            .await
            .unwrap();
        let local = leg.local_addr().unwrap();
        assert_eq!(local.port() % 2, 0);
        let offer = b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
            m=audio 30000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
        let (answer, media) = leg.answer_offer(offer).unwrap();
        assert_eq!(media.format.codec, CodecName::Ulaw);
        assert_eq!(
            media.remote,
            "127.0.0.1:30000".parse::<SocketAddr>().unwrap()
        );
        assert!(
            answer.contains(&format!("m=audio {} RTP/AVP 0 ", local.port())),
            "{answer}"
        );
        assert!(
            answer.contains("a=rtpmap:101 telephone-event/8000"),
            "{answer}"
        );
        assert_eq!(
            media.format.events,
            Some(EventFormat {
                payload_type: 101,
                clock_rate: 8000
            })
        );

        let mut bare = PlainLeg::bind_with_events("127.0.0.1".parse().unwrap(), 45, false)
            .await
            .unwrap();
        let (answer, media) = bare.answer_offer(offer).unwrap();
        assert!(!answer.contains("telephone-event"), "{answer}");
        assert_eq!(media.format.events, None);
    }

    #[tokio::test]
    async fn opus_offers_get_telephone_event_at_48khz() {
        let mut leg = PlainLeg::bind("127.0.0.1".parse().unwrap(), 46)
            .await
            .unwrap();
        let offer = b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
            m=audio 30000 RTP/AVP 96 0 97 101\r\na=rtpmap:96 opus/48000/2\r\n\
            a=rtpmap:97 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n";
        let (_, media) = leg.answer_offer(offer).unwrap();
        assert_eq!(media.format.codec, CodecName::Opus);
        assert_eq!(
            media.format.events,
            Some(EventFormat {
                payload_type: 97,
                clock_rate: 48_000
            })
        );
    }

    #[tokio::test]
    async fn offers_opus_first_and_takes_the_answered_codec() {
        let mut leg = PlainLeg::bind("127.0.0.1".parse().unwrap(), 43)
            .await
            .unwrap();
        let (offer, pending) = leg.create_offer().unwrap();
        assert!(offer.contains("RTP/AVP"), "{offer}");
        let m = offer.lines().find(|l| l.starts_with("m=audio")).unwrap();
        let opus_pt = offer
            .lines()
            .find_map(|l| l.strip_prefix("a=rtpmap:").filter(|r| r.contains("opus")))
            .and_then(|r| r.split(' ').next())
            .unwrap();
        assert_eq!(m.split(' ').nth(3), Some(opus_pt), "Opus first: {m}");
        let answer = b"v=0\r\no=y 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
            m=audio 31000 RTP/AVP 8\r\n";
        let media = leg.accept_answer(pending, answer).unwrap();
        assert_eq!(media.format.codec, CodecName::Alaw);
        assert_eq!(media.format.payload_type, 8);
    }

    #[tokio::test]
    async fn offers_without_our_codecs_are_refused() {
        let mut leg = PlainLeg::bind("127.0.0.1".parse().unwrap(), 44)
            .await
            .unwrap();
        let offer = b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
            m=audio 30000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n";
        assert!(matches!(
            leg.answer_offer(offer),
            Err(WebRtcError::NoCommonCodec)
        ));
    }
}
