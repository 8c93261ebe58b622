//! The CSeq header field (RFC 3261 §20.16): `CSeq = 1*DIGIT LWS Method`.

use std::fmt;

use crate::error::ParseError;
use crate::method::Method;
use crate::syntax::trim_ws;

/// A parsed CSeq value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// Sequence number (must fit 32 bits; RFC 4475 §3.1.2.4 overflows are errors).
    pub seq: u32,
    /// The method, which must match the request's (checked by `validate_request`).
    pub method: Method,
}

impl CSeq {
    /// Parse a CSeq header value such as `"0009 INVITE"` (leading zeros and LWS allowed).
    pub fn parse(s: &str) -> Result<CSeq, ParseError> {
        let s = trim_ws(s);
        let split = s
            .find([' ', '\t'])
            .ok_or_else(|| ParseError::header("CSeq needs a number and a method"))?;
        let (num, method) = (&s[..split], trim_ws(&s[split..]));
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::header("CSeq number is not a number"));
        }
        let seq = num
            .parse::<u32>()
            .map_err(|_| ParseError::header("CSeq number does not fit 32 bits"))?;
        let method = method
            .parse::<Method>()
            .map_err(|_| ParseError::header("CSeq method is not a token"))?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}
