//! Media formats as offer/answer handles them: the payloads we write, the payloads a
//! peer wrote, and the payload-type numbering that must stay stable for the life of a
//! session (RFC 3264 §5.1, §8.3.2; RFC 3551 §6 static types; dynamic range 96-127).

use crate::attribute::Attribute;
use crate::codec::{CodecName, CodecPolicy};
use crate::h264;
use crate::media::MediaDescription;
use crate::rtpmap::Rtpmap;

/// RTCP feedback Dialtone understands for video (RFC 4585 §4.2, RFC 5104 §7.1).
pub(crate) const VIDEO_FEEDBACK: [&str; 3] = ["nack", "nack pli", "ccm fir"];

/// What identifies a format across offers: codec, clock rate, and for H.264 the
/// packetization mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FormatKey {
    pub codec: CodecName,
    pub clock_rate: u32,
    pub variant: u8,
}

/// One payload we put in an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalFormat {
    pub key: FormatKey,
    pub payload_type: u8,
    pub fmtp: Option<String>,
    /// `a=rtcp-fb` values to write for this payload.
    pub feedback: Vec<String>,
}

impl LocalFormat {
    /// Writes the payload type into the `m=` format list and its `a=rtpmap`, `a=fmtp`,
    /// `a=rtcp-fb` lines.
    pub fn write(&self, m: &mut MediaDescription) {
        let pt = self.payload_type;
        m.formats.push(pt.to_string());
        let rtpmap = Rtpmap {
            payload_type: pt,
            encoding: self.key.codec.encoding().to_string(),
            clock_rate: self.key.clock_rate,
            channels: self.key.codec.channels(),
        };
        m.attributes
            .push(Attribute::trusted("rtpmap", Some(rtpmap.to_string())));
        if let Some(fmtp) = &self.fmtp {
            m.attributes
                .push(Attribute::trusted("fmtp", Some(format!("{pt} {fmtp}"))));
        }
        for fb in &self.feedback {
            m.attributes
                .push(Attribute::trusted("rtcp-fb", Some(format!("{pt} {fb}"))));
        }
    }
}

/// The formats of one kind we offer, before payload types are assigned: codec order
/// from the policy; H.264 twice (mode 1 then 0); telephone-event at 48000 too when
/// Opus is offered.
pub(crate) fn offer_formats(
    codecs: &[CodecName],
    policy: &CodecPolicy,
) -> Vec<(FormatKey, Option<String>)> {
    let mut formats = Vec::new();
    for &codec in codecs {
        let key = |clock_rate, variant| FormatKey {
            codec,
            clock_rate,
            variant,
        };
        match codec {
            CodecName::H264 => {
                for mode in [1, 0] {
                    let fmtp = h264::fmtp(policy.h264_profile_level_id, mode);
                    formats.push((key(90_000, mode), Some(fmtp)));
                }
            }
            CodecName::TelephoneEvent => {
                if codecs.contains(&CodecName::Opus) {
                    formats.push((key(48_000, 0), Some("0-16".to_string())));
                }
                formats.push((key(8_000, 0), Some("0-16".to_string())));
            }
            _ => formats.push((key(codec.clock_rate(), 0), our_fmtp(codec, policy))),
        }
    }
    formats
}

/// The fmtp we write for a codec other than H.264 and telephone-event.
pub(crate) fn our_fmtp(codec: CodecName, policy: &CodecPolicy) -> Option<String> {
    match codec {
        CodecName::Opus => policy.opus.fmtp(),
        CodecName::G729 => Some("annexb=no".to_string()),
        CodecName::TelephoneEvent => Some("0-16".to_string()),
        _ => None,
    }
}

/// A payload a peer wrote, when it is a codec we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteFormat {
    pub payload_type: u8,
    pub codec: CodecName,
    pub clock_rate: u32,
    pub channels: u8,
    pub fmtp: Option<String>,
    /// Which of [`VIDEO_FEEDBACK`] the peer listed for this payload (or for `*`).
    pub feedback: Vec<&'static str>,
}

impl RemoteFormat {
    /// The known-codec payloads of an `m=` line, in its order, each payload type once.
    /// A payload without `a=rtpmap` is looked up in the static table (RFC 3551 §6) if
    /// below 96. One pass over the attributes, so hostile descriptions with thousands
    /// of lines stay linear.
    pub fn all(m: &MediaDescription) -> Vec<RemoteFormat> {
        const NONE: Option<Rtpmap> = None;
        let mut rtpmaps = [NONE; 128];
        let mut fmtps: [Option<&str>; 128] = [None; 128];
        let mut feedback: [Vec<&'static str>; 129] = std::array::from_fn(|_| Vec::new());
        for a in &m.attributes {
            let Some(value) = a.value() else { continue };
            if a.is("rtpmap") {
                if let Some(r) = Rtpmap::parse(value) {
                    // In bounds: Rtpmap::parse accepts payload types 0-127 only.
                    let slot = &mut rtpmaps[usize::from(r.payload_type)];
                    slot.get_or_insert(r);
                }
            } else if a.is("fmtp") || a.is("rtcp-fb") {
                let (pt, rest) = value.split_once(' ').unwrap_or((value, ""));
                let index = match pt.trim() {
                    "*" => 128,
                    pt => match pt.parse::<u8>() {
                        Ok(pt) if pt <= 127 => usize::from(pt),
                        _ => continue,
                    },
                };
                if a.is("fmtp") {
                    if let Some(slot) = fmtps.get_mut(index) {
                        slot.get_or_insert(rest.trim());
                    }
                } else if let Some(fb) = VIDEO_FEEDBACK
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(rest.trim()))
                {
                    // In bounds: index is a payload type (0-127) or 128 for `*`.
                    if !feedback[index].contains(fb) {
                        feedback[index].push(fb);
                    }
                }
            }
        }
        let mut seen = [false; 128];
        let mut formats = Vec::new();
        for pt in m.payload_types() {
            // In bounds: payload_types() yields 0-127 only.
            let i = usize::from(pt);
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let Some(rtpmap) = rtpmaps[i]
                .clone()
                .or_else(|| (pt < 96).then(|| Rtpmap::for_static(pt)).flatten())
            else {
                continue;
            };
            let Some(codec) = CodecName::from_rtpmap(&rtpmap) else {
                continue;
            };
            let mut fb = feedback[128].clone();
            fb.extend(feedback[i].iter().filter(|f| !feedback[128].contains(f)));
            formats.push(RemoteFormat {
                payload_type: pt,
                codec,
                clock_rate: rtpmap.clock_rate,
                channels: rtpmap.channel_count(),
                fmtp: fmtps[i].filter(|f| !f.is_empty()).map(str::to_string),
                feedback: fb,
            });
        }
        formats
    }

    /// The H.264 packetization mode, 0 for other codecs.
    pub fn variant(&self) -> u8 {
        match self.codec {
            CodecName::H264 => h264::packetization_mode(self.fmtp.as_deref().unwrap_or("")),
            _ => 0,
        }
    }

    /// The key this payload has in our numbering.
    pub fn key(&self) -> FormatKey {
        FormatKey {
            codec: self.codec,
            clock_rate: self.clock_rate,
            variant: self.variant(),
        }
    }

    /// True when this payload is the same format as `ours` (one of our offered payloads,
    /// read back from our own offer).
    pub fn same_as(&self, ours: &RemoteFormat) -> bool {
        if self.codec != ours.codec || self.clock_rate != ours.clock_rate {
            return false;
        }
        match self.codec {
            CodecName::H264 => h264::same_format(
                ours.fmtp.as_deref().unwrap_or(""),
                self.fmtp.as_deref().unwrap_or(""),
            ),
            _ => true,
        }
    }
}

/// The session's payload-type numbering: once a format has a number, later offers reuse
/// it (RFC 3264 §8.3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PayloadTypes {
    map: Vec<(FormatKey, u8)>,
    /// Numbers the peer used for formats we did not take: never given to another
    /// format of ours, so no number changes meaning within the session.
    reserved: Vec<u8>,
}

impl PayloadTypes {
    /// The number for `key` in an `m=` line that already uses `taken`: its static type,
    /// the number it had before, or the lowest free dynamic number. `None` only when all
    /// 32 dynamic numbers are taken.
    pub fn assign(&mut self, key: FormatKey, taken: &[u8]) -> Option<u8> {
        if let Some(pt) = key.codec.static_payload_type() {
            if !taken.contains(&pt) {
                return Some(pt);
            }
        }
        if let Some(&(_, pt)) = self.map.iter().find(|(k, _)| *k == key) {
            if !taken.contains(&pt) {
                return Some(pt);
            }
        }
        let free = |pt: &u8| !taken.contains(pt) && !self.map.iter().any(|(_, p)| p == pt);
        // Prefer numbers the peer never used; when it used them all (WebRTC peers use
        // most of the range), reuse one of those rather than fail.
        let pt = (96..=127u8)
            .find(|pt| free(pt) && !self.reserved.contains(pt))
            .or_else(|| (96..=127u8).find(free))?;
        self.map.push((key, pt));
        Some(pt)
    }

    /// Records the payload numbers a peer's `m=` line uses (RFC 3264 §8.3.2).
    pub fn reserve(&mut self, m: &MediaDescription) {
        for pt in m.payload_types() {
            if !self.reserved.contains(&pt) {
                self.reserved.push(pt);
            }
        }
    }

    /// Records that `key` is numbered `pt` in this session (from a negotiation).
    pub fn learn(&mut self, key: FormatKey, pt: u8) {
        if key.codec.static_payload_type() == Some(pt) {
            return;
        }
        self.map.retain(|(k, p)| *k != key && *p != pt);
        self.map.push((key, pt));
    }
}
