//! Sans-IO SDP for Dialtone: parsing and serialization of session descriptions
//! (RFC 8866, formerly RFC 4566) and the offer/answer model (RFC 3264) with Dialtone's
//! codec policy. No sockets, no clock, no randomness: session ids and versions come
//! from the caller.
//!
//! * [`SessionDescription::parse`] reads any text without panicking (errors name the
//!   line); `to_string()` writes CRLF lines in RFC 8866 §5 order. Attributes are kept
//!   in order, unknown ones included, so descriptions round-trip.
//! * [`CodecPolicy`] holds the codec order, the codecs excluded from offers, and the
//!   Opus/H.264 parameters; [`parse_codec_list`] reads the names users configure
//!   (`opus, alaw, ulaw, g729, speex16, speex, g722, telephone-event, h264, vp8`).
//! * [`Negotiator`] creates offers (returning a [`PendingOffer`] token that must come
//!   back with the answer) and answers remote offers; both yield a [`Negotiated`]
//!   result per `m=` line: codec, telephone-event, remote RTP/RTCP addresses, direction
//!   from our side, ptime.
//! * [`SessionParams`] carries our side of one exchange: address, ports, wanted media,
//!   direction (hold is a re-offer with [`Direction::SendOnly`]), ptime, rtcp-mux, the
//!   per-call strip list, [`ExtraLine`]s placed after `c=` and before `t=`, and the
//!   [`SrtpPolicy`] (SDES, RFC 4568: `a=crypto` lines with keys the caller draws).
//! * [`CryptoAttribute`] parses and writes `a=crypto`; an accepted stream's
//!   [`AcceptedMedia::srtp`] holds the [`SrtpKeys`] both sides settled on.
//!
//! # One exchange
//!
//! ```
//! use dialtone_sdp::{CodecName, CodecPolicy, Direction, ExtraLine, Negotiator, SessionParams};
//!
//! // Alice offers Opus, G.711 A-law and DTMF, with a bandwidth line.
//! let policy = CodecPolicy::from_lists("opus, alaw, telephone-event", "")?;
//! let mut alice = Negotiator::new(policy, 4_242_001, 1);
//! let mut params = SessionParams::new("192.0.2.10".parse().unwrap(), 40_000);
//! params.extra_lines.push(ExtraLine::parse("b=AS:3000")?);
//! let (offer, pending) = alice.create_offer(&params)?;
//! let wire = offer.to_string(); // the INVITE body, CRLF lines
//! assert!(wire.contains("c=IN IP4 192.0.2.10\r\nb=AS:3000\r\nt=0 0\r\n"));
//!
//! // Bob only does G.711 and DTMF; he answers in the offer's order.
//! let mut bob = Negotiator::new(CodecPolicy::from_lists("ulaw, alaw, telephone-event", "")?, 77, 1);
//! let bob_params = SessionParams::new("198.51.100.7".parse().unwrap(), 50_000);
//! let offer = dialtone_sdp::SessionDescription::parse(&wire)?;
//! let (answer, bob_side) = bob.answer_offer(&offer, &bob_params)?;
//! assert_eq!(bob_side.audio().unwrap().codec.name, CodecName::Alaw);
//!
//! // Alice applies the answer with the token she got for her offer.
//! let answer = dialtone_sdp::SessionDescription::parse(&answer.to_string())?;
//! let negotiated = alice.accept_answer(pending, &answer)?;
//! let audio = negotiated.audio().unwrap();
//! assert_eq!(audio.codec.payload_type, 8);
//! assert_eq!(audio.remote_rtp, "198.51.100.7:50000".parse().unwrap());
//! assert_eq!(audio.direction, Direction::SendRecv);
//! assert_eq!(audio.telephone_event.as_ref().unwrap().clock_rate, 8000);
//! # Ok::<(), dialtone_sdp::SdpError>(())
//! ```
#![deny(missing_docs)]

mod answer;
mod attribute;
mod codec;
mod crypto;
mod direction;
mod error;
mod extra_line;
mod format;
mod h264;
mod media;
mod negotiated;
mod negotiator;
mod offer;
mod params;
mod parser;
mod remote;
mod rtpmap;
mod session;

pub use attribute::Attribute;
pub use codec::{parse_codec_list, CodecName, CodecPolicy, MediaKind, OpusOptions};
pub use crypto::{
    CryptoAttribute, InlineKey, KeyParam, Lifetime, Mki, SrtpKey, SrtpKeys, SrtpPolicy, SrtpSuite,
    SRTP_KEY_SALT_LEN,
};
pub use direction::{Direction, NotADirection};
pub use error::SdpError;
pub use extra_line::ExtraLine;
pub use h264::{H264Profile, ProfileLevelId};
pub use media::MediaDescription;
pub use negotiated::{AcceptedMedia, Negotiated, NegotiatedCodec, NegotiatedMedia, TelephoneEvent};
pub use negotiator::{Negotiator, PendingOffer};
pub use params::{MediaParams, SessionParams};
pub use rtpmap::{fmtp_param, fmtp_params, Rtpmap};
pub use session::{Bandwidth, Connection, Origin, SessionDescription, Timing};
