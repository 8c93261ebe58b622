//! The audio pipeline of one call, sans-IO: microphone PCM in, RTP out; RTP in, speaker
//! PCM out, through the jitter buffer; DTMF both ways; hold, mute and "no microphone".
//!
//! ```text
//!  mic PCM ──resample──▶ frames ──▶ codec.encode ──▶ RtpSession ──▶ Transmit
//!  (or silence timer)     │  └ mute: zeros      (DTMF packets replace audio while a digit is on)
//!                                                                   
//!  speaker ◀──resample── codec.decode / conceal ◀── JitterBuffer ◀── RtpSession ◀── datagrams
//!                                                     DtmfReceiver ◀─┘ (telephone-event PT)
//! ```
//!
//! Time is passed in; the runtime calls [`CallAudio::push_microphone`] from its capture
//! ring buffer, [`CallAudio::pull_speaker`] to fill its playback ring buffer, the two
//! `handle_*` methods with datagrams, and [`CallAudio::handle_timeout`] at
//! [`CallAudio::poll_timeout`], draining [`CallAudio::poll_output`] after each.
//!
//! Directions (RFC 3264 §5.1, from our side): without "send" no RTP goes out (the RTP
//! timestamp keeps running, the next packet carries the marker bit); without "receive"
//! incoming RTP is dropped, the speaker gets silence and the inactivity timer pauses.
//! RTCP continues in every direction, `inactive` included. Mute sends silence with the
//! same timing; with no microphone a timer sends silence frames every ptime.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_sdp::{AcceptedMedia, CodecName, Direction, SrtpKeys, TelephoneEvent};

use crate::codec::{create_codec, AudioCodec};
use crate::demux::{classify, PacketKind};
use crate::dtmf::{DtmfEvent, DtmfReceiver, DtmfSender};
use crate::error::MediaError;
use crate::jitter_buffer::{JitterBuffer, JitterBufferConfig, Playout};
use crate::media_stats::MediaStats;
use crate::quality::e_model;
use crate::random::Random;
use crate::resampler::Resampler;
use crate::rtcp_packet::NtpTime;
use crate::rtp_packet::RtpPacket;
use crate::rtp_session::{
    Channel, Output, RemoteReport, RtpEvent, RtpSession, RtpSessionConfig, Transmit,
};
use crate::srtp::{SrtpCounters, SrtpSession};

/// RFC 3389 comfort noise, static payload type 13: accepted and ignored.
const PT_COMFORT_NOISE: u8 = 13;

/// What a [`CallAudio`] needs from the negotiation and the device layer.
#[derive(Debug, Clone)]
pub struct CallAudioParams {
    /// The codec to send and receive with.
    pub codec: CodecName,
    /// Its RTP payload type.
    pub payload_type: u8,
    /// The peer's `a=fmtp` for it.
    pub fmtp: Option<String>,
    /// RFC 4733 telephone-event, if negotiated.
    pub telephone_event: Option<TelephoneEvent>,
    /// Where RTP goes (until latching moves it).
    pub remote_rtp: SocketAddr,
    /// Where RTCP goes.
    pub remote_rtcp: SocketAddr,
    /// RTP and RTCP on one port (RFC 5761).
    pub rtcp_mux: bool,
    /// Packetization time (default 20 ms).
    pub ptime: Duration,
    /// The stream's direction from our side.
    pub direction: Direction,
    /// The microphone's sample rate.
    pub mic_rate: u32,
    /// The speaker's sample rate.
    pub speaker_rate: u32,
    /// Our RTCP CNAME.
    pub cname: String,
    /// RTP inactivity timeout (default 30 s; `None` for listen-only calls).
    pub inactivity_timeout: Option<Duration>,
    /// Wallclock (NTP) time at the `now` given to [`CallAudio::new`].
    pub ntp_origin: NtpTime,
    /// Jitter buffer bounds (defaults 20 ms and 400 ms).
    pub jitter_min_delay: Duration,
    /// The most buffering delay.
    pub jitter_max_delay: Duration,
    /// SDES-SRTP keys (RFC 4568): with them every RTP/RTCP datagram is protected before
    /// it leaves and unprotected (authenticated, replay-checked) when it arrives.
    pub srtp: Option<SrtpKeys>,
}

impl CallAudioParams {
    /// Defaults for `codec` on `payload_type` to `remote_rtp`: RTCP on the next port,
    /// 20 ms, sendrecv, 48 kHz devices.
    pub fn new(codec: CodecName, payload_type: u8, remote_rtp: SocketAddr) -> CallAudioParams {
        let mut remote_rtcp = remote_rtp;
        remote_rtcp.set_port(remote_rtp.port().wrapping_add(1));
        CallAudioParams {
            codec,
            payload_type,
            fmtp: None,
            telephone_event: None,
            remote_rtp,
            remote_rtcp,
            rtcp_mux: false,
            ptime: Duration::from_millis(20),
            direction: Direction::SendRecv,
            mic_rate: 48_000,
            speaker_rate: 48_000,
            cname: "dialtone".to_string(),
            inactivity_timeout: Some(Duration::from_secs(30)),
            ntp_origin: NtpTime(0),
            jitter_min_delay: Duration::from_millis(20),
            jitter_max_delay: Duration::from_millis(400),
            srtp: None,
        }
    }

    /// The parameters an accepted audio stream of an SDP exchange calls for (device
    /// rates and the rest at their defaults).
    pub fn from_negotiated(media: &AcceptedMedia) -> CallAudioParams {
        let mut p =
            CallAudioParams::new(media.codec.name, media.codec.payload_type, media.remote_rtp);
        p.fmtp = media.codec.fmtp.clone();
        p.telephone_event = media.telephone_event.clone();
        p.remote_rtcp = media.remote_rtcp;
        p.rtcp_mux = media.rtcp_mux;
        p.direction = media.direction;
        p.srtp = media.srtp.clone();
        if let Some(ms) = media.ptime {
            p.ptime = Duration::from_millis(u64::from(ms.clamp(10, 60)));
        }
        p
    }
}

/// Something the pipeline reports.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The peer sent a DTMF digit (RFC 4733).
    Dtmf(DtmfEvent),
    /// Our media now goes where the peer's comes from.
    Latched {
        /// The previous destination.
        from: SocketAddr,
        /// The new one.
        to: SocketAddr,
    },
    /// No RTP for the inactivity timeout while receiving.
    Inactive {
        /// How long it has been silent.
        silent_for: Duration,
    },
    /// The peer sent RTCP BYE.
    RemoteBye {
        /// Its reason, if any.
        reason: Option<String>,
    },
    /// The peer's stream restarted with a new SSRC.
    RemoteSsrcChanged {
        /// The new SSRC.
        ssrc: u32,
    },
    /// A reception report about our stream.
    RemoteReport(RemoteReport),
}

/// What [`CallAudio::poll_output`] returns.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutput {
    /// A datagram to send.
    Transmit(Transmit),
    /// Something to tell the application.
    Event(CallEvent),
}

/// Where outgoing audio comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// [`CallAudio::push_microphone`] drives the frames.
    Microphone,
    /// No microphone: a timer sends silence every ptime from this instant on.
    Silence(Instant),
}

/// The audio pipeline of one call (see the module docs).
pub struct CallAudio {
    params: CallAudioParams,
    session: RtpSession,
    codec: Box<dyn AudioCodec>,
    mic_resampler: Resampler,
    speaker_resampler: Resampler,
    /// Microphone audio at the codec rate, waiting for a full frame.
    capture: Vec<i16>,
    frame_samples: usize,
    frame_units: u32,
    media_ts: u32,
    need_marker: bool,
    source: Source,
    muted: bool,
    dtmf_sender: Option<DtmfSender>,
    dtmf_receiver: Option<DtmfReceiver>,
    jitter: JitterBuffer,
    playback: VecDeque<i16>,
    payload: Vec<u8>,
    pcm: Vec<i16>,
    resampled: Vec<i16>,
    outputs: VecDeque<CallOutput>,
    concealed: u64,
    undecodable: u64,
    dtmf_sent: u64,
    dtmf_received: u64,
    srtp: Option<SrtpSession>,
    /// What earlier SRTP sessions of this call (before a re-key) refused.
    srtp_refused: SrtpCounters,
}

impl std::fmt::Debug for CallAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallAudio")
            .field("codec", &self.codec.name())
            .field("session", &self.session)
            .field("srtp", &self.srtp)
            .finish_non_exhaustive()
    }
}

impl CallAudio {
    /// A pipeline at `now`. SSRC, sequence and timestamp starts come from `rng`. It starts
    /// with a microphone; call [`CallAudio::set_microphone`] with `false` for none.
    pub fn new(
        now: Instant,
        params: CallAudioParams,
        rng: &mut dyn Random,
    ) -> Result<CallAudio, MediaError> {
        if params.ptime < Duration::from_millis(10) || params.ptime > Duration::from_millis(120) {
            return Err(MediaError::InvalidParameter(format!(
                "ptime {:?}",
                params.ptime
            )));
        }
        if params.mic_rate == 0 || params.speaker_rate == 0 {
            return Err(MediaError::InvalidParameter("device rate 0".to_string()));
        }
        let codec = create_codec(params.codec, params.fmtp.as_deref())?;
        let srtp = params.srtp.as_ref().map(SrtpSession::new).transpose()?;
        let mut config = RtpSessionConfig::new(codec.clock_rate(), params.remote_rtp);
        config.remote_rtcp = params.remote_rtcp;
        config.rtcp_mux = params.rtcp_mux;
        config.cname = params.cname.clone();
        config.inactivity_timeout = params.inactivity_timeout;
        config.ntp_origin = params.ntp_origin;
        config.jitter_excluded_payload_type =
            params.telephone_event.as_ref().map(|t| t.payload_type);
        let mut session = RtpSession::new(now, config, rng);
        session.set_direction(now, params.direction);
        let mut audio = CallAudio {
            mic_resampler: Resampler::new(params.mic_rate, codec.sample_rate()),
            speaker_resampler: Resampler::new(codec.sample_rate(), params.speaker_rate),
            jitter: JitterBuffer::new(JitterBufferConfig::new(1, params.ptime)),
            dtmf_sender: params
                .telephone_event
                .as_ref()
                .map(|t| DtmfSender::new(t.clock_rate, params.ptime)),
            dtmf_receiver: params
                .telephone_event
                .as_ref()
                .map(|t| DtmfReceiver::new(t.clock_rate)),
            session,
            codec,
            capture: Vec::new(),
            frame_samples: 0,
            frame_units: 0,
            media_ts: 0,
            need_marker: true,
            source: Source::Microphone,
            muted: false,
            playback: VecDeque::new(),
            payload: Vec::new(),
            pcm: Vec::new(),
            resampled: Vec::new(),
            outputs: VecDeque::new(),
            concealed: 0,
            undecodable: 0,
            dtmf_sent: 0,
            dtmf_received: 0,
            srtp,
            srtp_refused: SrtpCounters::default(),
            params,
        };
        audio.configure_codec_timing();
        Ok(audio)
    }

    fn configure_codec_timing(&mut self) {
        let ptime_us = self.params.ptime.as_micros();
        self.frame_samples = (u128::from(self.codec.sample_rate()) * ptime_us / 1_000_000) as usize;
        self.frame_units = (u128::from(self.codec.clock_rate()) * ptime_us / 1_000_000) as u32;
        let mut config = JitterBufferConfig::new(self.codec.clock_rate(), self.params.ptime);
        config.min_delay = self.params.jitter_min_delay;
        config.max_delay = self.params.jitter_max_delay.max(config.min_delay);
        self.jitter = JitterBuffer::new(config);
    }

    /// Switches to another negotiated codec (a re-INVITE): RTP continues on the same SSRC.
    pub fn set_codec(
        &mut self,
        codec: CodecName,
        payload_type: u8,
        fmtp: Option<String>,
    ) -> Result<(), MediaError> {
        self.codec = create_codec(codec, fmtp.as_deref())?;
        self.params.codec = codec;
        self.params.payload_type = payload_type;
        self.params.fmtp = fmtp;
        self.mic_resampler = Resampler::new(self.params.mic_rate, self.codec.sample_rate());
        self.speaker_resampler = Resampler::new(self.codec.sample_rate(), self.params.speaker_rate);
        self.capture.clear();
        self.playback.clear();
        self.configure_codec_timing();
        self.need_marker = true;
        Ok(())
    }

    /// The microphone or speaker changed rate (a device switch): only the resamplers
    /// change; RTP goes on untouched.
    pub fn set_device_rates(&mut self, mic_rate: u32, speaker_rate: u32) {
        if mic_rate > 0 && mic_rate != self.params.mic_rate {
            self.params.mic_rate = mic_rate;
            self.mic_resampler = Resampler::new(mic_rate, self.codec.sample_rate());
        }
        if speaker_rate > 0 && speaker_rate != self.params.speaker_rate {
            self.params.speaker_rate = speaker_rate;
            self.speaker_resampler = Resampler::new(self.codec.sample_rate(), speaker_rate);
            self.playback.clear();
        }
    }

    /// With `false`, there is no microphone: silence frames go out every ptime from `now`
    /// (keeping RTP timing). With `true`, [`CallAudio::push_microphone`] drives sending.
    pub fn set_microphone(&mut self, now: Instant, present: bool) {
        self.source = if present {
            Source::Microphone
        } else {
            Source::Silence(now)
        };
        self.capture.clear();
    }

    /// Mute: send silence in place of the microphone, with the same timing.
    pub fn set_mute(&mut self, muted: bool) {
        self.muted = muted;
    }

    /// True while muted.
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    /// Changes the direction (hold is `SendOnly` or `Inactive` from our side).
    pub fn set_direction(&mut self, now: Instant, direction: Direction) {
        if direction.sends() && !self.params.direction.sends() {
            self.need_marker = true;
        }
        if !direction.receives() {
            self.playback.clear();
        }
        self.params.direction = direction;
        self.session.set_direction(now, direction);
    }

    /// Applies the SRTP keys of a later offer/answer: new keys start new contexts (a
    /// re-key), the same keys keep the running ones (rollover counters, replay lists),
    /// `None` goes back to plain RTP.
    pub fn set_srtp(&mut self, keys: Option<&SrtpKeys>) -> Result<(), MediaError> {
        if self.srtp.as_ref().map(SrtpSession::keys) == keys {
            return Ok(());
        }
        let next = keys.map(SrtpSession::new).transpose()?;
        if let Some(old) = std::mem::replace(&mut self.srtp, next) {
            let c = old.counters();
            self.srtp_refused.auth_failures += c.auth_failures;
            self.srtp_refused.replays += c.replays;
        }
        self.params.srtp = keys.cloned();
        Ok(())
    }

    /// Points RTP/RTCP at a new remote address (a re-INVITE moved the media).
    pub fn set_remote(&mut self, remote_rtp: SocketAddr, remote_rtcp: SocketAddr, rtcp_mux: bool) {
        self.session.set_remote(remote_rtp, remote_rtcp, rtcp_mux);
    }

    /// Switches the RTP inactivity check on or off (listen-only calls).
    pub fn set_inactivity_timeout(&mut self, now: Instant, timeout: Option<Duration>) {
        self.session.set_inactivity_timeout(now, timeout);
    }

    /// Queues a DTMF digit (`0-9 * # A-D`). Fails without negotiated telephone-event or
    /// for another character.
    pub fn send_dtmf(&mut self, digit: char, duration: Duration) -> Result<(), MediaError> {
        let sender = self.dtmf_sender.as_mut().ok_or_else(|| {
            MediaError::InvalidParameter("telephone-event was not negotiated".to_string())
        })?;
        sender.send(digit, duration)?;
        self.dtmf_sent += 1;
        Ok(())
    }

    /// Microphone PCM (mono, `mic_rate`) captured up to `now`: whole frames are encoded
    /// and sent. Ignored while there is no microphone.
    pub fn push_microphone(&mut self, now: Instant, pcm: &[i16]) {
        if self.source != Source::Microphone {
            return;
        }
        self.resampled.clear();
        self.mic_resampler.process(pcm, &mut self.resampled);
        self.capture.extend_from_slice(&self.resampled);
        let mut at = 0;
        while self.capture.len() - at >= self.frame_samples {
            let frame: Vec<i16> = self.capture[at..at + self.frame_samples].to_vec();
            self.send_frame(now, Some(&frame));
            at += self.frame_samples;
        }
        self.capture.drain(..at);
        self.pump(now);
    }

    /// Sends one frame of audio (`None`: silence), or the DTMF packet that replaces it.
    fn send_frame(&mut self, now: Instant, pcm: Option<&[i16]>) {
        let units = self.frame_units;
        let sends = self.params.direction.sends();
        if let (Some(sender), Some(te)) = (
            self.dtmf_sender.as_mut(),
            self.params.telephone_event.as_ref(),
        ) {
            let te_ts = scale(self.media_ts, self.codec.clock_rate(), te.clock_rate);
            if let Some(packet) = sender.next_packet(te_ts) {
                if sends {
                    let ts = scale(packet.timestamp, te.clock_rate, self.codec.clock_rate());
                    self.session.send_rtp(
                        now,
                        te.payload_type,
                        ts,
                        packet.marker,
                        &packet.payload.to_bytes(),
                    );
                }
                self.media_ts = self.media_ts.wrapping_add(units);
                self.need_marker = true;
                return;
            }
        }
        if !sends {
            self.media_ts = self.media_ts.wrapping_add(units);
            self.need_marker = true;
            return;
        }
        self.pcm.clear();
        match pcm {
            Some(frame) if !self.muted => self.pcm.extend_from_slice(frame),
            _ => self.pcm.resize(self.frame_samples, 0),
        }
        self.payload.clear();
        if self.codec.encode(&self.pcm, &mut self.payload).is_ok() {
            // Opus DTX: a frame of one or two bytes is not to be transmitted.
            let dtx_skip = self.codec.name() == CodecName::Opus && self.payload.len() <= 2;
            if dtx_skip {
                self.need_marker = true;
            } else {
                self.session.send_rtp(
                    now,
                    self.params.payload_type,
                    self.media_ts,
                    self.need_marker,
                    &self.payload,
                );
                self.need_marker = false;
            }
        }
        self.media_ts = self.media_ts.wrapping_add(units);
    }

    /// A datagram on the RTP port (with rtcp-mux, RTCP too). With SRTP, a datagram that
    /// fails authentication or is a replay is dropped here and counted (it does not
    /// latch, reset the inactivity timer or reach the jitter buffer).
    pub fn handle_rtp(&mut self, now: Instant, source: SocketAddr, bytes: &[u8]) {
        match self.srtp.as_mut() {
            None => self.session.handle_rtp(now, source, bytes),
            Some(srtp) => {
                let plain = match classify(bytes) {
                    PacketKind::Rtcp => srtp.unprotect_rtcp(bytes),
                    _ => srtp.unprotect_rtp(bytes),
                };
                if let Ok(plain) = plain {
                    self.session.handle_rtp(now, source, &plain);
                }
            }
        }
        self.pump(now);
    }

    /// A datagram on the RTCP port (SRTCP with SRTP: unprotected first, dropped and
    /// counted when it fails).
    pub fn handle_rtcp(&mut self, now: Instant, source: SocketAddr, bytes: &[u8]) {
        match self.srtp.as_mut() {
            None => self.session.handle_rtcp(now, source, bytes),
            Some(srtp) => {
                if let Ok(plain) = srtp.unprotect_rtcp(bytes) {
                    self.session.handle_rtcp(now, source, &plain);
                }
            }
        }
        self.pump(now);
    }

    /// Moves the session's outputs into ours, routing received packets.
    fn pump(&mut self, now: Instant) {
        while let Some(out) = self.session.poll_output() {
            match out {
                Output::Transmit(mut t) => {
                    if let Some(srtp) = self.srtp.as_mut() {
                        let protected = match t.channel {
                            Channel::Rtp => srtp.protect_rtp(&t.bytes),
                            Channel::Rtcp => srtp.protect_rtcp(&t.bytes),
                        };
                        // Only an exhausted key (2^48 packets) fails here: nothing
                        // leaves unprotected.
                        let Ok(bytes) = protected else { continue };
                        t.bytes = bytes;
                    }
                    self.outputs.push_back(CallOutput::Transmit(t));
                }
                Output::Event(RtpEvent::Rtp(r)) => self.receive(now, r.packet),
                Output::Event(e) => {
                    let event = match e {
                        RtpEvent::Rtp(_) => continue,
                        RtpEvent::Latched { from, to } => CallEvent::Latched { from, to },
                        RtpEvent::Inactive { silent_for } => CallEvent::Inactive { silent_for },
                        RtpEvent::RemoteBye { reason } => CallEvent::RemoteBye { reason },
                        RtpEvent::RemoteSsrcChanged { ssrc } => {
                            self.jitter.reset();
                            CallEvent::RemoteSsrcChanged { ssrc }
                        }
                        RtpEvent::RemoteReport(r) => CallEvent::RemoteReport(r),
                    };
                    self.outputs.push_back(CallOutput::Event(event));
                }
            }
        }
    }

    fn receive(&mut self, now: Instant, packet: RtpPacket) {
        let te_pt = self.params.telephone_event.as_ref().map(|t| t.payload_type);
        if Some(packet.payload_type) == te_pt {
            if let Some(event) = self
                .dtmf_receiver
                .as_mut()
                .and_then(|r| r.handle(now, &packet))
            {
                self.dtmf_received += 1;
                self.outputs
                    .push_back(CallOutput::Event(CallEvent::Dtmf(event)));
            }
        } else if packet.payload_type == self.params.payload_type {
            self.jitter.push(now, packet);
        } else if packet.payload_type != PT_COMFORT_NOISE {
            self.undecodable += 1;
        }
    }

    /// Fills `out` with speaker PCM (mono, `speaker_rate`) for playing from `now`:
    /// decoded audio, concealment, or silence.
    pub fn pull_speaker(&mut self, now: Instant, out: &mut [i16]) {
        if !self.params.direction.receives() {
            out.fill(0);
            return;
        }
        let speaker_rate = u64::from(self.params.speaker_rate);
        // A bounded number of frames per call, whatever the decoders return.
        for _ in 0..64 {
            if self.playback.len() >= out.len() {
                break;
            }
            let ahead =
                Duration::from_micros(self.playback.len() as u64 * 1_000_000 / speaker_rate);
            self.pcm.clear();
            match self.jitter.pop(now + ahead) {
                Playout::Frame(packet) => {
                    if self.codec.decode(&packet.payload, &mut self.pcm).is_err() {
                        self.undecodable += 1;
                        self.concealed += 1;
                        self.codec.conceal(self.frame_samples, &mut self.pcm);
                    }
                }
                Playout::Conceal { units, next } => {
                    let samples = (u64::from(units) * u64::from(self.codec.sample_rate())
                        / u64::from(self.codec.clock_rate().max(1)))
                        as usize;
                    self.concealed += 1;
                    let recovered = next
                        .as_ref()
                        .is_some_and(|n| self.codec.decode_fec(&n.payload, samples, &mut self.pcm));
                    if !recovered {
                        self.codec.conceal(samples, &mut self.pcm);
                    }
                }
                Playout::Nothing => self.pcm.resize(self.frame_samples, 0),
            }
            self.resampled.clear();
            self.speaker_resampler
                .process(&self.pcm, &mut self.resampled);
            self.playback.extend(self.resampled.iter().copied());
        }
        let n = out.len().min(self.playback.len());
        for (slot, sample) in out.iter_mut().zip(self.playback.drain(..n)) {
            *slot = sample;
        }
        out[n..].fill(0);
    }

    /// Advances timers: RTCP, inactivity, silence frames without a microphone, DTMF
    /// receive timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
        if let Source::Silence(mut next) = self.source {
            while next <= now {
                self.send_frame(next, None);
                next += self.params.ptime;
            }
            self.source = Source::Silence(next);
        }
        if let Some(event) = self
            .dtmf_receiver
            .as_mut()
            .and_then(|r| r.handle_timeout(now))
        {
            self.dtmf_received += 1;
            self.outputs
                .push_back(CallOutput::Event(CallEvent::Dtmf(event)));
        }
        self.pump(now);
    }

    /// When [`CallAudio::handle_timeout`] should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let silence = match self.source {
            Source::Silence(next) if !self.session.is_closed() => Some(next),
            _ => None,
        };
        [
            self.session.poll_timeout(),
            silence,
            self.dtmf_receiver
                .as_ref()
                .and_then(DtmfReceiver::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next output; drain after every call.
    pub fn poll_output(&mut self) -> Option<CallOutput> {
        self.outputs.pop_front()
    }

    /// Ends the stream: RTCP BYE (RFC 3550 §6.6) and no more output.
    pub fn close(&mut self, now: Instant, reason: Option<&str>) {
        self.session.bye(now, reason);
        self.pump(now);
    }

    /// The RTP session (SSRC, destinations, raw counters).
    pub fn session(&self) -> &RtpSession {
        &self.session
    }

    /// Live statistics with an E-model estimate.
    pub fn stats(&self) -> MediaStats {
        let s = self.session.stats();
        let jb = self.jitter.stats();
        let late = jb.late;
        let expected = s.packets_expected.max(1) as f64;
        let loss = ((s.packets_lost.max(0) as f64) + late as f64) / expected;
        let delay = s.rtt.map(|r| r / 2).unwrap_or_default()
            + jb.target_delay
            + self.params.ptime
            + Duration::from_millis(5);
        let quality = e_model(self.params.codec, delay, loss.min(1.0));
        let srtp = self
            .srtp
            .as_ref()
            .map(SrtpSession::counters)
            .unwrap_or_default();
        MediaStats {
            codec: self.params.codec.as_str().to_string(),
            packets_sent: s.packets_sent,
            bytes_sent: s.bytes_sent,
            packets_received: s.packets_received,
            bytes_received: s.bytes_received,
            packets_lost: s.packets_lost,
            packets_late: late,
            jitter_ms: s.jitter.as_secs_f64() * 1000.0,
            rtt_ms: s.rtt.map(|r| r.as_secs_f64() * 1000.0),
            jitter_buffer_ms: jb.target_delay.as_secs_f64() * 1000.0,
            concealed_frames: self.concealed,
            remote_packets_lost: s.remote.map(|r| i64::from(r.cumulative_lost)),
            remote_jitter_ms: s.remote.map(|r| r.jitter.as_secs_f64() * 1000.0),
            dtmf_sent: self.dtmf_sent,
            dtmf_received: self.dtmf_received,
            malformed_rtp: s.malformed_rtp,
            malformed_rtcp: s.malformed_rtcp,
            stray_packets: s.stray_packets,
            undecodable_packets: self.undecodable,
            srtp: self.srtp.is_some(),
            srtp_auth_failures: self.srtp_refused.auth_failures + srtp.auth_failures,
            srtp_replays: self.srtp_refused.replays + srtp.replays,
            r_factor: quality.r_factor,
            mos: quality.mos,
        }
    }
}

/// Converts a timestamp between clock rates (telephone-event at 8000 next to Opus).
fn scale(ts: u32, from: u32, to: u32) -> u32 {
    if from == to || from == 0 {
        ts
    } else {
        (u64::from(ts) * u64::from(to) / u64::from(from)) as u32
    }
}
