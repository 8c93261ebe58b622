//! RTCP packets and compound packets (RFC 3550 §6.4 SR/RR, §6.5 SDES, §6.6 BYE; the
//! header validity checks of appendix A.2).
//!
//! [`parse_compound`] reads any byte string without panicking. Packet types this crate
//! does not interpret (APP, feedback, XR, ...) are kept as [`RtcpPacket::Other`].

use crate::error::PacketError;
use crate::rtp_packet::read_u32;

/// RTCP packet type SR (RFC 3550 §12.1).
pub const PT_SR: u8 = 200;
/// RTCP packet type RR.
pub const PT_RR: u8 = 201;
/// RTCP packet type SDES.
pub const PT_SDES: u8 = 202;
/// RTCP packet type BYE.
pub const PT_BYE: u8 = 203;

/// SDES item type CNAME (RFC 3550 §6.5.1).
pub const SDES_CNAME: u8 = 1;

/// A 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, the fraction in the
/// low 32 (RFC 3550 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTime(pub u64);

impl NtpTime {
    /// The middle 32 bits, as carried in LSR (RFC 3550 §6.4.1).
    pub fn middle_32(self) -> u32 {
        (self.0 >> 16) as u32
    }
}

impl std::ops::Add<std::time::Duration> for NtpTime {
    type Output = NtpTime;

    /// This time plus a duration (wrapping at the NTP era boundary).
    fn add(self, d: std::time::Duration) -> NtpTime {
        let frac = ((u128::from(d.subsec_nanos()) << 32) / 1_000_000_000) as u64;
        NtpTime(self.0.wrapping_add(d.as_secs() << 32).wrapping_add(frac))
    }
}

/// One report block of an SR or RR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, as a fixed-point number
    /// with the binary point at the left edge (loss × 256).
    pub fraction_lost: u8,
    /// Cumulative packets lost: expected minus received, a signed 24-bit value
    /// (negative with duplicates).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub highest_sequence: u32,
    /// Interarrival jitter, in timestamp units (appendix A.8).
    pub jitter: u32,
    /// LSR: the middle 32 bits of the NTP timestamp of the last SR received from the
    /// source, 0 if none.
    pub last_sr: u32,
    /// DLSR: delay since that SR was received, in units of 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// A sender report (RFC 3550 §6.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Wallclock time when the report was sent.
    pub ntp: NtpTime,
    /// The same instant in RTP timestamp units.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
}

/// A receiver report (RFC 3550 §6.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// The reporter's SSRC.
    pub ssrc: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
}

/// One SDES chunk: a source and its items (RFC 3550 §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    /// The source described.
    pub ssrc: u32,
    /// Its items, `(type, value)`; values are at most 255 bytes when written.
    pub items: Vec<(u8, Vec<u8>)>,
}

/// A BYE packet (RFC 3550 §6.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bye {
    /// The sources leaving (at most 31).
    pub sources: Vec<u32>,
    /// The reason for leaving, if given (at most 255 bytes when written).
    pub reason: Option<String>,
}

/// One RTCP packet of a compound packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR, PT 200.
    SenderReport(SenderReport),
    /// RR, PT 201.
    ReceiverReport(ReceiverReport),
    /// SDES, PT 202.
    SourceDescription(Vec<SdesChunk>),
    /// BYE, PT 203.
    Bye(Bye),
    /// Any other packet type, kept verbatim (without header and padding).
    Other {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count/subtype field.
        count: u8,
        /// The body after the 4-byte header.
        body: Vec<u8>,
    },
}

/// Parses an RTCP compound packet with the checks of RFC 3550 appendix A.2: version 2
/// everywhere, the first packet an SR or RR without padding, padding only in the last
/// packet, and the lengths adding up to the datagram's length.
pub fn parse_compound(bytes: &[u8]) -> Result<Vec<RtcpPacket>, PacketError> {
    if bytes.len() < 4 {
        return Err(PacketError::Truncated {
            needed: 4,
            have: bytes.len(),
        });
    }
    if bytes[0] & 0x20 != 0 || !matches!(bytes[1], PT_SR | PT_RR) {
        return Err(PacketError::Compound(
            "first packet must be SR or RR without padding",
        ));
    }
    let mut packets = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        if rest.len() < 4 {
            return Err(PacketError::Truncated {
                needed: 4,
                have: rest.len(),
            });
        }
        let version = rest[0] >> 6;
        if version != 2 {
            return Err(PacketError::Version(version));
        }
        let len = 4 * (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1);
        if rest.len() < len {
            return Err(PacketError::Truncated {
                needed: len,
                have: rest.len(),
            });
        }
        let mut packet = &rest[..len];
        if packet[0] & 0x20 != 0 {
            if offset + len != bytes.len() {
                return Err(PacketError::Compound("padding before the last packet"));
            }
            let pad = usize::from(packet[len - 1]);
            if pad == 0 || pad > len - 4 {
                return Err(PacketError::Padding(pad));
            }
            packet = &packet[..len - pad];
        }
        packets.push(parse_one(packet)?);
        offset += len;
    }
    Ok(packets)
}

/// Parses one packet whose header is known to be 4 bytes and whose padding is removed.
fn parse_one(packet: &[u8]) -> Result<RtcpPacket, PacketError> {
    let count = packet[0] & 0x1F;
    let packet_type = packet[1];
    let body = &packet[4..];
    match packet_type {
        PT_SR => {
            need(body, 24 + 24 * usize::from(count))?;
            Ok(RtcpPacket::SenderReport(SenderReport {
                ssrc: read_u32(body, 0),
                ntp: NtpTime(u64::from(read_u32(body, 4)) << 32 | u64::from(read_u32(body, 8))),
                rtp_timestamp: read_u32(body, 12),
                packet_count: read_u32(body, 16),
                octet_count: read_u32(body, 20),
                reports: report_blocks(&body[24..], count),
            }))
        }
        PT_RR => {
            need(body, 4 + 24 * usize::from(count))?;
            Ok(RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: read_u32(body, 0),
                reports: report_blocks(&body[4..], count),
            }))
        }
        PT_SDES => parse_sdes(body, count).map(RtcpPacket::SourceDescription),
        PT_BYE => parse_bye(body, count).map(RtcpPacket::Bye),
        _ => Ok(RtcpPacket::Other {
            packet_type,
            count,
            body: body.to_vec(),
        }),
    }
}

fn need(body: &[u8], len: usize) -> Result<(), PacketError> {
    if body.len() < len {
        Err(PacketError::Truncated {
            needed: len + 4,
            have: body.len() + 4,
        })
    } else {
        Ok(())
    }
}

/// Reads `count` report blocks; the caller has checked the length.
fn report_blocks(bytes: &[u8], count: u8) -> Vec<ReportBlock> {
    (0..usize::from(count))
        .map(|i| {
            let b = &bytes[24 * i..24 * i + 24];
            let lost = u32::from_be_bytes([0, b[5], b[6], b[7]]);
            // Sign-extend the 24-bit two's complement value.
            let cumulative_lost = ((lost << 8) as i32) >> 8;
            ReportBlock {
                ssrc: read_u32(b, 0),
                fraction_lost: b[4],
                cumulative_lost,
                highest_sequence: read_u32(b, 8),
                jitter: read_u32(b, 12),
                last_sr: read_u32(b, 16),
                delay_since_last_sr: read_u32(b, 20),
            }
        })
        .collect()
}

fn parse_sdes(body: &[u8], count: u8) -> Result<Vec<SdesChunk>, PacketError> {
    let mut chunks = Vec::new();
    let mut at = 0;
    for _ in 0..count {
        need(body, at + 4)?;
        let ssrc = read_u32(body, at);
        at += 4;
        let mut items = Vec::new();
        loop {
            let kind = *body
                .get(at)
                .ok_or(PacketError::Field("SDES chunk without end"))?;
            if kind == 0 {
                // The null item ends the list; the chunk is padded to a 32-bit boundary.
                at = (at + 4) & !3;
                break;
            }
            let len = usize::from(
                *body
                    .get(at + 1)
                    .ok_or(PacketError::Field("SDES item without length"))?,
            );
            let value = body
                .get(at + 2..at + 2 + len)
                .ok_or(PacketError::Field("SDES item longer than the packet"))?;
            items.push((kind, value.to_vec()));
            at += 2 + len;
        }
        chunks.push(SdesChunk { ssrc, items });
    }
    Ok(chunks)
}

fn parse_bye(body: &[u8], count: u8) -> Result<Bye, PacketError> {
    let n = usize::from(count);
    need(body, 4 * n)?;
    let sources = (0..n).map(|i| read_u32(body, 4 * i)).collect();
    let reason = match body.get(4 * n) {
        Some(&len) => {
            let text = body
                .get(4 * n + 1..4 * n + 1 + usize::from(len))
                .ok_or(PacketError::Field("BYE reason longer than the packet"))?;
            Some(String::from_utf8_lossy(text).into_owned())
        }
        None => None,
    };
    Ok(Bye { sources, reason })
}

/// Appends the wire form of a compound packet to `out`. Lists longer than a packet can
/// carry (31 report blocks, sources or chunks; 255-byte items) are cut.
pub fn write_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) {
    for packet in packets {
        write_one(packet, out);
    }
}

fn write_one(packet: &RtcpPacket, out: &mut Vec<u8>) {
    let start = out.len();
    let (count, packet_type) = match packet {
        RtcpPacket::SenderReport(sr) => (sr.reports.len().min(31) as u8, PT_SR),
        RtcpPacket::ReceiverReport(rr) => (rr.reports.len().min(31) as u8, PT_RR),
        RtcpPacket::SourceDescription(chunks) => (chunks.len().min(31) as u8, PT_SDES),
        RtcpPacket::Bye(bye) => (bye.sources.len().min(31) as u8, PT_BYE),
        RtcpPacket::Other {
            packet_type, count, ..
        } => (*count & 0x1F, *packet_type),
    };
    out.extend_from_slice(&[0x80 | count, packet_type, 0, 0]);
    match packet {
        RtcpPacket::SenderReport(sr) => {
            out.extend_from_slice(&sr.ssrc.to_be_bytes());
            out.extend_from_slice(&sr.ntp.0.to_be_bytes());
            out.extend_from_slice(&sr.rtp_timestamp.to_be_bytes());
            out.extend_from_slice(&sr.packet_count.to_be_bytes());
            out.extend_from_slice(&sr.octet_count.to_be_bytes());
            write_blocks(&sr.reports[..usize::from(count)], out);
        }
        RtcpPacket::ReceiverReport(rr) => {
            out.extend_from_slice(&rr.ssrc.to_be_bytes());
            write_blocks(&rr.reports[..usize::from(count)], out);
        }
        RtcpPacket::SourceDescription(chunks) => {
            for chunk in &chunks[..usize::from(count)] {
                out.extend_from_slice(&chunk.ssrc.to_be_bytes());
                for (kind, value) in &chunk.items {
                    let value = &value[..value.len().min(255)];
                    out.push(*kind);
                    out.push(value.len() as u8);
                    out.extend_from_slice(value);
                }
                // At least one null octet, then up to the next 32-bit boundary.
                out.push(0);
                pad_to_word(out);
            }
        }
        RtcpPacket::Bye(bye) => {
            for source in &bye.sources[..usize::from(count)] {
                out.extend_from_slice(&source.to_be_bytes());
            }
            if let Some(reason) = &bye.reason {
                let text = &reason.as_bytes()[..reason.len().min(255)];
                out.push(text.len() as u8);
                out.extend_from_slice(text);
                pad_to_word(out);
            }
        }
        RtcpPacket::Other { body, .. } => {
            out.extend_from_slice(body);
            pad_to_word(out);
        }
    }
    let words = ((out.len() - start) / 4 - 1) as u16;
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

fn write_blocks(blocks: &[ReportBlock], out: &mut Vec<u8>) {
    for b in blocks {
        out.extend_from_slice(&b.ssrc.to_be_bytes());
        out.push(b.fraction_lost);
        let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32 & 0xFF_FFFF;
        out.extend_from_slice(&lost.to_be_bytes()[1..]);
        out.extend_from_slice(&b.highest_sequence.to_be_bytes());
        out.extend_from_slice(&b.jitter.to_be_bytes());
        out.extend_from_slice(&b.last_sr.to_be_bytes());
        out.extend_from_slice(&b.delay_since_last_sr.to_be_bytes());
    }
}

fn pad_to_word(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ssrc: u32, lost: i32) -> ReportBlock {
        ReportBlock {
            ssrc,
            fraction_lost: 25,
            cumulative_lost: lost,
            highest_sequence: 0x0001_0005,
            jitter: 80,
            last_sr: 0xABCD_0000,
            delay_since_last_sr: 65_536,
        }
    }

    #[test]
    fn compound_round_trips() {
        let packets = vec![
            RtcpPacket::SenderReport(SenderReport {
                ssrc: 1,
                ntp: NtpTime(0x0102_0304_0506_0708),
                rtp_timestamp: 160,
                packet_count: 10,
                octet_count: 1600,
                reports: vec![block(2, -3)],
            }),
            RtcpPacket::SourceDescription(vec![SdesChunk {
                ssrc: 1,
                items: vec![(SDES_CNAME, b"dialtone@host".to_vec())],
            }]),
            RtcpPacket::Bye(Bye {
                sources: vec![1],
                reason: Some("hangup".into()),
            }),
        ];
        let mut bytes = Vec::new();
        write_compound(&packets, &mut bytes);
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(parse_compound(&bytes).unwrap(), packets);
    }

    #[test]
    fn cumulative_lost_is_signed_24_bits() {
        let packets = vec![RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 9,
            reports: vec![block(3, -1), block(4, 0x7F_FFFF), block(5, 1_000_000_000)],
        })];
        let mut bytes = Vec::new();
        write_compound(&packets, &mut bytes);
        let RtcpPacket::ReceiverReport(rr) = &parse_compound(&bytes).unwrap()[0] else {
            panic!("not an RR");
        };
        assert_eq!(rr.reports[0].cumulative_lost, -1);
        assert_eq!(rr.reports[1].cumulative_lost, 0x7F_FFFF);
        assert_eq!(rr.reports[2].cumulative_lost, 0x7F_FFFF);
    }

    #[test]
    fn compound_rules_of_appendix_a2() {
        // Starts with SDES.
        let mut sdes = Vec::new();
        write_compound(
            &[RtcpPacket::SourceDescription(vec![SdesChunk::default()])],
            &mut sdes,
        );
        assert!(matches!(
            parse_compound(&sdes),
            Err(PacketError::Compound(_))
        ));
        // Length field larger than the datagram.
        let mut rr = Vec::new();
        write_compound(
            &[RtcpPacket::ReceiverReport(ReceiverReport::default())],
            &mut rr,
        );
        rr[3] = 9;
        assert!(matches!(
            parse_compound(&rr),
            Err(PacketError::Truncated { .. })
        ));
        // Report count larger than the length allows.
        rr[3] = 1;
        rr[0] |= 3;
        assert!(parse_compound(&rr).is_err());
    }
}
