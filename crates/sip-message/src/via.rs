//! The Via header field (RFC 3261 §20.42, §25.1 `via-parm`; `rport` from RFC 3581).
//!
//! `sent-protocol` allows LWS around each `/` (RFC 4475 §3.1.1.1); empty parameters
//! and empty list elements are rejected (RFC 4475 §3.1.2.1).

use std::fmt;

use crate::error::ParseError;
use crate::syntax::{
    find_param, is_token_char, parse_params, set_param, split_commas, write_params, Cursor,
};
use crate::uri::{parse_hostport, parse_port};

/// One Via entry (`SIP/2.0/<transport> host[:port];params`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Via {
    /// Transport, upper-cased: `"UDP"`, `"TCP"`, `"TLS"`, `"WS"`, `"WSS"`, `"SCTP"`, ...
    pub transport: String,
    /// sent-by host (IPv6 with brackets).
    pub host: String,
    /// sent-by port, if written.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, `maddr`, ...), values as written.
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// A Via for `transport`/`host`/`port` with a `branch` parameter.
    pub fn new(transport: &str, host: &str, port: Option<u16>, branch: &str) -> Via {
        Via {
            transport: transport.to_ascii_uppercase(),
            host: host.to_string(),
            port,
            params: vec![("branch".to_string(), Some(branch.to_string()))],
        }
    }

    /// Parse a Via header value, which may hold several comma-separated entries.
    pub fn parse_list(s: &str) -> Result<Vec<Via>, ParseError> {
        split_commas(s)?.into_iter().map(Via::parse_one).collect()
    }

    fn parse_one(s: &str) -> Result<Via, ParseError> {
        let mut cur = Cursor::new(s);
        let mut fields = [""; 3];
        for (i, field) in fields.iter_mut().enumerate() {
            if i > 0 {
                cur.skip_ws();
                if !cur.eat(b'/') {
                    return Err(ParseError::header("Via: expected '/' in sent-protocol"));
                }
                cur.skip_ws();
            }
            *field = cur.take_while(is_token_char);
            if field.is_empty() {
                return Err(ParseError::header("Via: empty sent-protocol field"));
            }
        }
        if !fields[0].eq_ignore_ascii_case("SIP") || fields[1] != "2.0" {
            return Err(ParseError::header("Via: protocol is not SIP/2.0"));
        }
        let transport = fields[2].to_ascii_uppercase();
        let before = cur.rest().len();
        cur.skip_ws();
        if cur.rest().len() == before {
            return Err(ParseError::header("Via: expected LWS before sent-by"));
        }
        let sent_by = cur.take_while(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b));
        let (host, port) = parse_hostport(sent_by)
            .map_err(|e| ParseError::header(format!("Via sent-by: {}", e.detail())))?;
        // RFC 3261 allows LWS around the port colon: `host SWS ":" SWS port`.
        let mut port = port;
        cur.skip_ws();
        if port.is_none() && cur.eat(b':') {
            cur.skip_ws();
            let p = cur.take_while(|b| b.is_ascii_digit());
            port = Some(parse_port(p).ok_or_else(|| ParseError::header("Via: bad port"))?);
        }
        let params = parse_params(&mut cur)?;
        if let Some(Some(v)) = find_param(&params, "rport") {
            if parse_port(v).is_none() {
                return Err(ParseError::header("Via: bad rport value"));
            }
        }
        Ok(Via {
            transport,
            host,
            port,
            params,
        })
    }

    /// Parameter by name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&str> {
        self.param("received").flatten()
    }

    /// `rport` (RFC 3581): `None` if absent, `Some(None)` if empty, `Some(Some(port))`.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param("rport").map(|v| v.and_then(parse_port))
    }

    /// Set (replace or append) a parameter, e.g. `received` or `rport`.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        set_param(&mut self.params, name, value);
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write_params(f, &self.params)
    }
}
