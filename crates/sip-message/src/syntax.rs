//! Lexical building blocks of the SIP grammar (RFC 3261 §25.1): tokens, LWS,
//! quoted strings, generic parameters and comma-separated lists.
//!
//! Header values reach these helpers already unfolded (every `CRLF 1*WSP` replaced by
//! one SP, see RFC 3261 §7.3.1), so linear white space is just SP / HTAB here.

use crate::error::ParseError;

/// `token` characters (RFC 3261 §25.1).
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A non-empty `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// SP or HTAB.
pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trim SP / HTAB on both sides.
pub(crate) fn trim_ws(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// `unreserved` characters (RFC 3261 §25.1 / RFC 2396).
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// Characters allowed in a generic parameter value besides a quoted string:
/// `token / host` (RFC 3261 `gen-value`), so IPv6 references are accepted.
fn is_gen_value_char(b: u8) -> bool {
    is_token_char(b) || b == b'[' || b == b']' || b == b':'
}

/// True when every byte is `allowed` or part of a valid `escaped` (`%` HEX HEX).
pub(crate) fn valid_escaped(s: &str, allowed: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
        } else if allowed(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// A byte cursor over an (unfolded) header value.
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// Take the longest run of ASCII bytes satisfying `pred` (never splits UTF-8,
    /// since `pred` is only ever true for ASCII).
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii() && pred(b)) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// Advance `n` bytes; callers only pass lengths that end on a char boundary.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.s.len());
    }

    /// Parse a `quoted-string` at the cursor; returns the raw text including the quotes.
    pub(crate) fn quoted_raw(&mut self) -> Result<&'a str, ParseError> {
        let start = self.pos;
        let len = quoted_len(self.rest())?;
        self.pos += len;
        Ok(&self.s[start..self.pos])
    }
}

/// Length in bytes of the `quoted-string` at the start of `s` (including both quotes).
/// Rejects unterminated strings and raw control characters other than HTAB.
pub(crate) fn quoted_len(s: &str) -> Result<usize, ParseError> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return Err(ParseError::header("expected quoted string"));
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Ok(i + 1),
            b'\\' => {
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                match b.get(i + 1) {
                    Some(&n) if n <= 0x7f && n != b'\r' && n != b'\n' => i += 2,
                    _ => return Err(ParseError::header("bad escape in quoted string")),
                }
            }
            c if c < 0x20 && c != b'\t' => {
                return Err(ParseError::header("control character in quoted string"))
            }
            0x7f => return Err(ParseError::header("control character in quoted string")),
            _ => i += 1,
        }
    }
    Err(ParseError::header("unterminated quoted string"))
}

/// Remove the quotes and resolve `quoted-pair`s of a raw quoted string.
pub(crate) fn unquote(raw: &str) -> String {
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Quote `s` as a `quoted-string`, escaping `"`, `\` and control characters.
/// CR and LF cannot be represented (RFC 3261 `quoted-pair`) and become SP.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parse `*( SEMI generic-param )` until the end of the cursor.
///
/// Names must be tokens; values are tokens, hosts or quoted strings (kept raw, with
/// their quotes). LWS is allowed around `;` and `=` (RFC 3261 `SEMI`, `EQUAL`).
pub(crate) fn parse_params(
    cur: &mut Cursor<'_>,
) -> Result<Vec<(String, Option<String>)>, ParseError> {
    let mut params = Vec::new();
    loop {
        cur.skip_ws();
        if cur.at_end() {
            return Ok(params);
        }
        if !cur.eat(b';') {
            return Err(ParseError::header(format!(
                "unexpected text {:?} where a parameter was expected",
                short(cur.rest())
            )));
        }
        cur.skip_ws();
        let name = cur.take_while(is_token_char);
        if name.is_empty() {
            return Err(ParseError::header("empty parameter name"));
        }
        cur.skip_ws();
        let value = if cur.eat(b'=') {
            cur.skip_ws();
            let v = if cur.peek() == Some(b'"') {
                cur.quoted_raw()?
            } else {
                cur.take_while(is_gen_value_char)
            };
            if v.is_empty() {
                return Err(ParseError::header(format!("parameter {name} has no value")));
            }
            Some(v.to_string())
        } else {
            None
        };
        params.push((name.to_string(), value));
    }
}

/// Write `;name[=value]` parameters.
pub(crate) fn write_params(
    f: &mut std::fmt::Formatter<'_>,
    params: &[(String, Option<String>)],
) -> std::fmt::Result {
    for (name, value) in params {
        match value {
            Some(v) => write!(f, ";{name}={v}")?,
            None => write!(f, ";{name}")?,
        }
    }
    Ok(())
}

/// Case-insensitive parameter lookup.
pub(crate) fn find_param<'a>(
    params: &'a [(String, Option<String>)],
    name: &str,
) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
}

/// Replace (case-insensitively) or append a parameter.
pub(crate) fn set_param(
    params: &mut Vec<(String, Option<String>)>,
    name: &str,
    value: Option<&str>,
) {
    let value = value.map(str::to_string);
    if let Some(p) = params
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        p.1 = value;
    } else {
        params.push((name.to_string(), value));
    }
}

/// Split a header value at top-level commas (outside quoted strings and `<...>`).
/// Elements are trimmed; an empty element is an error (RFC 4475 §3.1.2.1).
pub(crate) fn split_commas(s: &str) -> Result<Vec<&str>, ParseError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut in_angle = false;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += quoted_len(&s[i..])?;
                continue;
            }
            b'<' if !in_angle => in_angle = true,
            b'>' if in_angle => in_angle = false,
            b',' if !in_angle => {
                out.push(trim_ws(&s[start..i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if in_angle {
        return Err(ParseError::header("unterminated <"));
    }
    out.push(trim_ws(&s[start..]));
    if out.iter().any(|e| e.is_empty()) {
        return Err(ParseError::header("empty element in comma-separated list"));
    }
    Ok(out)
}

/// At most 40 bytes of `s` for error messages (on a char boundary).
pub(crate) fn short(s: &str) -> &str {
    let mut end = s.len().min(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
