//! What the bridge does to each RTP packet on its way from one leg to the other: forwarded
//! unchanged when both legs negotiated the same codec, transcoded (decode, resample, encode)
//! when they share none — Opus (RFC 7587, 48 kHz) on the WebRTC leg, G.711 (RFC 3551 §4.5.14,
//! 8 kHz) on the plain leg.
//!
//! Each direction has its own [`Conversion`], which owns the outgoing stream's sequence
//! numbers and timestamps (RFC 3550 §5.1): the receiving leg sees one continuous stream from
//! the bridge whatever the sending leg does. Pure logic: packets in, packets out, no I/O.
//!
//! * Forwarding keeps the payload, the marker bit and the *differences* between sequence
//!   numbers and timestamps (so loss and silence stay visible downstream), remapping the
//!   payload type.
//! * Transcoding decodes each payload, resamples the PCM to the encoder's rate and re-frames
//!   it into 20 ms packets. A timestamp gap of up to [`MAX_CONCEAL_MS`] is filled with the
//!   decoder's concealment (lost packets); a longer one (silence suppression, a paused sender)
//!   jumps the outgoing timestamp by the same time and sets the marker bit (RFC 3551 §4.1).
//!   Late or duplicate packets are dropped.
//! * RFC 4733 telephone-events, when both legs negotiated them, go through with the payload type of the
//!   receiving leg. They belong to the same RTP stream as the audio (same SSRC, sequence and timestamp space), so
//!   forwarding rebases them like audio; transcoding gives them the next outgoing sequence number and maps their
//!   timestamp (the event's start) into the outgoing clock through the same input→output relation the audio
//!   uses. The payload's duration field is in the event clock (RFC 4733 §2.3.5): it is rescaled when the legs'
//!   event clocks differ (telephone-event/48000 next to Opus, /8000 next to G.711). Events towards a leg that
//!   negotiated none are dropped.

use dialtone_media::{create_codec, AudioCodec, MediaError, Resampler, RtpPacket};
use dialtone_sdp::CodecName;

/// Longest timestamp gap filled with concealment; longer gaps are a discontinuity.
pub const MAX_CONCEAL_MS: u32 = 100;
/// The duration of each transcoded packet.
pub const FRAME_MS: u32 = 20;

/// One leg's negotiated RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFormat {
    /// Its payload type on that leg.
    pub payload_type: u8,
    /// Its RTP clock rate (48000 next to Opus, 8000 next to G.711).
    pub clock_rate: u32,
}

/// One leg's negotiated audio format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFormat {
    /// The codec.
    pub codec: CodecName,
    /// Its payload type on that leg.
    pub payload_type: u8,
    /// Its RTP clock rate.
    pub clock_rate: u32,
    /// The `a=fmtp` the leg's peer gave for it (what it wants to receive).
    pub fmtp: Option<String>,
    /// The telephone-event payload negotiated next to it, if any.
    pub events: Option<EventFormat>,
}

impl MediaFormat {
    /// A format with the codec's standard clock rate.
    pub fn new(codec: CodecName, payload_type: u8, fmtp: Option<String>) -> MediaFormat {
        MediaFormat {
            codec,
            payload_type,
            clock_rate: codec.clock_rate(),
            fmtp,
            events: None,
        }
    }

    /// The same format with `events` as its telephone-event payload.
    pub fn with_events(mut self, events: Option<EventFormat>) -> MediaFormat {
        self.events = events;
        self
    }

    /// Whether packets of `self` can be forwarded as `other` without transcoding.
    pub fn same_codec(&self, other: &MediaFormat) -> bool {
        self.codec == other.codec && self.clock_rate == other.clock_rate
    }
}

/// One direction of the bridge: forwards or transcodes packets of one format into another.
pub enum Conversion {
    /// Same codec on both legs.
    Forward(Forwarder),
    /// Different codecs.
    Transcode(Box<Transcoder>),
}

impl std::fmt::Debug for Conversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conversion::Forward(_) => f.write_str("Conversion::Forward"),
            Conversion::Transcode(t) => write!(
                f,
                "Conversion::Transcode({} -> {})",
                t.from.codec.as_str(),
                t.to.codec.as_str()
            ),
        }
    }
}

impl Conversion {
    /// The conversion from `from` to `to`; the outgoing stream starts at `sequence` and
    /// `timestamp` (random per RFC 3550 §5.1, chosen by the caller).
    pub fn new(
        from: &MediaFormat,
        to: &MediaFormat,
        sequence: u16,
        timestamp: u32,
    ) -> Result<Conversion, MediaError> {
        if from.same_codec(to) {
            let mut forwarder =
                Forwarder::new(from.payload_type, to.payload_type, sequence, timestamp);
            forwarder.events = from.events.zip(to.events);
            Ok(Conversion::Forward(forwarder))
        } else {
            Ok(Conversion::Transcode(Box::new(Transcoder::new(
                from, to, sequence, timestamp,
            )?)))
        }
    }

    /// Whether this direction transcodes.
    pub fn is_transcoding(&self) -> bool {
        matches!(self, Conversion::Transcode(_))
    }

    /// Takes one received packet and appends what to send (SSRC 0: the sending leg sets its
    /// own). Telephone-events go through when both legs negotiated them; packets of other payload types
    /// (comfort noise, unnegotiated events) are dropped.
    pub fn push(&mut self, packet: &RtpPacket, out: &mut Vec<RtpPacket>) {
        match self {
            Conversion::Forward(f) => f.push(packet, out),
            Conversion::Transcode(t) => t.push(packet, out),
        }
    }
}

/// Forwards one payload type as another, rebasing sequence numbers and timestamps.
#[derive(Debug, Clone)]
pub struct Forwarder {
    from_pt: u8,
    to_pt: u8,
    first_sequence: u16,
    first_timestamp: u32,
    /// (sequence offset, timestamp offset), set by the first packet.
    offsets: Option<(u16, u32)>,
    /// Telephone-events: (incoming, outgoing).
    events: Option<(EventFormat, EventFormat)>,
}

impl Forwarder {
    /// Forwards `from_pt` as `to_pt`, the first packet going out with `sequence`/`timestamp`.
    pub fn new(from_pt: u8, to_pt: u8, sequence: u16, timestamp: u32) -> Forwarder {
        Forwarder {
            from_pt,
            to_pt,
            first_sequence: sequence,
            first_timestamp: timestamp,
            offsets: None,
            events: None,
        }
    }

    /// Also forwards telephone-events of `from` as `to` (their durations rescaled when the clocks differ).
    pub fn with_events(mut self, from: EventFormat, to: EventFormat) -> Forwarder {
        self.events = Some((from, to));
        self
    }

    fn push(&mut self, packet: &RtpPacket, out: &mut Vec<RtpPacket>) {
        let (payload_type, payload) = if packet.payload_type == self.from_pt {
            (self.to_pt, packet.payload.clone())
        } else {
            match self.events {
                Some((from, to)) if packet.payload_type == from.payload_type => (
                    to.payload_type,
                    rescale_events(&packet.payload, from.clock_rate, to.clock_rate),
                ),
                _ => return,
            }
        };
        let (seq_off, ts_off) = *self.offsets.get_or_insert((
            self.first_sequence.wrapping_sub(packet.sequence),
            self.first_timestamp.wrapping_sub(packet.timestamp),
        ));
        out.push(RtpPacket {
            marker: packet.marker,
            payload_type,
            sequence: packet.sequence.wrapping_add(seq_off),
            timestamp: packet.timestamp.wrapping_add(ts_off),
            ssrc: 0,
            csrcs: Vec::new(),
            extension: None,
            payload,
        });
    }
}

/// An RFC 4733 payload with each event block's duration (§2.3.5, in clock ticks) converted from `from_clock` to
/// `to_clock`. A trailing partial block is kept as it is.
fn rescale_events(payload: &[u8], from_clock: u32, to_clock: u32) -> Vec<u8> {
    let mut out = payload.to_vec();
    if from_clock == to_clock || from_clock == 0 {
        return out;
    }
    for block in out.chunks_exact_mut(4) {
        let duration = u64::from(u16::from_be_bytes([block[2], block[3]]));
        let scaled =
            (duration * u64::from(to_clock) / u64::from(from_clock)).min(u64::from(u16::MAX));
        block[2..4].copy_from_slice(&(scaled as u16).to_be_bytes());
    }
    out
}

/// Decodes one codec and encodes another, resampling in between, in 20 ms frames.
pub struct Transcoder {
    from: MediaFormat,
    to: MediaFormat,
    decoder: Box<dyn AudioCodec>,
    encoder: Box<dyn AudioCodec>,
    resampler: Resampler,
    /// Encoder-rate PCM not yet encoded (less than one frame between pushes).
    pending: Vec<i16>,
    /// Scratch buffers, kept to avoid allocating per packet.
    decoded: Vec<i16>,
    resampled: Vec<i16>,
    encoded: Vec<u8>,
    /// The input timestamp the next packet should carry.
    next_in_ts: Option<u32>,
    out_sequence: u16,
    /// Timestamp of the first sample in `pending`.
    out_timestamp: u32,
    marker: bool,
    /// Telephone-events: (incoming, outgoing).
    events: Option<(EventFormat, EventFormat)>,
}

impl Transcoder {
    /// From `from` to `to`, the outgoing stream starting at `sequence`/`timestamp`.
    pub fn new(
        from: &MediaFormat,
        to: &MediaFormat,
        sequence: u16,
        timestamp: u32,
    ) -> Result<Transcoder, MediaError> {
        // The decoder reads what the sender encodes (no fmtp of ours matters to it); the
        // encoder honours what the receiving peer asked for in its fmtp.
        let decoder = create_codec(from.codec, None)?;
        let encoder = create_codec(to.codec, to.fmtp.as_deref())?;
        let resampler = Resampler::new(decoder.sample_rate(), encoder.sample_rate());
        Ok(Transcoder {
            from: from.clone(),
            to: to.clone(),
            decoder,
            encoder,
            resampler,
            pending: Vec::new(),
            decoded: Vec::new(),
            resampled: Vec::new(),
            encoded: Vec::new(),
            next_in_ts: None,
            out_sequence: sequence,
            out_timestamp: timestamp,
            marker: true,
            events: from.events.zip(to.events),
        })
    }

    /// Input clock ticks → decoder samples.
    fn in_samples(&self, ticks: u32) -> usize {
        (u64::from(ticks) * u64::from(self.decoder.sample_rate()) / u64::from(self.from.clock_rate))
            as usize
    }

    /// Input clock ticks → output clock ticks.
    fn out_ticks(&self, ticks: u32) -> u32 {
        (u64::from(ticks) * u64::from(self.to.clock_rate) / u64::from(self.from.clock_rate)) as u32
    }

    fn push(&mut self, packet: &RtpPacket, out: &mut Vec<RtpPacket>) {
        if packet.payload_type != self.from.payload_type {
            self.push_event(packet, out);
            return;
        }
        self.decoded.clear();
        if let Some(expected) = self.next_in_ts {
            let gap = packet.timestamp.wrapping_sub(expected);
            if gap > u32::MAX / 2 {
                return; // late or duplicate
            }
            let max_conceal = self.from.clock_rate / 1000 * MAX_CONCEAL_MS;
            if gap > max_conceal {
                // Discontinuity: what was pending (under one frame) is dropped and the
                // outgoing clock jumps by as much time as the incoming one did.
                let jump = self.out_ticks(gap);
                let pending_ticks = self.pending_ticks();
                self.out_timestamp = self
                    .out_timestamp
                    .wrapping_add(jump)
                    .wrapping_add(pending_ticks);
                self.pending.clear();
                self.marker = true;
            } else if gap > 0 {
                let samples = self.in_samples(gap);
                self.decoder.conceal(samples, &mut self.decoded);
            }
        }
        let before = self.decoded.len();
        if self
            .decoder
            .decode(&packet.payload, &mut self.decoded)
            .is_err()
        {
            // Corrupt payload: conceal one frame's worth in its place.
            let samples = self.decoder.sample_rate() as usize * FRAME_MS as usize / 1000;
            self.decoder.conceal(samples, &mut self.decoded);
        }
        let decoded_now = self.decoded.len() - before;
        let ticks = (decoded_now as u64 * u64::from(self.from.clock_rate)
            / u64::from(self.decoder.sample_rate())) as u32;
        self.next_in_ts = Some(packet.timestamp.wrapping_add(ticks));
        if packet.marker {
            self.marker = true;
        }

        self.resampled.clear();
        self.resampler.process(&self.decoded, &mut self.resampled);
        self.pending.extend_from_slice(&self.resampled);
        self.drain_frames(out);
    }

    /// A telephone-event packet: the next outgoing sequence number, its timestamp (the event's start) mapped into
    /// the outgoing clock — the output timestamp of the next input sample, moved by the event's distance from that
    /// sample — and its duration in the outgoing event clock.
    fn push_event(&mut self, packet: &RtpPacket, out: &mut Vec<RtpPacket>) {
        let Some((from, to)) = self.events else {
            return;
        };
        if packet.payload_type != from.payload_type {
            return;
        }
        let next_out = self.out_timestamp.wrapping_add(self.pending_ticks());
        let timestamp = match self.next_in_ts {
            Some(next_in) => {
                // Signed distance in input ticks (an event starts a little before or after the audio's edge).
                let distance = i64::from(packet.timestamp.wrapping_sub(next_in) as i32);
                let scaled =
                    distance * i64::from(self.to.clock_rate) / i64::from(self.from.clock_rate);
                next_out.wrapping_add(scaled as i32 as u32)
            }
            None => next_out,
        };
        out.push(RtpPacket {
            marker: packet.marker,
            payload_type: to.payload_type,
            sequence: self.out_sequence,
            timestamp,
            ssrc: 0,
            csrcs: Vec::new(),
            extension: None,
            payload: rescale_events(&packet.payload, from.clock_rate, to.clock_rate),
        });
        self.out_sequence = self.out_sequence.wrapping_add(1);
    }

    /// Output clock ticks covered by `pending`.
    fn pending_ticks(&self) -> u32 {
        (self.pending.len() as u64 * u64::from(self.to.clock_rate)
            / u64::from(self.encoder.sample_rate())) as u32
    }

    fn drain_frames(&mut self, out: &mut Vec<RtpPacket>) {
        let frame = self.encoder.sample_rate() as usize * FRAME_MS as usize / 1000;
        let frame_ticks = self.to.clock_rate / 1000 * FRAME_MS;
        let mut start = 0;
        while self.pending.len() - start >= frame {
            self.encoded.clear();
            let pcm = &self.pending[start..start + frame];
            start += frame;
            if self.encoder.encode(pcm, &mut self.encoded).is_err() {
                // The frame is lost; the clock still moves on.
                self.out_timestamp = self.out_timestamp.wrapping_add(frame_ticks);
                continue;
            }
            out.push(RtpPacket {
                marker: std::mem::take(&mut self.marker),
                payload_type: self.to.payload_type,
                sequence: self.out_sequence,
                timestamp: self.out_timestamp,
                ssrc: 0,
                csrcs: Vec::new(),
                extension: None,
                payload: self.encoded.clone(),
            });
            self.out_sequence = self.out_sequence.wrapping_add(1);
            self.out_timestamp = self.out_timestamp.wrapping_add(frame_ticks);
        }
        self.pending.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, freq: f64, start: usize, n: usize) -> Vec<i16> {
        (start..start + n)
            .map(|i| {
                (8000.0 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    /// Goertzel power of `freq` relative to the signal's energy (1.0 = a pure tone).
    fn tone_share(pcm: &[i16], rate: u32, freq: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &x in pcm {
            let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
        let energy: f64 = pcm.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        2.0 * power / (pcm.len() as f64 * energy.max(1.0))
    }

    fn packets(codec: CodecName, pt: u8, freq: f64, count: usize) -> Vec<RtpPacket> {
        let mut enc = create_codec(codec, None).unwrap();
        let rate = enc.sample_rate();
        let frame = rate as usize / 50;
        let ticks = codec.clock_rate() / 50;
        (0..count)
            .map(|i| {
                let mut payload = Vec::new();
                enc.encode(&tone(rate, freq, i * frame, frame), &mut payload)
                    .unwrap();
                RtpPacket {
                    payload_type: pt,
                    sequence: 1000 + i as u16,
                    timestamp: 5000 + i as u32 * ticks,
                    ssrc: 9,
                    payload,
                    ..RtpPacket::default()
                }
            })
            .collect()
    }

    fn decode_all(codec: CodecName, packets: &[RtpPacket]) -> Vec<i16> {
        let mut dec = create_codec(codec, None).unwrap();
        let mut pcm = Vec::new();
        for p in packets {
            dec.decode(&p.payload, &mut pcm).unwrap();
        }
        pcm
    }

    #[test]
    fn forwarding_rebases_sequence_and_timestamp_and_remaps_the_payload_type() {
        let opus = MediaFormat::new(CodecName::Opus, 111, None);
        let plain = MediaFormat::new(CodecName::Opus, 96, None);
        let mut c = Conversion::new(&opus, &plain, 7, 70_000).unwrap();
        assert!(!c.is_transcoding());
        let mut input = packets(CodecName::Opus, 111, 700.0, 3);
        input.remove(1); // a lost packet stays visible downstream
        let mut out = Vec::new();
        for p in &input {
            c.push(p, &mut out);
        }
        c.push(
            &RtpPacket {
                payload_type: 13,
                ..input[0].clone()
            },
            &mut out,
        );
        assert_eq!(out.len(), 2, "comfort noise is not forwarded");
        assert_eq!((out[0].sequence, out[0].timestamp), (7, 70_000));
        assert_eq!((out[1].sequence, out[1].timestamp), (9, 70_000 + 2 * 960));
        assert!(out.iter().all(|p| p.payload_type == 96));
        assert_eq!(out[1].payload, input[1].payload);
    }

    #[test]
    fn opus_to_pcmu_keeps_the_tone_in_20ms_packets_at_8khz() {
        let opus = MediaFormat::new(CodecName::Opus, 111, None);
        let ulaw = MediaFormat::new(CodecName::Ulaw, 0, None);
        let mut c = Conversion::new(&opus, &ulaw, 100, 1_000).unwrap();
        assert!(c.is_transcoding());
        let mut out = Vec::new();
        for p in packets(CodecName::Opus, 111, 700.0, 50) {
            c.push(&p, &mut out);
        }
        assert!(out.len() >= 48, "{} packets", out.len());
        for (i, p) in out.iter().enumerate() {
            assert_eq!(p.payload_type, 0);
            assert_eq!(p.payload.len(), 160);
            assert_eq!(p.sequence, 100 + i as u16);
            assert_eq!(p.timestamp, 1_000 + 160 * i as u32);
        }
        assert!(out[0].marker && !out[1].marker);
        let pcm = decode_all(CodecName::Ulaw, &out);
        let tail = &pcm[1600..];
        assert!(tone_share(tail, 8000, 700.0) > 0.8, "700 Hz dominates");
        assert!(tone_share(tail, 8000, 1000.0) < 0.05);
    }

    #[test]
    fn pcma_to_opus_upsamples_to_48khz() {
        let alaw = MediaFormat::new(CodecName::Alaw, 8, None);
        let opus = MediaFormat::new(CodecName::Opus, 111, None);
        let mut c = Conversion::new(&alaw, &opus, 0, 0).unwrap();
        let mut out = Vec::new();
        for p in packets(CodecName::Alaw, 8, 500.0, 50) {
            c.push(&p, &mut out);
        }
        assert!(out.len() >= 48);
        assert!(out
            .windows(2)
            .all(|w| w[1].timestamp - w[0].timestamp == 960));
        let pcm = decode_all(CodecName::Opus, &out);
        assert!(tone_share(&pcm[9600..], 48_000, 500.0) > 0.8);
    }

    #[test]
    fn gaps_are_concealed_or_jumped_and_late_packets_dropped() {
        let ulaw = MediaFormat::new(CodecName::Ulaw, 0, None);
        let alaw = MediaFormat::new(CodecName::Alaw, 8, None);
        let mut c = Conversion::new(&ulaw, &alaw, 0, 0).unwrap();
        let input = packets(CodecName::Ulaw, 0, 440.0, 40);
        let mut out = Vec::new();
        c.push(&input[0], &mut out);
        c.push(&input[2], &mut out); // one lost: concealed, the clock keeps counting
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].timestamp, 320);
        c.push(&input[1], &mut out); // late: dropped
        assert_eq!(out.len(), 3);
        c.push(&input[30], &mut out); // 540 ms of silence: a jump, marker set
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].timestamp, 30 * 160);
        assert!(out[3].marker);
        assert_eq!(out[3].sequence, 3, "sequence numbers stay consecutive");
    }

    /// An RFC 4733 packet: `event`, end bit, `duration` ticks.
    fn event(
        pt: u8,
        sequence: u16,
        timestamp: u32,
        digit: u8,
        end: bool,
        duration: u16,
    ) -> RtpPacket {
        let mut payload = vec![digit, if end { 0x80 | 10 } else { 10 }];
        payload.extend_from_slice(&duration.to_be_bytes());
        RtpPacket {
            payload_type: pt,
            sequence,
            timestamp,
            marker: duration <= 960 && !end,
            ssrc: 9,
            payload,
            ..RtpPacket::default()
        }
    }

    fn duration_of(p: &RtpPacket) -> u16 {
        u16::from_be_bytes([p.payload[2], p.payload[3]])
    }

    #[test]
    fn forwarding_passes_telephone_events_in_the_same_stream() {
        let ev48 = EventFormat {
            payload_type: 110,
            clock_rate: 48_000,
        };
        let ev_plain = EventFormat {
            payload_type: 101,
            clock_rate: 48_000,
        };
        let opus = MediaFormat::new(CodecName::Opus, 111, None).with_events(Some(ev48));
        let plain = MediaFormat::new(CodecName::Opus, 96, None).with_events(Some(ev_plain));
        let mut c = Conversion::new(&opus, &plain, 7, 70_000).unwrap();
        let audio = packets(CodecName::Opus, 111, 700.0, 1);
        let mut out = Vec::new();
        c.push(&audio[0], &mut out);
        c.push(&event(110, 1001, 5000 + 960, 5, false, 960), &mut out);
        c.push(&event(110, 1002, 5000 + 960, 5, true, 1920), &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(
            (out[1].payload_type, out[1].sequence, out[1].timestamp),
            (101, 8, 70_960)
        );
        assert_eq!((out[2].sequence, out[2].timestamp), (9, 70_960));
        assert_eq!(
            out[2].payload,
            event(0, 0, 0, 5, true, 1920).payload,
            "same clock: untouched"
        );
        assert!(out[1].marker, "the event's first packet keeps its marker");

        // A leg without telephone-events gets none.
        let bare = MediaFormat::new(CodecName::Opus, 96, None);
        let mut c = Conversion::new(&opus, &bare, 7, 70_000).unwrap();
        let mut out = Vec::new();
        c.push(&event(110, 1001, 5960, 5, false, 960), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn transcoding_maps_events_into_the_outgoing_clock_and_sequence() {
        let ev48 = EventFormat {
            payload_type: 110,
            clock_rate: 48_000,
        };
        let ev8 = EventFormat {
            payload_type: 101,
            clock_rate: 8_000,
        };
        let opus = MediaFormat::new(CodecName::Opus, 111, None).with_events(Some(ev48));
        let ulaw = MediaFormat::new(CodecName::Ulaw, 0, None).with_events(Some(ev8));
        let mut c = Conversion::new(&opus, &ulaw, 100, 1_000).unwrap();
        let audio = packets(CodecName::Opus, 111, 700.0, 5);
        let mut out = Vec::new();
        for p in &audio {
            c.push(p, &mut out);
        }
        let audio_out = out.len();
        let last = out[audio_out - 1].clone();
        // The event starts where the next audio packet would (5000 + 5 × 960 in): out, where the next input
        // sample goes (after the resampled PCM still waiting for a full frame).
        let start = 5000 + 5 * 960;
        let Conversion::Transcode(t) = &c else {
            panic!("transcoding")
        };
        let next_out = t.out_timestamp + t.pending_ticks();
        assert!(next_out >= last.timestamp + 160);
        c.push(&event(110, 1005, start, 1, false, 960), &mut out);
        c.push(&event(110, 1006, start, 1, false, 1920), &mut out);
        c.push(&event(110, 1007, start, 1, true, 4800), &mut out);
        let events = out[audio_out..].to_vec();
        assert_eq!(events.len(), 3);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.payload_type, 101);
            assert_eq!(
                e.sequence,
                last.sequence + 1 + i as u16,
                "one sequence space"
            );
            assert_eq!(e.timestamp, next_out, "the event's start in 8 kHz");
        }
        assert_eq!(
            events.iter().map(duration_of).collect::<Vec<_>>(),
            vec![160, 320, 800],
            "durations rescaled to 8 kHz"
        );
        assert_eq!(events[2].payload[1] & 0x80, 0x80, "the end bit stays");
        // Audio after the event continues the same sequence.
        let more = packets(CodecName::Opus, 111, 700.0, 7);
        let before = out.len();
        c.push(&more[5], &mut out);
        c.push(&more[6], &mut out);
        assert!(out.len() > before);
        assert_eq!(out[before].sequence, events[2].sequence + 1);
    }
}
