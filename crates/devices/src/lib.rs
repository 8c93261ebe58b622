//! Audio endpoints for Dialtone: microphones and speakers through cpal (PulseAudio's native
//! protocol when a server runs, ALSA otherwise), switchable during a call, plus WAV files,
//! tones and silence for the CLI, tests and calls without a microphone.
//!
//! Everything speaks mono `i16` PCM at a rate the consumer picks when opening:
//!
//! * [`AudioSource`] — [`read`](AudioSource::read) what is ready (devices: filled by the
//!   audio callback through a lock-free `rtrb` ring; files and generators: made on demand).
//! * [`AudioSink`] — [`write`](AudioSink::write) what to play (devices: queued in a ring the
//!   audio callback drains; files: written at once).
//! * [`enumerate`], [`find_device`], [`open_input`], [`open_output`] — devices by stable id
//!   (`pulseaudio:mic_a`) or name (`Mic_A`).
//! * [`SwitchableSource`] / [`SwitchableSink`] with their [`SourceSwitch`] / [`SinkSwitch`]
//!   handles — change the mic or speaker during a call while the RTP side keeps its pace;
//!   lost devices fall back to the default with a [`DeviceEvent`].
//! * [`WavSource`] (`--play`, looped), [`WavSink`] (`--record`), [`ToneSource`],
//!   [`SilenceSource`] (no microphone), [`NullSink`] — pull-based, no sound server needed.
//! * [`analysis`] — dominant frequency (Goertzel) and RMS, to check audio as audio in tests.
//! * `PulseServer` (feature `test-server`) — a private PulseAudio with virtual devices;
//!   `testing` — sessions, a player and a recorder for tests on it.
//!
//! See `docs/devices.md` for threads, rates, start-up latencies and the tests.
//!
//! Audio callbacks never lock, allocate or log: they convert samples and move them through
//! the rings, and report through atomics.

#![deny(missing_docs)]

pub mod analysis;
mod catalog;
mod device_sink;
mod device_source;
mod device_stream;
mod error;
mod event;
mod null_sink;
pub mod resampler;
mod silence_source;
mod sink;
mod source;
mod switchable_sink;
mod switchable_source;
mod switcher;
mod tone_source;
mod wav_sink;
mod wav_source;

pub use catalog::{enumerate, find_device, DeviceInfo, DeviceKind};
pub use device_sink::{open_output, DeviceSink};
pub use device_source::{open_input, DeviceSource};
pub(crate) use error::check_rate;
pub use error::DeviceError;
pub use event::DeviceEvent;
pub use null_sink::NullSink;
pub use silence_source::SilenceSource;
pub use sink::AudioSink;
pub use source::AudioSource;
pub use switchable_sink::{SinkSwitch, SwitchableSink};
pub use switchable_source::{SourceSwitch, SwitchableSource};
pub use tone_source::ToneSource;
pub use wav_sink::WavSink;
pub use wav_source::WavSource;
#[cfg(feature = "test-server")]
mod pulse_server;
#[cfg(feature = "test-server")]
pub use pulse_server::PulseServer;
#[cfg(feature = "test-server")]
pub mod testing;
