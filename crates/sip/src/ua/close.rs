//! Ending a call and the requests inside its dialog (RFC 3261 §15, §9, §12.2.2, §14).
//!
//! `hangup` picks the right verb: CANCEL for our unanswered INVITE (the transaction layer holds
//! it back until a provisional arrives, §9.1), 603 for an incoming call still ringing, BYE once
//! the session is up — but as UAS not before the ACK (§15). A 2xx that races our CANCEL is
//! ACKed and then BYEd. A BYE challenged by 401/407 is re-sent once with credentials.
//!
//! Requests the peer sends in the dialog: BYE → 200 and the call ends; re-INVITE/UPDATE →
//! `offer.rs`; INFO/OPTIONS → 200; a lower CSeq → 500 (§12.2.2); unknown methods → 501, known
//! but unsupported → 405.

use dialtone_sip_message::{Method, Request, Response};

use super::call::{Call, CallState, EndReason, Phase, Role};
use super::context::{resolve, Ctx};
use super::incoming::{options_response, respond};
use crate::auth::apply;
use crate::transaction::TransactionId;
use crate::transport::Peer;

impl Call {
    /// `UserAgent::hangup`.
    pub(crate) fn hangup(&mut self, ctx: &mut Ctx<'_>) {
        match (self.role, self.phase) {
            (Role::Uac, Phase::Calling) => self.cancel_invite(EndReason::Cancelled, ctx),
            (Role::Uac, Phase::AwaitingLateAnswer) => {
                // The 2xx still needs its ACK; answer without SDP, then leave.
                self.send_late_answer(None, ctx);
                self.send_bye(EndReason::Hangup, ctx);
            }
            (Role::Uas, Phase::Ringing) => {
                let _ = self.reject(603, ctx);
            }
            (Role::Uas, Phase::Answered) => self.bye_after_ack = true,
            (_, Phase::Confirmed) => self.send_bye(EndReason::Hangup, ctx),
            _ => {}
        }
    }

    /// CANCEL our INVITE; the call ends when the INVITE's final response (487) arrives.
    pub(crate) fn cancel_invite(&mut self, reason: EndReason, ctx: &mut Ctx<'_>) {
        if self.cancel.is_some() {
            return;
        }
        self.cancel = Some(reason);
        self.no_answer_at = None;
        match self.invite_tid {
            Some(tid) => {
                // NotCancellable means a final response is already in: it decides the end.
                let _ = ctx.tl.cancel(ctx.now, tid);
            }
            None => self.end(CallState::Finished { reason }, ctx),
        }
    }

    /// Sends BYE in the dialog; the call ends when it completes.
    pub(crate) fn send_bye(&mut self, reason: EndReason, ctx: &mut Ctx<'_>) {
        let Some(dialog) = &mut self.dialog else {
            return self.end(CallState::Finished { reason }, ctx);
        };
        let mut bye = dialog.make_request(Method::Bye);
        let dest = resolve(dialog.next_hop(), self.dest);
        self.preauthorize(&mut bye, ctx);
        self.bye_reason = reason;
        self.phase = Phase::Closing;
        self.timer.running = None;
        self.no_answer_at = None;
        match ctx.send_request(dest, bye) {
            Ok((tid, sent)) => self.bye = Some((tid, sent, false)),
            Err(_) => self.end(CallState::Finished { reason }, ctx),
        }
    }

    pub(crate) fn on_bye_response(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        if resp.status < 200 {
            return;
        }
        let Some((_, sent, retried)) = self.bye.take() else {
            return;
        };
        if matches!(resp.status, 401 | 407) && !retried {
            if let Some(retry) = self.authorized_retry(&sent, &resp, ctx) {
                let dest = self
                    .dialog
                    .as_ref()
                    .map(|d| resolve(d.next_hop(), self.dest))
                    .unwrap_or(self.dest);
                if let Ok((tid, sent)) = ctx.send_request(dest, retry) {
                    self.bye = Some((tid, sent, true));
                    return;
                }
            }
        }
        let reason = self.bye_reason;
        self.end(CallState::Finished { reason }, ctx);
    }

    /// `sent` (an in-dialog request of ours) again with the dialog's next CSeq and credentials
    /// for the challenge in `resp` (§22.2); `None` when we have no credentials or they were
    /// refused.
    pub(crate) fn authorized_retry(
        &mut self,
        sent: &Request,
        resp: &Response,
        ctx: &mut Ctx<'_>,
    ) -> Option<Request> {
        let cnonce = ctx.cnonce();
        let headers = self
            .auth
            .as_mut()?
            .handle_challenge(sent, resp, &cnonce)
            .ok()?;
        let mut retry = self.renumbered(sent)?;
        apply(&mut retry, &headers);
        Some(retry)
    }

    /// `sent` again with the dialog's next CSeq, everything else kept.
    pub(crate) fn renumbered(&mut self, sent: &Request) -> Option<Request> {
        let fresh = self.dialog.as_mut()?.make_request(sent.method.clone());
        let mut again = sent.clone();
        again.headers.set("CSeq", fresh.headers.get("CSeq")?);
        Some(again)
    }

    /// Puts credentials for the realms already known on an in-dialog request of ours.
    pub(crate) fn preauthorize(&mut self, request: &mut Request, ctx: &mut Ctx<'_>) {
        if let Some(auth) = self.auth.as_mut().filter(|a| a.has_realms()) {
            let cnonce = ctx.cnonce();
            auth.authorize(request, &cnonce);
        }
    }

    /// A request inside our dialog (server transaction `tid`).
    pub(crate) fn on_in_dialog_request(
        &mut self,
        tid: TransactionId,
        _from: Peer,
        request: Request,
        ctx: &mut Ctx<'_>,
    ) {
        if let Some(dialog) = &mut self.dialog {
            if let Err(e) = dialog.handle_request(&request) {
                return respond(ctx, tid, &request, e.status(), None);
            }
        }
        match &request.method {
            Method::Bye => {
                respond(ctx, tid, &request, 200, None);
                if let (Phase::Ringing, Some(invite_tid)) = (self.phase, self.invite_tid) {
                    let resp = self.uas_response(487);
                    ctx.respond(invite_tid, resp);
                }
                self.bye = None;
                self.end(
                    CallState::Finished {
                        reason: EndReason::RemoteHangup,
                    },
                    ctx,
                );
            }
            Method::Invite => self.on_reinvite(tid, &request, ctx),
            Method::Update => self.on_update(tid, &request, ctx),
            Method::Refer => self.on_refer(tid, &request, ctx),
            Method::Subscribe => {
                // No event package lives inside our calls.
                let allow = [("Allow-Events".to_owned(), "presence".to_owned())];
                respond(ctx, tid, &request, 489, Some(&allow))
            }
            Method::Notify => self.on_notify(tid, &request, ctx),
            Method::Info => self.on_info(tid, &request, ctx),
            Method::Message => super::message::receive(ctx, tid, &request, Some(self.id)),
            Method::Options => {
                let ok = options_response(ctx, &request);
                ctx.respond(tid, ok);
            }
            Method::Extension(_) => respond(ctx, tid, &request, 501, None),
            _ => respond(ctx, tid, &request, 405, None),
        }
    }

    /// A 200 to an in-dialog request: our tag in To, our Contact.
    pub(crate) fn in_dialog_ok(&self, request: &Request) -> Response {
        let mut ok = Response::for_request(request, 200, "OK");
        if let Some(contact) = self.dialog.as_ref().and_then(|d| d.local_contact()) {
            ok.headers.push("Contact", contact.to_string());
        }
        ok
    }

    pub(crate) fn attach_local_sdp(&self, resp: &mut Response) {
        if let Some(sdp) = &self.local_sdp {
            resp.headers.push("Content-Type", "application/sdp");
            resp.body = sdp.clone();
        }
    }
}
