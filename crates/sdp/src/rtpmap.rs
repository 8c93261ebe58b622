//! `a=rtpmap` and `a=fmtp` values (RFC 8866 §6.6, §6.15) and the static payload types
//! of the RTP/AVP profile (RFC 3551 §6, Table 4).

use std::fmt;

/// A parsed `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rtpmap {
    /// The RTP payload type (0-127).
    pub payload_type: u8,
    /// Encoding name as written (`PCMU`, `opus`, `telephone-event`, ...).
    pub encoding: String,
    /// RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count for audio, when written.
    pub channels: Option<u8>,
}

impl Rtpmap {
    /// Parses an `a=rtpmap` value; `None` when malformed.
    pub fn parse(value: &str) -> Option<Self> {
        let (pt, rest) = value.trim().split_once(' ')?;
        let payload_type: u8 = pt.parse().ok()?;
        if payload_type > 127 {
            return None;
        }
        let mut parts = rest.trim().split('/');
        let encoding = parts.next()?.trim();
        if encoding.is_empty() {
            return None;
        }
        let clock_rate = parts.next()?.trim().parse().ok()?;
        let channels = match parts.next() {
            Some(c) => Some(c.trim().parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Rtpmap {
            payload_type,
            encoding: encoding.to_string(),
            clock_rate,
            channels,
        })
    }

    /// The mapping RFC 3551 §6 fixes for a static payload type, used when an offer lists
    /// a static type without `a=rtpmap`.
    pub fn for_static(payload_type: u8) -> Option<Self> {
        let (encoding, clock_rate) = match payload_type {
            0 => ("PCMU", 8000),
            3 => ("GSM", 8000),
            4 => ("G723", 8000),
            5 => ("DVI4", 8000),
            6 => ("DVI4", 16000),
            7 => ("LPC", 8000),
            8 => ("PCMA", 8000),
            9 => ("G722", 8000),
            10 => ("L16", 44100),
            13 => ("CN", 8000),
            15 => ("G728", 8000),
            18 => ("G729", 8000),
            _ => return None,
        };
        let channels = if payload_type == 10 { Some(2) } else { None };
        Some(Rtpmap {
            payload_type,
            encoding: encoding.to_string(),
            clock_rate,
            channels,
        })
    }

    /// The channel count, 1 when not written (RFC 8866 §6.6).
    pub fn channel_count(&self) -> u8 {
        self.channels.unwrap_or(1)
    }
}

impl fmt::Display for Rtpmap {
    /// Writes the attribute value (without `a=rtpmap:`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(c) = self.channels {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// Splits format parameters `a; b=c; d=e` into `(name, value)` pairs; a parameter without
/// `=` has an empty value (e.g. telephone-event's `0-16`). Empty items are skipped.
pub fn fmtp_params(params: &str) -> impl Iterator<Item = (&str, &str)> {
    params.split(';').filter_map(|item| {
        let item = item.trim();
        if item.is_empty() {
            return None;
        }
        Some(match item.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (item, ""),
        })
    })
}

/// The value of format parameter `name` (ASCII case ignored), if present.
pub fn fmtp_param<'a>(params: &'a str, name: &str) -> Option<&'a str> {
    fmtp_params(params)
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}
