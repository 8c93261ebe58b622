//! Codec names as users of the original web call server configure them, their RTP
//! mappings (RFC 3551 §6 static types; RFC 7587 Opus; RFC 5574 Speex; RFC 4733
//! telephone-event; RFC 6184 H.264; RFC 7741 VP8), and the codec policy: an ordered
//! list, a list excluded from offers, and a per-call strip list.

use std::fmt;
use std::str::FromStr;

use crate::error::SdpError;
use crate::h264::ProfileLevelId;
use crate::rtpmap::Rtpmap;

/// A codec Dialtone knows, by its configuration name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodecName {
    /// `opus`: opus/48000/2, dynamic payload type.
    Opus,
    /// `alaw`: G.711 A-law, PCMA/8000, payload type 8.
    Alaw,
    /// `ulaw`: G.711 µ-law, PCMU/8000, payload type 0.
    Ulaw,
    /// `g729`: G729/8000, payload type 18, offered with `annexb=no`.
    G729,
    /// `speex16`: speex/16000, dynamic payload type.
    Speex16,
    /// `speex`: speex/8000, dynamic payload type.
    Speex,
    /// `g722`: G722/8000 (the RTP clock is 8000 for G.722, RFC 3551 §4.5.2), payload type 9.
    G722,
    /// `telephone-event`: RFC 4733 DTMF, telephone-event/8000 (and /48000 next to Opus).
    TelephoneEvent,
    /// `h264`: H264/90000, offered twice (packetization-mode 1 and 0).
    H264,
    /// `vp8`: VP8/90000.
    Vp8,
}

/// The two media kinds Dialtone negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
}

impl MediaKind {
    /// The `m=` media type.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }

    /// The kind of an `m=` media type, if it is audio or video (ASCII case ignored).
    pub fn from_media(media: &str) -> Option<Self> {
        if media.eq_ignore_ascii_case("audio") {
            Some(MediaKind::Audio)
        } else if media.eq_ignore_ascii_case("video") {
            Some(MediaKind::Video)
        } else {
            None
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CodecName {
    /// Every known codec, in the order of the product brief.
    pub const ALL: [CodecName; 10] = [
        CodecName::Opus,
        CodecName::Alaw,
        CodecName::Ulaw,
        CodecName::G729,
        CodecName::Speex16,
        CodecName::Speex,
        CodecName::G722,
        CodecName::TelephoneEvent,
        CodecName::H264,
        CodecName::Vp8,
    ];

    /// The configuration name (`opus`, `alaw`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CodecName::Opus => "opus",
            CodecName::Alaw => "alaw",
            CodecName::Ulaw => "ulaw",
            CodecName::G729 => "g729",
            CodecName::Speex16 => "speex16",
            CodecName::Speex => "speex",
            CodecName::G722 => "g722",
            CodecName::TelephoneEvent => "telephone-event",
            CodecName::H264 => "h264",
            CodecName::Vp8 => "vp8",
        }
    }

    /// Audio or video.
    pub fn kind(self) -> MediaKind {
        match self {
            CodecName::H264 | CodecName::Vp8 => MediaKind::Video,
            _ => MediaKind::Audio,
        }
    }

    /// The `a=rtpmap` encoding name.
    pub fn encoding(self) -> &'static str {
        match self {
            CodecName::Opus => "opus",
            CodecName::Alaw => "PCMA",
            CodecName::Ulaw => "PCMU",
            CodecName::G729 => "G729",
            CodecName::Speex16 | CodecName::Speex => "speex",
            CodecName::G722 => "G722",
            CodecName::TelephoneEvent => "telephone-event",
            CodecName::H264 => "H264",
            CodecName::Vp8 => "VP8",
        }
    }

    /// The RTP clock rate (telephone-event: its 8000 Hz form).
    pub fn clock_rate(self) -> u32 {
        match self {
            CodecName::Opus => 48_000,
            CodecName::Speex16 => 16_000,
            CodecName::H264 | CodecName::Vp8 => 90_000,
            _ => 8_000,
        }
    }

    /// The channel count written in `a=rtpmap` (`Some(2)` for Opus, RFC 7587 §7), else none.
    pub fn channels(self) -> Option<u8> {
        match self {
            CodecName::Opus => Some(2),
            _ => None,
        }
    }

    /// The static payload type of RFC 3551 §6, where there is one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            CodecName::Ulaw => Some(0),
            CodecName::Alaw => Some(8),
            CodecName::G722 => Some(9),
            CodecName::G729 => Some(18),
            _ => None,
        }
    }

    /// The codec an `a=rtpmap` (or a static payload type's mapping) describes, if it is
    /// one we know: encoding name compared ignoring case, clock rate must match
    /// (telephone-event: any rate).
    pub fn from_rtpmap(rtpmap: &Rtpmap) -> Option<Self> {
        CodecName::ALL.into_iter().find(|c| {
            c.encoding().eq_ignore_ascii_case(&rtpmap.encoding)
                && (*c == CodecName::TelephoneEvent || c.clock_rate() == rtpmap.clock_rate)
        })
    }
}

impl fmt::Display for CodecName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CodecName {
    type Err = SdpError;

    /// Parses a configuration name (ASCII case and surrounding spaces ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        CodecName::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| SdpError::UnknownCodec {
                name: name.chars().take(40).collect(),
            })
    }
}

/// Parses a comma-separated codec list such as `"opus, alaw,ulaw"`. Spaces and empty
/// items are ignored; a name listed twice keeps its first place; an unknown name is an
/// [`SdpError::UnknownCodec`].
pub fn parse_codec_list(list: &str) -> Result<Vec<CodecName>, SdpError> {
    let mut codecs = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let codec: CodecName = item.parse()?;
        if !codecs.contains(&codec) {
            codecs.push(codec);
        }
    }
    Ok(codecs)
}

/// Opus format parameters we ask for (RFC 7587 §6.1); written in our `a=fmtp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusOptions {
    /// `useinbandfec=1`: we can decode in-band FEC.
    pub useinbandfec: bool,
    /// `usedtx=1`: we prefer the sender to use DTX.
    pub usedtx: bool,
    /// `maxplaybackrate=<Hz>`, when set.
    pub maxplaybackrate: Option<u32>,
}

impl Default for OpusOptions {
    /// In-band FEC on, DTX off, no playback-rate limit.
    fn default() -> Self {
        OpusOptions {
            useinbandfec: true,
            usedtx: false,
            maxplaybackrate: None,
        }
    }
}

impl OpusOptions {
    /// The fmtp parameters, `None` when every option is at its default-off value.
    pub(crate) fn fmtp(&self) -> Option<String> {
        let mut params = Vec::new();
        if let Some(rate) = self.maxplaybackrate {
            params.push(format!("maxplaybackrate={rate}"));
        }
        if self.useinbandfec {
            params.push("useinbandfec=1".to_string());
        }
        if self.usedtx {
            params.push("usedtx=1".to_string());
        }
        (!params.is_empty()).then(|| params.join(";"))
    }
}

/// Which codecs a profile uses, in which order, and which are never offered.
///
/// `order` lists the codecs we accept, most preferred first (audio and video mixed;
/// each `m=` line takes its own kind). `excluded_from_offers` are accepted in answers
/// but left out of our offers. The per-call strip list (in
/// [`crate::SessionParams::strip`]) removes codecs from both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecPolicy {
    /// Accepted codecs, most preferred first.
    pub order: Vec<CodecName>,
    /// Codecs accepted in answers but never put in our offers.
    pub excluded_from_offers: Vec<CodecName>,
    /// The Opus fmtp parameters we write.
    pub opus: OpusOptions,
    /// The H.264 profile and level we offer (default `42e01f`).
    pub h264_profile_level_id: ProfileLevelId,
}

impl Default for CodecPolicy {
    /// `opus, g722, alaw, ulaw, telephone-event, vp8, h264`, nothing excluded.
    fn default() -> Self {
        CodecPolicy::new(vec![
            CodecName::Opus,
            CodecName::G722,
            CodecName::Alaw,
            CodecName::Ulaw,
            CodecName::TelephoneEvent,
            CodecName::Vp8,
            CodecName::H264,
        ])
    }
}

impl CodecPolicy {
    /// A policy with this order, nothing excluded, default Opus and H.264 parameters.
    pub fn new(order: Vec<CodecName>) -> Self {
        CodecPolicy {
            order,
            excluded_from_offers: Vec::new(),
            opus: OpusOptions::default(),
            h264_profile_level_id: ProfileLevelId::CONSTRAINED_BASELINE_3_1,
        }
    }

    /// A policy from the two comma lists users configure, e.g.
    /// `from_lists("opus,alaw,ulaw,telephone-event", "g729")`.
    pub fn from_lists(order: &str, excluded_from_offers: &str) -> Result<Self, SdpError> {
        let mut policy = CodecPolicy::new(parse_codec_list(order)?);
        policy.excluded_from_offers = parse_codec_list(excluded_from_offers)?;
        Ok(policy)
    }

    /// The codecs of `kind` we put in an offer, in order: `order` minus the exclusions
    /// and the strip list. telephone-event, if kept, is moved to the end.
    pub fn offer_codecs(&self, kind: MediaKind, strip: &[CodecName]) -> Vec<CodecName> {
        self.filtered(kind, strip, true)
    }

    /// The codecs of `kind` we accept in an answer: `order` minus the strip list
    /// (exclusions apply to offers only). telephone-event, if kept, is moved to the end.
    pub fn answer_codecs(&self, kind: MediaKind, strip: &[CodecName]) -> Vec<CodecName> {
        self.filtered(kind, strip, false)
    }

    fn filtered(&self, kind: MediaKind, strip: &[CodecName], offering: bool) -> Vec<CodecName> {
        let mut codecs: Vec<CodecName> = self
            .order
            .iter()
            .copied()
            .filter(|c| c.kind() == kind && !strip.contains(c))
            .filter(|c| !(offering && self.excluded_from_offers.contains(c)))
            .collect();
        if let Some(i) = codecs.iter().position(|c| *c == CodecName::TelephoneEvent) {
            codecs.remove(i);
            codecs.push(CodecName::TelephoneEvent);
        }
        codecs
    }
}
