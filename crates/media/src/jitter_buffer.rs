//! An adaptive jitter buffer for one audio stream, pulled by the playout clock.
//!
//! [`JitterBuffer::push`] takes RTP packets as they arrive; [`JitterBuffer::pop`] is
//! called whenever the sink needs the next frame and answers with a packet to decode, a
//! frame to conceal, or nothing (silence).
//!
//! How it works, in RTP timestamp units (`clock_rate` per second):
//!
//! * Timestamps are unwrapped to 64 bits, so sequence and timestamp wrap-around are
//!   invisible; packets are kept ordered by timestamp (reordering), duplicates and
//!   packets whose time has passed (late) are dropped and counted.
//! * Each packet's relative delay `arrival − timestamp` goes into a window of the last
//!   few seconds. The target depth is the 95th percentile minus the minimum of that
//!   window (the jitter to absorb), clamped to `[min_delay, max_delay]`. It grows at
//!   once and shrinks slowly (a fraction of the difference per packet).
//! * The playout offset `now − playout timestamp` is steered to `min + target`: when it is
//!   a frame or more too short the buffer stretches (a concealment frame without
//!   advancing, at once); when it has been a frame or more too long for a second it drops
//!   a frame. The same steering absorbs clock drift between sender and sound card: a
//!   sender that runs fast fills the buffer (drops), a slow one drains it (stretches).
//! * A missing packet with later ones buffered is concealed (the codec's PLC; the next
//!   packet is handed along for Opus in-band FEC). With nothing buffered for
//!   `max_conceal`, playout stops (silence, DTX) until packets come again, and starts
//!   over with a fresh buffering delay.
//! * Nothing is held longer than `max_delay`: a buffer that grows past it is trimmed from
//!   the oldest end.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::rtp_packet::RtpPacket;

/// How a [`JitterBuffer`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterBufferConfig {
    /// The RTP clock rate of the stream.
    pub clock_rate: u32,
    /// The packet duration assumed until the stream shows its own (RTP units; 20 ms is
    /// `clock_rate / 50`).
    pub frame_units: u32,
    /// The least buffering delay (default 20 ms).
    pub min_delay: Duration,
    /// The most buffering delay (default 400 ms); packets are never held longer.
    pub max_delay: Duration,
    /// The delay before the first packet plays (default 60 ms).
    pub initial_delay: Duration,
    /// Concealment with an empty buffer stops after this long (default 100 ms).
    pub max_conceal: Duration,
}

impl JitterBufferConfig {
    /// Defaults for a stream at `clock_rate` with `ptime` packets.
    pub fn new(clock_rate: u32, ptime: Duration) -> JitterBufferConfig {
        let frame_units = (u128::from(clock_rate) * ptime.as_micros() / 1_000_000) as u32;
        JitterBufferConfig {
            clock_rate,
            frame_units: frame_units.max(1),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(400),
            initial_delay: Duration::from_millis(60),
            max_conceal: Duration::from_millis(100),
        }
    }
}

/// What to play next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Decode and play this packet.
    Frame(RtpPacket),
    /// Conceal `units` (RTP timestamp units) of missing audio. `next` is the packet that
    /// follows the gap, when it is already here (for Opus in-band FEC).
    Conceal {
        /// How much audio to make up, in RTP units.
        units: u32,
        /// The packet right after the gap, if buffered.
        next: Option<RtpPacket>,
    },
    /// Nothing to play (before the stream starts, during silence/DTX): play silence.
    Nothing,
}

/// The buffer's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterStats {
    /// Packets accepted into the buffer.
    pub pushed: u64,
    /// Packets handed out to play.
    pub played: u64,
    /// Frames concealed because their packet was missing.
    pub concealed: u64,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Duplicate packets.
    pub duplicates: u64,
    /// Frames dropped to shorten the delay (target shrink, fast sender clock).
    pub drift_drops: u64,
    /// Concealment frames inserted to lengthen the delay (jitter grew, slow sender).
    pub stretches: u64,
    /// Packets dropped because the buffer exceeded `max_delay`.
    pub overflow_drops: u64,
    /// Times playout started over (first packet, after silence, after a jump).
    pub resyncs: u64,
    /// Packets buffered now.
    pub buffered: usize,
    /// The target buffering delay now.
    pub target_delay: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No stream (or silence): nothing plays.
    Idle,
    /// The first packet of a run is here; playing starts at the instant.
    Buffering(Instant),
    /// Frames are being played.
    Playing,
}

/// Window of relative delays kept for the target computation.
const DELAY_WINDOW: Duration = Duration::from_secs(4);
/// Consecutive late packets after which the stream is taken to have jumped back.
const LATE_RESYNC: u32 = 10;
/// A frame-drop needs the delay to be too long for this many consecutive pops.
const SHRINK_AFTER_POPS: u32 = 50;

/// The adaptive jitter buffer (see the module docs).
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterBufferConfig,
    state: State,
    packets: BTreeMap<i64, RtpPacket>,
    /// The last timestamp seen and its unwrapped value (reference for unwrapping).
    reference: Option<(u32, i64)>,
    /// The unwrapped timestamp of the next frame to play.
    playout: i64,
    /// Clock origin for arrival times.
    origin: Option<Instant>,
    /// `(arrival units, arrival − timestamp)` of recent packets.
    delays: VecDeque<(i64, i64)>,
    /// Target depth in RTP units.
    target: f64,
    /// Learned packet duration in RTP units.
    frame: u32,
    last_seq_ts: Option<(u16, i64)>,
    /// Sequence numbers recently played, for duplicate detection of late copies.
    recent_seqs: VecDeque<u16>,
    conceal_run: u32,
    too_long_pops: u32,
    consecutive_late: u32,
    stats: JitterStats,
}

impl JitterBuffer {
    /// An empty buffer.
    pub fn new(config: JitterBufferConfig) -> JitterBuffer {
        let initial = units(config.initial_delay, config.clock_rate) as f64;
        JitterBuffer {
            state: State::Idle,
            packets: BTreeMap::new(),
            reference: None,
            playout: 0,
            origin: None,
            delays: VecDeque::new(),
            target: initial,
            frame: config.frame_units,
            last_seq_ts: None,
            recent_seqs: VecDeque::new(),
            conceal_run: 0,
            too_long_pops: 0,
            consecutive_late: 0,
            stats: JitterStats::default(),
            config,
        }
    }

    /// Forgets the stream (a new SSRC): the next packet starts over.
    pub fn reset(&mut self) {
        *self = JitterBuffer {
            stats: self.stats,
            ..JitterBuffer::new(self.config)
        };
    }

    /// The counters.
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            buffered: self.packets.len(),
            target_delay: self.to_duration(self.target),
            ..self.stats
        }
    }

    /// The target buffering delay now.
    pub fn target_delay(&self) -> Duration {
        self.to_duration(self.target)
    }

    /// A packet arrived at `now`.
    pub fn push(&mut self, now: Instant, packet: RtpPacket) {
        let origin = *self.origin.get_or_insert(now);
        let arrival = units(
            now.saturating_duration_since(origin),
            self.config.clock_rate,
        );
        let ext = self.unwrap(packet.timestamp);

        match self.state {
            State::Idle => self.start(now, ext),
            _ if self.packets.contains_key(&ext) || self.recently_played(packet.sequence, ext) => {
                self.stats.duplicates += 1;
                return;
            }
            State::Buffering(_)
                if ext < self.playout && self.playout - ext <= 5 * i64::from(self.frame) =>
            {
                // Reordered ahead of the first packet, before playing began: play it first.
                self.playout = ext;
            }
            _ if ext < self.playout => {
                self.stats.late += 1;
                self.consecutive_late += 1;
                if self.consecutive_late < LATE_RESYNC {
                    // Fast grow: the target jumps to cover this packet's delay.
                    self.record_delay(arrival, arrival - ext, true);
                    return;
                }
                // The sender's timestamps went backwards for good: start over.
                self.start(now, ext);
            }
            _ if ext - self.playout > 4 * units(self.config.max_delay, self.config.clock_rate) => {
                // A jump far ahead (a new talk spurt after a long pause, a restarted
                // sender): start over from this packet.
                self.start(now, ext);
            }
            _ => {}
        }
        self.consecutive_late = 0;
        self.learn_frame(packet.sequence, ext);
        self.record_delay(arrival, arrival - ext, false);
        self.stats.pushed += 1;
        self.packets.insert(ext, packet);
        self.trim();
    }

    /// The playout clock wants the next frame at `now`.
    pub fn pop(&mut self, now: Instant) -> Playout {
        match self.state {
            State::Idle => return Playout::Nothing,
            State::Buffering(at) if now < at => return Playout::Nothing,
            State::Buffering(_) => self.state = State::Playing,
            State::Playing => {}
        }
        // Drop whatever is already behind the playout point.
        while let Some((&ts, _)) = self.packets.first_key_value() {
            if ts >= self.playout {
                break;
            }
            self.packets.pop_first();
            self.stats.late += 1;
        }

        let origin = self.origin.unwrap_or(now);
        let now_units = units(
            now.saturating_duration_since(origin),
            self.config.clock_rate,
        );
        let offset = now_units - self.playout;
        let desired =
            self.min_delay_seen().unwrap_or(offset - self.target as i64) + self.target as i64;
        let frame = i64::from(self.frame);

        let max_conceal = units(self.config.max_conceal, self.config.clock_rate);
        if self.packets.is_empty() && i64::from(self.conceal_run) * frame >= max_conceal {
            // Nothing came for a while: silence (DTX, hold) until packets come again.
            self.state = State::Idle;
            self.conceal_run = 0;
            return Playout::Nothing;
        }
        let margin = self.margin();
        if offset < desired - margin {
            // Too little buffered for the jitter seen (or the sender's clock is slow):
            // stretch by one frame.
            self.stats.stretches += 1;
            self.too_long_pops = 0;
            if self.packets.is_empty() {
                self.conceal_run += 1;
            }
            return Playout::Conceal {
                units: self.frame,
                next: None,
            };
        }
        if offset > desired + frame + margin {
            self.too_long_pops += 1;
        } else {
            self.too_long_pops = 0;
        }
        if self.too_long_pops >= SHRINK_AFTER_POPS {
            // Persistently too long: drop one frame.
            self.too_long_pops = 0;
            if let Some(skipped) = self.packets.remove(&self.playout) {
                self.note_played(&skipped);
                self.playout += self.duration_at(self.playout);
            } else {
                self.playout += frame;
            }
            self.stats.drift_drops += 1;
        }

        if let Some(packet) = self.packets.remove(&self.playout) {
            self.conceal_run = 0;
            self.playout += self.duration_at(self.playout);
            self.note_played(&packet);
            self.stats.played += 1;
            return Playout::Frame(packet);
        }

        // The packet for this instant is missing.
        let gap = match self.packets.first_key_value() {
            Some((&next_ts, _)) => (next_ts - self.playout).min(frame),
            None => frame,
        };
        self.playout += gap;
        self.conceal_run += 1;
        self.stats.concealed += 1;
        let next = self.packets.get(&self.playout).cloned();
        Playout::Conceal {
            units: gap as u32,
            next,
        }
    }

    /// Starts a new playout run with the packet at `ext`.
    fn start(&mut self, now: Instant, ext: i64) {
        self.packets.clear();
        self.playout = ext;
        self.conceal_run = 0;
        self.too_long_pops = 0;
        self.consecutive_late = 0;
        self.delays.clear();
        self.stats.resyncs += 1;
        let wait = self.to_duration(
            self.target
                .max(units(self.config.min_delay, self.config.clock_rate) as f64),
        );
        self.state = State::Buffering(now + wait);
    }

    /// Unwraps a 32-bit timestamp against the last one seen.
    fn unwrap(&mut self, ts: u32) -> i64 {
        let ext = match self.reference {
            Some((ref_ts, ref_ext)) => ref_ext + i64::from(ts.wrapping_sub(ref_ts) as i32),
            None => i64::from(ts),
        };
        if self.reference.is_none_or(|(_, ref_ext)| ext > ref_ext) {
            self.reference = Some((ts, ext));
        }
        ext
    }

    fn learn_frame(&mut self, seq: u16, ext: i64) {
        if let Some((last_seq, last_ext)) = self.last_seq_ts {
            let diff = ext - last_ext;
            let max = i64::from(self.config.clock_rate / 8);
            if seq == last_seq.wrapping_add(1) && diff > 0 && diff <= max {
                self.frame = diff as u32;
            }
        }
        self.last_seq_ts = Some((seq, ext));
    }

    /// The duration of the packet at `ts`: up to the next buffered one, at most a frame.
    fn duration_at(&self, ts: i64) -> i64 {
        let frame = i64::from(self.frame);
        match self.packets.range(ts + 1..).next() {
            Some((&next, _)) => (next - ts).min(frame),
            None => frame,
        }
    }

    /// Records a packet's relative delay and updates the target: the window's 95th
    /// percentile over its minimum (or, for a late packet, its own delay) plus a quarter
    /// frame, clamped; up at once, down slowly.
    fn record_delay(&mut self, arrival: i64, delay: i64, late: bool) {
        self.delays.push_back((arrival, delay));
        let window = units(DELAY_WINDOW, self.config.clock_rate);
        while self
            .delays
            .front()
            .is_some_and(|&(at, _)| arrival - at > window)
            || self.delays.len() > 512
        {
            self.delays.pop_front();
        }
        let mut sorted: Vec<i64> = self.delays.iter().map(|&(_, d)| d).collect();
        sorted.sort_unstable();
        let min = sorted[0];
        let p95 = sorted[(sorted.len() - 1) * 95 / 100];
        let rate = self.config.clock_rate;
        let spread = if late {
            (delay - min).max(p95 - min)
        } else {
            p95 - min
        };
        let wanted = (spread as f64 + self.margin() as f64).clamp(
            units(self.config.min_delay, rate) as f64,
            units(self.config.max_delay, rate) as f64,
        );
        if wanted > self.target {
            self.target = wanted;
        } else {
            // Shrink slowly: about 1/200 of the difference per packet (~4 s at 50 pps).
            self.target -= (self.target - wanted) / 200.0;
        }
    }

    /// Slack kept above the target: a quarter frame.
    fn margin(&self) -> i64 {
        i64::from(self.frame / 4)
    }

    fn min_delay_seen(&self) -> Option<i64> {
        self.delays.iter().map(|&(_, d)| d).min()
    }

    /// Keeps the buffered audio within `max_delay` of the newest packet's arrival.
    fn trim(&mut self) {
        let max = units(self.config.max_delay, self.config.clock_rate);
        while let (Some((&first, _)), Some((&last, _))) = (
            self.packets.first_key_value(),
            self.packets.last_key_value(),
        ) {
            if last - first < max {
                break;
            }
            self.packets.pop_first();
            self.stats.overflow_drops += 1;
            if let Some((&next, _)) = self.packets.first_key_value() {
                self.playout = self.playout.max(next);
            }
        }
    }

    fn recently_played(&self, seq: u16, ext: i64) -> bool {
        ext < self.playout && self.recent_seqs.contains(&seq)
    }

    fn note_played(&mut self, packet: &RtpPacket) {
        self.recent_seqs.push_back(packet.sequence);
        if self.recent_seqs.len() > 64 {
            self.recent_seqs.pop_front();
        }
    }

    fn to_duration(&self, units: f64) -> Duration {
        Duration::from_secs_f64(units.max(0.0) / f64::from(self.config.clock_rate.max(1)))
    }
}

/// A duration in RTP units at `rate`.
fn units(d: Duration, rate: u32) -> i64 {
    (d.as_nanos() * u128::from(rate) / 1_000_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, ts: u32) -> RtpPacket {
        RtpPacket {
            sequence: seq,
            timestamp: ts,
            payload: vec![seq as u8],
            ..RtpPacket::default()
        }
    }

    #[test]
    fn reorders_and_drops_duplicates() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterBufferConfig::new(8000, Duration::from_millis(20)));
        for (i, seq) in [0u16, 2, 1, 1, 3].iter().enumerate() {
            jb.push(
                t0 + Duration::from_millis(i as u64),
                packet(*seq, u32::from(*seq) * 160),
            );
        }
        assert_eq!(jb.stats().duplicates, 1);
        let mut played = Vec::new();
        for i in 0..10 {
            if let Playout::Frame(p) = jb.pop(t0 + Duration::from_millis(60 + 20 * i)) {
                played.push(p.sequence);
            }
        }
        assert_eq!(played, vec![0, 1, 2, 3]);
    }

    #[test]
    fn timestamp_wraparound_is_seamless() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterBufferConfig::new(8000, Duration::from_millis(20)));
        let start = u32::MAX - 160 * 5;
        let mut played = 0;
        for i in 0..20u32 {
            let now = t0 + Duration::from_millis(u64::from(i) * 20);
            jb.push(
                now,
                packet(
                    65_530u16.wrapping_add(i as u16),
                    start.wrapping_add(i * 160),
                ),
            );
            if let Playout::Frame(_) = jb.pop(now) {
                played += 1;
            }
        }
        let stats = jb.stats();
        assert_eq!(
            stats.late + stats.duplicates + stats.concealed,
            0,
            "{stats:?}"
        );
        assert!(played >= 16, "{played}");
    }
}
