//! Requests, responses and their serialization (RFC 3261 §7).
//!
//! Typed header accessors live once in the [`SipMessage`] trait and are mirrored as
//! inherent methods on [`Request`], [`Response`] and [`Message`], so callers need not
//! import the trait. On serialization Content-Length is always written from the body
//! length (RFC 3261 §18.3, §20.14).

use crate::cseq::CSeq;
use crate::error::{ErrorKind, ParseError};
use crate::headers::{same_name, write_line, Headers};
use crate::method::Method;
use crate::name_addr::NameAddr;
use crate::syntax::{split_commas, trim_ws};
use crate::uri::Uri;
use crate::via::Via;

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method from the Request-Line.
    pub method: Method,
    /// Request-URI.
    pub uri: Uri,
    /// Header fields in order.
    pub headers: Headers,
    /// Body octets.
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100..=699.
    pub status: u16,
    /// Reason phrase (UTF-8, may be empty).
    pub reason: String,
    /// Header fields in order.
    pub headers: Headers,
    /// Body octets.
    pub body: Vec<u8>,
}

/// Either kind of message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

/// Header fields that may appear only once (RFC 3261 §7.3.1, RFC 4475 §3.3.8).
fn single<'a>(headers: &'a Headers, name: &'static str) -> Result<&'a str, ParseError> {
    let mut it = headers.get_all(name);
    let first = it
        .next()
        .ok_or_else(|| ParseError::new(ErrorKind::Missing, format!("missing {name}")))?;
    if it.next().is_some() {
        return Err(ParseError::new(
            ErrorKind::Duplicate,
            format!("{name} appears more than once"),
        ));
    }
    Ok(first)
}

/// Parse every comma-separated name-addr of every line called `name`.
fn name_addrs(headers: &Headers, name: &str) -> Result<Vec<NameAddr>, ParseError> {
    let mut out = Vec::new();
    for line in headers.get_all(name) {
        for element in split_commas(line)? {
            out.push(NameAddr::parse(element)?);
        }
    }
    Ok(out)
}

/// Typed access to the header fields common to requests and responses.
pub trait SipMessage {
    /// The header fields.
    fn headers(&self) -> &Headers;

    /// Every Via entry, top first, across lines and comma lists.
    fn vias(&self) -> Result<Vec<Via>, ParseError> {
        let mut out = Vec::new();
        for line in self.headers().get_all("Via") {
            out.extend(Via::parse_list(line)?);
        }
        Ok(out)
    }

    /// The topmost Via (error if there is none).
    fn top_via(&self) -> Result<Via, ParseError> {
        let line = self
            .headers()
            .get("Via")
            .ok_or_else(|| ParseError::new(ErrorKind::Missing, "missing Via"))?;
        Via::parse_list(line)?
            .into_iter()
            .next()
            .ok_or_else(|| ParseError::new(ErrorKind::Missing, "missing Via"))
    }

    /// Call-ID (exactly one, non-empty, no white space).
    fn call_id(&self) -> Result<&str, ParseError> {
        let v = trim_ws(single(self.headers(), "Call-ID")?);
        if v.is_empty() || v.contains([' ', '\t']) {
            return Err(ParseError::header("malformed Call-ID"));
        }
        Ok(v)
    }

    /// CSeq (exactly one).
    fn cseq(&self) -> Result<CSeq, ParseError> {
        CSeq::parse(single(self.headers(), "CSeq")?)
    }

    /// From (exactly one).
    fn from(&self) -> Result<NameAddr, ParseError> {
        NameAddr::parse(single(self.headers(), "From")?)
    }

    /// To (exactly one).
    fn to(&self) -> Result<NameAddr, ParseError> {
        NameAddr::parse(single(self.headers(), "To")?)
    }

    /// Every Contact entry (a `*` Contact is an error here; check the raw header).
    fn contacts(&self) -> Result<Vec<NameAddr>, ParseError> {
        name_addrs(self.headers(), "Contact")
    }

    /// Every Record-Route entry, in order.
    fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        name_addrs(self.headers(), "Record-Route")
    }

    /// Every Route entry, in order.
    fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        name_addrs(self.headers(), "Route")
    }

    /// The raw Content-Type value, if any.
    fn content_type(&self) -> Option<&str> {
        self.headers().get("Content-Type")
    }

    /// The Expires header as delta-seconds; `None` if absent or not a 32-bit number
    /// (RFC 3261 §20.19: malformed values are treated as the default by the caller).
    fn expires(&self) -> Option<u32> {
        let v = trim_ws(self.headers().get("Expires")?);
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        v.parse().ok()
    }

    /// Max-Forwards (RFC 3261 §20.22): `Ok(None)` if absent, an error if repeated,
    /// not a number or above 255.
    fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        if self.headers().get("Max-Forwards").is_none() {
            return Ok(None);
        }
        let v = trim_ws(single(self.headers(), "Max-Forwards")?);
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::header("Max-Forwards is not a number"));
        }
        let digits = v.trim_start_matches('0');
        if digits.len() > 3 {
            return Err(ParseError::header("Max-Forwards above 255"));
        }
        let n: u16 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| ParseError::header("Max-Forwards is not a number"))?
        };
        u8::try_from(n)
            .map(Some)
            .map_err(|_| ParseError::header("Max-Forwards above 255"))
    }
}

impl SipMessage for Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl SipMessage for Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl SipMessage for Message {
    fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }
}

/// Inherent copies of the [`SipMessage`] accessors so callers need not import the trait.
macro_rules! inherent_accessors {
    ($ty:ty) => {
        impl $ty {
            /// See [`SipMessage::vias`].
            pub fn vias(&self) -> Result<Vec<Via>, ParseError> {
                <Self as SipMessage>::vias(self)
            }
            /// See [`SipMessage::top_via`].
            pub fn top_via(&self) -> Result<Via, ParseError> {
                <Self as SipMessage>::top_via(self)
            }
            /// See [`SipMessage::call_id`].
            pub fn call_id(&self) -> Result<&str, ParseError> {
                <Self as SipMessage>::call_id(self)
            }
            /// See [`SipMessage::cseq`].
            pub fn cseq(&self) -> Result<CSeq, ParseError> {
                <Self as SipMessage>::cseq(self)
            }
            /// See [`SipMessage::from`].
            pub fn from(&self) -> Result<NameAddr, ParseError> {
                <Self as SipMessage>::from(self)
            }
            /// See [`SipMessage::to`].
            pub fn to(&self) -> Result<NameAddr, ParseError> {
                <Self as SipMessage>::to(self)
            }
            /// See [`SipMessage::contacts`].
            pub fn contacts(&self) -> Result<Vec<NameAddr>, ParseError> {
                <Self as SipMessage>::contacts(self)
            }
            /// See [`SipMessage::record_routes`].
            pub fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
                <Self as SipMessage>::record_routes(self)
            }
            /// See [`SipMessage::routes`].
            pub fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
                <Self as SipMessage>::routes(self)
            }
            /// See [`SipMessage::content_type`].
            pub fn content_type(&self) -> Option<&str> {
                <Self as SipMessage>::content_type(self)
            }
            /// See [`SipMessage::expires`].
            pub fn expires(&self) -> Option<u32> {
                <Self as SipMessage>::expires(self)
            }
            /// See [`SipMessage::max_forwards`].
            pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
                <Self as SipMessage>::max_forwards(self)
            }
        }
    };
}

inherent_accessors!(Request);
inherent_accessors!(Response);
inherent_accessors!(Message);

/// Write header lines with Content-Length replaced by `body_len`: the first
/// Content-Length line (any spelling) keeps its name and position, later ones are
/// dropped, and one is appended when there was none.
fn write_head(out: &mut String, headers: &Headers, body_len: usize) {
    let mut wrote_len = false;
    for (name, value) in headers.iter() {
        if same_name(name, "Content-Length") {
            if !wrote_len {
                // Writing to a String cannot fail.
                let _ = write_line(out, name, &body_len.to_string());
                wrote_len = true;
            }
        } else {
            let _ = write_line(out, name, value);
        }
    }
    if !wrote_len {
        let _ = write_line(out, "Content-Length", &body_len.to_string());
    }
    out.push_str("\r\n");
}

fn finish(head: String, body: &[u8]) -> Vec<u8> {
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// CR/LF in a start-line component would split the line; replace them.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, uri: Uri) -> Request {
        Request {
            method,
            uri,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Serialize (Content-Length from `body.len()`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} SIP/2.0\r\n",
            one_line(self.method.as_str()),
            one_line(&self.uri.to_string())
        );
        write_head(&mut head, &self.headers, self.body.len());
        finish(head, &self.body)
    }
}

impl Response {
    /// A response with no headers and an empty body.
    pub fn new(status: u16, reason: &str) -> Response {
        Response {
            status,
            reason: reason.to_string(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// A response to `req` with its Via (all, in order), From, To, Call-ID and CSeq
    /// copied (RFC 3261 §8.2.6.2). The caller adds a To-tag where needed.
    pub fn for_request(req: &Request, status: u16, reason: &str) -> Response {
        let mut resp = Response::new(status, reason);
        for (name, value) in req.headers.iter() {
            if ["Via", "From", "To", "Call-ID", "CSeq"]
                .iter()
                .any(|n| same_name(name, n))
            {
                resp.headers.push(name, value);
            }
        }
        resp
    }

    /// Serialize (Content-Length from `body.len()`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("SIP/2.0 {:03} {}\r\n", self.status, one_line(&self.reason));
        write_head(&mut head, &self.headers, self.body.len());
        finish(head, &self.body)
    }
}

impl Message {
    /// Parse one whole message: a datagram, or a frame cut by [`crate::stream_frame`].
    ///
    /// Leading CRLFs are skipped (RFC 3261 §7.5). With a Content-Length, extra
    /// octets are discarded and missing ones are an error (RFC 3261 §18.3); without
    /// one, the body is the rest of the input (datagram rule).
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        crate::parser::parse_message(bytes)
    }

    /// Serialize (Content-Length from the body length).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }

    /// The request, if this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }

    /// The response, if this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }

    /// The body octets.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }
}
