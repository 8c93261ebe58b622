//! The runtime of a call's audio: per call, a tokio task owning the RTP/RTCP sockets
//! and a sans-IO [`dialtone_media::CallAudio`] pipeline (RFC 3550 RTP/RTCP, RFC 4733
//! DTMF, jitter buffer, codecs), plus an audio thread that moves PCM between the
//! devices of `dialtone-devices` and the pipeline on a 20 ms frame clock.
//!
//! ```text
//!  driver ──commands──▶ CallAudioTask ─▶ RTP task (tokio) ◀──datagrams──▶ RTP/RTCP sockets
//!    ▲                                     │  handle_rtp / handle_timeout / Transmit
//!    └──────────── AudioEvents ◀───────────┤
//!                                          ▼  Mutex<CallAudio> (microseconds per lock)
//!           SwitchableSource ──read_frame── audio thread ──write── SwitchableSink
//!           (mic, WAV, tone, silence)       (20 ms clock)          (speaker, WAV, null)
//! ```
//!
//! The driver calls [`CallAudioTask::open`] before writing its SDP (the RTP port goes
//! into the offer or answer), [`CallAudioTask::start`] once an offer/answer exchange
//! completes (RFC 3264 §6/§7) with `negotiated.audio()`, [`CallAudioTask::update`] after
//! each later exchange (hold and resume are re-offers, RFC 3264 §8.4), and
//! [`CallAudioTask::close`] on BYE (RTCP BYE, RFC 3550 §6.6).
//!
//! ```no_run
//! # async fn demo(answer: dialtone_sdp::Negotiated) -> Result<(), dialtone_core::audio::AudioError> {
//! use dialtone_core::audio::{AudioConfig, AudioEvent, CallAudioTask};
//! let (audio, mut events) =
//!     CallAudioTask::open("127.0.0.1".parse().unwrap(), AudioConfig::files("play.wav", "rec.wav")).await?;
//! // ... SessionParams::new(ip, audio.local_port()), offer, answer ...
//! if let Some(media) = answer.audio() {
//!     audio.start(media).await?;
//! }
//! while let Some(event) = events.recv().await {
//!     if let AudioEvent::Inactive { .. } = event {
//!         break; // hang up
//!     }
//! }
//! let final_stats = audio.close().await?;
//! # Ok(()) }
//! ```

mod config;
mod endpoints;
mod error;
mod event;
mod ports;
mod pump;
mod runner;
mod task;

pub use config::{AudioConfig, SinkChoice, SourceChoice};
pub use error::AudioError;
pub use event::{AudioEvent, DeviceRole};
pub use task::{AudioEvents, CallAudioTask};
