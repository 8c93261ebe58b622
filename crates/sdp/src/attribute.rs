//! `a=` lines (RFC 8866 §5.13): a name, optionally followed by `:` and a value.
//!
//! Attributes are kept verbatim and in order, known or not, so a description survives a
//! parse/serialize round trip unchanged.

use std::fmt;

use crate::error::SdpError;

/// One `a=` line: `a=<name>` (a property attribute) or `a=<name>:<value>`.
///
/// Built only through [`Attribute::new`] / [`Attribute::flag`] or the parser, so the
/// name is always an RFC 8866 token and the value never holds CR, LF or NUL; writing an
/// attribute can therefore never inject extra lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    name: String,
    value: Option<String>,
}

impl Attribute {
    /// A value attribute, `a=<name>:<value>`.
    ///
    /// ```
    /// let a = dialtone_sdp::Attribute::new("ptime", "20")?;
    /// assert_eq!(a.to_string(), "a=ptime:20\r\n");
    /// # Ok::<(), dialtone_sdp::SdpError>(())
    /// ```
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Result<Self, SdpError> {
        let name = name.into();
        let value = value.into();
        check_name(&name)?;
        if let Some(reason) = text_problem(&value) {
            return Err(SdpError::InvalidAttribute { name, reason });
        }
        Ok(Attribute {
            name,
            value: Some(value),
        })
    }

    /// A property attribute without a value, `a=<name>` (e.g. `a=rtcp-mux`).
    pub fn flag(name: impl Into<String>) -> Result<Self, SdpError> {
        let name = name.into();
        check_name(&name)?;
        Ok(Attribute { name, value: None })
    }

    /// Builds an attribute from parts already known to be valid (crate-internal
    /// literals such as `"sendrecv"` and values made of digits and tokens).
    pub(crate) fn trusted(name: &str, value: Option<String>) -> Self {
        debug_assert!(check_name(name).is_ok());
        debug_assert!(value.as_deref().and_then(text_problem).is_none());
        Attribute {
            name: name.to_string(),
            value,
        }
    }

    /// Parses the text after `a=`; `None` when the name is not a token or the value
    /// holds a forbidden character.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (name, value) = match text.split_once(':') {
            Some((name, value)) => (name, Some(value)),
            // Some peers leave trailing blanks after a property attribute (`a=sendrecv `).
            None => (text.trim_end_matches([' ', '\t']), None),
        };
        if check_name(name).is_err() || value.and_then(text_problem).is_some() {
            return None;
        }
        Some(Attribute {
            name: name.to_string(),
            value: value.map(str::to_string),
        })
    }

    /// The attribute name (case as written).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value after the first `:`, if the line had one (possibly empty).
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// True when the name equals `name`, ignoring ASCII case (RFC 8866 §5.13: attribute
    /// names are case-sensitive in principle, but peers vary; matching is lenient).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

impl fmt::Display for Attribute {
    /// Writes the full line, `a=...` and CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "a={}:{}\r\n", self.name, value),
            None => write!(f, "a={}\r\n", self.name),
        }
    }
}

fn check_name(name: &str) -> Result<(), SdpError> {
    if name.is_empty() {
        return Err(SdpError::InvalidAttribute {
            name: name.to_string(),
            reason: "empty name",
        });
    }
    if !name.bytes().all(is_token_char) {
        return Err(SdpError::InvalidAttribute {
            name: name.to_string(),
            reason: "name must be an RFC 8866 token (letters, digits, -.!%*_+`'~)",
        });
    }
    Ok(())
}

/// RFC 8866 §9 `token-char`.
pub(crate) fn is_token_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7E)
}

/// Why `text` cannot appear in an SDP line (RFC 8866 §9 `byte-string`), if it cannot.
pub(crate) fn text_problem(text: &str) -> Option<&'static str> {
    if text.bytes().any(|b| b == b'\r' || b == b'\n') {
        Some("contains CR or LF")
    } else if text.bytes().any(|b| b == 0) {
        Some("contains NUL")
    } else {
        None
    }
}
