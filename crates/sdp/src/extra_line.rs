//! Per-call extra SDP lines, placed after `c=` and before `t=` at session level in our
//! offers and answers (the original web call server's "extra SDP lines" setting).
//!
//! In RFC 8866 §5 order only `b=` lines (§5.8; `AS`/`CT`, `TIAS` RFC 3890, `RS`/`RR`
//! RFC 3556) sit between `c=` and `t=`, so those are what is accepted: any other type
//! letter would produce a description that conforming parsers, ours included, reject.

use std::fmt;
use std::str::FromStr;

use crate::error::SdpError;
use crate::session::Bandwidth;

/// One validated extra line, e.g. `b=AS:3000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraLine {
    bandwidth: Bandwidth,
}

impl ExtraLine {
    /// Validates one line: `x=...` with a known SDP type letter, no CR/LF/NUL inside,
    /// and — being placed between `c=` and `t=` — a `b=<bwtype>:<digits>` line.
    pub fn parse(line: &str) -> Result<Self, SdpError> {
        let invalid = |reason| SdpError::InvalidExtraLine {
            line: line.chars().take(80).collect(),
            reason,
        };
        if line.contains(['\r', '\n']) {
            return Err(invalid("contains CR or LF (give one line per entry)"));
        }
        if line.contains('\0') {
            return Err(invalid("contains NUL"));
        }
        let bytes = line.as_bytes();
        if bytes.len() < 3 || bytes[1] != b'=' {
            return Err(invalid("must look like `x=value` (e.g. `b=AS:3000`)"));
        }
        match bytes[0] {
            b'b' => {}
            b'v' | b'o' | b's' | b'i' | b'u' | b'e' | b'p' | b'c' | b't' | b'r' | b'z' | b'k'
            | b'a' | b'm' => {
                return Err(invalid(
                    "only `b=` lines may stand between `c=` and `t=` (RFC 8866 §5 order)",
                ))
            }
            _ => return Err(invalid("unknown SDP type letter")),
        }
        // Bytes 0 and 1 are ASCII, so 2 is a char boundary.
        let value = line.get(2..).unwrap_or("");
        let bandwidth = Bandwidth::parse(value).ok_or_else(|| {
            invalid("a `b=` line must be `b=<bwtype>:<digits>`, e.g. `b=TIAS:2500000`")
        })?;
        Ok(ExtraLine { bandwidth })
    }

    /// Validates several lines (e.g. from a settings field), skipping empty ones.
    pub fn parse_all<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, SdpError> {
        lines
            .into_iter()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(ExtraLine::parse)
            .collect()
    }

    /// The bandwidth line this extra line is.
    pub fn bandwidth(&self) -> &Bandwidth {
        &self.bandwidth
    }
}

impl FromStr for ExtraLine {
    type Err = SdpError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExtraLine::parse(s)
    }
}

impl fmt::Display for ExtraLine {
    /// The line without terminator, e.g. `b=AS:3000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b={}:{}", self.bandwidth.kind, self.bandwidth.value)
    }
}
