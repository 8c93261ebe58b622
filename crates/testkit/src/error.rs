//! Errors of the test harness.

use std::path::PathBuf;

/// Why a peer could not be started or did not behave.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// A required program is not installed: the test must fail, not skip.
    #[error("`{binary}` not found on PATH — install the Debian package `{package}` (see scripts/setup.sh); this test needs the real peer")]
    MissingBinary {
        /// Program name.
        binary: String,
        /// Debian package that provides it.
        package: String,
    },
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The peer exited or never became ready.
    #[error("{peer} did not start: {reason}\n--- log ---\n{log}")]
    NotReady {
        /// Which peer.
        peer: String,
        /// What happened.
        reason: String,
        /// The tail of its log.
        log: String,
    },
    /// The peer ran past its deadline.
    #[error("{peer} still running after {seconds} s; killed\n--- log ---\n{log}")]
    Timeout {
        /// Which peer.
        peer: String,
        /// The deadline.
        seconds: u64,
        /// The tail of its log.
        log: String,
    },
    /// Bad arguments given to a helper.
    #[error("invalid test setup: {0}")]
    Setup(String),
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Certificate(String),
}

impl TestkitError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        TestkitError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
