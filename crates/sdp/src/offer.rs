//! Building our offers (RFC 3264 §5) and re-offers (§8): the session lines, one `m=`
//! line per wanted kind, and the earlier `m=` lines kept in place (a line no longer
//! used is disabled with port 0, never removed, §8.2).

use crate::attribute::Attribute;
use crate::codec::{CodecName, CodecPolicy, MediaKind};
use crate::crypto::{CryptoAttribute, SrtpSuite};
use crate::direction::Direction;
use crate::error::SdpError;
use crate::format::{offer_formats, LocalFormat, PayloadTypes, VIDEO_FEEDBACK};
use crate::media::MediaDescription;
use crate::params::SessionParams;
use crate::remote::same_protocol_family;
use crate::session::{Connection, Origin, SessionDescription, Timing};

/// An `m=` line position of the session, remembered across offers and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub media: String,
    pub protocol: String,
    pub formats: Vec<String>,
    pub mid: Option<String>,
}

impl Slot {
    pub fn of(m: &MediaDescription) -> Self {
        Slot {
            media: m.media.clone(),
            protocol: m.protocol.clone(),
            formats: m.formats.clone(),
            mid: m.mid().map(str::to_string),
        }
    }

    /// The disabled form of this line: port 0, no attributes but `a=mid`.
    pub fn disabled(&self) -> MediaDescription {
        let formats = if self.formats.is_empty() {
            vec!["0".to_string()]
        } else {
            self.formats.clone()
        };
        let mut m = MediaDescription::new(&self.media, 0, &self.protocol, formats);
        if let Some(mid) = &self.mid {
            m.attributes
                .push(Attribute::trusted("mid", Some(mid.clone())));
        }
        m
    }
}

/// `v= o= s= c=`, the extra lines, `t=0 0` (extra lines after `c=`, before `t=`), the
/// caller's session-level attributes.
pub(crate) fn session_lines(origin: Origin, params: &SessionParams) -> SessionDescription {
    SessionDescription {
        origin,
        session_name: "-".to_string(),
        information: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: Some(Connection::new(params.address)),
        bandwidths: params
            .extra_lines
            .iter()
            .map(|l| l.bandwidth().clone())
            .collect(),
        times: vec![Timing::default()],
        key: None,
        attributes: params.session_attributes.clone(),
        media: Vec::new(),
    }
}

/// The `a=crypto` tag of our offers (one line, so always the same).
pub(crate) const OFFER_CRYPTO_TAG: u32 = 1;

/// True for the RTP profiles SDES applies to: `RTP/AVP`, `RTP/AVPF`, `RTP/SAVP`,
/// `RTP/SAVPF` (not DTLS-SRTP's `UDP/TLS/RTP/SAVPF`).
pub(crate) fn sdes_applies(protocol: &str) -> bool {
    ["RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF"]
        .iter()
        .any(|p| p.eq_ignore_ascii_case(protocol))
}

/// True for `RTP/SAVP` and `RTP/SAVPF`: the stream must be SRTP.
pub(crate) fn is_secure_profile(protocol: &str) -> bool {
    protocol.eq_ignore_ascii_case("RTP/SAVP") || protocol.eq_ignore_ascii_case("RTP/SAVPF")
}

/// The protocol we offer for `kind`: the caller's, made `RTP/SAVP(F)` for audio when SRTP
/// is mandatory.
fn offer_protocol(params: &SessionParams, kind: MediaKind, protocol: &str) -> String {
    if kind != MediaKind::Audio || !params.srtp.is_mandatory() {
        return protocol.to_string();
    }
    if protocol.eq_ignore_ascii_case("RTP/AVP") {
        "RTP/SAVP".to_string()
    } else if protocol.eq_ignore_ascii_case("RTP/AVPF") {
        "RTP/SAVPF".to_string()
    } else {
        protocol.to_string()
    }
}

/// Our `a=crypto` for an offered line of `kind` on `protocol`, if SRTP is on.
fn offer_crypto(
    params: &SessionParams,
    kind: MediaKind,
    protocol: &str,
) -> Option<CryptoAttribute> {
    let key = params.srtp.key()?;
    (kind == MediaKind::Audio && sdes_applies(protocol))
        .then(|| CryptoAttribute::new(OFFER_CRYPTO_TAG, SrtpSuite::AesCm128HmacSha1_80, key))
}

/// The attributes after the codec lines, shared by offers and answers: `a=ptime`
/// (audio), `a=rtcp-mux`, the direction, `a=mid`, `a=crypto`, then the caller's own
/// attributes.
pub(crate) fn write_tail(
    m: &mut MediaDescription,
    kind: MediaKind,
    params: &SessionParams,
    (rtcp_mux, direction): (bool, Direction),
    mid: Option<&str>,
    crypto: Option<&CryptoAttribute>,
) {
    if kind == MediaKind::Audio {
        if let Some(ptime) = params.ptime {
            m.attributes
                .push(Attribute::trusted("ptime", Some(ptime.to_string())));
        }
    }
    if rtcp_mux {
        m.attributes.push(Attribute::trusted("rtcp-mux", None));
    }
    m.attributes
        .push(Attribute::trusted(direction.as_str(), None));
    if let Some(mid) = mid {
        m.attributes
            .push(Attribute::trusted("mid", Some(mid.to_string())));
    }
    if let Some(crypto) = crypto {
        m.attributes.push(crypto.to_attribute());
    }
    if let Some(media) = params.media(kind) {
        m.attributes.extend(media.attributes.iter().cloned());
    }
}

/// Builds the offer body (the caller stamps the `o=` version).
pub(crate) fn build_offer(
    policy: &CodecPolicy,
    params: &SessionParams,
    slots: &[Slot],
    payload_types: &mut PayloadTypes,
    origin: Origin,
) -> Result<SessionDescription, SdpError> {
    let mut sdp = session_lines(origin, params);
    let offerable = |kind: MediaKind| {
        let codecs = policy.offer_codecs(kind, &params.strip);
        let has_media_codec = codecs.iter().any(|c| *c != CodecName::TelephoneEvent);
        (params.media(kind).is_some() && has_media_codec).then_some(codecs)
    };
    let mut placed: Vec<MediaKind> = Vec::new();
    for slot in slots {
        let kind = MediaKind::from_media(&slot.media).filter(|k| !placed.contains(k));
        let usable = kind.and_then(|k| {
            let codecs = offerable(k)?;
            let ours = offer_protocol(params, k, &params.media(k)?.protocol);
            // RFC 3264 §8: a line keeps its transport family; a different one is offered
            // in a new line and this one disabled.
            same_protocol_family(&ours, &slot.protocol).then_some((k, codecs))
        });
        let m = match usable {
            Some((kind, codecs)) => {
                placed.push(kind);
                let line = Line {
                    kind,
                    protocol: &slot.protocol,
                    mid: slot.mid.as_deref(),
                };
                offer_line(line, &codecs, policy, params, payload_types)?
            }
            None => slot.disabled(),
        };
        sdp.media.push(m);
    }
    for kind in [MediaKind::Audio, MediaKind::Video] {
        if placed.contains(&kind) {
            continue;
        }
        if let (Some(codecs), Some(media)) = (offerable(kind), params.media(kind)) {
            let protocol = offer_protocol(params, kind, &media.protocol);
            let line = Line {
                kind,
                protocol: &protocol,
                mid: None,
            };
            let m = offer_line(line, &codecs, policy, params, payload_types)?;
            sdp.media.push(m);
        }
    }
    if sdp.media.iter().all(|m| m.port == 0) {
        return Err(SdpError::NothingToOffer);
    }
    Ok(sdp)
}

/// Where an offered line goes: its kind, transport and `a=mid`.
struct Line<'a> {
    kind: MediaKind,
    protocol: &'a str,
    mid: Option<&'a str>,
}

fn offer_line(
    line: Line<'_>,
    codecs: &[CodecName],
    policy: &CodecPolicy,
    params: &SessionParams,
    payload_types: &mut PayloadTypes,
) -> Result<MediaDescription, SdpError> {
    let Line {
        kind,
        protocol,
        mid,
    } = line;
    // The callers checked that this kind is wanted.
    let Some(media) = params.media(kind) else {
        return Err(SdpError::NothingToOffer);
    };
    let mut m = MediaDescription::new(kind.as_str(), media.port, protocol, Vec::new());
    let mut taken = Vec::new();
    for (key, fmtp) in offer_formats(codecs, policy) {
        let payload_type = payload_types
            .assign(key, &taken)
            .ok_or(SdpError::NothingToOffer)?;
        taken.push(payload_type);
        let feedback = match kind {
            MediaKind::Video => VIDEO_FEEDBACK.iter().map(|f| f.to_string()).collect(),
            MediaKind::Audio => Vec::new(),
        };
        LocalFormat {
            key,
            payload_type,
            fmtp,
            feedback,
        }
        .write(&mut m);
    }
    let crypto = offer_crypto(params, kind, protocol);
    write_tail(
        &mut m,
        kind,
        params,
        (params.rtcp_mux, params.direction),
        mid,
        crypto.as_ref(),
    );
    Ok(m)
}
