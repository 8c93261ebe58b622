//! The RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1).
//!
//! [`RtpPacket::parse`] reads any byte string without panicking: everything a length
//! field promises is checked against the bytes present. Padding is removed on parse and
//! never written.

use crate::error::PacketError;

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub const RTP_HEADER_LEN: usize = 12;

/// One RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtpPacket {
    /// M: the marker bit (first packet of a talk spurt for audio, RFC 3551 §4.1).
    pub marker: bool,
    /// PT: the payload type, 0–127.
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The RTP timestamp, in units of the payload's clock rate.
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
    /// Contributing sources (at most 15).
    pub csrcs: Vec<u32>,
    /// The header extension, if the X bit was set (§5.3.1).
    pub extension: Option<RtpExtension>,
    /// The payload, without padding.
    pub payload: Vec<u8>,
}

/// An RTP header extension (RFC 3550 §5.3.1): a 16-bit profile-defined word and data
/// whose length is a multiple of four bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtpExtension {
    /// The profile-defined first 16 bits (0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension data (length a multiple of 4 when written; shorter data is
    /// zero-padded).
    pub data: Vec<u8>,
}

impl RtpPacket {
    /// Parses one RTP packet (RFC 3550 §5.1 and the validity checks of A.1 that need no
    /// state: version 2, lengths, padding).
    pub fn parse(bytes: &[u8]) -> Result<RtpPacket, PacketError> {
        if bytes.len() < RTP_HEADER_LEN {
            return Err(PacketError::Truncated {
                needed: RTP_HEADER_LEN,
                have: bytes.len(),
            });
        }
        let version = bytes[0] >> 6;
        if version != 2 {
            return Err(PacketError::Version(version));
        }
        let has_padding = bytes[0] & 0x20 != 0;
        let has_extension = bytes[0] & 0x10 != 0;
        let csrc_count = usize::from(bytes[0] & 0x0F);
        let marker = bytes[1] & 0x80 != 0;
        let payload_type = bytes[1] & 0x7F;
        let sequence = u16::from_be_bytes([bytes[2], bytes[3]]);
        let timestamp = read_u32(bytes, 4);
        let ssrc = read_u32(bytes, 8);

        let mut offset = RTP_HEADER_LEN + 4 * csrc_count;
        if bytes.len() < offset {
            return Err(PacketError::Truncated {
                needed: offset,
                have: bytes.len(),
            });
        }
        let csrcs = (0..csrc_count)
            .map(|i| read_u32(bytes, RTP_HEADER_LEN + 4 * i))
            .collect();

        let extension = if has_extension {
            if bytes.len() < offset + 4 {
                return Err(PacketError::Truncated {
                    needed: offset + 4,
                    have: bytes.len(),
                });
            }
            let profile = u16::from_be_bytes([bytes[offset], bytes[offset + 1]]);
            let words = usize::from(u16::from_be_bytes([bytes[offset + 2], bytes[offset + 3]]));
            let start = offset + 4;
            let end = start + 4 * words;
            if bytes.len() < end {
                return Err(PacketError::Truncated {
                    needed: end,
                    have: bytes.len(),
                });
            }
            offset = end;
            Some(RtpExtension {
                profile,
                data: bytes[start..end].to_vec(),
            })
        } else {
            None
        };

        let mut end = bytes.len();
        if has_padding {
            let pad = usize::from(bytes[bytes.len() - 1]);
            if pad == 0 || offset + pad > bytes.len() {
                return Err(PacketError::Padding(pad));
            }
            end -= pad;
        }
        Ok(RtpPacket {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs,
            extension,
            payload: bytes[offset..end].to_vec(),
        })
    }

    /// Appends the packet's wire form to `out`. At most 15 CSRCs are written; the
    /// payload type is masked to 7 bits.
    pub fn write(&self, out: &mut Vec<u8>) {
        let csrcs = &self.csrcs[..self.csrcs.len().min(15)];
        let mut first = 0x80 | csrcs.len() as u8;
        if self.extension.is_some() {
            first |= 0x10;
        }
        out.push(first);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7F));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for csrc in csrcs {
            out.extend_from_slice(&csrc.to_be_bytes());
        }
        if let Some(ext) = &self.extension {
            let words = ext.data.len().div_ceil(4).min(usize::from(u16::MAX));
            out.extend_from_slice(&ext.profile.to_be_bytes());
            out.extend_from_slice(&(words as u16).to_be_bytes());
            let data = &ext.data[..ext.data.len().min(words * 4)];
            out.extend_from_slice(data);
            out.resize(out.len() + (words * 4 - data.len()), 0);
        }
        out.extend_from_slice(&self.payload);
    }

    /// The wire form as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RTP_HEADER_LEN + self.payload.len());
        self.write(&mut out);
        out
    }
}

/// Reads a big-endian u32 at `at`; the caller has checked `bytes.len() >= at + 4`.
pub(crate) fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_csrcs_and_extension() {
        let packet = RtpPacket {
            marker: true,
            payload_type: 111,
            sequence: 65_535,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x1234_5678,
            csrcs: vec![1, 2],
            extension: Some(RtpExtension {
                profile: 0xBEDE,
                data: vec![0x10, 0xAA, 0, 0],
            }),
            payload: vec![9, 8, 7],
        };
        let bytes = packet.to_bytes();
        assert_eq!(bytes.len(), 12 + 8 + 8 + 3);
        assert_eq!(RtpPacket::parse(&bytes).unwrap(), packet);
    }

    #[test]
    fn padding_is_removed() {
        let mut bytes = RtpPacket {
            payload_type: 0,
            payload: vec![1, 2, 3, 4],
            ..RtpPacket::default()
        }
        .to_bytes();
        bytes[0] |= 0x20;
        bytes.extend_from_slice(&[0, 0, 3]);
        assert_eq!(RtpPacket::parse(&bytes).unwrap().payload, vec![1, 2, 3, 4]);
        let last = bytes.len() - 1;
        bytes[last] = 200;
        assert_eq!(RtpPacket::parse(&bytes), Err(PacketError::Padding(200)));
    }

    #[test]
    fn truncated_headers_are_errors() {
        assert!(RtpPacket::parse(&[0x80; 11]).is_err());
        // CC = 15 but no CSRCs present.
        let mut bytes = vec![0x8F, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        assert!(matches!(
            RtpPacket::parse(&bytes),
            Err(PacketError::Truncated { needed: 72, .. })
        ));
        // Extension announced with 0xFFFF words.
        bytes[0] = 0x90;
        bytes.extend_from_slice(&[0xBE, 0xDE, 0xFF, 0xFF]);
        assert!(RtpPacket::parse(&bytes).is_err());
        bytes[0] = 0x40;
        assert_eq!(RtpPacket::parse(&bytes), Err(PacketError::Version(1)));
    }
}
