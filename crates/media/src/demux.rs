//! Telling RTP from RTCP (and from STUN/DTLS) on one port: RFC 5761 §4 (rtcp-mux:
//! RTCP packet types 192–223 fall on RTP payload types 64–95 with the marker bit, a
//! range RTP must not use) and the first-byte ranges of RFC 7983 §7.

/// What a datagram on a media port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// An RTP packet (first byte 128–191, second byte's low 7 bits outside 64–95).
    Rtp,
    /// An RTCP packet (first byte 128–191, second byte 192–223).
    Rtcp,
    /// A STUN message (first byte 0–3, RFC 7983).
    Stun,
    /// A DTLS record (first byte 20–63, RFC 7983).
    Dtls,
    /// Anything else (too short or unknown first byte).
    Unknown,
}

/// Classifies a datagram received on a media port.
pub fn classify(bytes: &[u8]) -> PacketKind {
    let (Some(&first), Some(&second)) = (bytes.first(), bytes.get(1)) else {
        return PacketKind::Unknown;
    };
    match first {
        0..=3 => PacketKind::Stun,
        20..=63 => PacketKind::Dtls,
        128..=191 if (192..=223).contains(&second) => PacketKind::Rtcp,
        128..=191 => PacketKind::Rtp,
        _ => PacketKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_payload_type_range() {
        assert_eq!(classify(&[0x80, 0, 0, 1]), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 111]), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 0x80 | 8]), PacketKind::Rtp);
        assert_eq!(classify(&[0x81, 200]), PacketKind::Rtcp);
        assert_eq!(classify(&[0x80, 201]), PacketKind::Rtcp);
        assert_eq!(classify(&[0x00, 0x01]), PacketKind::Stun);
        assert_eq!(classify(&[22, 0xFE]), PacketKind::Dtls);
        assert_eq!(classify(&[0x80]), PacketKind::Unknown);
        assert_eq!(classify(&[0x40, 0]), PacketKind::Unknown);
    }
}
