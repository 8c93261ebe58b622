//! Errors returned by [`crate::Phone`] commands.

use crate::account::FieldError;

/// Why a phone command was refused. `code()` is stable and machine-readable; `Display` is for users.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// The account form has problems; each names its field.
    #[error("the account settings are not valid: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    InvalidAccount(Vec<FieldError>),
    /// A command that needs an account was given before Connect.
    #[error("not connected: press Connect first")]
    NotConnected,
    /// The call handle does not name a live call.
    #[error("there is no call {0}")]
    NoSuchCall(u64),
    /// The call target could not be understood.
    #[error("cannot call \"{target}\": {why}")]
    InvalidTarget {
        /// What the user typed.
        target: String,
        /// What is wrong with it.
        why: String,
    },
    /// The command does not apply in the call's current state.
    #[error("{0}")]
    WrongState(String),
    /// An argument of the command is not valid (DTMF digits, a message text, a presence status...).
    #[error("{0}")]
    InvalidInput(String),
    /// This build cannot do what was asked (e.g. RFC 4733 DTMF before the audio path exists).
    #[error("{0}")]
    Unsupported(String),
    /// The TLS handshake with the server failed; the message names the cause (issuer not trusted, name mismatch,
    /// expired...). For an untrusted issuer, `fingerprint` is the server certificate's SHA-256, for pinning.
    #[error("TLS: {message}")]
    Tls {
        /// What went wrong, in plain words.
        message: String,
        /// The presented certificate's SHA-256 fingerprint when the issuer is not trusted.
        fingerprint: Option<String>,
    },
    /// A socket could not be opened or used.
    #[error("network error: {0}")]
    Network(String),
    /// The call's audio could not be opened or changed (a device, a WAV file, the RTP ports).
    #[error("audio: {0}")]
    Audio(String),
    /// The phone's runtime has stopped.
    #[error("the phone has stopped")]
    Stopped,
}

impl From<crate::audio::AudioError> for PhoneError {
    fn from(e: crate::audio::AudioError) -> Self {
        PhoneError::Audio(e.to_string())
    }
}

impl PhoneError {
    /// Stable machine-readable code for the UI (`{ code, message }`).
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::InvalidAccount(_) => "invalid_account",
            PhoneError::NotConnected => "not_connected",
            PhoneError::NoSuchCall(_) => "no_such_call",
            PhoneError::InvalidTarget { .. } => "invalid_target",
            PhoneError::WrongState(_) => "wrong_state",
            PhoneError::InvalidInput(_) => "invalid_input",
            PhoneError::Unsupported(_) => "unsupported",
            PhoneError::Tls { .. } => "tls",
            PhoneError::Network(_) => "network",
            PhoneError::Audio(_) => "audio",
            PhoneError::Stopped => "stopped",
        }
    }
}
