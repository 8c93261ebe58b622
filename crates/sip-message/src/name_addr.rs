//! `name-addr` / `addr-spec` values of From, To, Contact, Route, Record-Route, ...
//! (RFC 3261 §20.10, §25.1 `name-addr`, `addr-spec`, `display-name`).
//!
//! Display names are tokens separated by LWS or a quoted string (RFC 4475 §3.1.1.6
//! allows no LWS before `<`). Without `<>`, the URI ends at the first `;` and cannot
//! contain `?` (RFC 3261 §20.10, RFC 4475 §3.1.2.13); inside `<>` no white space is
//! allowed (RFC 4475 §3.1.2.14).

use std::fmt;

use crate::error::ParseError;
use crate::syntax::{
    find_param, is_token_char, parse_params, quote, set_param, trim_ws, unquote, write_params,
    Cursor,
};
use crate::uri::Uri;

/// An address with optional display name and header parameters (e.g. `tag`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameAddr {
    /// Display name, unquoted and unescaped (`None` when absent).
    pub display_name: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters after the address (`tag`, `expires`, `q`, ...); quoted values
    /// are kept with their quotes.
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// A bare address without display name or parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display_name: None,
            uri,
            params: Vec::new(),
        }
    }

    /// Parse one `(name-addr / addr-spec) *(SEMI param)` element (no commas).
    pub fn parse(s: &str) -> Result<NameAddr, ParseError> {
        let s = trim_ws(s);
        let mut cur = Cursor::new(s);
        let mut display_name = None;
        let bracketed = if cur.peek() == Some(b'"') {
            let raw = cur.quoted_raw()?;
            display_name = Some(unquote(raw));
            cur.skip_ws();
            if !cur.eat(b'<') {
                return Err(ParseError::header("expected < after display name"));
            }
            true
        } else if cur.eat(b'<') {
            true
        } else {
            // Either `token *(LWS token) <uri>` or an addr-spec (`scheme:...`).
            let mut words: Vec<&str> = Vec::new();
            loop {
                let word = cur.take_while(is_token_char);
                if word.is_empty() {
                    break;
                }
                words.push(word);
                let before = cur.rest().len();
                cur.skip_ws();
                if cur.peek() == Some(b':') && words.len() == 1 && before == cur.rest().len() {
                    break;
                }
            }
            if cur.eat(b'<') {
                if words.is_empty() {
                    return Err(ParseError::header("expected address"));
                }
                display_name = Some(words.join(" "));
                true
            } else if words.len() == 1 && cur.peek() == Some(b':') {
                cur = Cursor::new(s);
                false
            } else {
                return Err(ParseError::header(format!(
                    "invalid display name or address {:?}",
                    crate::syntax::short(s)
                )));
            }
        };
        let uri = if bracketed {
            let rest = cur.rest();
            let end = rest
                .find('>')
                .ok_or_else(|| ParseError::header("missing > after address"))?;
            let uri = Uri::parse(&rest[..end])?;
            cur.advance(end + 1);
            uri
        } else {
            let rest = cur.rest();
            let end = rest.find([';', ' ', '\t']).unwrap_or(rest.len());
            let text = &rest[..end];
            if text.contains('?') {
                return Err(ParseError::header(
                    "URI with headers must be enclosed in <> (RFC 3261 §20.10)",
                ));
            }
            let uri = Uri::parse(text)?;
            cur.advance(end);
            uri
        };
        let params = parse_params(&mut cur)?;
        Ok(NameAddr {
            display_name,
            uri,
            params,
        })
    }

    /// Header parameter by name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The `tag` parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    /// Set (or replace) the `tag` parameter.
    pub fn set_tag(&mut self, tag: &str) {
        set_param(&mut self.params, "tag", Some(tag));
    }

    /// Set (or replace) any header parameter.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        set_param(&mut self.params, name, value);
    }
}

impl fmt::Display for NameAddr {
    /// Always writes the `<>` form (safe for any URI), quoting the display name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.display_name {
            write!(f, "{} ", quote(name))?;
        }
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

impl std::str::FromStr for NameAddr {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<NameAddr, ParseError> {
        NameAddr::parse(s)
    }
}
