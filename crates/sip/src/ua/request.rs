//! Our non-INVITE requests inside a call's dialog (RFC 3261 §12.2.1): each is sent with the
//! dialog's next CSeq, pre-emptive credentials for the realms already known, remembered with
//! its [`Purpose`], retried once with credentials on 401/407 (§22.2), and its outcome handed to
//! the feature that sent it. BYE and re-INVITE keep their own tracking (`close.rs`, `hold.rs`).

use dialtone_sip_message::{Request, Response};

use super::call::Call;
use super::context::{resolve, Ctx};
use super::message::MessageId;
use crate::transaction::TransactionId;

/// What one of our in-dialog requests is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// UPDATE without SDP refreshing the session (RFC 4028 §7.4).
    Refresh,
    /// Our REFER (RFC 3515).
    Refer,
    /// A NOTIFY reporting the progress of the peer's REFER.
    TransferNotify,
    /// An INFO carrying this DTMF digit.
    Dtmf(char),
    /// A MESSAGE (RFC 3428).
    Message(MessageId),
}

/// One of our in-dialog requests in flight.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub tid: TransactionId,
    /// As sent.
    pub request: Request,
    pub purpose: Purpose,
    /// Already re-sent with credentials.
    pub retried: bool,
    /// Times re-sent after a 422 (RFC 4028 §7.3).
    pub retried_422: u8,
}

/// How an in-dialog request ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A final response.
    Response(Response),
    /// No final response: 408 for a timeout, 503 for a transport error.
    Failure(u16, String),
}

impl Outcome {
    /// The final status.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Outcome::Response(r) => r.status,
            Outcome::Failure(code, _) => *code,
        }
    }

    /// The reason phrase or explanation.
    pub(crate) fn reason(&self) -> &str {
        match self {
            Outcome::Response(r) => &r.reason,
            Outcome::Failure(_, reason) => reason,
        }
    }
}

impl Call {
    /// Sends `request` (built by this call's dialog) for `purpose`; `false` if it could not be
    /// sent (no dialog, or the transaction layer refused it).
    pub(crate) fn send_in_dialog(
        &mut self,
        mut request: Request,
        purpose: Purpose,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let Some(dialog) = &self.dialog else {
            return false;
        };
        let dest = resolve(dialog.next_hop(), self.dest);
        self.preauthorize(&mut request, ctx);
        match ctx.send_request(dest, request) {
            Ok((tid, sent)) => {
                self.requests.push(Outgoing {
                    tid,
                    request: sent,
                    purpose,
                    retried: false,
                    retried_422: 0,
                });
                true
            }
            Err(_) => false,
        }
    }

    /// A response to one of our in-dialog requests.
    pub(crate) fn on_request_response(
        &mut self,
        tid: TransactionId,
        resp: Response,
        ctx: &mut Ctx<'_>,
    ) {
        if resp.status < 200 {
            return;
        }
        let Some(pos) = self.requests.iter().position(|r| r.tid == tid) else {
            return;
        };
        let out = self.requests.remove(pos);
        if matches!(resp.status, 401 | 407) && !out.retried {
            if let Some(retry) = self.authorized_retry(&out.request, &resp, ctx) {
                if self.send_in_dialog(retry, out.purpose.clone(), ctx) {
                    if let Some(last) = self.requests.last_mut() {
                        last.retried = true;
                    }
                    return;
                }
            }
        }
        if (200..300).contains(&resp.status) {
            if let Some(dialog) = &mut self.dialog {
                // Target refresh for UPDATE/NOTIFY/REFER 2xx; a bad Contact changes nothing.
                let _ = dialog.handle_response(&resp);
            }
        }
        self.on_outcome(out, Outcome::Response(resp), ctx);
    }

    /// One of our in-dialog requests timed out or could not be delivered.
    pub(crate) fn on_request_failure(
        &mut self,
        tid: TransactionId,
        code: u16,
        reason: &str,
        ctx: &mut Ctx<'_>,
    ) {
        if let Some(pos) = self.requests.iter().position(|r| r.tid == tid) {
            let out = self.requests.remove(pos);
            self.on_outcome(out, Outcome::Failure(code, reason.to_owned()), ctx);
        }
    }

    fn on_outcome(&mut self, out: Outgoing, outcome: Outcome, ctx: &mut Ctx<'_>) {
        match out.purpose {
            Purpose::Refresh => self.on_refresh_outcome(&out, outcome, ctx),
            Purpose::Refer => self.on_refer_outcome(outcome, ctx),
            Purpose::TransferNotify => self.on_transfer_notify_outcome(outcome),
            Purpose::Dtmf(digit) => self.on_dtmf_outcome(digit, outcome, ctx),
            Purpose::Message(msg) => self.on_message_outcome(msg, outcome, ctx),
        }
    }
}
