//! Message framing on stream transports (RFC 3261 §18.3) and CRLF keep-alives
//! (RFC 5626 §3.5.1: `CRLFCRLF` ping, `CRLF` pong).

use crate::error::{ErrorKind, ParseError};
use crate::headers::same_name;
use crate::parser::{find_head_end_from, parse_content_length};

/// What the start of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet for a whole message; read more.
    Incomplete,
    /// This many leading CR/LF bytes are a keep-alive (4 = `CRLFCRLF` ping, 2 = `CRLF`
    /// pong, 1 = stray LF): drop them and call again.
    KeepAlive(usize),
    /// The first message (head plus Content-Length octets of body) is this long.
    Message(usize),
}

/// Find the first message in a stream buffer.
///
/// Content-Length is mandatory on streams; when absent it is taken as 0. Errors
/// (conflicting or malformed Content-Length, oversized head or body) mean the
/// framing is lost and the connection should be closed; a malformed message that
/// still frames correctly is reported by [`crate::Message::parse`] on the frame.
/// A buffer holding only `"\r\n"` is reported as a pong; `"\r\n\r"` is incomplete.
pub fn stream_frame(buf: &[u8]) -> Result<Frame, ParseError> {
    frame_from(buf, &mut 0)
}

/// [`stream_frame`] resuming the search for the end of the head at `*resume`.
fn frame_from(buf: &[u8], resume: &mut usize) -> Result<Frame, ParseError> {
    Ok(match step(buf, resume)? {
        Step::Frame(f) => f,
        Step::NeedBody(_) => Frame::Incomplete,
    })
}

/// Outcome of one framing step: a frame, or a complete head whose message will be
/// this many bytes long once the body has arrived.
enum Step {
    Frame(Frame),
    NeedBody(usize),
}

fn step(buf: &[u8], resume: &mut usize) -> Result<Step, ParseError> {
    match buf {
        [] => return Ok(Step::Frame(Frame::Incomplete)),
        [b'\r', b'\n', b'\r', b'\n', ..] => return Ok(Step::Frame(Frame::KeepAlive(4))),
        [b'\r', b'\n', b'\r'] => return Ok(Step::Frame(Frame::Incomplete)),
        [b'\r', b'\n', ..] => return Ok(Step::Frame(Frame::KeepAlive(2))),
        [b'\n', ..] => return Ok(Step::Frame(Frame::KeepAlive(1))),
        [b'\r'] => return Ok(Step::Frame(Frame::Incomplete)),
        [b'\r', _, ..] => {
            return Err(ParseError::new(ErrorKind::StartLine, "stray CR before message").discard())
        }
        _ => {}
    }
    let Some(head_end) = find_head_end_from(buf, resume).map_err(ParseError::discard)? else {
        return Ok(Step::Frame(Frame::Incomplete));
    };
    let body = content_length(&buf[..head_end]).map_err(ParseError::discard)?;
    let total = head_end + body;
    if buf.len() < total {
        Ok(Step::NeedBody(total))
    } else {
        Ok(Step::Frame(Frame::Message(total)))
    }
}

/// One item cut from a stream by [`StreamFramer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// A keep-alive of this many CR/LF bytes (4 = ping, which wants a CRLF pong).
    KeepAlive(usize),
    /// The bytes of one whole message, for [`crate::Message::parse`].
    Message(Vec<u8>),
}

/// Buffering, incremental version of [`stream_frame`] for one connection: it
/// remembers how far it has searched for the end of the head, so a peer sending a
/// head one byte at a time costs linear, not quadratic, time.
#[derive(Debug, Default, Clone)]
pub struct StreamFramer {
    buf: Vec<u8>,
    /// Where the search for the end of the head resumes.
    resume: usize,
    /// Length of the current message once its head is complete.
    total: Option<usize>,
}

impl StreamFramer {
    /// An empty framer.
    pub fn new() -> Self {
        StreamFramer::default()
    }

    /// Append received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered and not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next keep-alive or message, `Ok(None)` if more bytes are needed. After an
    /// error the connection's framing is lost: close it.
    pub fn next_item(&mut self) -> Result<Option<StreamItem>, ParseError> {
        let total = match self.total {
            Some(total) => total,
            None => match step(&self.buf, &mut self.resume)? {
                Step::Frame(Frame::Incomplete) => return Ok(None),
                Step::Frame(Frame::KeepAlive(n)) => {
                    self.buf.drain(..n);
                    self.resume = 0;
                    return Ok(Some(StreamItem::KeepAlive(n)));
                }
                Step::Frame(Frame::Message(total)) | Step::NeedBody(total) => total,
            },
        };
        if self.buf.len() < total {
            self.total = Some(total);
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        let msg = std::mem::replace(&mut self.buf, rest);
        self.resume = 0;
        self.total = None;
        Ok(Some(StreamItem::Message(msg)))
    }
}
/// Content-Length of a raw head, scanning only header names (so a message with
/// some other malformed header still frames). Folded values are joined.
fn content_length(head: &[u8]) -> Result<usize, ParseError> {
    let mut found: Option<usize> = None;
    let mut collecting: Option<Vec<u8>> = None;
    let mut finish = |v: Option<Vec<u8>>| -> Result<(), ParseError> {
        if let Some(v) = v {
            let text = String::from_utf8_lossy(&v);
            let n = parse_content_length(&text)?;
            if found.replace(n).is_some() {
                return Err(ParseError::new(
                    ErrorKind::ContentLength,
                    "multiple Content-Length header fields",
                ));
            }
        }
        Ok(())
    };
    // Skip the start line.
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(v) = collecting.as_mut() {
                v.push(b' ');
                v.extend_from_slice(line);
            }
            continue;
        }
        finish(collecting.take())?;
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&line[..colon]);
            if same_name(name.trim_end_matches([' ', '\t']), "Content-Length") {
                collecting = Some(line[colon + 1..].to_vec());
            }
        }
    }
    finish(collecting.take())?;
    Ok(found.unwrap_or(0))
}
