//! DTMF and text messages on the runtime side.
//!
//! - DTMF: the account's method picks the way. `info` sends each digit in a SIP INFO (`application/dtmf-relay`,
//!   RFC 6086), one at a time in order; `rfc4733` sends telephone-events in the call's RTP stream (RFC 4733 §2.5,
//!   digits queued behind each other) and needs them negotiated in the call; `auto` takes RFC 4733 when the call
//!   negotiated it, INFO otherwise. Digits received either way become `dtmf` events.
//! - MESSAGE (RFC 3428): text to anyone (through the proxy when registered) or inside a call; the delivery result
//!   arrives as `message_result`, incoming text as `message`.

use super::{credentials, now, proxy_uri, Active, Env};
use crate::error::PhoneError;
use crate::event::{DtmfMethod, Flow, PhoneEvent};
use dialtone_sip::ua::{CallId, MessageConfig, MessageId};
use dialtone_sip_message::NameAddr;

/// How long each INFO digit says it lasts (the common dtmf-relay value).
const INFO_DIGIT_MS: u32 = 160;
/// The body type of our text messages.
const TEXT_PLAIN: &str = "text/plain;charset=UTF-8";

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')
}

impl Active {
    /// Sends `digits` in call `handle` with `method`; returns the method used.
    pub(super) fn send_dtmf(
        &mut self,
        env: &Env,
        handle: u64,
        digits: &str,
        method: DtmfMethod,
    ) -> Result<DtmfMethod, PhoneError> {
        let digits: Vec<char> = digits.chars().map(|c| c.to_ascii_uppercase()).collect();
        if digits.is_empty() || !digits.iter().all(|c| is_dtmf(*c)) {
            return Err(PhoneError::InvalidInput(format!(
                "\"{}\" is not a DTMF sequence: use 0-9, *, # and A-D",
                digits.iter().collect::<String>()
            )));
        }
        let id = self.find_call(handle)?;
        let info = self.calls.get(&id).ok_or(PhoneError::NoSuchCall(handle))?;
        let media = match info.session.as_ref() {
            Some(session) if info.established => session.media(),
            _ => {
                return Err(PhoneError::WrongState(format!(
                    "call {handle} is not established"
                )))
            }
        };
        let negotiated = media.telephone_event().is_some();
        let chosen = match method {
            DtmfMethod::Auto if negotiated => DtmfMethod::Rfc4733,
            DtmfMethod::Auto => DtmfMethod::Info,
            other => other,
        };
        if chosen == DtmfMethod::Rfc4733 {
            if !negotiated {
                let why = "the other party did not negotiate RFC 4733 telephone-events in this call; choose the \
                           INFO method";
                env.emit(PhoneEvent::Error {
                    message: format!("DTMF not sent: {why}"),
                    call: Some(handle),
                    code: None,
                });
                return Err(PhoneError::Unsupported(why.to_string()));
            }
            if !media.can_send_telephone_events() {
                return Err(PhoneError::WrongState(format!(
                    "call {handle}: the audio stream is not sending (held or inactive); DTMF cannot go out as \
                     RFC 4733 events now"
                )));
            }
            for digit in digits {
                let duration = media.send_dtmf(digit)?;
                env.emit(PhoneEvent::Dtmf {
                    id: handle,
                    digit,
                    flow: Flow::Sent,
                    method: DtmfMethod::Rfc4733,
                    duration_ms: Some(u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)),
                });
            }
            return Ok(DtmfMethod::Rfc4733);
        }
        for digit in digits {
            self.ua
                .send_info_dtmf(now(), id, digit, INFO_DIGIT_MS)
                .map_err(|e| PhoneError::WrongState(format!("call {handle}: {e}")))?;
            env.emit(PhoneEvent::Dtmf {
                id: handle,
                digit,
                flow: Flow::Sent,
                method: DtmfMethod::Info,
                duration_ms: Some(INFO_DIGIT_MS),
            });
        }
        Ok(DtmfMethod::Info)
    }

    pub(super) fn on_dtmf(&mut self, env: &Env, id: CallId, digit: char, duration_ms: Option<u32>) {
        if let Some(info) = self.calls.get(&id) {
            env.emit(PhoneEvent::Dtmf {
                id: info.handle,
                digit,
                flow: Flow::Received,
                method: DtmfMethod::Info,
                duration_ms,
            });
        }
    }

    pub(super) fn on_dtmf_failed(&mut self, env: &Env, id: CallId, digit: char, code: u16) {
        if let Some(info) = self.calls.get(&id) {
            env.emit(PhoneEvent::DtmfFailed {
                id: info.handle,
                digit,
                code,
                reason: format!(
                    "{} (the other party may not take DTMF by INFO)",
                    dialtone_sip_message::default_reason(code)
                ),
            });
        }
    }

    /// Sends `text` to `target` outside any call; returns the message handle.
    pub(super) async fn send_message(
        &mut self,
        env: &Env,
        target: &str,
        text: &str,
    ) -> Result<u64, PhoneError> {
        if text.is_empty() {
            return Err(PhoneError::InvalidInput("the message is empty".into()));
        }
        let uri = self.target_uri(target)?;
        let dest = self.dest_for(&uri).await?;
        let mut config = MessageConfig::text(uri, self.from()?, text, dest);
        config.auth = credentials(&self.account);
        config.route = self.account.outbound_proxy.as_ref().map(proxy_uri);
        let id = self.ua.send_message(now(), config);
        let handle = env.next_handle();
        self.messages.insert(id, handle);
        Ok(handle)
    }

    /// Sends `text` inside call `handle`; returns the message handle.
    pub(super) fn send_message_in_call(
        &mut self,
        env: &Env,
        handle: u64,
        text: &str,
    ) -> Result<u64, PhoneError> {
        if text.is_empty() {
            return Err(PhoneError::InvalidInput("the message is empty".into()));
        }
        let call = self.find_call(handle)?;
        let handle = env.next_handle();
        // The result may already be queued by the user agent: map the id before draining.
        let id = self
            .ua
            .send_message_in_call(now(), call, TEXT_PLAIN, text.as_bytes().to_vec())
            .map_err(|e| PhoneError::WrongState(e.to_string()))?;
        self.messages.insert(id, handle);
        Ok(handle)
    }

    pub(super) fn on_message_result(
        &mut self,
        env: &Env,
        id: MessageId,
        code: u16,
        reason: String,
    ) {
        if let Some(handle) = self.messages.remove(&id) {
            env.emit(PhoneEvent::MessageResult {
                id: handle,
                code,
                reason,
            });
        }
    }

    pub(super) fn on_message(
        &mut self,
        env: &Env,
        from: NameAddr,
        call: Option<CallId>,
        content_type: String,
        body: String,
    ) {
        env.emit(PhoneEvent::Message {
            from: from.uri.to_string(),
            display_name: from.display_name,
            call: call.and_then(|c| self.calls.get(&c)).map(|c| c.handle),
            content_type,
            body,
        });
    }
}
