//! SIP, SIPS and other URIs (RFC 3261 §19.1, §25.1 `SIP-URI`, `absoluteURI`).
//!
//! `sip:`/`sips:` URIs are split into user, password, host, port, parameters and
//! headers, with every component kept exactly as on the wire (escapes are not
//! decoded, RFC 4475 §3.1.1.3-5). Any other scheme is kept opaque.

use std::fmt;
use std::net::Ipv6Addr;

use crate::error::ParseError;
use crate::syntax::{find_param, is_unreserved, valid_escaped};

/// A URI scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip`
    Sip,
    /// `sips`
    Sips,
    /// `tel` (RFC 3966), kept opaque.
    Tel,
    /// Any other scheme, as written.
    Other(String),
}

impl Scheme {
    /// The scheme name (lower-case for the known ones).
    pub fn as_str(&self) -> &str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Tel => "tel",
            Scheme::Other(s) => s,
        }
    }

    fn from_name(name: &str) -> Scheme {
        if name.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if name.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if name.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            Scheme::Other(name.to_string())
        }
    }

    /// Scheme equality as RFC 3986 defines it (case-insensitive).
    pub fn matches(&self, other: &Scheme) -> bool {
        self.as_str().eq_ignore_ascii_case(other.as_str())
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed URI. For `sip`/`sips` the structured fields are filled and `opaque` is
/// `None`; for other schemes `host` is empty and `opaque` holds everything after `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uri {
    /// The scheme.
    pub scheme: Scheme,
    /// User part as on the wire, escapes kept (e.g. `"I%20have%20spaces"`).
    pub user: Option<String>,
    /// Password as on the wire (discouraged by RFC 3261 but legal).
    pub password: Option<String>,
    /// Host: a domain name, IPv4 address, or IPv6 reference with brackets (`"[::1]"`).
    pub host: String,
    /// Port, if written.
    pub port: Option<u16>,
    /// `uri-parameters`, names and values as written.
    pub params: Vec<(String, Option<String>)>,
    /// `headers` after `?`, as written (escaped).
    pub headers: Vec<(String, String)>,
    /// For non-SIP schemes: everything after the `:`.
    pub opaque: Option<String>,
}

/// `user-unreserved` plus unreserved (RFC 3261 §25.1 `user`).
fn is_user_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,;?/".contains(&b)
}

/// `password` characters.
fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,".contains(&b)
}

/// `paramchar` = param-unreserved / unreserved / escaped.
fn is_param_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/:&+$".contains(&b)
}

/// `hnv-unreserved` / unreserved for header names and values.
fn is_hnv_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/?:+$".contains(&b)
}

/// Characters allowed in the opaque part of a non-SIP URI: visible ASCII except
/// the delimiters of name-addr and header syntax.
fn is_opaque_char(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && !b"<>\"\\".contains(&b)
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn valid_scheme(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.')
}

/// Validate a `host` (hostname, IPv4address or IPv6reference). Lenient on `_`.
pub(crate) fn valid_host(h: &str) -> bool {
    if let Some(inner) = h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok();
    }
    !h.is_empty()
        && h.len() <= 255
        && h.bytes().any(|b| b.is_ascii_alphanumeric())
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// Parse `1*DIGIT` as a port number.
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok()
}

/// Split `host[:port]` (with IPv6 brackets) and validate both parts.
pub(crate) fn parse_hostport(s: &str) -> Result<(String, Option<u16>), ParseError> {
    let (host, port) = if s.starts_with('[') {
        match s.find(']') {
            Some(end) => {
                let rest = &s[end + 1..];
                let port = match rest.strip_prefix(':') {
                    Some(p) => Some(p),
                    None if rest.is_empty() => None,
                    None => return Err(ParseError::uri("junk after IPv6 reference")),
                };
                (&s[..=end], port)
            }
            None => return Err(ParseError::uri("unterminated IPv6 reference")),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if !valid_host(host) {
        return Err(ParseError::uri(format!(
            "invalid host {:?}",
            crate::syntax::short(host)
        )));
    }
    let port = match port {
        Some(p) => Some(parse_port(p).ok_or_else(|| ParseError::uri("invalid port"))?),
        None => None,
    };
    Ok((host.to_string(), port))
}

impl Uri {
    /// Parse a URI. SIP/SIPS URIs are validated against RFC 3261 §25.1; other schemes
    /// only need a valid scheme name and a non-empty opaque part without white space.
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        let (scheme, rest) = s
            .split_once(':')
            .ok_or_else(|| ParseError::uri("URI has no scheme"))?;
        if !valid_scheme(scheme) {
            return Err(ParseError::uri("invalid URI scheme"));
        }
        let scheme = Scheme::from_name(scheme);
        match scheme {
            Scheme::Sip | Scheme::Sips => Self::parse_sip(scheme, rest),
            _ => {
                if rest.is_empty() || !rest.bytes().all(is_opaque_char) {
                    return Err(ParseError::uri("invalid characters in URI"));
                }
                if !valid_escaped(rest, |b| b != b'%') {
                    return Err(ParseError::uri("invalid escape in URI"));
                }
                Ok(Uri {
                    scheme,
                    user: None,
                    password: None,
                    host: String::new(),
                    port: None,
                    params: Vec::new(),
                    headers: Vec::new(),
                    opaque: Some(rest.to_string()),
                })
            }
        }
    }

    fn parse_sip(scheme: Scheme, rest: &str) -> Result<Uri, ParseError> {
        // userinfo: '@' cannot appear unescaped anywhere after it, so the first '@'
        // ends the userinfo (user may contain ';', '?', '/' ... RFC 4475 §3.1.1.2).
        let (user, password, hostpart) = match rest.find('@') {
            Some(at) => {
                let ui = &rest[..at];
                let (user, password) = match ui.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (ui, None),
                };
                if user.is_empty() || !valid_escaped(user, is_user_char) {
                    return Err(ParseError::uri("invalid user part"));
                }
                if let Some(p) = password {
                    if !valid_escaped(p, is_password_char) {
                        return Err(ParseError::uri("invalid password"));
                    }
                }
                (
                    Some(user.to_string()),
                    password.map(str::to_string),
                    &rest[at + 1..],
                )
            }
            None => (None, None, rest),
        };
        let (before_headers, headers_str) = match hostpart.split_once('?') {
            Some((a, b)) => (a, Some(b)),
            None => (hostpart, None),
        };
        let mut parts = before_headers.split(';');
        let hostport = parts.next().unwrap_or("");
        let (host, port) = parse_hostport(hostport)?;
        let mut params = Vec::new();
        for p in parts {
            let (name, value) = match p.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            };
            if name.is_empty() || !valid_escaped(name, is_param_char) {
                return Err(ParseError::uri("invalid URI parameter name"));
            }
            if let Some(v) = value {
                if v.is_empty() || !valid_escaped(v, is_param_char) {
                    return Err(ParseError::uri("invalid URI parameter value"));
                }
            }
            params.push((name.to_string(), value.map(str::to_string)));
        }
        let mut headers = Vec::new();
        if let Some(hs) = headers_str {
            for h in hs.split('&') {
                let (name, value) = h
                    .split_once('=')
                    .ok_or_else(|| ParseError::uri("URI header without '='"))?;
                if name.is_empty()
                    || !valid_escaped(name, is_hnv_char)
                    || !valid_escaped(value, is_hnv_char)
                {
                    return Err(ParseError::uri("invalid URI header"));
                }
                headers.push((name.to_string(), value.to_string()));
            }
        }
        Ok(Uri {
            scheme,
            user,
            password,
            host,
            port,
            params,
            headers,
            opaque: None,
        })
    }

    /// A `sip:` URI for `host` with optional user and port and nothing else.
    pub fn sip(user: Option<&str>, host: &str, port: Option<u16>) -> Uri {
        Uri {
            scheme: Scheme::Sip,
            user: user.map(str::to_string),
            password: None,
            host: host.to_string(),
            port,
            params: Vec::new(),
            headers: Vec::new(),
            opaque: None,
        }
    }

    /// URI parameter by name (case-insensitive): `None` if absent, `Some(None)` if it
    /// has no value (`;lr`), `Some(Some(v))` otherwise.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The `transport` parameter's value, if present.
    pub fn transport(&self) -> Option<&str> {
        self.param("transport").flatten()
    }

    /// Replace (case-insensitively) or append a URI parameter.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        crate::syntax::set_param(&mut self.params, name, value);
    }

    /// True for `sip:` and `sips:` URIs.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if let Some(opaque) = &self.opaque {
            return f.write_str(opaque);
        }
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(pw) = &self.password {
                write!(f, ":{pw}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        for (name, value) in &self.params {
            match value {
                Some(v) => write!(f, ";{name}={v}")?,
                None => write!(f, ";{name}")?,
            }
        }
        for (i, (name, value)) in self.headers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{name}={value}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Uri {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Uri, ParseError> {
        Uri::parse(s)
    }
}
