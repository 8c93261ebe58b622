//! The one error type of this crate: what went wrong, and where (RFC 8866 §9 grammar,
//! RFC 3264 offer/answer rules).

/// Everything that can go wrong while parsing SDP, reading configuration, or
/// negotiating a session.
///
/// Parse errors carry the 1-based line number of the offending line, so the SIP layer
/// can log "SDP line 7: ..." and answer `488 Not Acceptable Here` / `400 Bad Request`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The text is not a well-formed session description (RFC 8866 §5, §9).
    #[error("SDP line {line}: {reason}")]
    Parse {
        /// 1-based line number in the input (0 when the input has no lines at all).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A codec name that Dialtone does not know, in a codec list (order, exclusion
    /// or strip list).
    #[error("unknown codec name {name:?} (known: opus, alaw, ulaw, g729, speex16, speex, g722, telephone-event, h264, vp8)")]
    UnknownCodec {
        /// The name as written (trimmed).
        name: String,
    },
    /// An H.264 `profile-level-id` that is not six hexadecimal digits (RFC 6184 §8.1).
    #[error("invalid H.264 profile-level-id {value:?}: expected six hex digits such as 42e01f")]
    InvalidProfileLevelId {
        /// The value as written.
        value: String,
    },
    /// A per-call extra SDP line that cannot be placed between `c=` and `t=`.
    #[error("invalid extra SDP line {line:?}: {reason}")]
    InvalidExtraLine {
        /// The line as given (without any line terminator).
        line: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An attribute whose name or value cannot be written into SDP.
    #[error("invalid SDP attribute {name:?}: {reason}")]
    InvalidAttribute {
        /// The attribute name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An `a=crypto` value that breaks the RFC 4568 §9.1 grammar.
    #[error("invalid a=crypto: {reason}")]
    InvalidCrypto {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Our offer would contain no media stream at all (every wanted kind lost all its
    /// codecs to the policy, the exclusion list or the strip list).
    #[error(
        "nothing to offer: no media kind has a codec left after the policy and the strip list"
    )]
    NothingToOffer,
    /// No stream of the remote offer can be accepted (RFC 3264 §6: the SIP layer should
    /// answer `488 Not Acceptable Here`). The negotiator's state is unchanged.
    #[error("no acceptable media in the offer: {reason}")]
    NoAcceptableMedia {
        /// Why each stream was refused, summarised.
        reason: String,
    },
    /// The answer breaks RFC 3264 §6 against the offer it answers.
    #[error("answer does not match the offer: {reason}")]
    AnswerMismatch {
        /// What does not match.
        reason: String,
    },
    /// A media section we need to use lacks something we cannot do without
    /// (no `c=` line at either level, an address that is not an IP literal, ...).
    #[error("m-line {index}: {reason}")]
    Media {
        /// 0-based index of the `m=` line in the remote description.
        index: usize,
        /// What is missing or wrong.
        reason: String,
    },
    /// The pending-offer token was not created by this negotiator, or a later offer or
    /// an answer to a remote offer superseded it.
    #[error("stale pending offer: it belongs to another negotiator or was superseded")]
    StalePendingOffer,
}

impl SdpError {
    pub(crate) fn parse(line: usize, reason: impl Into<String>) -> Self {
        SdpError::Parse {
            line,
            reason: reason.into(),
        }
    }

    pub(crate) fn media(index: usize, reason: impl Into<String>) -> Self {
        SdpError::Media {
            index,
            reason: reason.into(),
        }
    }

    pub(crate) fn mismatch(reason: impl Into<String>) -> Self {
        SdpError::AnswerMismatch {
            reason: reason.into(),
        }
    }

    /// The 1-based input line of a parse error, if this is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            SdpError::Parse { line, .. } => Some(*line),
            _ => None,
        }
    }
}
