//! What a call's audio reports to the driver (and, as JSON, to the CLI and the UI).

use std::net::SocketAddr;

use dialtone_devices::{DeviceEvent, DeviceKind};
use dialtone_media::{CallEvent, MediaStats};
use serde::Serialize;

/// Which end of the audio path a device event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRole {
    /// The capture side (what we send).
    Microphone,
    /// The playback side (what we receive).
    Speaker,
}

impl From<DeviceKind> for DeviceRole {
    fn from(kind: DeviceKind) -> Self {
        match kind {
            DeviceKind::Input => DeviceRole::Microphone,
            DeviceKind::Output => DeviceRole::Speaker,
        }
    }
}

/// Something the call's audio reports. Serialized as `{"event": "dtmf", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AudioEvent {
    /// Media runs (after `start`) or changed (after `update`).
    MediaStarted {
        /// The codec's configuration name (`opus`, `alaw`, ...).
        codec: String,
        /// Its payload type.
        payload_type: u8,
        /// Where our RTP goes.
        remote_rtp: SocketAddr,
        /// The direction from our side, hold included (`sendrecv`, `sendonly`, ...).
        direction: String,
        /// True when an update had to rebuild the pipeline (new SSRC): the
        /// telephone-event payload or the packetization time changed.
        restarted: bool,
    },
    /// The peer sent a DTMF digit (RFC 4733 §2.5.2), reported once, when it ends.
    Dtmf {
        /// `0-9`, `*`, `#`, `A-D` (`!` for flash).
        digit: char,
        /// How long the peer held it, in milliseconds.
        duration_ms: u64,
    },
    /// Our media now goes where the peer's really comes from (symmetric RTP latching).
    Latched {
        /// The previous destination.
        from: SocketAddr,
        /// The new one.
        to: SocketAddr,
    },
    /// No RTP arrived for the inactivity timeout while receiving (never during hold).
    /// The driver usually hangs up.
    Inactive {
        /// How long the peer has been silent, in milliseconds.
        silent_for_ms: u64,
    },
    /// The peer ended its stream with RTCP BYE (RFC 3550 §6.6).
    RemoteBye {
        /// The peer's reason, if any.
        reason: Option<String>,
    },
    /// The peer's stream restarted with a new SSRC (RFC 3550 §8.2).
    RemoteSsrcChanged {
        /// The new SSRC.
        ssrc: u32,
    },
    /// The microphone or speaker changed after a switch the application asked for.
    DeviceSwitched {
        /// Microphone or speaker.
        role: DeviceRole,
        /// The previous endpoint's label (device id, `tone:700Hz`, file path).
        from: String,
        /// The new endpoint's label.
        to: String,
    },
    /// The device in use failed or vanished; the default device took over and audio
    /// continues.
    DeviceFallback {
        /// Microphone or speaker.
        role: DeviceRole,
        /// The device that was lost.
        lost: String,
        /// The default device now in use.
        to: String,
        /// Why the device was given up.
        reason: String,
    },
    /// The device in use was lost and the default could not be opened either (retried
    /// every second; RTP timing continues with silence).
    DeviceFallbackFailed {
        /// Microphone or speaker.
        role: DeviceRole,
        /// The device that was lost.
        lost: String,
        /// Why the default could not be opened.
        reason: String,
    },
    /// Periodic statistics (every [`AudioConfig::stats_interval`](super::AudioConfig)).
    Stats(MediaStats),
    /// A socket failed; the media keeps running if it can.
    Error {
        /// What went wrong.
        message: String,
    },
}

impl AudioEvent {
    /// The event for a pipeline event, if the driver needs to hear about it (reception
    /// reports only feed the statistics).
    pub(crate) fn from_call(event: CallEvent) -> Option<AudioEvent> {
        Some(match event {
            CallEvent::Dtmf(d) => AudioEvent::Dtmf {
                digit: d.digit,
                duration_ms: millis(d.duration),
            },
            CallEvent::Latched { from, to } => AudioEvent::Latched { from, to },
            CallEvent::Inactive { silent_for } => AudioEvent::Inactive {
                silent_for_ms: millis(silent_for),
            },
            CallEvent::RemoteBye { reason } => AudioEvent::RemoteBye { reason },
            CallEvent::RemoteSsrcChanged { ssrc } => AudioEvent::RemoteSsrcChanged { ssrc },
            CallEvent::RemoteReport(_) => return None,
        })
    }
}

impl From<DeviceEvent> for AudioEvent {
    fn from(event: DeviceEvent) -> Self {
        match event {
            DeviceEvent::Switched { kind, from, to } => AudioEvent::DeviceSwitched {
                role: kind.into(),
                from,
                to,
            },
            DeviceEvent::Fallback {
                kind,
                lost,
                to,
                reason,
            } => AudioEvent::DeviceFallback {
                role: kind.into(),
                lost,
                to,
                reason,
            },
            DeviceEvent::FallbackFailed { kind, lost, reason } => {
                AudioEvent::DeviceFallbackFailed {
                    role: kind.into(),
                    lost,
                    reason,
                }
            }
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_media::DtmfEvent;
    use std::time::Duration;

    #[test]
    fn events_serialize_as_tagged_json_lines() {
        let dtmf = AudioEvent::from_call(CallEvent::Dtmf(DtmfEvent {
            digit: '#',
            duration: Duration::from_millis(160),
            volume: 10,
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_string(&dtmf).unwrap(),
            r##"{"event":"dtmf","digit":"#","duration_ms":160}"##
        );
        let fallback: AudioEvent = DeviceEvent::Fallback {
            kind: DeviceKind::Input,
            lost: "pulseaudio:mic_a".into(),
            to: "pulseaudio:mic_b".into(),
            reason: "gone".into(),
        }
        .into();
        let json = serde_json::to_value(&fallback).unwrap();
        assert_eq!(json["event"], "device_fallback");
        assert_eq!(json["role"], "microphone");
        assert_eq!(json["to"], "pulseaudio:mic_b");
    }

    #[test]
    fn reception_reports_are_not_events() {
        let report = CallEvent::RemoteReport(dialtone_media::RemoteReport {
            fraction_lost: 0.0,
            cumulative_lost: 0,
            jitter: Duration::ZERO,
            rtt: None,
        });
        assert_eq!(AudioEvent::from_call(report), None);
    }
}
