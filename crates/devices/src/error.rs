//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong when listing, opening or using audio endpoints.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// No device has this id (or no input/output device matches the name asked for).
    #[error("no {kind} device matches `{query}`")]
    NotFound {
        /// `input` or `output`.
        kind: &'static str,
        /// The id or name that was asked for.
        query: String,
    },
    /// A name matched several devices; the caller must use an id or a longer name.
    #[error("`{query}` matches several {kind} devices: {candidates}")]
    Ambiguous {
        /// `input` or `output`.
        kind: &'static str,
        /// The name that was asked for.
        query: String,
        /// The names that matched, comma-separated.
        candidates: String,
    },
    /// The system has no default device of that kind.
    #[error("there is no default {kind} device")]
    NoDefault {
        /// `input` or `output`.
        kind: &'static str,
    },
    /// A device id that is not `host:device` (as printed by [`crate::enumerate`]).
    #[error(
        "bad device id `{0}`: expected `host:device`, e.g. `pulseaudio:mic_a` or `alsa:default`"
    )]
    BadId(String),
    /// The audio backend (cpal host, sound server) refused or failed.
    #[error("audio backend: {0}")]
    Backend(String),
    /// The device offers no sample format or layout we can convert from/to.
    #[error("device `{id}` has no usable stream format: {reason}")]
    Unsupported {
        /// The device id.
        id: String,
        /// What was missing.
        reason: String,
    },
    /// A source or sink handed to a switchable wrapper runs at another rate than the wrapper.
    #[error("sample rate mismatch: expected {expected} Hz, got {got} Hz")]
    RateMismatch {
        /// The wrapper's rate.
        expected: u32,
        /// The rate of the endpoint offered.
        got: u32,
    },
    /// Sample rates must be between 1 and 384000 Hz; tone frequencies below Nyquist.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Reading or writing a WAV file failed.
    #[error("WAV file {path}: {reason}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What hound or the file system said.
        reason: String,
    },
    /// The switchable wrapper this handle belongs to has been dropped.
    #[error("the switchable {0} has been dropped")]
    Closed(&'static str),
    /// A test sound server could not be started or controlled.
    #[error("sound server: {reason}{hint}")]
    Server {
        /// What failed.
        reason: String,
        /// How to fix it (an install hint), possibly empty.
        hint: String,
    },
}

impl DeviceError {
    pub(crate) fn backend(err: impl std::fmt::Display) -> Self {
        DeviceError::Backend(err.to_string())
    }

    pub(crate) fn wav(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        DeviceError::Wav {
            path: path.to_owned(),
            reason: err.to_string(),
        }
    }
}

/// Highest sample rate accepted anywhere in the crate.
pub(crate) const MAX_RATE: u32 = 384_000;

/// Checks a sample rate given by a caller.
pub(crate) fn check_rate(rate: u32) -> Result<u32, DeviceError> {
    if rate == 0 || rate > MAX_RATE {
        return Err(DeviceError::InvalidParameter(format!(
            "sample rate {rate} Hz is outside 1..={MAX_RATE}"
        )));
    }
    Ok(rate)
}
