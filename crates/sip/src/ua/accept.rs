//! UAS side of an INVITE session (RFC 3261 §13.3): an incoming INVITE is answered 100 then 180
//! (with our To tag: an early dialog, §12.1.1), then `answer` (2xx with SDP, retransmitted from
//! T1 doubling to T2 until the ACK, giving up after 64·T1 with a BYE, §13.3.1.4) or `reject`
//! (a final error; the transaction layer handles its ACK). A CANCEL before the answer gets 200
//! and the INVITE 487 (§9.2). Late offer: an INVITE without SDP gets our offer in the 2xx and
//! the caller's answer arrives in the ACK.

use dialtone_sip_message::{default_reason, Message, NameAddr, Request, Response, Uri};

use super::call::{sdp_of, Call, CallState, EndReason, OkRetransmit, Phase, Role};
use super::config::SUPPORTED;
use super::context::Ctx;
use super::incoming::respond;
use super::session_timer::TimerState;
use super::{CallId, UaError, UaEvent};
use crate::dialog::Dialog;
use crate::transaction::TransactionId;
use crate::transport::{Peer, TransportKind};

impl Call {
    /// A new incoming INVITE (server transaction `tid`): 100, 180 (unless
    /// [`super::UaConfig::auto_ring`] is off), [`UaEvent::IncomingCall`].
    /// A call `replaces`-ing another (RFC 3891) is not rung: no 180.
    /// `None` when the INVITE cannot start a dialog (it has then been answered with an error).
    pub(crate) fn incoming(
        id: CallId,
        tid: TransactionId,
        from: Peer,
        invite: Request,
        replaces: Option<CallId>,
        ctx: &mut Ctx<'_>,
    ) -> Option<Call> {
        let (Ok(caller), Ok(callee)) = (invite.from(), invite.to()) else {
            respond(ctx, tid, &invite, 400, None);
            return None;
        };
        let mut timer = TimerState::new(ctx);
        if timer.too_small(&invite) {
            let min = [("Min-SE".to_owned(), timer.min_se.to_string())];
            respond(ctx, tid, &invite, 422, Some(&min));
            return None;
        }
        timer.learn_allow(&invite.headers);
        let contact = local_contact(&invite, from, ctx);
        let tag = ctx.tag();
        let dialog = match Dialog::from_uas(&invite, &tag, Some(contact)) {
            Ok(d) => d,
            Err(e) => {
                respond(ctx, tid, &invite, e.status(), None);
                return None;
            }
        };
        let mut call = Call {
            id,
            role: Role::Uas,
            phase: Phase::Ringing,
            state: CallState::Ringing,
            dest: from,
            invite,
            invite_tid: Some(tid),
            dialog: Some(dialog),
            local_sdp: None,
            remote_sdp: None,
            auth: None,
            cancel: None,
            redirects: 0,
            se_retries: 0,
            acks: Vec::new(),
            ok: None,
            bye: None,
            bye_reason: EndReason::Hangup,
            bye_after_ack: false,
            no_answer_at: Some(ctx.now + ctx.config.incoming_ring_timeout),
            reinvite: None,
            reacks: Vec::new(),
            glare: None,
            pending_offer: None,
            requests: Vec::new(),
            timer,
            transfer_out: None,
            transfer_in: None,
            dtmf_queue: Default::default(),
            replaces,
        };
        call.remote_sdp = sdp_of(&call.invite.body);
        let trying = call.uas_response(100);
        ctx.respond(tid, trying);
        if replaces.is_none() && ctx.config.auto_ring {
            let ringing = call.uas_response(180);
            ctx.respond(tid, ringing);
        }
        let event = UaEvent::IncomingCall {
            id,
            from: caller,
            to: callee,
            sdp: call.remote_sdp.clone(),
            replaces,
        };
        ctx.event(event);
        Some(call)
    }

    /// A response to our INVITE (UAS): our To tag; Contact and Record-Route on dialog-making
    /// responses (§12.1.1); no To tag on 100 (§8.2.6.2 allows either; none keeps it simple).
    pub(crate) fn uas_response(&self, status: u16) -> Response {
        let mut resp = Response::for_request(&self.invite, status, default_reason(status));
        if status == 100 {
            return resp;
        }
        if let Some(dialog) = &self.dialog {
            resp.headers.set("To", dialog.local_uri().to_string());
            if status < 300 {
                for rr in self.invite.headers.get_all("Record-Route") {
                    resp.headers.push("Record-Route", rr);
                }
                if let Some(contact) = dialog.local_contact() {
                    resp.headers.push("Contact", contact.to_string());
                }
            }
        }
        resp
    }

    /// `UserAgent::answer`: UAS ringing → 2xx; UAC late offer → ACK with our answer.
    pub(crate) fn answer(&mut self, sdp: Vec<u8>, ctx: &mut Ctx<'_>) -> Result<(), UaError> {
        match (self.role, self.phase) {
            (Role::Uas, Phase::Ringing) => {}
            (Role::Uac, Phase::AwaitingLateAnswer) => {
                self.send_late_answer(Some(sdp), ctx);
                let remote = self.remote_sdp.clone();
                self.report(
                    CallState::Established {
                        sdp: remote,
                        needs_answer: false,
                    },
                    ctx,
                );
                return Ok(());
            }
            _ => {
                return Err(UaError::WrongState {
                    call: self.id,
                    command: "answer",
                })
            }
        }
        let Some(tid) = self.invite_tid else {
            return Err(UaError::WrongState {
                call: self.id,
                command: "answer",
            });
        };
        self.local_sdp = Some(sdp.clone());
        let mut ok = self.uas_response(200);
        ok.headers.push("Allow", super::ALLOWED_METHODS);
        ok.headers.push("Supported", SUPPORTED);
        self.timer.on_2xx_sent(&self.invite, &mut ok, ctx.now);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = sdp;
        self.no_answer_at = None;
        self.phase = Phase::Answered;
        self.start_ok(tid, ok, ctx);
        Ok(())
    }

    /// Sends a 2xx to an INVITE and keeps retransmitting it until the ACK (§13.3.1.4).
    pub(crate) fn start_ok(&mut self, tid: TransactionId, ok: Response, ctx: &mut Ctx<'_>) {
        let t1 = ctx.config.timers.t1;
        let cseq = ok.cseq().map(|c| c.seq).unwrap_or(0);
        ctx.respond(tid, ok.clone());
        self.ok = Some(OkRetransmit {
            tid,
            response: ok,
            cseq,
            next: ctx.now + t1,
            interval: t1,
            give_up: ctx.now + ctx.config.timers.transaction_timeout(),
        });
    }

    pub(crate) fn retransmit_ok(&mut self, ctx: &mut Ctx<'_>) {
        let t2 = ctx.config.timers.t2;
        let Some(ok) = &mut self.ok else { return };
        if ctx
            .tl
            .send_response(ctx.now, ok.tid, ok.response.clone())
            .is_err()
        {
            // The transaction is gone (Timer L); keep the end-to-end retransmission going.
            ctx.tl
                .send_stateless(self.dest, Message::Response(ok.response.clone()));
        }
        ok.interval = (ok.interval * 2).min(t2);
        ok.next = ctx.now + ok.interval;
    }

    /// No ACK within 64·T1: the session is over; BYE it (§13.3.1.4).
    pub(crate) fn on_ack_timeout(&mut self, ctx: &mut Ctx<'_>) {
        self.ok = None;
        if self.phase == Phase::Answered {
            self.bye_after_ack = false;
            self.send_bye(EndReason::AckTimeout, ctx);
        }
    }

    /// An ACK for one of our 2xx (initial INVITE or re-INVITE).
    pub(crate) fn on_ack(&mut self, ack: &Request, ctx: &mut Ctx<'_>) {
        let seq = ack.cseq().map(|c| c.seq).unwrap_or(0);
        if self.ok.as_ref().map(|ok| ok.cseq) != Some(seq) {
            return; // a retransmitted ACK, or one for nothing we sent
        }
        self.ok = None;
        if let Some(dialog) = &mut self.dialog {
            let _ = dialog.handle_request(ack);
        }
        let sdp = sdp_of(&ack.body);
        if self.phase != Phase::Answered {
            // ACK to a re-INVITE's 2xx: a late-offer answer may ride on it.
            if let Some(sdp) = sdp {
                self.remote_sdp = Some(sdp.clone());
                ctx.event(UaEvent::RemoteSdp { id: self.id, sdp });
            }
            return;
        }
        if sdp.is_some() {
            self.remote_sdp = sdp;
        }
        self.phase = Phase::Confirmed;
        let remote = self.remote_sdp.clone();
        self.report(
            CallState::Established {
                sdp: remote,
                needs_answer: false,
            },
            ctx,
        );
        if self.bye_after_ack {
            self.send_bye(EndReason::Hangup, ctx);
        }
    }

    /// `UserAgent::reject`: a final error for a ringing incoming call.
    /// `UserAgent::ring`: 180 Ringing for an incoming call not yet answered.
    pub(crate) fn ring(&mut self, ctx: &mut Ctx<'_>) -> Result<(), UaError> {
        let (Role::Uas, Phase::Ringing, Some(tid)) = (self.role, self.phase, self.invite_tid)
        else {
            return Err(UaError::WrongState {
                call: self.id,
                command: "ring",
            });
        };
        let ringing = self.uas_response(180);
        ctx.respond(tid, ringing);
        Ok(())
    }

    pub(crate) fn reject(&mut self, code: u16, ctx: &mut Ctx<'_>) -> Result<(), UaError> {
        let (Role::Uas, Phase::Ringing, Some(tid)) = (self.role, self.phase, self.invite_tid)
        else {
            return Err(UaError::WrongState {
                call: self.id,
                command: "reject",
            });
        };
        let resp = self.uas_response(code);
        ctx.respond(tid, resp);
        self.end(
            CallState::Finished {
                reason: EndReason::Rejected { code },
            },
            ctx,
        );
        Ok(())
    }

    /// A CANCEL (server transaction `tid`) for our INVITE server transaction `invite` (§9.2):
    /// the initial INVITE while ringing, or a re-INVITE whose offer awaits the application.
    pub(crate) fn on_cancel(
        &mut self,
        tid: TransactionId,
        invite: TransactionId,
        cancel: &Request,
        ctx: &mut Ctx<'_>,
    ) {
        let mut ok = Response::for_request(cancel, 200, "OK");
        if let Some(dialog) = &self.dialog {
            ok.headers.set("To", dialog.local_uri().to_string());
        }
        ctx.respond(tid, ok);
        if let Some(offer) = self.pending_offer.take_if(|p| p.tid == invite) {
            // The offer is withdrawn; the session keeps its descriptions.
            let mut terminated = Response::for_request(&offer.request, 487, default_reason(487));
            if let Some(dialog) = &self.dialog {
                terminated.headers.set("To", dialog.local_uri().to_string());
            }
            ctx.respond(invite, terminated);
            return;
        }
        if let (Phase::Ringing, Some(invite_tid)) = (self.phase, self.invite_tid) {
            let terminated = self.uas_response(487);
            ctx.respond(invite_tid, terminated);
            self.end(
                CallState::Finished {
                    reason: EndReason::RemoteCancelled,
                },
                ctx,
            );
        }
    }

    /// The no-answer timer: UAC cancels, UAS answers 480.
    pub(crate) fn on_no_answer(&mut self, ctx: &mut Ctx<'_>) {
        match (self.role, self.phase) {
            (Role::Uac, Phase::Calling) => self.cancel_invite(EndReason::NoAnswer, ctx),
            (Role::Uas, Phase::Ringing) => {
                if let Some(tid) = self.invite_tid {
                    let resp = self.uas_response(480);
                    ctx.respond(tid, resp);
                }
                self.end(
                    CallState::Finished {
                        reason: EndReason::NoAnswer,
                    },
                    ctx,
                );
            }
            _ => {}
        }
    }
}

/// Our Contact for a call (or subscription) arriving from `from`: the called user at our address, with the
/// transport when it is not UDP.
pub(crate) fn local_contact(invite: &Request, from: Peer, ctx: &Ctx<'_>) -> NameAddr {
    let addr = ctx.config.local_addr;
    let host = match addr.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    let mut uri = Uri::sip(invite.uri.user.as_deref(), &host, Some(addr.port()));
    if from.transport != TransportKind::Udp {
        let name = from.transport.via_name().to_ascii_lowercase();
        uri.set_param("transport", Some(&name));
    }
    NameAddr::new(uri)
}
