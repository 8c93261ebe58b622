//! Errors of the call audio runtime.

use dialtone_devices::DeviceError;
use dialtone_media::MediaError;

/// Why a call audio command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The RTP/RTCP sockets could not be bound.
    #[error("cannot bind RTP/RTCP ports on {ip}: {reason}")]
    Bind {
        /// The address asked for.
        ip: std::net::IpAddr,
        /// What went wrong.
        reason: String,
    },
    /// A microphone, speaker or file could not be opened or switched to.
    #[error("audio device: {0}")]
    Device(#[from] DeviceError),
    /// The pipeline refused the negotiated parameters (unknown codec, bad ptime) or the
    /// command (DTMF without telephone-event).
    #[error("media: {0}")]
    Media(#[from] MediaError),
    /// The command needs running media; call `start` first.
    #[error("the call's media has not started")]
    NotStarted,
    /// The call audio was closed (or its task ended).
    #[error("the call's audio is closed")]
    Closed,
    /// The audio thread could not be started.
    #[error("cannot start the audio thread: {0}")]
    Thread(String),
}
