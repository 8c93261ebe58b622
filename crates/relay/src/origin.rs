//! The WebSocket `Origin` check (RFC 6455 §10.2, RFC 7118 §5.3 via §4.1 of RFC 6455).
//!
//! Browsers send the page's origin with every WebSocket handshake; a relay that accepted any
//! origin would let any web page a user visits register or call through it with the user's
//! browser (cross-site WebSocket hijacking). [`OriginPolicy`] holds the allow-list the runtime
//! checks each handshake against. Origins are compared as RFC 6454 §4 serialises them: scheme
//! and host lower-cased, default ports (80 for http, 443 for https) removed. There is no
//! wildcard, and the opaque origin `null` is never allowed. A handshake without an Origin
//! header (not a browser) is allowed unless [`OriginPolicy::require_origin`] is set.

/// Why an allow-list entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an origin: expected http(s)://host[:port] with no path")]
pub struct InvalidOrigin(pub String);

/// The allow-list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
    require_origin: bool,
}

/// `scheme://host[:port]` normalised, or `None` if `origin` is not one.
fn normalise(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let (host, port) = if rest.starts_with('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (&rest[..=end], port)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    match port {
        Some(p) if p.parse::<u16>().is_err() => None,
        Some(p) if p != default_port => Some(format!("{scheme}://{host}:{p}")),
        _ => Some(format!("{scheme}://{host}")),
    }
}

impl OriginPolicy {
    /// A policy allowing exactly `origins` (e.g. `http://127.0.0.1:8080`, the relay's own
    /// phone page).
    pub fn new<I, S>(origins: I) -> Result<OriginPolicy, InvalidOrigin>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let allowed = origins
            .into_iter()
            .map(|o| normalise(o.as_ref()).ok_or_else(|| InvalidOrigin(o.as_ref().to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OriginPolicy {
            allowed,
            require_origin: false,
        })
    }

    /// Also refuse handshakes that carry no Origin header.
    pub fn require_origin(mut self) -> OriginPolicy {
        self.require_origin = true;
        self
    }

    /// Whether a handshake with this `Origin` header value (or none) may proceed.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match origin {
            None => !self.require_origin,
            Some(origin) => normalise(origin).is_some_and(|o| self.allowed.contains(&o)),
        }
    }
}
