//! UAC side of an INVITE session (RFC 3261 §13.2): sending the INVITE, provisional responses
//! (early dialogs, §13.2.2.1), 2xx (dialog, ACK, §13.2.2.4; every retransmitted 2xx gets the
//! same ACK again), 3xx (follow the first Contact, §8.1.3.4), 401/407 (one retry per challenge,
//! §22.2, new CSeq and same Call-ID), other final responses, and late offer (2xx carries the
//! offer, ACK carries our answer, §13.2.1).

use dialtone_sip_message::{CSeq, Method, NameAddr, Request, Response};

use super::call::{sdp_of, Call, CallState, EndReason, Phase, Role, SentAck};
use super::config::SUPPORTED;
use super::context::{resolve, Ctx};
use super::replaces::unescape;
use super::session_timer::{TimerState, MAX_422_RETRIES};
use super::{CallId, InviteConfig};
use crate::auth::{apply, Authenticator};
use crate::dialog::Dialog;

/// At most this many 3xx are followed for one call (loop guard).
const MAX_REDIRECTS: u8 = 5;

impl Call {
    /// Builds and sends the initial INVITE.
    pub(crate) fn outgoing(id: CallId, cfg: InviteConfig, ctx: &mut Ctx<'_>) -> Call {
        let mut from = cfg.from.clone();
        from.set_tag(&ctx.tag());
        // URI headers (§19.1.5) are not part of the target; only Replaces is taken over.
        let mut target = cfg.target.clone();
        let uri_headers = std::mem::take(&mut target.headers);
        let mut invite = Request::new(Method::Invite, target.clone());
        for (name, value) in uri_headers {
            if name.eq_ignore_ascii_case("Replaces") {
                invite.headers.push("Replaces", unescape(&value));
            }
        }
        if let Some(route) = &cfg.route {
            let mut route = route.clone();
            if route.param("lr").is_none() {
                route.set_param("lr", None);
            }
            invite.headers.push("Route", format!("<{route}>"));
        }
        invite.headers.push("From", from.to_string());
        invite.headers.push("To", NameAddr::new(target).to_string());
        invite.headers.push("Call-ID", ctx.call_id());
        invite.headers.push("CSeq", "1 INVITE");
        invite.headers.push("Contact", format!("<{}>", cfg.contact));
        invite.headers.push("Allow", super::ALLOWED_METHODS);
        invite.headers.push("Supported", SUPPORTED);
        let timer = TimerState::new(ctx);
        timer.request_headers(&mut invite.headers);
        if let Some(sdp) = &cfg.sdp {
            invite.headers.push("Content-Type", "application/sdp");
            invite.body = sdp.clone();
        }
        let mut call = Call {
            id,
            role: Role::Uac,
            phase: Phase::Calling,
            state: CallState::Pending,
            dest: cfg.dest,
            invite: invite.clone(),
            invite_tid: None,
            dialog: None,
            local_sdp: cfg.sdp.clone(),
            remote_sdp: None,
            auth: cfg.auth.clone().map(Authenticator::new),
            cancel: None,
            redirects: 0,
            se_retries: 0,
            acks: Vec::new(),
            ok: None,
            bye: None,
            bye_reason: EndReason::Hangup,
            bye_after_ack: false,
            no_answer_at: cfg.no_answer_timeout.map(|d| ctx.now + d),
            reinvite: None,
            reacks: Vec::new(),
            glare: None,
            pending_offer: None,
            requests: Vec::new(),
            timer,
            transfer_out: None,
            transfer_in: None,
            dtmf_queue: Default::default(),
            replaces: None,
        };
        call.report(CallState::Pending, ctx);
        call.send_invite(invite, ctx);
        call
    }

    fn send_invite(&mut self, invite: Request, ctx: &mut Ctx<'_>) {
        match ctx.send_request(self.dest, invite) {
            Ok((tid, sent)) => {
                self.invite_tid = Some(tid);
                self.invite = sent;
            }
            Err(e) => self.end(
                CallState::Failed {
                    code: 500,
                    reason: format!("cannot send INVITE: {e}"),
                },
                ctx,
            ),
        }
    }

    /// The INVITE again with the next CSeq (for auth and redirect retries), same Call-ID and
    /// From tag (§8.1.3.4, §22.2).
    fn next_invite(&self) -> Request {
        let mut next = self.invite.clone();
        let seq = self.invite.cseq().map(|c| c.seq).unwrap_or(1);
        next.headers.set(
            "CSeq",
            CSeq {
                seq: seq.wrapping_add(1),
                method: Method::Invite,
            }
            .to_string(),
        );
        next
    }

    pub(crate) fn on_invite_response(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        match resp.status {
            100 => {
                if self.phase == Phase::Calling && self.state == CallState::Pending {
                    self.report(CallState::Trying, ctx);
                }
            }
            101..=199 => self.on_provisional(resp, ctx),
            200..=299 => self.on_2xx(resp, ctx),
            _ if self.phase != Phase::Calling => {}
            300..=399 => self.on_redirect(resp, ctx),
            401 | 407 => self.on_challenge(resp, ctx),
            422 => self.on_interval_too_brief(resp, ctx),
            code => self.on_rejected(code, &resp.reason, ctx),
        }
    }

    fn on_provisional(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        if self.phase != Phase::Calling {
            return;
        }
        let tagged = resp.to().ok().is_some_and(|to| to.tag().is_some());
        if tagged && self.dialog.is_none() {
            self.dialog = Dialog::from_uac(&self.invite, &resp).ok();
        }
        let state = match (resp.status, sdp_of(&resp.body)) {
            (183, Some(sdp)) => {
                self.remote_sdp = Some(sdp.clone());
                CallState::RingingMedia { sdp }
            }
            (180..=183, _) if !matches!(self.state, CallState::RingingMedia { .. }) => {
                CallState::Ringing
            }
            _ => return,
        };
        if state != self.state {
            self.report(state, ctx);
        }
    }

    fn on_2xx(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        let Some(tag) = resp.to().ok().and_then(|to| to.tag().map(str::to_owned)) else {
            return; // a 2xx without To tag cannot be ACKed into a dialog
        };
        if let Some(sent) = self.acks.iter().find(|a| a.to_tag == tag) {
            // A retransmitted 2xx: its ACK was lost (§13.2.2.4).
            let (dest, ack) = (sent.dest, sent.ack.clone());
            ctx.tl
                .send_stateless(dest, dialtone_sip_message::Message::Request(ack));
            return;
        }
        if self.phase == Phase::AwaitingLateAnswer {
            return; // the same 2xx again while the application prepares the answer
        }
        let main = self.dialog.as_ref().map(|d| d.id().remote_tag.clone());
        let answered_elsewhere = self.phase != Phase::Calling && main.as_deref() != Some(&tag);
        if self.phase != Phase::Calling && !answered_elsewhere {
            return;
        }
        let mut dialog = match self.dialog.take() {
            Some(mut d) if d.id().remote_tag == tag => match d.handle_response(&resp) {
                Ok(()) => d,
                Err(_) => return self.fail_2xx(resp.status, ctx),
            },
            other => {
                self.dialog = other;
                match Dialog::from_uac(&self.invite, &resp) {
                    Ok(d) => d,
                    Err(_) => return self.fail_2xx(resp.status, ctx),
                }
            }
        };
        if answered_elsewhere {
            // Another fork answered after the call was set up or ended: ACK and BYE it.
            self.send_ack(&mut dialog, &tag, None, ctx);
            let bye = dialog.make_request(Method::Bye);
            let dest = resolve(dialog.next_hop(), self.dest);
            let _ = ctx.send_request(dest, bye);
            return;
        }
        self.no_answer_at = None;
        self.remote_sdp = sdp_of(&resp.body).or(self.remote_sdp.take());
        if let Some(reason) = self.cancel {
            // 200 after our CANCEL: the call was answered anyway; ACK, then BYE (§15).
            self.send_ack(&mut dialog, &tag, None, ctx);
            self.dialog = Some(dialog);
            return self.send_bye(reason, ctx);
        }
        let late_offer = self.local_sdp.is_none() && !resp.body.is_empty();
        self.dialog = Some(dialog);
        self.timer.on_2xx_received(&resp, ctx.now);
        if late_offer {
            self.phase = Phase::AwaitingLateAnswer;
            let sdp = self.remote_sdp.clone();
            return self.report(
                CallState::Established {
                    sdp,
                    needs_answer: true,
                },
                ctx,
            );
        }
        if let Some(mut d) = self.dialog.take() {
            self.send_ack(&mut d, &tag, None, ctx);
            self.dialog = Some(d);
        }
        self.phase = Phase::Confirmed;
        let sdp = self.remote_sdp.clone();
        self.report(
            CallState::Established {
                sdp,
                needs_answer: false,
            },
            ctx,
        );
    }

    /// Late offer: the application's answer goes into the ACK.
    pub(crate) fn send_late_answer(&mut self, sdp: Option<Vec<u8>>, ctx: &mut Ctx<'_>) {
        let Some(mut dialog) = self.dialog.take() else {
            return;
        };
        let tag = dialog.id().remote_tag.clone();
        self.local_sdp = sdp.clone();
        self.send_ack(&mut dialog, &tag, sdp, ctx);
        self.dialog = Some(dialog);
        self.phase = Phase::Confirmed;
    }

    /// Builds, sends and remembers the ACK for the 2xx from `tag` (§13.2.2.4): same CSeq
    /// number as the INVITE, the INVITE's credentials, `body` for a late-offer answer.
    fn send_ack(
        &mut self,
        dialog: &mut Dialog,
        tag: &str,
        body: Option<Vec<u8>>,
        ctx: &mut Ctx<'_>,
    ) {
        let seq = self.invite.cseq().map(|c| c.seq).unwrap_or(1);
        let mut ack = dialog.make_ack(seq);
        for name in ["Authorization", "Proxy-Authorization"] {
            for value in self.invite.headers.get_all(name) {
                ack.headers.push(name, value);
            }
        }
        if let Some(body) = body {
            ack.headers.push("Content-Type", "application/sdp");
            ack.body = body;
        }
        let dest = resolve(dialog.next_hop(), self.dest);
        let ack = ctx.send_ack(dest, ack);
        self.acks.push(SentAck {
            to_tag: tag.to_owned(),
            dest,
            ack,
        });
    }

    fn fail_2xx(&mut self, status: u16, ctx: &mut Ctx<'_>) {
        self.end(
            CallState::Failed {
                code: status,
                reason: "malformed 2xx (cannot build the dialog)".to_owned(),
            },
            ctx,
        );
    }

    fn on_redirect(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        let target = resp
            .contacts()
            .ok()
            .and_then(|c| c.into_iter().next())
            .map(|c| c.uri);
        match target {
            Some(mut uri) if self.redirects < MAX_REDIRECTS && self.cancel.is_none() => {
                self.redirects += 1;
                uri.headers.clear();
                let mut next = self.next_invite();
                next.uri = uri.clone();
                self.dest = resolve(&uri, self.dest);
                self.dialog = None;
                self.send_invite(next, ctx);
            }
            _ => self.on_rejected(resp.status, &resp.reason, ctx),
        }
    }

    fn on_challenge(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        if let Some(reason) = self.cancel {
            return self.end(CallState::Finished { reason }, ctx);
        }
        let cnonce = ctx.cnonce();
        let answer = match &mut self.auth {
            Some(auth) => auth.handle_challenge(&self.invite, &resp, &cnonce),
            None => return self.on_rejected(resp.status, &resp.reason, ctx),
        };
        match answer {
            Ok(headers) => {
                let mut next = self.next_invite();
                apply(&mut next, &headers);
                self.dialog = None;
                self.send_invite(next, ctx);
            }
            Err(e) => self.end(
                CallState::Failed {
                    code: resp.status,
                    reason: e.to_string(),
                },
                ctx,
            ),
        }
    }

    /// 422 Session Interval Too Small (RFC 4028 §7.3): the INVITE again, next CSeq, with the
    /// server's Min-SE as our Session-Expires.
    fn on_interval_too_brief(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        if self.cancel.is_none() && self.se_retries < MAX_422_RETRIES && self.timer.on_422(&resp) {
            self.se_retries += 1;
            let mut next = self.next_invite();
            self.timer.request_headers(&mut next.headers);
            self.dialog = None;
            return self.send_invite(next, ctx);
        }
        self.on_rejected(resp.status, &resp.reason, ctx);
    }

    fn on_rejected(&mut self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        let state = match (self.cancel, code) {
            (Some(reason), _) => CallState::Finished { reason },
            (None, 486 | 600) => CallState::Busy { code },
            (None, _) => CallState::Failed {
                code,
                reason: reason.to_owned(),
            },
        };
        self.end(state, ctx);
    }
}
