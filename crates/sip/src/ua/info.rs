//! DTMF over SIP INFO (RFC 6086 carrying the de-facto `application/dtmf-relay` and
//! `application/dtmf` bodies), the fall-back for peers that do not negotiate RFC 4733.
//!
//! Sending: [`UserAgent::send_info_dtmf`] sends `Signal=5\r\nDuration=160\r\n` as
//! `application/dtmf-relay`. Digits go one INFO at a time, in order: the next waits for the
//! previous one's final response. A refusal is reported as [`UaEvent::DtmfFailed`].
//!
//! Receiving: an INFO in a call with `application/dtmf-relay` (`Signal=` a digit, or the
//! RFC 4733 event number 10–15 for `*`, `#`, `A`–`D`; optional `Duration=` in ms) or
//! `application/dtmf` (the digit alone) gets 200 and [`UaEvent::Dtmf`]; an INFO without body
//! (a keep-alive) gets 200; a body of another type 415 (with Accept); an unreadable digit 400.

use std::time::Instant;

use dialtone_sip_message::{Method, Request};

use super::call::{Call, Phase};
use super::context::Ctx;
use super::incoming::{media_type, respond};
use super::request::{Outcome, Purpose};
use super::{CallId, UaError, UaEvent, UserAgent};
use crate::transaction::TransactionId;

impl UserAgent {
    /// Sends DTMF `digit` (`0`–`9`, `*`, `#`, `A`–`D`) lasting `duration_ms` in an INFO
    /// (`application/dtmf-relay`). [`UaError::InvalidDigit`] for anything else.
    pub fn send_info_dtmf(
        &mut self,
        now: Instant,
        id: CallId,
        digit: char,
        duration_ms: u32,
    ) -> Result<(), UaError> {
        let digit = digit.to_ascii_uppercase();
        if !is_dtmf(digit) {
            return Err(UaError::InvalidDigit(digit));
        }
        self.with_call(now, id, |call, ctx| {
            call.queue_dtmf(digit, duration_ms, ctx)
        })
    }
}

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')
}

/// A digit from a `Signal` value: the character itself or its RFC 4733 event number.
fn signal_digit(value: &str) -> Option<char> {
    let value = value.trim();
    let mut chars = value.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        let c = c.to_ascii_uppercase();
        return is_dtmf(c).then_some(c);
    }
    match value.parse::<u8>().ok()? {
        10 => Some('*'),
        11 => Some('#'),
        n @ 12..=15 => Some(char::from(b'A' + (n - 12))),
        _ => None,
    }
}

/// Reads a DTMF INFO body of `media` type: the digit and the duration in ms, if given.
fn parse_dtmf(media: &str, body: &[u8]) -> Option<(char, Option<u32>)> {
    let text = std::str::from_utf8(body).ok()?;
    if media == "application/dtmf" {
        return Some((signal_digit(text)?, None));
    }
    let (mut digit, mut duration) = (None, None);
    for line in text.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "signal" => digit = signal_digit(value),
            "duration" => duration = value.trim().parse().ok(),
            _ => {}
        }
    }
    Some((digit?, duration))
}

impl Call {
    fn queue_dtmf(
        &mut self,
        digit: char,
        duration_ms: u32,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), UaError> {
        if self.phase != Phase::Confirmed {
            return Err(UaError::WrongState {
                call: self.id,
                command: "send_info_dtmf",
            });
        }
        self.dtmf_queue.push_back((digit, duration_ms));
        self.send_next_dtmf(ctx);
        Ok(())
    }

    /// Sends the next queued digit unless one is in flight.
    fn send_next_dtmf(&mut self, ctx: &mut Ctx<'_>) {
        let in_flight = self
            .requests
            .iter()
            .any(|r| matches!(r.purpose, Purpose::Dtmf(_)));
        if in_flight || self.phase != Phase::Confirmed {
            return;
        }
        let Some((digit, duration)) = self.dtmf_queue.pop_front() else {
            return;
        };
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        let mut info = dialog.make_request(Method::Info);
        info.headers.push("Content-Type", "application/dtmf-relay");
        info.body = format!("Signal={digit}\r\nDuration={duration}\r\n").into_bytes();
        if !self.send_in_dialog(info, Purpose::Dtmf(digit), ctx) {
            ctx.event(UaEvent::DtmfFailed {
                id: self.id,
                digit,
                code: 503,
            });
        }
    }

    /// How one of our DTMF INFOs ended; then the next digit goes.
    pub(crate) fn on_dtmf_outcome(&mut self, digit: char, outcome: Outcome, ctx: &mut Ctx<'_>) {
        let code = outcome.status();
        if !(200..300).contains(&code) {
            ctx.event(UaEvent::DtmfFailed {
                id: self.id,
                digit,
                code,
            });
            self.on_dialog_error(code, ctx);
        }
        self.send_next_dtmf(ctx);
    }

    /// An INFO in the call (server transaction `tid`). Its body type was already checked
    /// against the INFO types we accept.
    pub(crate) fn on_info(&mut self, tid: TransactionId, request: &Request, ctx: &mut Ctx<'_>) {
        if request.body.is_empty() {
            return respond(ctx, tid, request, 200, None);
        }
        let media = media_type(request.content_type().unwrap_or_default());
        match parse_dtmf(&media, &request.body) {
            Some((digit, duration_ms)) => {
                respond(ctx, tid, request, 200, None);
                ctx.event(UaEvent::Dtmf {
                    id: self.id,
                    digit,
                    duration_ms,
                });
            }
            None => respond(ctx, tid, request, 400, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_dtmf_bodies() {
        let relay = "application/dtmf-relay";
        assert_eq!(
            parse_dtmf(relay, b"Signal=5\r\nDuration=160\r\n"),
            Some(('5', Some(160)))
        );
        assert_eq!(
            parse_dtmf(relay, b"signal = #\nduration=100"),
            Some(('#', Some(100)))
        );
        assert_eq!(parse_dtmf(relay, b"Signal=11\r\n"), Some(('#', None)));
        assert_eq!(parse_dtmf(relay, b"Signal=15\r\n"), Some(('D', None)));
        assert_eq!(parse_dtmf(relay, b"Signal=16\r\n"), None);
        assert_eq!(parse_dtmf(relay, b"Duration=160\r\n"), None);
        assert_eq!(parse_dtmf(relay, b"Signal=x\r\n"), None);
        assert_eq!(parse_dtmf("application/dtmf", b"7\r\n"), Some(('7', None)));
        assert_eq!(parse_dtmf("application/dtmf", b"10"), Some(('*', None)));
        assert_eq!(parse_dtmf("application/dtmf", b"\xff"), None);
    }
}
