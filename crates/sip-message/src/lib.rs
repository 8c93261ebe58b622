//! SIP message layer: parsing and serialization of RFC 3261 messages, tortured
//! with RFC 4475. No I/O, no allocation beyond the message itself, std only.
//!
//! * [`Message::parse`] parses one datagram or one framed stream message;
//!   [`stream_frame`] cuts messages out of a TCP/TLS byte stream (RFC 3261 §18.3).
//! * [`Request`]/[`Response`] hold raw, ordered header lines ([`Headers`]) and offer
//!   typed accessors ([`SipMessage`]): [`Via`], [`NameAddr`], [`CSeq`], [`Uri`].
//! * [`validate_request`] applies the UAS checks of RFC 3261 §8.2 and yields the
//!   response RFC 4475 expects (400, 416, 420, 415, 406, 501, ...).
#![deny(missing_docs)]

mod cseq;
mod error;
mod framing;
mod headers;
mod message;
mod method;
mod name_addr;
mod parser;
mod status;
mod syntax;
mod uri;
mod validate;
mod via;

pub use cseq::CSeq;
pub use error::{ErrorKind, ParseError};
pub use framing::{stream_frame, Frame, StreamFramer, StreamItem};
pub use headers::{canonical_name, same_name, Headers};
pub use message::{Message, Request, Response, SipMessage};
pub use method::Method;
pub use name_addr::NameAddr;
pub use parser::{MAX_BODY, MAX_HEADERS, MAX_HEADER_BYTES, MAX_HEAD_RAW, MAX_START_LINE};
pub use status::default_reason;
pub use uri::{Scheme, Uri};
pub use validate::{validate_request, validate_response, Rejection, UasPolicy};
pub use via::Via;
