//! Per-source reception state: sequence validation and extension (RFC 3550 appendix
//! A.1), expected/lost packet counts and the fraction lost per report interval (A.3),
//! and the interarrival jitter estimate (A.8).

use crate::rtcp_packet::ReportBlock;

/// A.1: packets this far ahead of the highest sequence number still count as in order.
const MAX_DROPOUT: u16 = 3000;
/// A.1: packets this far behind are taken as reordered or duplicated, not a restart.
const MAX_MISORDER: u16 = 100;
/// A.1: sequential packets needed before a new source is valid.
const MIN_SEQUENTIAL: u32 = 2;
const RTP_SEQ_MOD: u32 = 1 << 16;

/// What [`Reception::update`] made of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqVerdict {
    /// A valid packet of the source: deliver it.
    Valid,
    /// The source is still on probation (A.1): not yet delivered.
    Probation,
    /// A very large jump: dropped unless the next packet confirms it (A.1 `bad_seq`).
    Jump,
}

/// The reception statistics of one remote source.
#[derive(Debug, Clone)]
pub(crate) struct Reception {
    pub(crate) ssrc: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Relative transit time of the previous packet, in timestamp units.
    transit: Option<i64>,
    /// Jitter estimate × 16, in timestamp units (the integer form of A.8).
    jitter_x16: u64,
    /// The fraction lost of the last completed report interval, × 256.
    pub(crate) last_fraction: u8,
}

impl Reception {
    /// A new source, on probation, first seen with `seq`.
    pub(crate) fn new(ssrc: u32, seq: u16) -> Reception {
        let mut r = Reception {
            ssrc,
            max_seq: seq.wrapping_sub(1),
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter_x16: 0,
            last_fraction: 0,
        };
        r.init_seq(seq);
        r.max_seq = seq.wrapping_sub(1);
        r
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// A.1 `update_seq`: validates and counts a packet's sequence number.
    pub(crate) fn update(&mut self, seq: u16) -> SeqVerdict {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return SeqVerdict::Valid;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SeqVerdict::Probation;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= RTP_SEQ_MOD - u32::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a jump: the source restarted.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return SeqVerdict::Jump;
            }
        }
        // Otherwise a duplicate or reordered packet: counted, max_seq unchanged.
        self.received += 1;
        SeqVerdict::Valid
    }

    /// The packet held while the source was on probation, the predecessor of the one that
    /// validated it, is delivered too: A.3's expected and received counts start from it.
    pub(crate) fn count_held_predecessor(&mut self) {
        self.base_seq = self.base_seq.wrapping_sub(1);
        self.received += 1;
    }

    /// A.8: updates the jitter with a packet's RTP timestamp and its arrival time
    /// expressed in the same timestamp units.
    pub(crate) fn update_jitter(&mut self, rtp_timestamp: u32, arrival: u32) {
        let transit = i64::from(arrival.wrapping_sub(rtp_timestamp) as i32);
        if let Some(prev) = self.transit {
            let d = (transit - prev).unsigned_abs();
            // J += (|D| - J) / 16, kept scaled by 16.
            self.jitter_x16 = self.jitter_x16 + d - ((self.jitter_x16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// The jitter estimate in timestamp units.
    pub(crate) fn jitter(&self) -> u32 {
        (self.jitter_x16 >> 4).min(u64::from(u32::MAX)) as u32
    }

    /// The extended highest sequence number received.
    pub(crate) fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected so far (A.3).
    pub(crate) fn expected(&self) -> u32 {
        if self.probation > 0 {
            return 0;
        }
        self.extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Cumulative lost: expected minus received, clamped to the signed 24-bit range.
    pub(crate) fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7F_FFFF) as i32
    }

    /// Builds a report block and starts a new report interval (A.3). `last_sr` and
    /// `delay_since_last_sr` are the LSR/DLSR fields.
    pub(crate) fn report(&mut self, last_sr: u32, delay_since_last_sr: u32) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        self.last_fraction = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost: self.last_fraction,
            cumulative_lost: self.cumulative_lost(),
            highest_sequence: self.extended_max(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_after_probation(ssrc: u32, first: u16) -> Reception {
        let mut r = Reception::new(ssrc, first);
        assert_eq!(r.update(first), SeqVerdict::Probation);
        assert_eq!(r.update(first.wrapping_add(1)), SeqVerdict::Valid);
        r
    }

    #[test]
    fn counts_loss_across_wraparound() {
        let mut r = valid_after_probation(1, 65_530);
        // 65531 received; then 65532..=65535, 0..=9 with every 4th missing.
        let mut sent = 1u32;
        let mut got = 1u32;
        let mut seq = 65_531u16;
        for i in 0..14 {
            seq = seq.wrapping_add(1);
            sent += 1;
            if i % 4 != 3 {
                r.update(seq);
                got += 1;
            }
        }
        assert_eq!(r.extended_max(), 65_536 + 9);
        assert_eq!(r.expected(), sent);
        assert_eq!(r.cumulative_lost(), (sent - got) as i32);
        let block = r.report(0, 0);
        assert_eq!(u32::from(block.fraction_lost), ((sent - got) << 8) / sent);
    }

    #[test]
    fn big_jump_needs_confirmation() {
        let mut r = valid_after_probation(1, 100);
        assert_eq!(r.update(30_000), SeqVerdict::Jump);
        assert_eq!(r.update(30_001), SeqVerdict::Valid);
        assert_eq!(r.expected(), 1);
    }

    #[test]
    fn jitter_follows_a8() {
        let mut r = valid_after_probation(1, 0);
        // Packets every 160 units; arrivals alternate ±40 units around the schedule.
        for i in 0..200u32 {
            let offset = if i % 2 == 0 { 40 } else { 0 };
            r.update_jitter(i * 160, i * 160 + offset);
        }
        // |D| is always 40, so J converges to 40.
        assert!((38..=40).contains(&r.jitter()), "jitter {}", r.jitter());
    }
}
