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
    /// A socket could not be opened or used.
    #[error("network error: {0}")]
    Network(String),
    /// The phone's runtime has stopped.
    #[error("the phone has stopped")]
    Stopped,
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
            PhoneError::Network(_) => "network",
            PhoneError::Stopped => "stopped",
        }
    }
}
