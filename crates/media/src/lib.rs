//! Sans-IO audio media for Dialtone: the protocol logic and DSP of a call's audio path,
//! with no sockets, no clock reads and no global randomness. Time and bytes are passed
//! in; datagrams to send and events come out of `poll_output`; randomness (SSRC,
//! initial sequence number and timestamp) comes from a caller-seeded [`Random`].
//!
//! * Wire formats: [`RtpPacket`] (RFC 3550 §5.1), RTCP compounds [`parse_compound`] /
//!   [`write_compound`] (§6.4–6.6, A.2), [`classify`] for rtcp-mux (RFC 5761 §4).
//!   Malformed input is an error value, never a panic.
//! * [`RtpSession`]: one RTP/RTCP session (RFC 3550): SR/RR with loss, jitter and RTT,
//!   BYE, the RTCP interval, symmetric RTP with latching, RTP inactivity timeout.
//! * [`JitterBuffer`]: adaptive playout buffer pulled by the playout clock.
//! * [`AudioCodec`] and [`create_codec`]: PCMU, PCMA, G.722, Opus, Speex (feature
//!   `speex`, default), G.729 (feature `g729`, off); [`Resampler`] between device and
//!   codec rates.
//! * [`DtmfSender`] / [`DtmfReceiver`]: RFC 4733 telephone-events.
//! * [`e_model`]: ITU-T G.107 (simplified) MOS; [`MediaStats`] per call.
//! * [`SrtpSession`]: SRTP/SRTCP (RFC 3711, `AES_CM_128_HMAC_SHA1_80`) with SDES keys;
//!   packets failing authentication or replayed are dropped and counted.
//! * [`CallAudio`]: all of it tied together for one call: microphone PCM in, RTP out; RTP
//!   in, speaker PCM out.
//!
//! # Driving a call's audio
//!
//! ```
//! use std::time::{Duration, Instant};
//! use dialtone_media::{CallAudio, CallAudioParams, CallOutput, Xorshift};
//! use dialtone_sdp::CodecName;
//!
//! let start = Instant::now(); // the runtime's clock; the crate never reads one
//! let (alice, bob) = ("127.0.0.1:40000".parse()?, "127.0.0.1:50000".parse()?);
//! let mut rng = Xorshift::new(7); // seed from OS entropy in the runtime
//! let mut a = CallAudio::new(start, CallAudioParams::new(CodecName::Ulaw, 0, bob), &mut rng)?;
//! let mut b = CallAudio::new(start, CallAudioParams::new(CodecName::Ulaw, 0, alice), &mut rng)?;
//!
//! let mut now = start;
//! let mic = vec![1000i16; 960]; // 20 ms at 48 kHz
//! let mut speaker = vec![0i16; 960];
//! for _ in 0..50 {
//!     now += Duration::from_millis(20);
//!     a.push_microphone(now, &mic);
//!     // Drain the outputs: the runtime sends each datagram from the RTP socket.
//!     while let Some(out) = a.poll_output() {
//!         if let CallOutput::Transmit(t) = out {
//!             assert_eq!(t.dest, bob);
//!             b.handle_rtp(now, alice, &t.bytes); // as if it crossed the network
//!         }
//!     }
//!     b.pull_speaker(now, &mut speaker); // jitter buffer, decode, resample
//!     for side in [&mut a, &mut b] {
//!         if side.poll_timeout().is_some_and(|t| t <= now) {
//!             side.handle_timeout(now); // RTCP, inactivity, silence frames
//!         }
//!     }
//!     while b.poll_output().is_some() {}
//! }
//! assert_eq!(b.stats().packets_received, 50); // the first one, on RFC 3550 probation, too
//! assert!(speaker.iter().any(|&s| s != 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod call_audio;
mod codec;
mod demux;
mod dtmf;
mod error;
mod jitter_buffer;
mod media_stats;
mod quality;
mod random;
mod reception;
mod resampler;
mod rtcp_interval;
mod rtcp_packet;
mod rtp_packet;
mod rtp_session;
mod srtp;

pub use call_audio::{CallAudio, CallAudioParams, CallEvent, CallOutput};
#[cfg(feature = "speex")]
pub use codec::Speex;
#[cfg(feature = "g729")]
pub use codec::G729;
pub use codec::{
    alaw_decode, alaw_encode, available_codecs, create_codec, ulaw_decode, ulaw_encode, AudioCodec,
    FadeConcealer, Opus, OpusSettings, G711, G722,
};
pub use demux::{classify, PacketKind};
pub use dtmf::{
    dtmf_char, dtmf_event_code, DtmfEvent, DtmfPacket, DtmfReceiver, DtmfSender,
    TelephoneEventPayload,
};
pub use error::{CodecError, MediaError, PacketError};
pub use jitter_buffer::{JitterBuffer, JitterBufferConfig, JitterStats, Playout};
pub use media_stats::MediaStats;
pub use quality::{codec_impairment, e_model, mos_from_r, CodecImpairment, Quality};
pub use random::{Random, Xorshift};
pub use resampler::Resampler;
pub use rtcp_interval::{deterministic_interval, randomized_interval, IntervalInputs};
pub use rtcp_packet::{
    parse_compound, write_compound, Bye, NtpTime, ReceiverReport, ReportBlock, RtcpPacket,
    SdesChunk, SenderReport, PT_BYE, PT_RR, PT_SDES, PT_SR, SDES_CNAME,
};
pub use rtp_packet::{RtpExtension, RtpPacket, RTP_HEADER_LEN};
pub use rtp_session::{
    Channel, Output, ReceivedRtp, RemoteReport, RtpEvent, RtpSession, RtpSessionConfig,
    SessionStats, Transmit,
};
pub use srtp::{SrtpCounters, SrtpError, SrtpSession};
