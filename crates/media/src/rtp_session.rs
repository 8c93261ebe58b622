//! A sans-IO RTP session for one two-party audio stream (RFC 3550).
//!
//! * Sending (§5.1): our SSRC, a random initial sequence number and timestamp offset
//!   (from the caller's [`Random`]); [`RtpSession::send_rtp`] numbers and stamps packets.
//! * Receiving (§6.4, A.1, A.3, A.8): sequence validation, loss, fraction lost,
//!   interarrival jitter; LSR/DLSR in our reports and the round-trip time from the
//!   peer's (§6.4.1). The packet a new source sends while on A.1 probation is held, not
//!   dropped, and delivered just before the packet that validates the source (its
//!   successor): a predictive decoder (Speex) that misses a stream's first frame can
//!   stay out of step with the encoder for the rest of the call.
//! * RTCP (§6.2, §6.3, A.7): SR when we sent since the previous report, else RR; always
//!   SDES CNAME (§6.1); interval 5 s nominal randomised over [0.5, 1.5]; BYE (§6.6).
//! * rtcp-mux (RFC 5761 §4): with mux, [`RtpSession::handle_rtp`] hands RTCP it finds on
//!   the RTP port to [`RtpSession::handle_rtcp`].
//! * Symmetric RTP (RFC 4961) and latching: we send to the address the peer's media
//!   actually comes from. Packets from the negotiated address, or from the address we
//!   latched to, are accepted. Packets from any other address are dropped and counted as
//!   stray; after [`RtpSessionConfig::latch_packets`] consecutive packets of one SSRC with
//!   consecutive sequence numbers from one new address — while the current source has
//!   been silent for [`RtpSessionConfig::latch_silence`] — the session switches to it
//!   ([`RtpEvent::Latched`]). A spoofer interleaving packets with the real peer never
//!   gets there, and no stray packet reaches the jitter buffer (no RTP bleed).
//! * RTP inactivity: [`RtpEvent::Inactive`] when no RTP arrived for
//!   [`RtpSessionConfig::inactivity_timeout`] (default 30 s; `None` switches it off, for
//!   listen-only calls); the timer is paused while we do not receive (hold).
//!
//! Drive it like every sans-IO machine: feed datagrams and timeouts, then drain
//! [`RtpSession::poll_output`] and sleep until [`RtpSession::poll_timeout`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_sdp::Direction;

use crate::demux::{classify, PacketKind};
use crate::random::{Random, Xorshift};
use crate::reception::{Reception, SeqVerdict};
use crate::rtcp_interval::{randomized_interval, IntervalInputs};
use crate::rtcp_packet::{
    parse_compound, write_compound, Bye, NtpTime, ReceiverReport, ReportBlock, RtcpPacket,
    SdesChunk, SenderReport, SDES_CNAME,
};
use crate::rtp_packet::RtpPacket;

/// IP (20) + UDP (8) header octets, counted in the RTCP average size (§6.2).
const IP_UDP_OVERHEAD: usize = 28;

/// How an [`RtpSession`] is set up.
#[derive(Debug, Clone)]
pub struct RtpSessionConfig {
    /// The RTP clock rate of the audio payload (for jitter and SR timestamps).
    pub clock_rate: u32,
    /// Where to send RTP until latching says otherwise (the SDP `c=`/`m=` address).
    pub remote_rtp: SocketAddr,
    /// Where to send RTCP (the RTP address with rtcp-mux).
    pub remote_rtcp: SocketAddr,
    /// RTP and RTCP share one port (RFC 5761).
    pub rtcp_mux: bool,
    /// Our CNAME (§6.5.1), e.g. `user@host`.
    pub cname: String,
    /// Consecutive packets from a new source before we latch to it (default 3).
    pub latch_packets: u32,
    /// How long the current source must have been silent before we latch away from it
    /// (default 200 ms).
    pub latch_silence: Duration,
    /// No RTP for this long while receiving raises [`RtpEvent::Inactive`] (default
    /// 30 s); `None` switches the check off.
    pub inactivity_timeout: Option<Duration>,
    /// The minimum RTCP interval (default 5 s, §6.2).
    pub rtcp_min_interval: Duration,
    /// Session bandwidth in bits per second, for the RTCP interval (default 64 000).
    pub session_bandwidth: u32,
    /// Wallclock (NTP) time at the `now` given to [`RtpSession::new`]; SRs carry
    /// `ntp_origin + (now - start)`. Only our own RTT computation reads it back, so any
    /// consistent origin works; the runtime passes the real wallclock.
    pub ntp_origin: NtpTime,
    /// A payload type left out of the jitter estimate (telephone-event, whose packets
    /// repeat one timestamp).
    pub jitter_excluded_payload_type: Option<u8>,
}

impl RtpSessionConfig {
    /// Defaults for a stream at `clock_rate` to `remote_rtp`; RTCP goes to the next port
    /// up (no rtcp-mux).
    pub fn new(clock_rate: u32, remote_rtp: SocketAddr) -> RtpSessionConfig {
        let mut remote_rtcp = remote_rtp;
        remote_rtcp.set_port(remote_rtp.port().wrapping_add(1));
        RtpSessionConfig {
            clock_rate,
            remote_rtp,
            remote_rtcp,
            rtcp_mux: false,
            cname: "dialtone".to_string(),
            latch_packets: 3,
            latch_silence: Duration::from_millis(200),
            inactivity_timeout: Some(Duration::from_secs(30)),
            rtcp_min_interval: Duration::from_secs(5),
            session_bandwidth: 64_000,
            ntp_origin: NtpTime(0),
            jitter_excluded_payload_type: None,
        }
    }
}

/// Which socket a [`Transmit`] leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The RTP socket.
    Rtp,
    /// The RTCP socket (the RTP socket itself with rtcp-mux).
    Rtcp,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub dest: SocketAddr,
    /// From the RTP or the RTCP socket.
    pub channel: Channel,
    /// The datagram.
    pub bytes: Vec<u8>,
}

/// A received, validated RTP packet from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRtp {
    /// The packet.
    pub packet: RtpPacket,
    /// When it arrived.
    pub arrival: Instant,
}

/// What the peer's latest reception report said about our stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RemoteReport {
    /// Fraction of our packets lost in its last interval (0.0–1.0).
    pub fraction_lost: f64,
    /// Our packets it lost in all.
    pub cumulative_lost: i32,
    /// The jitter it sees on our stream.
    pub jitter: Duration,
    /// The round-trip time computed from LSR/DLSR, if the block carried an LSR.
    pub rtt: Option<Duration>,
}

/// Something the session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum RtpEvent {
    /// A valid RTP packet from the peer, for the jitter buffer / DTMF receiver.
    Rtp(ReceivedRtp),
    /// We switched the destination of our media to where the peer's media comes from.
    Latched {
        /// The previous destination.
        from: SocketAddr,
        /// The new one.
        to: SocketAddr,
    },
    /// The peer's media SSRC changed (a new stream; statistics restart).
    RemoteSsrcChanged {
        /// The new SSRC.
        ssrc: u32,
    },
    /// A reception report about our stream arrived.
    RemoteReport(RemoteReport),
    /// The peer sent BYE (§6.6).
    RemoteBye {
        /// Its reason, if any.
        reason: Option<String>,
    },
    /// No RTP arrived for the inactivity timeout while we were receiving.
    Inactive {
        /// How long it has been silent.
        silent_for: Duration,
    },
}

/// What [`RtpSession::poll_output`] returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A datagram to send.
    Transmit(Transmit),
    /// Something to tell the application.
    Event(RtpEvent),
}

/// The session's counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SessionStats {
    /// Our SSRC.
    pub ssrc: u32,
    /// The peer's SSRC, once known.
    pub remote_ssrc: Option<u32>,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// RTP datagram bytes sent (headers included).
    pub bytes_sent: u64,
    /// RTP payload octets sent (the SR octet count).
    pub payload_bytes_sent: u64,
    /// Valid RTP packets received from the peer.
    pub packets_received: u64,
    /// RTP datagram bytes received from the peer (headers included).
    pub bytes_received: u64,
    /// Packets of the peer's stream that never arrived (A.3 cumulative lost).
    pub packets_lost: i64,
    /// Packets the peer's stream was expected to have (A.3).
    pub packets_expected: u64,
    /// Fraction lost in the last report interval (0.0–1.0).
    pub fraction_lost: f64,
    /// Interarrival jitter of the peer's stream.
    pub jitter: Duration,
    /// Round-trip time from the latest report that carried an LSR.
    pub rtt: Option<Duration>,
    /// What the peer reported about our stream.
    pub remote: Option<RemoteReport>,
    /// RTP datagrams that failed to parse.
    pub malformed_rtp: u64,
    /// RTCP datagrams that failed to parse.
    pub malformed_rtcp: u64,
    /// Datagrams from addresses we neither negotiated nor latched to (dropped).
    pub stray_packets: u64,
    /// RTP packets dropped because we are not receiving (hold) or the sequence check
    /// rejected them (a probation packet not followed by its successor, large jump).
    pub discarded_rtp: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// RTCP compound packets received.
    pub rtcp_received: u64,
    /// Times the destination was switched by latching.
    pub latch_switches: u64,
}

/// The candidate new source of latching.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    source: SocketAddr,
    ssrc: u32,
    last_seq: u16,
    count: u32,
}

/// A sans-IO RTP/RTCP session (see the module docs).
#[derive(Debug)]
pub struct RtpSession {
    config: RtpSessionConfig,
    start: Instant,
    rng: Xorshift,
    ssrc: u32,
    next_seq: u16,
    timestamp_offset: u32,
    rtp_dest: SocketAddr,
    rtcp_dest: SocketAddr,
    /// The source address whose media we accept (negotiated or latched).
    confirmed_source: Option<SocketAddr>,
    candidate: Option<Candidate>,
    /// When the confirmed source last sent something we accepted.
    last_accepted: Option<Instant>,
    direction: Direction,
    reception: Option<Reception>,
    /// The latest packet of a source on probation, with its arrival and datagram size:
    /// delivered when its successor validates the source, else dropped.
    held: Option<(RtpPacket, Instant, usize)>,
    /// LSR and the instant it arrived.
    last_sr: Option<(u32, Instant)>,
    remote_sending: bool,
    received_since_report: bool,
    sent_since_report: bool,
    /// We sent RTP in the interval before the last report (§6.4: SR if we sent since
    /// the second previous report).
    sent_in_previous_interval: bool,
    /// Our last sent RTP timestamp (with offset) and when.
    last_sent: Option<(u32, Instant)>,
    avg_rtcp_size: f64,
    next_rtcp: Instant,
    initial_rtcp: bool,
    /// Last time RTP arrived, or reception (re)started.
    last_rtp_activity: Instant,
    inactivity_reported: bool,
    closed: bool,
    stats: SessionStats,
    outputs: VecDeque<Output>,
}

impl RtpSession {
    /// A new session at `now`. SSRC, initial sequence number and timestamp offset come
    /// from `rng` (RFC 3550 §5.1), as does the seed for the RTCP interval's randomness.
    pub fn new(now: Instant, config: RtpSessionConfig, rng: &mut dyn Random) -> RtpSession {
        let ssrc = rng.next_u32();
        let next_seq = rng.next_u32() as u16;
        let timestamp_offset = rng.next_u32();
        let mut own_rng = Xorshift::new(rng.next_u64());
        let mut session = RtpSession {
            rtp_dest: config.remote_rtp,
            rtcp_dest: if config.rtcp_mux {
                config.remote_rtp
            } else {
                config.remote_rtcp
            },
            start: now,
            ssrc,
            next_seq,
            timestamp_offset,
            confirmed_source: None,
            candidate: None,
            last_accepted: None,
            direction: Direction::SendRecv,
            reception: None,
            held: None,
            last_sr: None,
            remote_sending: false,
            received_since_report: false,
            sent_since_report: false,
            sent_in_previous_interval: false,
            last_sent: None,
            avg_rtcp_size: 100.0,
            next_rtcp: now,
            initial_rtcp: true,
            last_rtp_activity: now,
            inactivity_reported: false,
            closed: false,
            stats: SessionStats {
                ssrc,
                ..SessionStats::default()
            },
            outputs: VecDeque::new(),
            rng: Xorshift::new(1),
            config,
        };
        let first = session.interval(&mut own_rng);
        session.next_rtcp = now + first;
        session.rng = own_rng;
        session
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Where RTP goes now (the negotiated address until latching moves it).
    pub fn rtp_destination(&self) -> SocketAddr {
        self.rtp_dest
    }

    /// Where RTCP goes now.
    pub fn rtcp_destination(&self) -> SocketAddr {
        self.rtcp_dest
    }

    /// The session's counters.
    pub fn stats(&self) -> SessionStats {
        let mut stats = self.stats;
        if let Some(r) = &self.reception {
            stats.remote_ssrc = Some(r.ssrc);
            stats.packets_lost = i64::from(r.cumulative_lost());
            stats.packets_expected = u64::from(r.expected());
            stats.fraction_lost = f64::from(r.last_fraction) / 256.0;
            stats.jitter = self.units_to_duration(r.jitter());
        }
        stats
    }

    /// Sets the stream's direction from our side (RFC 3264 §5.1). Not receiving pauses
    /// the inactivity timer and drops incoming RTP; RTCP continues either way.
    pub fn set_direction(&mut self, now: Instant, direction: Direction) {
        if direction.receives() && !self.direction.receives() {
            self.last_rtp_activity = now;
            self.inactivity_reported = false;
        }
        self.direction = direction;
    }

    /// The current direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Switches the RTP inactivity check on (`Some`) or off (`None`), from `now`.
    pub fn set_inactivity_timeout(&mut self, now: Instant, timeout: Option<Duration>) {
        self.config.inactivity_timeout = timeout;
        self.last_rtp_activity = now;
        self.inactivity_reported = false;
    }

    /// Points the session at a new remote address (a re-INVITE moved the media). The
    /// latch starts afresh.
    pub fn set_remote(&mut self, remote_rtp: SocketAddr, remote_rtcp: SocketAddr, rtcp_mux: bool) {
        self.config.remote_rtp = remote_rtp;
        self.config.remote_rtcp = remote_rtcp;
        self.config.rtcp_mux = rtcp_mux;
        self.rtp_dest = remote_rtp;
        self.rtcp_dest = if rtcp_mux { remote_rtp } else { remote_rtcp };
        self.confirmed_source = None;
        self.candidate = None;
    }

    /// Sends one RTP packet. `media_timestamp` counts in the payload's clock from the
    /// start of our stream; the session adds its random offset. Does nothing after BYE.
    pub fn send_rtp(
        &mut self,
        now: Instant,
        payload_type: u8,
        media_timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) {
        if self.closed {
            return;
        }
        let timestamp = media_timestamp.wrapping_add(self.timestamp_offset);
        let packet = RtpPacket {
            marker,
            payload_type,
            sequence: self.next_seq,
            timestamp,
            ssrc: self.ssrc,
            csrcs: Vec::new(),
            extension: None,
            payload: payload.to_vec(),
        };
        self.next_seq = self.next_seq.wrapping_add(1);
        let bytes = packet.to_bytes();
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += bytes.len() as u64;
        self.stats.payload_bytes_sent += payload.len() as u64;
        self.sent_since_report = true;
        self.last_sent = Some((timestamp, now));
        self.outputs.push_back(Output::Transmit(Transmit {
            dest: self.rtp_dest,
            channel: Channel::Rtp,
            bytes,
        }));
    }

    /// A datagram arrived on the RTP port (with rtcp-mux, RTCP too: it is routed to
    /// [`RtpSession::handle_rtcp`]). Malformed packets are dropped and counted.
    pub fn handle_rtp(&mut self, now: Instant, source: SocketAddr, bytes: &[u8]) {
        if self.config.rtcp_mux && classify(bytes) == PacketKind::Rtcp {
            self.handle_rtcp(now, source, bytes);
            return;
        }
        let packet = match RtpPacket::parse(bytes) {
            Ok(packet) => packet,
            Err(_) => {
                self.stats.malformed_rtp += 1;
                return;
            }
        };
        if !self.accept_source(now, source, &packet) {
            self.stats.stray_packets += 1;
            return;
        }
        self.last_accepted = Some(now);
        if !self.direction.receives() {
            self.stats.discarded_rtp += 1;
            return;
        }
        self.last_rtp_activity = now;
        self.inactivity_reported = false;

        if self.reception.as_ref().map(|r| r.ssrc) != Some(packet.ssrc) {
            if self.reception.is_some() {
                self.outputs
                    .push_back(Output::Event(RtpEvent::RemoteSsrcChanged {
                        ssrc: packet.ssrc,
                    }));
            }
            self.reception = Some(Reception::new(packet.ssrc, packet.sequence));
            self.last_sr = None;
        }
        let arrival = self.arrival_units(now);
        let excluded = self.config.jitter_excluded_payload_type == Some(packet.payload_type);
        let Some(reception) = self.reception.as_mut() else {
            return; // Set just above.
        };
        match reception.update(packet.sequence) {
            SeqVerdict::Valid => {}
            SeqVerdict::Probation => {
                // Held until the next packet tells whether the source is valid; the one
                // it replaces (not followed by its successor) is dropped.
                if self.held.replace((packet, now, bytes.len())).is_some() {
                    self.stats.discarded_rtp += 1;
                }
                return;
            }
            SeqVerdict::Jump => {
                self.stats.discarded_rtp += 1;
                return;
            }
        }
        if let Some((held, arrival, size)) = self.held.take() {
            if held.ssrc == packet.ssrc && held.sequence.wrapping_add(1) == packet.sequence {
                reception.count_held_predecessor();
                self.stats.packets_received += 1;
                self.stats.bytes_received += size as u64;
                self.outputs
                    .push_back(Output::Event(RtpEvent::Rtp(ReceivedRtp {
                        packet: held,
                        arrival,
                    })));
            } else {
                self.stats.discarded_rtp += 1;
            }
        }
        if !excluded {
            reception.update_jitter(packet.timestamp, arrival);
        }
        self.stats.packets_received += 1;
        self.stats.bytes_received += bytes.len() as u64;
        self.received_since_report = true;
        self.remote_sending = true;
        self.outputs
            .push_back(Output::Event(RtpEvent::Rtp(ReceivedRtp {
                packet,
                arrival: now,
            })));
    }

    /// Latching and symmetric RTP: may this packet's source feed us media?
    fn accept_source(&mut self, now: Instant, source: SocketAddr, packet: &RtpPacket) -> bool {
        if Some(source) == self.confirmed_source
            || (self.confirmed_source.is_none() && source == self.rtp_dest)
        {
            self.confirmed_source = Some(source);
            self.candidate = None;
            return true;
        }
        let candidate = match self.candidate {
            Some(c)
                if c.source == source
                    && c.ssrc == packet.ssrc
                    && packet.sequence == c.last_seq.wrapping_add(1) =>
            {
                Candidate {
                    last_seq: packet.sequence,
                    count: c.count + 1,
                    ..c
                }
            }
            _ => Candidate {
                source,
                ssrc: packet.ssrc,
                last_seq: packet.sequence,
                count: 1,
            },
        };
        self.candidate = Some(candidate);
        let current_silent = match self.last_accepted {
            Some(at) if self.confirmed_source.is_some() => {
                now.saturating_duration_since(at) >= self.config.latch_silence
            }
            _ => true,
        };
        if candidate.count < self.config.latch_packets.max(1) || !current_silent {
            return false;
        }
        let from = self.rtp_dest;
        self.rtp_dest = source;
        if self.config.rtcp_mux {
            self.rtcp_dest = source;
        }
        self.confirmed_source = Some(source);
        self.candidate = None;
        self.stats.latch_switches += 1;
        self.outputs
            .push_back(Output::Event(RtpEvent::Latched { from, to: source }));
        true
    }

    /// A datagram arrived on the RTCP port (or was demultiplexed off the RTP port).
    pub fn handle_rtcp(&mut self, now: Instant, source: SocketAddr, bytes: &[u8]) {
        let packets = match parse_compound(bytes) {
            Ok(packets) => packets,
            Err(_) => {
                self.stats.malformed_rtcp += 1;
                return;
            }
        };
        if !self.accept_rtcp_source(source) {
            self.stats.stray_packets += 1;
            return;
        }
        self.stats.rtcp_received += 1;
        let size = (bytes.len() + IP_UDP_OVERHEAD) as f64;
        self.avg_rtcp_size = size / 16.0 + self.avg_rtcp_size * 15.0 / 16.0;
        for packet in packets {
            match packet {
                RtcpPacket::SenderReport(sr) => {
                    if self.reception.as_ref().is_some_and(|r| r.ssrc == sr.ssrc) {
                        self.last_sr = Some((sr.ntp.middle_32(), now));
                    }
                    self.remote_sending = true;
                    self.take_reports(now, &sr.reports);
                }
                RtcpPacket::ReceiverReport(rr) => self.take_reports(now, &rr.reports),
                RtcpPacket::Bye(bye) => {
                    let ours = self
                        .reception
                        .as_ref()
                        .is_none_or(|r| bye.sources.contains(&r.ssrc));
                    if ours {
                        self.remote_sending = false;
                        self.outputs
                            .push_back(Output::Event(RtpEvent::RemoteBye { reason: bye.reason }));
                    }
                }
                RtcpPacket::SourceDescription(_) | RtcpPacket::Other { .. } => {}
            }
        }
    }

    fn accept_rtcp_source(&mut self, source: SocketAddr) -> bool {
        if source == self.rtcp_dest || Some(source) == self.confirmed_source {
            return true;
        }
        // Without mux, RTCP from the latched media host latches RTCP too (symmetric RTCP).
        if !self.config.rtcp_mux && self.confirmed_source.is_some_and(|s| s.ip() == source.ip()) {
            self.rtcp_dest = source;
            return true;
        }
        false
    }

    fn take_reports(&mut self, now: Instant, reports: &[ReportBlock]) {
        let Some(block) = reports.iter().find(|b| b.ssrc == self.ssrc) else {
            return;
        };
        let rtt = (block.last_sr != 0)
            .then(|| {
                // RTT = A - LSR - DLSR, all in 1/65536 s (§6.4.1).
                let a = self.ntp_at(now).middle_32();
                let rtt = a
                    .wrapping_sub(block.last_sr)
                    .wrapping_sub(block.delay_since_last_sr);
                // A "negative" result means clocks or fields are off: no estimate.
                (rtt < 0x8000_0000).then(|| Duration::from_secs_f64(f64::from(rtt) / 65_536.0))
            })
            .flatten();
        if rtt.is_some() {
            self.stats.rtt = rtt;
        }
        let report = RemoteReport {
            fraction_lost: f64::from(block.fraction_lost) / 256.0,
            cumulative_lost: block.cumulative_lost,
            jitter: self.units_to_duration(block.jitter),
            rtt,
        };
        self.stats.remote = Some(report);
        self.outputs
            .push_back(Output::Event(RtpEvent::RemoteReport(report)));
    }

    /// Advances timers: RTCP reports and the inactivity check.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if now >= self.next_rtcp {
            let packets = self.report_packets(now);
            self.send_rtcp(&packets);
            let mut rng = self.rng.clone();
            self.next_rtcp = now + self.interval(&mut rng);
            self.rng = rng;
        }
        if let Some(deadline) = self.inactivity_deadline() {
            if now >= deadline {
                self.inactivity_reported = true;
                self.outputs.push_back(Output::Event(RtpEvent::Inactive {
                    silent_for: now.saturating_duration_since(self.last_rtp_activity),
                }));
            }
        }
    }

    /// Ends the session: sends a final report with BYE (§6.6) and stops all output.
    pub fn bye(&mut self, now: Instant, reason: Option<&str>) {
        if self.closed {
            return;
        }
        let mut packets = self.report_packets(now);
        packets.push(RtcpPacket::Bye(Bye {
            sources: vec![self.ssrc],
            reason: reason.map(str::to_string),
        }));
        self.send_rtcp(&packets);
        self.closed = true;
    }

    /// True once [`RtpSession::bye`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The next output, if any. Drain it after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`RtpSession::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        Some(match self.inactivity_deadline() {
            Some(deadline) => deadline.min(self.next_rtcp),
            None => self.next_rtcp,
        })
    }

    fn inactivity_deadline(&self) -> Option<Instant> {
        let timeout = self.config.inactivity_timeout?;
        (self.direction.receives() && !self.inactivity_reported)
            .then(|| self.last_rtp_activity + timeout)
    }

    fn send_rtcp(&mut self, packets: &[RtcpPacket]) {
        let mut bytes = Vec::with_capacity(128);
        write_compound(packets, &mut bytes);
        let size = (bytes.len() + IP_UDP_OVERHEAD) as f64;
        self.avg_rtcp_size = size / 16.0 + self.avg_rtcp_size * 15.0 / 16.0;
        self.stats.rtcp_sent += 1;
        self.initial_rtcp = false;
        self.outputs.push_back(Output::Transmit(Transmit {
            dest: self.rtcp_dest,
            channel: Channel::Rtcp,
            bytes,
        }));
    }

    /// SR or RR (with a block for the peer if we heard it since the last report) and
    /// SDES CNAME.
    fn report_packets(&mut self, now: Instant) -> Vec<RtcpPacket> {
        let mut reports = Vec::new();
        if self.received_since_report {
            let (lsr, dlsr) = match self.last_sr {
                Some((lsr, at)) => {
                    let delay = now.saturating_duration_since(at).as_secs_f64() * 65_536.0;
                    (lsr, delay.min(f64::from(u32::MAX)) as u32)
                }
                None => (0, 0),
            };
            if let Some(r) = self.reception.as_mut() {
                reports.push(r.report(lsr, dlsr));
            }
        }
        self.received_since_report = false;
        let report = if self.sent_since_report || self.sent_in_previous_interval {
            let rtp_timestamp = match self.last_sent {
                Some((ts, at)) => {
                    let elapsed = now.saturating_duration_since(at).as_secs_f64();
                    ts.wrapping_add((elapsed * f64::from(self.config.clock_rate)) as u32)
                }
                None => self.timestamp_offset,
            };
            RtcpPacket::SenderReport(SenderReport {
                ssrc: self.ssrc,
                ntp: self.ntp_at(now),
                rtp_timestamp,
                packet_count: self.stats.packets_sent as u32,
                octet_count: self.stats.payload_bytes_sent as u32,
                reports,
            })
        } else {
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: self.ssrc,
                reports,
            })
        };
        self.sent_in_previous_interval = self.sent_since_report;
        self.sent_since_report = false;
        vec![
            report,
            RtcpPacket::SourceDescription(vec![SdesChunk {
                ssrc: self.ssrc,
                items: vec![(SDES_CNAME, self.config.cname.as_bytes().to_vec())],
            }]),
        ]
    }

    fn interval(&self, rng: &mut dyn Random) -> Duration {
        let remote_known = self.reception.is_some();
        let members = 1 + u32::from(remote_known);
        let we_sent = self.sent_since_report || self.stats.packets_sent > 0;
        let senders = u32::from(we_sent) + u32::from(self.remote_sending);
        randomized_interval(
            &IntervalInputs {
                members,
                senders,
                we_sent,
                session_bandwidth: self.config.session_bandwidth,
                avg_rtcp_size: self.avg_rtcp_size,
                initial: self.initial_rtcp,
                minimum: self.config.rtcp_min_interval,
            },
            rng,
        )
    }

    fn ntp_at(&self, now: Instant) -> NtpTime {
        self.config.ntp_origin + now.saturating_duration_since(self.start)
    }

    /// Arrival time in RTP timestamp units since the session started (A.8).
    fn arrival_units(&self, now: Instant) -> u32 {
        let nanos = now.saturating_duration_since(self.start).as_nanos();
        (nanos * u128::from(self.config.clock_rate) / 1_000_000_000) as u32
    }

    fn units_to_duration(&self, units: u32) -> Duration {
        Duration::from_secs_f64(f64::from(units) / f64::from(self.config.clock_rate.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(ssrc: u32, seq: u16) -> Vec<u8> {
        RtpPacket {
            payload_type: 0,
            sequence: seq,
            timestamp: u32::from(seq) * 160,
            ssrc,
            payload: vec![0xD5; 160],
            ..RtpPacket::default()
        }
        .to_bytes()
    }

    fn delivered(session: &mut RtpSession) -> Vec<(u32, u16)> {
        let mut seqs = Vec::new();
        while let Some(out) = session.poll_output() {
            if let Output::Event(RtpEvent::Rtp(r)) = out {
                seqs.push((r.packet.ssrc, r.packet.sequence));
            }
        }
        seqs
    }

    /// Regression (Speex in the call runtime): the first packet of every stream used to be
    /// dropped by the A.1 probation, and a Speex decoder that misses a steady tone's first
    /// frame diverges for good. It is now held and delivered, in order, once its successor
    /// validates the source; a probation packet that no successor confirms is dropped.
    #[test]
    fn the_probation_packet_is_delivered_before_the_packet_that_validates_the_source() {
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("address");
        let now = Instant::now();
        let mut session = RtpSession::new(
            now,
            RtpSessionConfig::new(8000, peer),
            &mut Xorshift::new(9),
        );
        session.handle_rtp(now, peer, &rtp(7, 100));
        assert_eq!(delivered(&mut session), vec![], "held while on probation");
        session.handle_rtp(now, peer, &rtp(7, 101));
        assert_eq!(delivered(&mut session), vec![(7, 100), (7, 101)]);
        session.handle_rtp(now, peer, &rtp(7, 102));
        assert_eq!(delivered(&mut session), vec![(7, 102)]);
        let stats = session.stats();
        assert_eq!(
            (stats.packets_received, stats.discarded_rtp),
            (3, 0),
            "{stats:?}"
        );
        assert_eq!(stats.bytes_received, 3 * 172);
        assert_eq!(
            (stats.packets_expected, stats.packets_lost),
            (3, 0),
            "{stats:?}"
        );

        // A new source whose second packet skips one: probation starts over from it.
        session.handle_rtp(now, peer, &rtp(8, 500));
        session.handle_rtp(now, peer, &rtp(8, 502));
        assert_eq!(delivered(&mut session), vec![]);
        session.handle_rtp(now, peer, &rtp(8, 503));
        assert_eq!(delivered(&mut session), vec![(8, 502), (8, 503)]);
        let stats = session.stats();
        assert_eq!(
            (stats.packets_received, stats.discarded_rtp),
            (5, 1),
            "{stats:?}"
        );
    }
}
