//! Answers, both ways (RFC 3264 §6, §7): building ours for a remote offer, and reading
//! the peer's answer to our offer.
//!
//! Our answer has one `m=` line per offered line, same order, same media type and
//! protocol (§6). A line is accepted with the codecs of the offer that our policy
//! accepts, **in the offer's order** (§6.1), with the offer's payload numbers; plus the
//! telephone-event whose clock rate matches the first codec (RFC 4733 §2.1; failing
//! that, the first one offered). A line nothing matches is rejected with port 0.

use crate::codec::{CodecName, CodecPolicy, MediaKind};
use crate::crypto::{crypto_lines, CryptoAttribute, SrtpKeys};
use crate::direction::Direction;
use crate::error::SdpError;
use crate::format::{our_fmtp, FormatKey, LocalFormat, RemoteFormat};
use crate::h264;
use crate::media::MediaDescription;
use crate::negotiated::{
    AcceptedMedia, Negotiated, NegotiatedCodec, NegotiatedMedia, TelephoneEvent,
};
use crate::offer::{is_secure_profile, sdes_applies, session_lines, write_tail, Slot};
use crate::params::SessionParams;
use crate::remote::{same_protocol_family, RemoteMedia};
use crate::session::{Origin, SessionDescription};

/// Everything answering an offer produces.
pub(crate) struct Answer {
    pub sdp: SessionDescription,
    pub negotiated: Negotiated,
    pub slots: Vec<Slot>,
    pub learned: Vec<(FormatKey, u8)>,
}

/// Builds our answer to `offer` (the caller stamps the `o=` version).
pub(crate) fn build_answer(
    policy: &CodecPolicy,
    params: &SessionParams,
    offer: &SessionDescription,
    origin: Origin,
) -> Result<Answer, SdpError> {
    let mut answer = Answer {
        sdp: session_lines(origin, params),
        negotiated: Negotiated { media: Vec::new() },
        slots: offer.media.iter().map(Slot::of).collect(),
        learned: Vec::new(),
    };
    let mut placed: Vec<MediaKind> = Vec::new();
    let mut refusals: Vec<String> = Vec::new();
    for index in 0..offer.media.len() {
        let Some(remote) = RemoteMedia::new(offer, index) else {
            continue;
        };
        match answer_line(policy, params, remote, &placed)? {
            Ok((line, accepted, learned)) => {
                placed.push(accepted.kind);
                answer.learned.extend(learned);
                answer.sdp.media.push(line);
                answer
                    .negotiated
                    .media
                    .push(NegotiatedMedia::Accepted(Box::new(accepted)));
            }
            Err(reason) => {
                refusals.push(format!("m-line {index} ({}): {reason}", remote.media.media));
                answer.sdp.media.push(Slot::of(remote.media).disabled());
                answer.negotiated.media.push(NegotiatedMedia::Rejected {
                    index,
                    media: remote.media.media.clone(),
                });
            }
        }
    }
    if placed.is_empty() {
        let reason = if refusals.is_empty() {
            "the offer has no m= line".to_string()
        } else {
            refusals.join("; ")
        };
        return Err(SdpError::NoAcceptableMedia { reason });
    }
    Ok(answer)
}

type LineAnswer = (MediaDescription, AcceptedMedia, Vec<(FormatKey, u8)>);

/// One offered line: `Ok(Ok(..))` accepted, `Ok(Err(reason))` rejected with port 0,
/// `Err` when the offer is unusable (no address for a stream we would accept).
fn answer_line(
    policy: &CodecPolicy,
    params: &SessionParams,
    remote: RemoteMedia<'_>,
    placed: &[MediaKind],
) -> Result<Result<LineAnswer, String>, SdpError> {
    let offered = remote.media;
    if offered.port == 0 {
        return Ok(Err("disabled in the offer (port 0)".to_string()));
    }
    let Some(kind) = MediaKind::from_media(&offered.media) else {
        return Ok(Err("media type not supported".to_string()));
    };
    if placed.contains(&kind) {
        return Ok(Err(format!("a second {kind} stream is not supported")));
    }
    let Some(ours) = params.media(kind) else {
        return Ok(Err(format!("no {kind} wanted for this call")));
    };
    // SDES (RFC 4568) bridges the RTP/AVP and RTP/SAVP families for audio: whether the
    // stream is SRTP depends on the offer's a=crypto lines and our policy.
    let sdes =
        kind == MediaKind::Audio && sdes_applies(&offered.protocol) && sdes_applies(&ours.protocol);
    if !sdes && !same_protocol_family(&ours.protocol, &offered.protocol) {
        return Ok(Err(format!(
            "protocol {} not accepted (we use {})",
            offered.protocol, ours.protocol
        )));
    }
    let srtp = if sdes {
        match answer_srtp(params, offered) {
            Ok(srtp) => srtp,
            Err(reason) => return Ok(Err(reason)),
        }
    } else {
        None
    };
    let codecs = policy.answer_codecs(kind, &params.strip);
    let offered_formats = RemoteFormat::all(offered);
    let chosen: Vec<(RemoteFormat, Option<String>)> = offered_formats
        .iter()
        .filter(|f| f.codec != CodecName::TelephoneEvent && codecs.contains(&f.codec))
        .filter_map(|f| answer_fmtp(f, policy).map(|fmtp| (f.clone(), fmtp)))
        .collect();
    let Some((first, _)) = chosen.first() else {
        return Ok(Err("no codec in common".to_string()));
    };
    let telephone_event = codecs
        .contains(&CodecName::TelephoneEvent)
        .then(|| pick_telephone_event(&offered_formats, first.clock_rate))
        .flatten();

    let rtcp_mux = params.rtcp_mux && remote.rtcp_mux();
    let direction = Direction::answer_to(remote.direction(), params.direction);
    let accepted = AcceptedMedia {
        index: remote.index,
        kind,
        mid: offered.mid().map(str::to_string),
        protocol: offered.protocol.clone(),
        codec: negotiated_codec(first),
        other_codecs: chosen
            .iter()
            .skip(1)
            .map(|(f, _)| negotiated_codec(f))
            .collect(),
        telephone_event: telephone_event.map(telephone_event_of),
        local_port: ours.port,
        remote_rtp: remote.rtp()?,
        remote_rtcp: remote.rtcp(rtcp_mux)?,
        rtcp_mux,
        direction,
        ptime: remote.ptime(),
        remote_attributes: offered.attributes.clone(),
        srtp: srtp.as_ref().map(|(keys, _)| keys.clone()),
    };

    let mut line = MediaDescription::new(&offered.media, ours.port, &offered.protocol, Vec::new());
    let mut learned = Vec::new();
    for (format, fmtp) in chosen
        .iter()
        .map(|(f, fmtp)| (f, fmtp.clone()))
        .chain(telephone_event.map(|te| (te, Some("0-16".to_string()))))
    {
        let feedback = match kind {
            MediaKind::Video => format.feedback.iter().map(|f| f.to_string()).collect(),
            MediaKind::Audio => Vec::new(),
        };
        LocalFormat {
            key: format.key(),
            payload_type: format.payload_type,
            fmtp,
            feedback,
        }
        .write(&mut line);
        learned.push((format.key(), format.payload_type));
    }
    write_tail(
        &mut line,
        kind,
        params,
        (rtcp_mux, direction),
        offered.mid(),
        srtp.as_ref().map(|(_, crypto)| crypto),
    );
    Ok(Ok((line, accepted, learned)))
}

/// The SRTP outcome of answering one audio line (RFC 4568 §7.1.2): the first usable
/// `a=crypto` of the offer, answered with our key under the same tag. `Ok(None)`: plain
/// RTP; `Err(reason)`: the line must be rejected (an `RTP/SAVP` offer we cannot secure,
/// RFC 4568 §7.5, or no usable crypto while our policy makes SRTP mandatory).
fn answer_srtp(
    params: &SessionParams,
    offered: &MediaDescription,
) -> Result<Option<(SrtpKeys, CryptoAttribute)>, String> {
    let secure = is_secure_profile(&offered.protocol);
    let Some(our_key) = params.srtp.key() else {
        return if secure {
            Err(format!(
                "{} needs SRTP, which is off for this call (SDES keys only travel over TLS or WSS signaling)",
                offered.protocol
            ))
        } else {
            Ok(None)
        };
    };
    let mut unusable = Vec::new();
    for line in crypto_lines(offered) {
        let usable = line
            .map_err(|e| e.to_string())
            .and_then(|crypto| crypto.usable().map(|(suite, key)| (crypto.tag, suite, key)));
        match usable {
            Ok((tag, suite, remote_key)) => {
                let answer = CryptoAttribute::new(tag, suite, our_key);
                let keys = SrtpKeys {
                    suite,
                    tag,
                    local_key: our_key.clone(),
                    remote_key,
                };
                return Ok(Some((keys, answer)));
            }
            Err(reason) => unusable.push(reason),
        }
    }
    if !secure && !params.srtp.is_mandatory() {
        return Ok(None);
    }
    Err(if unusable.is_empty() {
        "no a=crypto line, and SRTP is required".to_string()
    } else {
        format!("no usable a=crypto ({})", unusable.join("; "))
    })
}

/// The SRTP outcome of the peer's answer to one of our lines (RFC 4568 §7.1.3): the
/// answer's `a=crypto` must carry the tag and suite of one of ours. Without one, an
/// `RTP/AVP` offer falls back to plain RTP; an `RTP/SAVP` one is broken.
fn read_answer_srtp(
    index: usize,
    ours: &MediaDescription,
    theirs: &MediaDescription,
) -> Result<Option<SrtpKeys>, SdpError> {
    let offered: Vec<CryptoAttribute> = crypto_lines(ours).filter_map(Result::ok).collect();
    if offered.is_empty() {
        return Ok(None);
    }
    let mismatch = |what: String| SdpError::mismatch(format!("m-line {index}: {what}"));
    let Some(answered) = crypto_lines(theirs).next() else {
        if is_secure_profile(&ours.protocol) {
            return Err(mismatch(format!(
                "the answer to our {} offer has no a=crypto",
                ours.protocol
            )));
        }
        return Ok(None);
    };
    let answered = answered.map_err(|e| mismatch(e.to_string()))?;
    let Some(ours) = offered.iter().find(|c| c.tag == answered.tag) else {
        return Err(mismatch(format!(
            "the answer's a=crypto tag {} is not one we offered",
            answered.tag
        )));
    };
    if ours.suite != answered.suite {
        return Err(mismatch(format!(
            "the answer's a=crypto suite differs from the one we offered with tag {}",
            answered.tag
        )));
    }
    let (suite, local_key) = ours.usable().map_err(mismatch)?;
    let (_, remote_key) = answered.usable().map_err(mismatch)?;
    Ok(Some(SrtpKeys {
        suite,
        tag: answered.tag,
        local_key,
        remote_key,
    }))
}

/// The fmtp we answer an offered payload with; `None` when the payload's parameters
/// rule it out (H.264 with another profile or a packetization mode other than 0/1).
fn answer_fmtp(format: &RemoteFormat, policy: &CodecPolicy) -> Option<Option<String>> {
    match format.codec {
        CodecName::H264 => {
            let mode = format.variant();
            if mode > 1 {
                return None;
            }
            let offered = format.fmtp.as_deref().unwrap_or("");
            h264::answer_fmtp(offered, policy.h264_profile_level_id, mode).map(Some)
        }
        codec => Some(our_fmtp(codec, policy)),
    }
}

/// The telephone-event payload at `clock_rate`, else the first one.
fn pick_telephone_event(formats: &[RemoteFormat], clock_rate: u32) -> Option<&RemoteFormat> {
    let events = || {
        formats
            .iter()
            .filter(|f| f.codec == CodecName::TelephoneEvent)
    };
    events()
        .find(|f| f.clock_rate == clock_rate)
        .or_else(|| events().next())
}

fn negotiated_codec(format: &RemoteFormat) -> NegotiatedCodec {
    NegotiatedCodec {
        payload_type: format.payload_type,
        name: format.codec,
        clock_rate: format.clock_rate,
        channels: format.channels,
        fmtp: format.fmtp.clone(),
    }
}

fn telephone_event_of(format: &RemoteFormat) -> TelephoneEvent {
    TelephoneEvent {
        payload_type: format.payload_type,
        clock_rate: format.clock_rate,
        events: format.fmtp.clone(),
    }
}

/// Reads the peer's answer to our `offer`: the negotiated streams and the payload
/// numbers the answer uses (RFC 3264 §7).
pub(crate) fn read_answer(
    offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<(Negotiated, Vec<(FormatKey, u8)>), SdpError> {
    if answer.media.len() != offer.media.len() {
        return Err(SdpError::mismatch(format!(
            "the offer has {} m= lines, the answer {} (RFC 3264 §6)",
            offer.media.len(),
            answer.media.len()
        )));
    }
    let mut negotiated = Negotiated { media: Vec::new() };
    let mut learned = Vec::new();
    for (index, (ours, theirs)) in offer.media.iter().zip(&answer.media).enumerate() {
        if !ours.media.eq_ignore_ascii_case(&theirs.media) {
            return Err(SdpError::mismatch(format!(
                "m-line {index}: offered {}, answered {}",
                ours.media, theirs.media
            )));
        }
        let kind = MediaKind::from_media(&ours.media);
        let (Some(kind), true, true) = (kind, ours.port != 0, theirs.port != 0) else {
            negotiated.media.push(NegotiatedMedia::Rejected {
                index,
                media: ours.media.clone(),
            });
            continue;
        };
        if !same_protocol_family(&ours.protocol, &theirs.protocol) {
            return Err(SdpError::mismatch(format!(
                "m-line {index}: offered protocol {}, answered {}",
                ours.protocol, theirs.protocol
            )));
        }
        let remote = RemoteMedia {
            session: answer,
            media: theirs,
            index,
        };
        let accepted = read_answer_line(kind, ours, remote, &mut learned)?;
        negotiated
            .media
            .push(NegotiatedMedia::Accepted(Box::new(accepted)));
    }
    Ok((negotiated, learned))
}

fn read_answer_line(
    kind: MediaKind,
    ours: &MediaDescription,
    remote: RemoteMedia<'_>,
    learned: &mut Vec<(FormatKey, u8)>,
) -> Result<AcceptedMedia, SdpError> {
    let index = remote.index;
    let srtp = if kind == MediaKind::Audio {
        read_answer_srtp(index, ours, remote.media)?
    } else {
        None
    };
    let offered = RemoteFormat::all(ours);
    let answered: Vec<RemoteFormat> = RemoteFormat::all(remote.media)
        .into_iter()
        .filter(|f| offered.iter().any(|o| f.same_as(o)))
        .collect();
    for f in &answered {
        learned.push((f.key(), f.payload_type));
    }
    let mut codecs = answered
        .iter()
        .filter(|f| f.codec != CodecName::TelephoneEvent)
        .map(negotiated_codec);
    let Some(codec) = codecs.next() else {
        return Err(SdpError::mismatch(format!(
            "m-line {index}: the answer accepts none of the offered codecs"
        )));
    };
    let telephone_event = pick_telephone_event(&answered, codec.clock_rate).map(telephone_event_of);
    let rtcp_mux = ours.has_attribute("rtcp-mux") && remote.rtcp_mux();
    let direction = ours
        .direction()
        .unwrap_or_default()
        .intersect(remote.direction().reversed());
    Ok(AcceptedMedia {
        index,
        kind,
        mid: remote.media.mid().or(ours.mid()).map(str::to_string),
        protocol: remote.media.protocol.clone(),
        other_codecs: codecs.collect(),
        codec,
        telephone_event,
        local_port: ours.port,
        remote_rtp: remote.rtp()?,
        remote_rtcp: remote.rtcp(rtcp_mux)?,
        rtcp_mux,
        direction,
        ptime: remote.ptime(),
        remote_attributes: remote.media.attributes.clone(),
        srtp,
    })
}
