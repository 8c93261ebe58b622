//! What one call's audio runs on: where the sent audio comes from, where the received
//! audio goes, and the per-call settings (inactivity timeout, device rate, statistics
//! interval, DTMF length, RTP port range).

use std::path::PathBuf;
use std::time::Duration;

use crate::profile::DeviceChoice;

/// Where the audio we send comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceChoice {
    /// A microphone by id or name (`pulseaudio:mic_a`, `Mic_A`); `None`: the default one.
    Device(Option<String>),
    /// A WAV file, looped (the CLI's `--play`).
    Wav(PathBuf),
    /// A sine tone at this frequency in Hz (tests, "is the line alive").
    Tone(f64),
    /// No microphone: silence frames keep the RTP timing.
    Silence,
}

/// Where the audio we receive goes.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkChoice {
    /// A speaker by id or name (`pulseaudio:spk_a`, `Speaker_A`); `None`: the default one.
    Device(Option<String>),
    /// A WAV file, mono 16-bit at [`AudioConfig::device_rate`] (the CLI's `--record`).
    Wav(PathBuf),
    /// Nowhere (receive-only tests, calls that only send).
    Null,
}

/// The audio settings of one call (from the profile, the CLI or a test).
#[derive(Debug, Clone, PartialEq)]
pub struct AudioConfig {
    /// What we send.
    pub source: SourceChoice,
    /// Where what we receive goes.
    pub sink: SinkChoice,
    /// The ringtone device id (kept for the ringer; the call audio does not use it).
    pub ringer: Option<String>,
    /// RTP inactivity timeout (RFC 3550 has none; 30 s is the usual softphone value):
    /// `None` switches it off for listen-only calls (voice menus). Never runs while the
    /// stream is not receiving (hold).
    pub inactivity_timeout: Option<Duration>,
    /// The sample rate between the devices and the pipeline (mono `i16`). The pipeline
    /// resamples to and from the codec's rate.
    pub device_rate: u32,
    /// How often an [`AudioEvent::Stats`](super::AudioEvent::Stats) is emitted once the
    /// media runs; `None`: never (ask with `stats()`).
    pub stats_interval: Option<Duration>,
    /// How long each DTMF digit sent with `send_dtmf` lasts (RFC 4733 §2.5.1.3).
    pub dtmf_duration: Duration,
    /// Our RTCP CNAME (RFC 3550 §6.5.1); `None`: a random one per call (RFC 7022).
    pub cname: Option<String>,
    /// Local RTP ports to pick from (inclusive; RTP on an even port, RTCP on the next,
    /// RFC 3550 §11); `None`: any free port the system hands out.
    pub rtp_ports: Option<(u16, u16)>,
}

impl Default for AudioConfig {
    /// Default microphone and speaker, 30 s inactivity timeout, 48 kHz, statistics every
    /// second, 100 ms DTMF digits, random CNAME, any port.
    fn default() -> Self {
        AudioConfig {
            source: SourceChoice::Device(None),
            sink: SinkChoice::Device(None),
            ringer: None,
            inactivity_timeout: Some(Duration::from_secs(30)),
            device_rate: 48_000,
            stats_interval: Some(Duration::from_secs(1)),
            dtmf_duration: Duration::from_millis(100),
            cname: None,
            rtp_ports: None,
        }
    }
}

impl AudioConfig {
    /// The defaults with a profile's microphone, speaker and ringer.
    pub fn from_devices(devices: &DeviceChoice) -> Self {
        AudioConfig {
            source: SourceChoice::Device(devices.microphone.clone()),
            sink: SinkChoice::Device(devices.speaker.clone()),
            ringer: devices.ringer.clone(),
            ..AudioConfig::default()
        }
    }

    /// A call that plays `play` (looped) and records what it receives to `record`.
    pub fn files(play: impl Into<PathBuf>, record: impl Into<PathBuf>) -> Self {
        AudioConfig {
            source: SourceChoice::Wav(play.into()),
            sink: SinkChoice::Wav(record.into()),
            ..AudioConfig::default()
        }
    }
}
