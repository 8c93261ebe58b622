//! UAS request validation (RFC 3261 §8.2.1-§8.2.3, §16.3 for the syntax checks;
//! the expected outcomes of RFC 4475 §3.1.2 and §3.3).
//!
//! Order: syntax of the mandatory and structured header fields (400), CSeq method
//! (400, or 501 for an unknown method, RFC 4475 §3.1.2.17-18), Request-URI scheme
//! (416), Require (420 + Unsupported), body type/encoding (415 + Accept /
//! Accept-Encoding), Accept of an INVITE (406). ACK is only checked for syntax.

use crate::error::ParseError;
use crate::message::{Request, Response};
use crate::method::Method;
use crate::status::default_reason;
use crate::syntax::trim_ws;
use crate::uri::Scheme;

/// What the UAS supports; drives 416/420/415/406.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UasPolicy {
    /// Option tags we support (compared case-insensitively with Require).
    pub supported: Vec<String>,
    /// Media types we accept in bodies and can produce (`type/subtype`, lower-case).
    pub accept: Vec<String>,
    /// Request-URI schemes we serve.
    pub allowed_schemes: Vec<Scheme>,
}

impl Default for UasPolicy {
    /// No extensions, `application/sdp` only, `sip:` and `sips:`.
    fn default() -> Self {
        UasPolicy {
            supported: Vec::new(),
            accept: vec!["application/sdp".to_string()],
            allowed_schemes: vec![Scheme::Sip, Scheme::Sips],
        }
    }
}

/// Why a request must be rejected, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {reason}")]
pub struct Rejection {
    /// Response status code.
    pub status: u16,
    /// Reason phrase to send.
    pub reason: String,
    /// Header fields the response must carry (e.g. `Unsupported`, `Accept`).
    pub extra_headers: Vec<(String, String)>,
}

impl Rejection {
    /// A rejection with the default reason phrase and no extra headers.
    pub fn new(status: u16) -> Rejection {
        Rejection {
            status,
            reason: default_reason(status).to_string(),
            extra_headers: Vec::new(),
        }
    }

    fn bad_request(e: &ParseError) -> Rejection {
        let mut r = Rejection::new(400);
        r.reason = format!("Bad Request ({})", e.detail());
        r.reason.retain(|c| !c.is_control());
        r
    }
}

impl From<&ParseError> for Rejection {
    /// The answer [`ParseError::response`] recommends (400 if it recommends none).
    fn from(e: &ParseError) -> Rejection {
        match e.response() {
            Some((400, _)) | None => Rejection::bad_request(e),
            Some((status, reason)) => Rejection {
                status,
                reason: reason.to_string(),
                extra_headers: Vec::new(),
            },
        }
    }
}

/// `type/subtype` of a media type, parameters removed, lower-cased.
fn media_type(s: &str) -> String {
    trim_ws(s.split(';').next().unwrap_or(""))
        .to_ascii_lowercase()
        .replace([' ', '\t'], "")
}

/// Does Accept entry `range` (may be `*/*` or `type/*`) cover `mt`?
fn media_matches(range: &str, mt: &str) -> bool {
    if range == "*/*" || range == mt {
        return true;
    }
    match (range.strip_suffix("/*"), mt.split_once('/')) {
        (Some(rt), Some((mtt, _))) => rt == mtt,
        _ => false,
    }
}

/// `rfc1123-date = wkday "," SP date1 SP time SP "GMT"` (RFC 3261 §20.17).
fn valid_sip_date(s: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = s.split(' ').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 6 {
        return false;
    }
    let time_ok = {
        let t: Vec<&str> = parts[4].split(':').collect();
        t.len() == 3 && t.iter().all(|p| digits(p, 2))
    };
    parts[0]
        .strip_suffix(',')
        .is_some_and(|d| DAYS.contains(&d))
        && digits(parts[1], 2)
        && MONTHS.contains(&parts[2])
        && digits(parts[3], 4)
        && time_ok
        && parts[5] == "GMT"
}

/// Syntax checks of RFC 3261 §8.2 / RFC 4475 that lead to 400 (or 501).
fn check_syntax(req: &Request) -> Result<(), Rejection> {
    let bad = |e: ParseError| Rejection::bad_request(&e);
    let vias = req.vias().map_err(bad)?;
    if vias.is_empty() {
        return Err(Rejection::bad_request(&ParseError::new(
            crate::ErrorKind::Missing,
            "missing Via",
        )));
    }
    req.from().map_err(bad)?;
    let to = req.to().map_err(bad)?;
    if req.method == Method::Register && !to.uri.is_sip() {
        // RFC 3261 §10.2: the To of a REGISTER is the address-of-record, a SIP or
        // SIPS URI; RFC 4475 §3.3.4 has a registrar answer 400.
        let mut r = Rejection::new(400);
        r.reason = "Bad Request (REGISTER To is not a SIP or SIPS URI)".to_string();
        return Err(r);
    }
    req.call_id().map_err(bad)?;
    let cseq = req.cseq().map_err(bad)?;
    req.max_forwards().map_err(bad)?;
    // `Contact: *` is legal in REGISTER (RFC 3261 §10.2.2).
    let star = req.method == Method::Register
        && req.headers.contains("Contact")
        && req.headers.get_all("Contact").all(|c| trim_ws(c) == "*");
    if !star {
        req.contacts().map_err(bad)?;
    }
    req.routes().map_err(bad)?;
    req.record_routes().map_err(bad)?;
    if !req.uri.headers.is_empty() {
        // RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI;
        // RFC 4475 §3.1.2.11 lets an element reject with 400.
        let mut r = Rejection::new(400);
        r.reason = "Bad Request (headers in Request-URI)".to_string();
        return Err(r);
    }
    if let Some(date) = req.headers.get("Date") {
        // RFC 4475 §3.1.2.12: only GMT is allowed.
        if !valid_sip_date(trim_ws(date)) {
            let mut r = Rejection::new(400);
            r.reason = "Bad Request (invalid Date)".to_string();
            return Err(r);
        }
    }
    if let Some(exp) = req.headers.get("Expires") {
        let exp = trim_ws(exp);
        if exp.is_empty() || !exp.bytes().all(|b| b.is_ascii_digit()) {
            let mut r = Rejection::new(400);
            r.reason = "Bad Request (invalid Expires)".to_string();
            return Err(r);
        }
    }
    if cseq.method != req.method {
        // RFC 4475 §3.1.2.18: an unknown method with a mismatched CSeq gets 501.
        if req.method.is_known() {
            let mut r = Rejection::new(400);
            r.reason = "Bad Request (CSeq method does not match)".to_string();
            return Err(r);
        }
        return Err(Rejection::new(501));
    }
    Ok(())
}

/// Semantic checks a UAS applies before processing a request (RFC 3261 §8.2).
pub fn validate_request(req: &Request, policy: &UasPolicy) -> Result<(), Rejection> {
    check_syntax(req)?;
    if req.method == Method::Ack {
        return Ok(());
    }
    // §8.2.2.1: Request-URI scheme.
    if !policy
        .allowed_schemes
        .iter()
        .any(|s| s.matches(&req.uri.scheme))
    {
        return Err(Rejection::new(416));
    }
    // §8.2.2.3: Require (not applied to CANCEL, like ACK).
    if req.method != Method::Cancel {
        let mut unsupported = Vec::new();
        for line in req.headers.get_all("Require") {
            for tag in line.split(',').map(trim_ws).filter(|t| !t.is_empty()) {
                if !policy.supported.iter().any(|s| s.eq_ignore_ascii_case(tag)) {
                    unsupported.push(tag.to_string());
                }
            }
        }
        if !unsupported.is_empty() {
            let mut r = Rejection::new(420);
            r.extra_headers
                .push(("Unsupported".to_string(), unsupported.join(", ")));
            return Err(r);
        }
    }
    // §8.2.3: content processing.
    if !req.body.is_empty() {
        if let Some(enc) = req.headers.get("Content-Encoding") {
            if enc
                .split(',')
                .map(|e| trim_ws(e).to_ascii_lowercase())
                .any(|e| !e.is_empty() && e != "identity")
            {
                let mut r = Rejection::new(415);
                r.extra_headers
                    .push(("Accept-Encoding".to_string(), "identity".to_string()));
                return Err(r);
            }
        }
        let ok = match req.content_type() {
            Some(ct) => {
                let mt = media_type(ct);
                policy.accept.iter().any(|a| media_type(a) == mt)
            }
            None => false,
        };
        if !ok {
            let mut r = Rejection::new(415);
            r.extra_headers
                .push(("Accept".to_string(), policy.accept.join(", ")));
            return Err(r);
        }
    }
    // RFC 3261 §21.4.7 / RFC 4475 §3.3.15: an INVITE whose Accept excludes every
    // body type we can answer with.
    if req.method == Method::Invite && req.headers.contains("Accept") {
        let ranges: Vec<String> = req
            .headers
            .get_all("Accept")
            .flat_map(|l| l.split(','))
            .map(media_type)
            .filter(|m| !m.is_empty())
            .collect();
        let acceptable = policy
            .accept
            .iter()
            .map(|a| media_type(a))
            .any(|ours| ranges.iter().any(|r| media_matches(r, &ours)));
        if !acceptable {
            let mut r = Rejection::new(406);
            r.extra_headers
                .push(("Accept".to_string(), policy.accept.join(", ")));
            return Err(r);
        }
    }
    Ok(())
}

/// Checks a UAC applies to a received response before matching it to a transaction
/// (RFC 3261 §8.1.3.3, RFC 4475 §3.1.2.5): Via, From, To, Call-ID and CSeq must
/// parse. Errors are never answered ([`ParseError::response`] is `None`).
pub fn validate_response(resp: &Response) -> Result<(), ParseError> {
    let check = || -> Result<(), ParseError> {
        resp.top_via()?;
        resp.vias()?;
        resp.from()?;
        resp.to()?;
        resp.call_id()?;
        resp.cseq()?;
        Ok(())
    };
    check().map_err(ParseError::discard)
}
