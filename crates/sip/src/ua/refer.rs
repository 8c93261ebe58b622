//! Call transfer (RFC 3515 REFER with its implicit `refer` subscription, RFC 5589 call flows).
//!
//! Transferor (we send REFER in the call):
//! - blind: [`UserAgent::refer`] puts the new party in `Refer-To`;
//! - attended: [`UserAgent::refer_with_replaces`] refers to the remote target of our consult
//!   call with a `Replaces` URI header naming that call (RFC 3891), so the target swaps it for
//!   the transferee's new call.
//!
//! The transferee reports its new call's progress in NOTIFYs (`Event: refer`, a
//! `message/sipfrag` body such as `SIP/2.0 180 Ringing`), answered 200 and reported as
//! [`UaEvent::TransferProgress`]. A 2xx status means the transfer worked: we hang up with BYE
//! ([`EndReason::Transferred`]). A REFER refused (or unanswered) is reported with its status;
//! the call stays, to be resumed.
//!
//! Transferee (the peer REFERs us): 202 Accepted, a NOTIFY `100 Trying` at once (§2.4.4), and
//! [`UaEvent::TransferRequested`]; the application places the new call (an
//! [`super::InviteConfig`] whose target is the Refer-To URI carries any `Replaces` along) and
//! reports its progress with [`UserAgent::notify_transfer_progress`], which sends the NOTIFYs;
//! a final status ends the subscription (`Subscription-State: terminated`). A REFER outside a
//! call is refused with 403.

use std::time::Instant;

use dialtone_sip_message::{Method, NameAddr, Request, Response, Uri};

use super::call::{Call, EndReason, Phase};
use super::context::Ctx;
use super::incoming::respond;
use super::replaces::{escape_hvalue, Replaces};
use super::request::{Outcome, Purpose};
use super::{CallId, UaError, UaEvent, UserAgent};
use crate::transaction::TransactionId;

/// Lifetime we give the implicit subscription while the new call is under way.
const SUBSCRIPTION_EXPIRES: u32 = 60;

impl UserAgent {
    /// Blind transfer: asks the peer of call `id` to call `target` (REFER, RFC 3515).
    /// Progress arrives as [`UaEvent::TransferProgress`]; on success we hang up.
    pub fn refer(&mut self, now: Instant, id: CallId, target: Uri) -> Result<(), UaError> {
        self.with_call(now, id, |call, ctx| call.refer(target, ctx))
    }

    /// Attended transfer: asks the peer of call `id` to call the party of our call `other`,
    /// replacing `other` (Refer-To with `?Replaces=`, RFC 5589 §7). On success we hang up `id`;
    /// the target ends `other` itself.
    pub fn refer_with_replaces(
        &mut self,
        now: Instant,
        id: CallId,
        other: CallId,
    ) -> Result<(), UaError> {
        let consult = self
            .usages
            .calls
            .iter()
            .find(|c| c.id == other && id != other)
            .ok_or(UaError::UnknownCall(other))?;
        let dialog = match (&consult.dialog, consult.phase) {
            (Some(d), Phase::Confirmed) => d,
            _ => {
                return Err(UaError::WrongState {
                    call: other,
                    command: "refer_with_replaces",
                })
            }
        };
        let mut target = dialog.remote_target().clone();
        let replaces = Replaces::for_peer_of(dialog).to_header();
        target.headers = vec![("Replaces".to_owned(), escape_hvalue(&replaces))];
        self.with_call(now, id, |call, ctx| call.refer(target, ctx))
    }

    /// Reports the progress of the call placed for the peer's REFER
    /// ([`UaEvent::TransferRequested`]) in a NOTIFY: `100`/`180` while under way, `200` when
    /// answered, the failure status otherwise. A status of 200 or more ends the subscription.
    pub fn notify_transfer_progress(
        &mut self,
        now: Instant,
        id: CallId,
        code: u16,
        reason: &str,
    ) -> Result<(), UaError> {
        if !(100..=699).contains(&code) {
            return Err(UaError::InvalidStatus(code));
        }
        self.with_call(now, id, |call, ctx| call.notify_transfer(code, reason, ctx))
    }
}

/// Our REFER's implicit subscription, while no final status arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TransferOut;

/// The peer's REFER we are carrying out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TransferIn {
    /// The REFER's CSeq, the `id` of our NOTIFYs' Event header (§2.4.6).
    pub event_id: u32,
}

impl Call {
    fn refer(&mut self, refer_to: Uri, ctx: &mut Ctx<'_>) -> Result<(), UaError> {
        let wrong = UaError::WrongState {
            call: self.id,
            command: "refer",
        };
        if self.phase != Phase::Confirmed || self.transfer_out.is_some() {
            return Err(wrong);
        }
        let Some(dialog) = &mut self.dialog else {
            return Err(wrong);
        };
        let mut refer = dialog.make_request(Method::Refer);
        let referred_by = format!("<{}>", dialog.local_uri().uri);
        refer
            .headers
            .push("Refer-To", NameAddr::new(refer_to).to_string());
        refer.headers.push("Referred-By", referred_by);
        if !self.send_in_dialog(refer, Purpose::Refer, ctx) {
            return Err(wrong);
        }
        self.transfer_out = Some(TransferOut);
        Ok(())
    }

    /// How our REFER ended: a 2xx waits for the NOTIFYs; anything else fails the transfer.
    pub(crate) fn on_refer_outcome(&mut self, outcome: Outcome, ctx: &mut Ctx<'_>) {
        let code = outcome.status();
        if (200..300).contains(&code) {
            return;
        }
        self.transfer_out = None;
        ctx.event(UaEvent::TransferProgress {
            id: self.id,
            code,
            reason: outcome.reason().to_owned(),
        });
        self.on_dialog_error(code, ctx);
    }

    /// A NOTIFY in the call's dialog: progress of our REFER.
    pub(crate) fn on_notify(&mut self, tid: TransactionId, request: &Request, ctx: &mut Ctx<'_>) {
        let event = request.headers.get("Event").unwrap_or_default();
        let package = event.split(';').next().unwrap_or_default().trim();
        if !package.eq_ignore_ascii_case("refer") {
            let allow = [("Allow-Events".to_owned(), "refer".to_owned())];
            return respond(ctx, tid, request, 489, Some(&allow));
        }
        if self.transfer_out.is_none() {
            return respond(ctx, tid, request, 481, None);
        }
        let Some((code, reason)) = sipfrag_status(&request.body) else {
            return respond(ctx, tid, request, 400, None);
        };
        respond(ctx, tid, request, 200, None);
        let terminated = request
            .headers
            .get("Subscription-State")
            .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("terminated"));
        if code >= 200 || terminated {
            self.transfer_out = None;
        }
        ctx.event(UaEvent::TransferProgress {
            id: self.id,
            code,
            reason,
        });
        if (200..300).contains(&code) && self.phase == Phase::Confirmed {
            self.send_bye(EndReason::Transferred, ctx);
        }
    }

    /// The peer's REFER (server transaction `tid`).
    pub(crate) fn on_refer(&mut self, tid: TransactionId, request: &Request, ctx: &mut Ctx<'_>) {
        let refer_to: Vec<&str> = request.headers.get_all("Refer-To").collect();
        let target = match refer_to.as_slice() {
            [one] => NameAddr::parse(one).ok(),
            _ => None,
        };
        let Some(target) = target else {
            return respond(ctx, tid, request, 400, None);
        };
        if self.phase != Phase::Confirmed {
            return respond(ctx, tid, request, 491, None);
        }
        let mut accepted = Response::for_request(request, 202, "Accepted");
        if let Some(contact) = self.dialog.as_ref().and_then(|d| d.local_contact()) {
            accepted.headers.push("Contact", contact.to_string());
        }
        ctx.respond(tid, accepted);
        let event_id = request.cseq().map(|c| c.seq).unwrap_or(0);
        self.transfer_in = Some(TransferIn { event_id });
        self.send_transfer_notify(100, "Trying", ctx);
        let referred_by = request
            .headers
            .get("Referred-By")
            .and_then(|v| NameAddr::parse(v).ok());
        ctx.event(UaEvent::TransferRequested {
            id: self.id,
            target: target.uri,
            referred_by,
        });
    }

    fn notify_transfer(
        &mut self,
        code: u16,
        reason: &str,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), UaError> {
        if self.transfer_in.is_none() || self.dialog.is_none() {
            return Err(UaError::WrongState {
                call: self.id,
                command: "notify_transfer_progress",
            });
        }
        self.send_transfer_notify(code, reason, ctx);
        Ok(())
    }

    /// NOTIFY carrying `SIP/2.0 code reason`; a final status terminates the subscription.
    fn send_transfer_notify(&mut self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        let (Some(sub), Some(dialog)) = (self.transfer_in, &mut self.dialog) else {
            return;
        };
        let mut notify = dialog.make_request(Method::Notify);
        notify
            .headers
            .push("Event", format!("refer;id={}", sub.event_id));
        let state = if code >= 200 {
            self.transfer_in = None;
            "terminated;reason=noresource".to_owned()
        } else {
            format!("active;expires={SUBSCRIPTION_EXPIRES}")
        };
        notify.headers.push("Subscription-State", state);
        notify
            .headers
            .push("Content-Type", "message/sipfrag;version=2.0");
        let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
        notify.body = format!("SIP/2.0 {code} {reason}\r\n").into_bytes();
        self.send_in_dialog(notify, Purpose::TransferNotify, ctx);
    }

    /// How one of our transfer NOTIFYs ended: 481 means the transferor gave up the
    /// subscription.
    pub(crate) fn on_transfer_notify_outcome(&mut self, outcome: Outcome) {
        if outcome.status() == 481 {
            self.transfer_in = None;
        }
    }
}

/// The status line of a `message/sipfrag` body (RFC 3420): code and reason.
fn sipfrag_status(body: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?.trim();
    let rest = line.strip_prefix("SIP/2.0 ")?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let code: u16 = code.parse().ok()?;
    (100..=699)
        .contains(&code)
        .then(|| (code, reason.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::sipfrag_status;

    #[test]
    fn reads_sipfrag_status_lines() {
        assert_eq!(
            sipfrag_status(b"SIP/2.0 200 OK\r\n"),
            Some((200, "OK".to_owned()))
        );
        assert_eq!(
            sipfrag_status(b"SIP/2.0 183 Session Progress\r\nContent-Type: x\r\n"),
            Some((183, "Session Progress".to_owned()))
        );
        assert_eq!(sipfrag_status(b"SIP/2.0 100"), Some((100, String::new())));
        assert_eq!(sipfrag_status(b"SIP/2.0 99 Low"), None);
        assert_eq!(sipfrag_status(b"HTTP/1.1 200 OK"), None);
        assert_eq!(sipfrag_status(b""), None);
    }
}
