//! Two `CallAudio` pipelines joined by simulated links, with tone "microphones" and
//! recording "speakers", on virtual time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_media::{CallAudio, CallAudioParams, CallEvent, CallOutput, Xorshift};
use dialtone_sdp::{CodecName, TelephoneEvent};

use super::session_pair::addr;
use super::sim_link::{LinkProfile, SimLink};
use super::tone::sine;

/// One side: its pipeline, its tone and what its speaker played.
pub struct Side {
    pub audio: CallAudio,
    pub addr: SocketAddr,
    /// The tone its microphone hears (Hz); `None`: no microphone pushes.
    pub tone: Option<f64>,
    pub mic_pos: usize,
    pub recorded: Vec<i16>,
    pub events: Vec<CallEvent>,
    pub sent: u64,
}

pub struct CallPair {
    pub now: Instant,
    pub a: Side,
    pub b: Side,
    pub ab: SimLink,
    pub ba: SimLink,
    pub rate: u32,
}

/// Payload type and telephone-event clock for a codec, as an SDP exchange would give.
pub fn payload_type(codec: CodecName) -> (u8, u32) {
    match codec {
        CodecName::Ulaw => (0, 8000),
        CodecName::Alaw => (8, 8000),
        CodecName::G722 => (9, 8000),
        CodecName::G729 => (18, 8000),
        CodecName::Opus => (111, 48_000),
        CodecName::Speex16 => (97, 16_000),
        _ => (98, 8000),
    }
}

impl CallPair {
    pub fn new(codec: CodecName, seed: u64, link: LinkProfile, device_rate: u32) -> CallPair {
        let now = Instant::now();
        let a_addr = addr("127.0.0.1:40000");
        let b_addr = addr("127.0.0.1:50000");
        let mut rng = Xorshift::new(seed);
        let (pt, te_rate) = payload_type(codec);
        let mut side = |me: SocketAddr, peer: SocketAddr, tone: f64| {
            let mut p = CallAudioParams::new(codec, pt, peer);
            p.rtcp_mux = true;
            p.remote_rtcp = peer;
            p.mic_rate = device_rate;
            p.speaker_rate = device_rate;
            p.fmtp = (codec == CodecName::Opus).then(|| "useinbandfec=1".to_string());
            p.telephone_event = Some(TelephoneEvent {
                payload_type: 101,
                clock_rate: te_rate,
                events: Some("0-16".to_string()),
            });
            Side {
                audio: CallAudio::new(now, p, &mut rng).expect("pipeline"),
                addr: me,
                tone: Some(tone),
                mic_pos: 0,
                recorded: Vec::new(),
                events: Vec::new(),
                sent: 0,
            }
        };
        let a = side(a_addr, b_addr, 1000.0);
        let b = side(b_addr, a_addr, 700.0);
        CallPair {
            now,
            a,
            b,
            ab: SimLink::new(seed ^ 1, link),
            ba: SimLink::new(seed ^ 2, link),
            rate: device_rate,
        }
    }

    /// Runs for `dt`: every 10 ms each side's microphone pushes 10 ms of its tone and its
    /// speaker pulls 10 ms; datagrams and timeouts in between (1 ms resolution).
    pub fn run(&mut self, dt: Duration) {
        let end = self.now + dt;
        let chunk = self.rate as usize / 100;
        let mut tick = 0u64;
        while self.now < end {
            self.now += Duration::from_millis(1);
            tick += 1;
            let now = self.now;
            for d in self.ab.deliver(now) {
                self.b.audio.handle_rtp(now, d.from, &d.bytes);
            }
            for d in self.ba.deliver(now) {
                self.a.audio.handle_rtp(now, d.from, &d.bytes);
            }
            for side in [&mut self.a, &mut self.b] {
                if side.audio.poll_timeout().is_some_and(|t| t <= now) {
                    side.audio.handle_timeout(now);
                }
                if tick.is_multiple_of(10) {
                    if let Some(f) = side.tone {
                        let pcm = sine(f, self.rate, 8000.0, side.mic_pos, chunk);
                        side.mic_pos += chunk;
                        side.audio.push_microphone(now, &pcm);
                    }
                    let mut out = vec![0i16; chunk];
                    side.audio.pull_speaker(now, &mut out);
                    side.recorded.extend_from_slice(&out);
                }
            }
            Self::drain(&mut self.a, &mut self.ab, now);
            Self::drain(&mut self.b, &mut self.ba, now);
        }
    }

    fn drain(side: &mut Side, link: &mut SimLink, now: Instant) {
        while let Some(out) = side.audio.poll_output() {
            match out {
                CallOutput::Transmit(t) => {
                    side.sent += 1;
                    link.send(now, side.addr, t.dest, t.bytes);
                }
                CallOutput::Event(e) => side.events.push(e),
            }
        }
    }
}
