//! Parse errors and the response a UAS should send for them (RFC 3261 §8.2, §21.4, RFC 4475 §3.1.2).

use crate::headers::Headers;

/// Broad category of a [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ErrorKind {
    /// Input empty or only whitespace.
    #[error("empty message")]
    Empty,
    /// A size or count limit was exceeded.
    #[error("limit exceeded")]
    TooLarge,
    /// Malformed Request-Line or Status-Line.
    #[error("malformed start line")]
    StartLine,
    /// SIP-Version other than SIP/2.0 (a request gets 505).
    #[error("unsupported SIP version")]
    Version,
    /// Malformed URI.
    #[error("malformed URI")]
    Uri,
    /// Malformed header line or header value.
    #[error("malformed header")]
    Header,
    /// A required header is missing.
    #[error("missing header")]
    Missing,
    /// A single-valued header appears more than once.
    #[error("duplicate header")]
    Duplicate,
    /// Content-Length absent, malformed, or disagreeing with the body.
    #[error("bad Content-Length")]
    ContentLength,
    /// Bytes that are not UTF-8 where text is required.
    #[error("invalid UTF-8")]
    Utf8,
}

/// A parse failure with enough context for a UAS to decide how to answer.
///
/// [`ParseError::response`] says what to send back: `Some((400, "Bad Request"))`,
/// `Some((505, ...))`, ... when the input was a request that can still be answered,
/// `None` when it must be discarded silently (malformed responses, garbage).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct ParseError {
    kind: ErrorKind,
    detail: String,
    reply: Option<(u16, &'static str)>,
    headers: Option<Box<Headers>>,
}

impl ParseError {
    /// Build an error; by default it is answerable with 400 (or 505 for [`ErrorKind::Version`]).
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        let reply = match kind {
            ErrorKind::Version => Some((505, "Version Not Supported")),
            _ => Some((400, "Bad Request")),
        };
        ParseError {
            kind,
            detail: detail.into(),
            reply,
            headers: None,
        }
    }

    /// The category of the failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Human-readable detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// What a UAS should answer (status, reason), or `None` to discard silently.
    pub fn response(&self) -> Option<(u16, &'static str)> {
        self.reply
    }

    /// Header fields of the offending request if they could be parsed, so that a
    /// 400/505 response can be built (RFC 3261 §8.2.6 needs Via, From, To, Call-ID, CSeq).
    pub fn headers(&self) -> Option<&Headers> {
        self.headers.as_deref()
    }

    /// Mark the error as not answerable (a response, or unidentifiable input).
    pub(crate) fn discard(mut self) -> Self {
        self.reply = None;
        self
    }

    /// Replace the recommended answer.
    pub(crate) fn with_reply(mut self, status: u16, reason: &'static str) -> Self {
        self.reply = Some((status, reason));
        self
    }

    /// Attach the parsed header fields of the offending request.
    pub(crate) fn with_headers(mut self, headers: Headers) -> Self {
        self.headers = Some(Box::new(headers));
        self
    }

    pub(crate) fn uri(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Uri, detail)
    }

    pub(crate) fn header(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Header, detail)
    }
}
