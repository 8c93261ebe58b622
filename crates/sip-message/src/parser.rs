//! Message parsing: start line, header section, body (RFC 3261 §7, §18.3, §25.1).
//!
//! Strict where RFC 4475 §3.1.2 says to reject (exactly one SP between Request-Line
//! elements, SIP/2.0 only, header names must be tokens followed by a colon, a single
//! non-negative Content-Length that the datagram satisfies) and lenient where
//! §3.1.1 says to accept (folding, LWS before the colon, bare-LF line ends).
//! Bounded: at most [`MAX_HEADERS`] header lines and [`MAX_HEADER_BYTES`] of header
//! text, bodies up to [`MAX_BODY`]; everything is a single linear pass.

use crate::error::{ErrorKind, ParseError};
use crate::headers::{same_name, Headers};
use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::syntax::{is_token, is_ws};
use crate::uri::Uri;

/// Maximum number of header lines (Content-Length lines not counted).
pub const MAX_HEADERS: usize = 256;
/// Maximum header text (sum of names and values, Content-Length not counted).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Maximum length of the start line (a longer Request-Line is answered with 414).
pub const MAX_START_LINE: usize = 8 * 1024;
/// Maximum raw size of start line plus header section, blank line included.
pub const MAX_HEAD_RAW: usize = 2 * MAX_HEADER_BYTES + 16 * 1024;
/// Maximum body size (Content-Length above this is rejected).
pub const MAX_BODY: usize = 1024 * 1024;

/// Skip CR / LF before the start line (RFC 3261 §7.5).
pub(crate) fn skip_leading_crlf(buf: &[u8]) -> &[u8] {
    let n = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    &buf[n..]
}

/// Offset just past the empty line that ends the header section, `Ok(None)` if
/// there is none yet, an error if none appears within [`MAX_HEAD_RAW`] bytes.
/// `buf` must not start with CR/LF.
pub(crate) fn find_head_end(buf: &[u8]) -> Result<Option<usize>, ParseError> {
    find_head_end_from(buf, &mut 0)
}

/// Like [`find_head_end`], resuming at `*resume` (a line start from an earlier call
/// on a prefix of the same buffer) and leaving there the start of the last,
/// unfinished line, so that feeding a head byte by byte stays linear.
pub(crate) fn find_head_end_from(
    buf: &[u8],
    resume: &mut usize,
) -> Result<Option<usize>, ParseError> {
    let limit = buf.len().min(MAX_HEAD_RAW);
    let first = (*resume).min(limit);
    let mut line_start = first;
    for i in first..limit {
        if buf[i] == b'\n' {
            let line = &buf[line_start..i];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() && line_start > 0 {
                *resume = 0;
                return Ok(Some(i + 1));
            }
            line_start = i + 1;
        }
    }
    *resume = line_start;
    if buf.len() >= MAX_HEAD_RAW {
        return Err(ParseError::new(
            ErrorKind::TooLarge,
            "header section too large",
        ));
    }
    Ok(None)
}

/// Lines of the head with their CR stripped.
fn lines(head: &str) -> impl Iterator<Item = &str> {
    head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// Append one physical line's text to a header value being unfolded.
fn push_piece(value: &mut String, piece: &str) {
    let piece = crate::syntax::trim_ws(piece);
    if piece.is_empty() {
        return;
    }
    if !value.is_empty() {
        value.push(' ');
    }
    value.push_str(piece);
}

/// Split a head (start line + header lines, UTF-8) into the start line and headers.
pub(crate) fn parse_head(head: &str) -> Result<(&str, Headers), ParseError> {
    let mut it = lines(head);
    let start = it.next().unwrap_or("");
    let mut headers = Headers::new();
    let mut current: Option<(&str, String)> = None;
    let mut count = 0usize;
    let mut size = 0usize;
    let mut flush =
        |cur: Option<(&str, String)>, headers: &mut Headers| -> Result<(), ParseError> {
            if let Some((name, value)) = cur {
                if !same_name(name, "Content-Length") {
                    count += 1;
                    size += name.len() + value.len();
                    if count > MAX_HEADERS {
                        return Err(ParseError::new(
                            ErrorKind::TooLarge,
                            "too many header lines",
                        ));
                    }
                    if size > MAX_HEADER_BYTES {
                        return Err(ParseError::new(
                            ErrorKind::TooLarge,
                            "header section too large",
                        ));
                    }
                }
                headers.push(name, value);
            }
            Ok(())
        };
    for line in it {
        if line.is_empty() {
            break;
        }
        if line.contains('\r') {
            return Err(ParseError::header("bare CR in header section"));
        }
        if line.as_bytes().first().copied().is_some_and(is_ws) {
            match current.as_mut() {
                Some((_, value)) => {
                    push_piece(value, line);
                    if value.len() > MAX_HEADER_BYTES {
                        return Err(ParseError::new(ErrorKind::TooLarge, "header too large"));
                    }
                }
                None => return Err(ParseError::header("continuation line before any header")),
            }
            continue;
        }
        flush(current.take(), &mut headers)?;
        let colon = line.find(':').ok_or_else(|| {
            ParseError::header(format!(
                "header line without colon: {:?}",
                crate::syntax::short(line)
            ))
        })?;
        let name = line[..colon].trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(ParseError::header(format!(
                "invalid header name {:?}",
                crate::syntax::short(name)
            )));
        }
        let mut value = String::new();
        push_piece(&mut value, &line[colon + 1..]);
        current = Some((name, value));
    }
    flush(current.take(), &mut headers)?;
    Ok((start, headers))
}

/// `SIP/2.0` compared case-insensitively; a different `SIP/x.y` is a version error.
fn check_version(v: &str) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let looks_like_version = v.len() > 4
        && v.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/")
        && v.get(4..)
            .and_then(|r| r.split_once('.'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.bytes().all(|c| c.is_ascii_digit())
            });
    if looks_like_version {
        Err(ParseError::new(
            ErrorKind::Version,
            format!("unsupported version {v}"),
        ))
    } else {
        Err(ParseError::new(
            ErrorKind::StartLine,
            "missing or malformed SIP-Version",
        ))
    }
}

/// `Request-Line = Method SP Request-URI SP SIP-Version` (exactly one SP each,
/// RFC 4475 §3.1.2.8-10; no `<>` around the URI, §3.1.2.7).
fn parse_request_line(line: &str) -> Result<(Method, Uri), ParseError> {
    let parts: Vec<&str> = line.splitn(4, ' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        // A trailing version with the wrong number (SIP/7.0) still deserves 505 if
        // the rest is well-formed; otherwise it is a plain syntax error.
        return Err(ParseError::new(
            ErrorKind::StartLine,
            "Request-Line must be `Method SP Request-URI SP SIP-Version`",
        ));
    }
    let method: Method = parts[0].parse()?;
    check_version(parts[2])?;
    let uri = Uri::parse(parts[1])?;
    Ok((method, uri))
}

/// `Status-Line = SIP-Version SP Status-Code SP Reason-Phrase` (3-digit code,
/// 100..=699, RFC 4475 §3.1.2.19; empty reason allowed, §3.1.1.13).
fn parse_status_line(line: &str) -> Result<(u16, String), ParseError> {
    let (version, rest) = line
        .split_once(' ')
        .ok_or_else(|| ParseError::new(ErrorKind::StartLine, "malformed Status-Line"))?;
    check_version(version)?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(
            ErrorKind::StartLine,
            "status code must be three digits",
        ));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| ParseError::new(ErrorKind::StartLine, "bad status code"))?;
    if !(100..=699).contains(&status) {
        return Err(ParseError::new(
            ErrorKind::StartLine,
            "status code out of range",
        ));
    }
    if reason.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ParseError::new(
            ErrorKind::StartLine,
            "control character in reason phrase",
        ));
    }
    Ok((status, reason.to_string()))
}

/// Parse a Content-Length value: `1*DIGIT`, at most [`MAX_BODY`].
pub(crate) fn parse_content_length(v: &str) -> Result<usize, ParseError> {
    let v = crate::syntax::trim_ws(v);
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(
            ErrorKind::ContentLength,
            format!(
                "Content-Length {:?} is not a number",
                crate::syntax::short(v)
            ),
        ));
    }
    let digits = v.trim_start_matches('0');
    if digits.len() > 9 {
        return Err(ParseError::new(
            ErrorKind::TooLarge,
            "Content-Length too large",
        ));
    }
    let n: usize = if digits.is_empty() {
        0
    } else {
        digits
            .parse()
            .map_err(|_| ParseError::new(ErrorKind::ContentLength, "bad Content-Length"))?
    };
    if n > MAX_BODY {
        return Err(ParseError::new(
            ErrorKind::TooLarge,
            "Content-Length too large",
        ));
    }
    Ok(n)
}

/// The single Content-Length of a header list, if any (RFC 4475 §3.3.9: several
/// are an error).
fn content_length(headers: &Headers) -> Result<Option<usize>, ParseError> {
    let mut it = headers.get_all("Content-Length");
    let Some(first) = it.next() else {
        return Ok(None);
    };
    if it.next().is_some() {
        return Err(ParseError::new(
            ErrorKind::ContentLength,
            "multiple Content-Length header fields",
        ));
    }
    parse_content_length(first).map(Some)
}

/// See [`Message::parse`].
pub(crate) fn parse_message(bytes: &[u8]) -> Result<Message, ParseError> {
    let buf = skip_leading_crlf(bytes);
    if buf.is_empty() {
        return Err(ParseError::new(ErrorKind::Empty, "no message").discard());
    }
    let first_line = &buf[..buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len())];
    let is_response = first_line.len() >= 4 && first_line[..4].eq_ignore_ascii_case(b"SIP/");
    // A request can be answered only if it at least starts like one.
    let method_tok = first_line.split(|&b| b == b' ').next().unwrap_or(&[]);
    let answerable = !is_response
        && !method_tok.is_empty()
        && method_tok.iter().all(|&b| crate::syntax::is_token_char(b));
    let fail = |e: ParseError| if answerable { e } else { e.discard() };

    let head_end = match find_head_end(buf) {
        Ok(Some(end)) => end,
        Ok(None) => {
            let mut err = ParseError::header("header section not terminated by an empty line");
            if let Ok(text) = std::str::from_utf8(buf) {
                if let Ok((_, headers)) = parse_head(text) {
                    err = err.with_headers(headers);
                }
            }
            return Err(fail(err));
        }
        Err(e) => return Err(fail(e)),
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| {
        fail(ParseError::new(
            ErrorKind::Utf8,
            "header section is not UTF-8",
        ))
    })?;
    let (start, headers) = parse_head(head).map_err(fail)?;
    if start.len() > MAX_START_LINE {
        let e = ParseError::new(ErrorKind::TooLarge, "start line too long")
            .with_reply(414, "Request-URI Too Long");
        return Err(fail(e).with_headers(headers));
    }

    let available = &buf[head_end..];
    let body_len = |headers: &Headers| -> Result<usize, ParseError> {
        match content_length(headers)? {
            Some(n) if n > available.len() => Err(ParseError::new(
                ErrorKind::ContentLength,
                format!(
                    "Content-Length {n} but only {} body octets",
                    available.len()
                ),
            )),
            Some(n) => Ok(n),
            None => Ok(available.len()),
        }
    };

    if is_response {
        let (status, reason) = parse_status_line(start).map_err(ParseError::discard)?;
        let n = body_len(&headers).map_err(ParseError::discard)?;
        Ok(Message::Response(Response {
            status,
            reason,
            headers,
            body: available[..n].to_vec(),
        }))
    } else {
        let (method, uri) = match parse_request_line(start) {
            Ok(v) => v,
            Err(e) => return Err(fail(e).with_headers(headers)),
        };
        let n = match body_len(&headers) {
            Ok(n) => n,
            Err(e) => return Err(fail(e).with_headers(headers)),
        };
        Ok(Message::Request(Request {
            method,
            uri,
            headers,
            body: available[..n].to_vec(),
        }))
    }
}
