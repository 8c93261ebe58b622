//! DTMF as RTP telephone-events (RFC 4733).
//!
//! * The payload (§2.3): event (0–9, `*` = 10, `#` = 11, A–D = 12–15, flash = 16), the E
//!   (end) bit, a volume in −dBm0, and the duration so far in timestamp units.
//! * [`DtmfSender`] (§2.5.1): all packets of one event carry the event's start timestamp;
//!   the first has the marker bit (§2.5.1.1); one packet per packetization interval with a
//!   growing duration (§2.5.1.2); the final duration goes out three times with E set
//!   (§2.5.1.4). Events longer than 0xFFFF units are split into segments whose timestamps
//!   advance by the segment length (§2.5.1.3).
//! * [`DtmfReceiver`] (§2.5.2): reports each event once, with its duration, when its
//!   first E packet arrives; retransmitted end packets and late copies are ignored; an
//!   event whose end packets were all lost is reported when the next event starts or
//!   after a second without packets ([`DtmfReceiver::handle_timeout`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::error::MediaError;
use crate::rtp_packet::RtpPacket;

/// The largest duration one event segment can carry.
const MAX_SEGMENT: u32 = 0xFFFF;
/// How many times the final packet is sent.
const END_REPEATS: u32 = 3;
/// An open event with no packets for this long is reported as ended.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(1);

/// The RFC 4733 §3.2 event code of a keypad character (`0-9 * # A-D`, case ignored, and
/// `!` for flash).
pub fn dtmf_event_code(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        '!' => Some(16),
        _ => None,
    }
}

/// The keypad character of an event code (flash is `!`).
pub fn dtmf_char(code: u8) -> Option<char> {
    match code {
        0..=9 => Some((b'0' + code) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + code - 12) as char),
        16 => Some('!'),
        _ => None,
    }
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEventPayload {
    /// The event code.
    pub event: u8,
    /// E: the event ended.
    pub end: bool,
    /// Volume, in −dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEventPayload {
    /// Reads the first four bytes of a payload; `None` if shorter.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEventPayload> {
        let b = payload.get(..4)?;
        Some(TelephoneEventPayload {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The four payload bytes.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            u8::from(self.end) << 7 | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }
}

/// A telephone-event packet to send: the caller puts it in RTP with the telephone-event
/// payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// The marker bit (first packet of an event).
    pub marker: bool,
    /// The RTP timestamp (the event segment's start), in telephone-event clock units.
    pub timestamp: u32,
    /// The payload.
    pub payload: TelephoneEventPayload,
}

#[derive(Debug, Clone, Copy)]
struct Sending {
    event: u8,
    total: u64,
    /// Units of the whole event already covered by finished segments.
    done_before_segment: u64,
    segment_start: u32,
    /// Duration reported so far in this segment.
    segment_duration: u32,
    first: bool,
    ends_sent: u32,
}

/// Sends queued digits as telephone-events, one packet per packetization interval.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    clock_rate: u32,
    packet_units: u32,
    volume: u8,
    queue: VecDeque<(u8, u64)>,
    current: Option<Sending>,
    /// Intervals of pause left before the next queued digit.
    gap_left: u32,
}

impl DtmfSender {
    /// A sender for a telephone-event clock of `clock_rate` Hz and packets every `ptime`.
    pub fn new(clock_rate: u32, ptime: Duration) -> DtmfSender {
        let packet_units = (u128::from(clock_rate) * ptime.as_micros() / 1_000_000) as u32;
        DtmfSender {
            clock_rate,
            packet_units: packet_units.max(1),
            volume: 10,
            queue: VecDeque::new(),
            current: None,
            gap_left: 0,
        }
    }

    /// Queues a digit (`0-9 * # A-D`, `!` for flash) lasting `duration` (at least one
    /// packet interval; 40 ms or more is what receivers expect).
    pub fn send(&mut self, digit: char, duration: Duration) -> Result<(), MediaError> {
        let event = dtmf_event_code(digit)
            .ok_or_else(|| MediaError::InvalidParameter(format!("not a DTMF digit: {digit:?}")))?;
        let units = (u128::from(self.clock_rate) * duration.as_micros() / 1_000_000) as u64;
        self.queue
            .push_back((event, units.max(u64::from(self.packet_units))));
        Ok(())
    }

    /// True while an event is being sent (audio should pause) or digits wait.
    pub fn is_busy(&self) -> bool {
        self.current.is_some() || !self.queue.is_empty()
    }

    /// The packet for this packetization interval, if an event is on. `timestamp` is the
    /// stream's current RTP timestamp in telephone-event units (where the event starts,
    /// if it starts now). `None` means: send audio this interval.
    pub fn next_packet(&mut self, timestamp: u32) -> Option<DtmfPacket> {
        if self.current.is_none() {
            if self.gap_left > 0 {
                self.gap_left -= 1;
                return None;
            }
            let (event, total) = self.queue.pop_front()?;
            self.current = Some(Sending {
                event,
                total,
                done_before_segment: 0,
                segment_start: timestamp,
                segment_duration: 0,
                first: true,
                ends_sent: 0,
            });
        }
        let s = self.current.as_mut()?;
        let remaining = s.total - s.done_before_segment;
        let packet = if u64::from(s.segment_duration) >= remaining {
            // The final duration is out: repeat the end packet.
            s.ends_sent += 1;
            DtmfPacket {
                marker: false,
                timestamp: s.segment_start,
                payload: TelephoneEventPayload {
                    event: s.event,
                    end: true,
                    volume: self.volume,
                    duration: s.segment_duration as u16,
                },
            }
        } else {
            if s.segment_duration >= MAX_SEGMENT {
                // §2.5.1.3: a new segment starts where the full one ends.
                s.done_before_segment += u64::from(s.segment_duration);
                s.segment_start = s.segment_start.wrapping_add(s.segment_duration);
                s.segment_duration = 0;
            }
            let remaining = s.total - s.done_before_segment;
            let next = (u64::from(s.segment_duration) + u64::from(self.packet_units))
                .min(remaining)
                .min(u64::from(MAX_SEGMENT)) as u32;
            s.segment_duration = next;
            let end = u64::from(next) >= remaining;
            if end {
                s.ends_sent += 1;
            }
            let marker = s.first;
            s.first = false;
            DtmfPacket {
                marker,
                timestamp: s.segment_start,
                payload: TelephoneEventPayload {
                    event: s.event,
                    end,
                    volume: self.volume,
                    duration: next as u16,
                },
            }
        };
        if s.ends_sent >= END_REPEATS {
            self.current = None;
            // A short pause (two intervals) between digits.
            self.gap_left = 2;
        }
        Some(packet)
    }
}

/// A digit the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfEvent {
    /// The keypad character (`!` for flash).
    pub digit: char,
    /// How long it lasted.
    pub duration: Duration,
    /// Its volume in −dBm0.
    pub volume: u8,
}

#[derive(Debug, Clone, Copy)]
struct Receiving {
    event: u8,
    timestamp: u32,
    /// Duration of finished segments before this one.
    before: u64,
    duration: u16,
    volume: u8,
    ended: bool,
    last_packet: Instant,
}

/// Turns received telephone-event packets into digits, each reported once.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    clock_rate: u32,
    current: Option<Receiving>,
    /// Start timestamps of recently reported events, to ignore their late copies.
    reported: VecDeque<u32>,
    /// Payloads too short to be telephone-events.
    pub malformed: u64,
}

impl DtmfReceiver {
    /// A receiver for a telephone-event clock of `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> DtmfReceiver {
        DtmfReceiver {
            clock_rate: clock_rate.max(1),
            current: None,
            reported: VecDeque::new(),
            malformed: 0,
        }
    }

    /// Takes one telephone-event packet; returns a digit when one is complete. An event
    /// cut short by a new one (its end packets lost) is returned first, the new one
    /// later.
    pub fn handle(&mut self, now: Instant, packet: &RtpPacket) -> Option<DtmfEvent> {
        let Some(p) = TelephoneEventPayload::parse(&packet.payload) else {
            self.malformed += 1;
            return None;
        };
        // Events other than keypad ones (RFC 4733 §3.2 lists only those) are ignored.
        dtmf_char(p.event)?;
        let ts = packet.timestamp;
        if self.reported.contains(&ts) {
            return None; // A retransmitted end or a late copy of a reported event.
        }
        if let Some(cur) = self.current.as_mut() {
            if cur.timestamp == ts {
                cur.duration = cur.duration.max(p.duration);
                cur.last_packet = now;
                if p.end && !cur.ended {
                    cur.ended = true;
                    return self.report();
                }
                return None;
            }
            let continues = p.event == cur.event
                && !cur.ended
                && ts == cur.timestamp.wrapping_add(u32::from(cur.duration))
                && cur.duration == u16::MAX;
            if continues {
                // §2.5.1.3: the next segment of a long event.
                cur.before += u64::from(cur.duration);
                cur.timestamp = ts;
                cur.duration = p.duration;
                cur.last_packet = now;
                if p.end {
                    cur.ended = true;
                    return self.report();
                }
                return None;
            }
        }
        // A new event; an unfinished previous one is reported now.
        let previous = match self.current {
            Some(cur) if !cur.ended => self.report(),
            _ => None,
        };
        self.current = Some(Receiving {
            event: p.event,
            timestamp: ts,
            before: 0,
            duration: p.duration,
            volume: p.volume,
            ended: false,
            last_packet: now,
        });
        if p.end {
            if let Some(cur) = self.current.as_mut() {
                cur.ended = true;
            }
            if previous.is_none() {
                return self.report();
            }
        }
        previous
    }

    /// Reports an event whose end never came, once no packet arrived for a second.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<DtmfEvent> {
        match self.current {
            Some(cur)
                if !cur.ended
                    && now.saturating_duration_since(cur.last_packet) >= RECEIVE_TIMEOUT =>
            {
                self.report()
            }
            _ => None,
        }
    }

    /// When [`DtmfReceiver::handle_timeout`] should run, if an event is open.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current
            .filter(|c| !c.ended)
            .map(|c| c.last_packet + RECEIVE_TIMEOUT)
    }

    fn report(&mut self) -> Option<DtmfEvent> {
        let cur = self.current.as_mut()?;
        cur.ended = true;
        self.reported.push_back(cur.timestamp);
        if self.reported.len() > 16 {
            self.reported.pop_front();
        }
        let units = cur.before + u64::from(cur.duration);
        Some(DtmfEvent {
            digit: dtmf_char(cur.event)?,
            duration: Duration::from_secs_f64(units as f64 / f64::from(self.clock_rate)),
            volume: cur.volume,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypad_codes_round_trip() {
        for c in "0123456789*#ABCD!".chars() {
            assert_eq!(dtmf_char(dtmf_event_code(c).unwrap()), Some(c));
        }
        assert_eq!(dtmf_event_code('a'), Some(12));
        assert_eq!(dtmf_event_code('x'), None);
    }

    #[test]
    fn sender_follows_section_2_5_1() {
        let mut s = DtmfSender::new(8000, Duration::from_millis(20));
        s.send('5', Duration::from_millis(100)).unwrap();
        let packets: Vec<DtmfPacket> = (0..10)
            .filter_map(|i| s.next_packet(1000 + i * 160))
            .collect();
        // 5 packets up to 800 units, then the end packet twice more.
        assert_eq!(packets.len(), 7);
        assert!(packets[0].marker && packets[1..].iter().all(|p| !p.marker));
        assert!(packets
            .iter()
            .all(|p| p.timestamp == 1000 && p.payload.event == 5));
        let durations: Vec<u16> = packets.iter().map(|p| p.payload.duration).collect();
        assert_eq!(durations, vec![160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = packets.iter().map(|p| p.payload.end).collect();
        assert_eq!(ends, vec![false, false, false, false, true, true, true]);
        assert!(!s.is_busy());
    }

    #[test]
    fn long_events_are_segmented() {
        let mut s = DtmfSender::new(48_000, Duration::from_millis(20));
        s.send('#', Duration::from_secs(3)).unwrap();
        let mut packets = Vec::new();
        let mut ts = 0u32;
        while let Some(p) = s.next_packet(ts) {
            packets.push(p);
            ts += 960;
        }
        let starts: Vec<u32> = packets
            .iter()
            .map(|p| p.timestamp)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(starts, vec![0, 65_535, 131_070]);
        let mut r = DtmfReceiver::new(48_000);
        let now = Instant::now();
        let events: Vec<DtmfEvent> = packets
            .iter()
            .filter_map(|p| {
                r.handle(
                    now,
                    &RtpPacket {
                        marker: p.marker,
                        timestamp: p.timestamp,
                        payload: p.payload.to_bytes().to_vec(),
                        ..RtpPacket::default()
                    },
                )
            })
            .collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].digit, '#');
        assert_eq!(events[0].duration, Duration::from_secs(3));
    }
}
