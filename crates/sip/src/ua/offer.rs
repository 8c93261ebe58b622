//! The peer's offers inside an established call: re-INVITE (RFC 3261 §14.2) and UPDATE
//! (RFC 3311 §5.2), answered by the application.
//!
//! An offer is reported as [`UaEvent::RemoteOffer`] (after a 100 Trying for a re-INVITE) and
//! waits for [`UserAgent::answer_offer`] — a 2xx carrying the answer, retransmitted until the
//! ACK for a re-INVITE — or [`UserAgent::reject_offer`] (e.g. 488), which leaves the session as
//! it was. An offer left unanswered for 16 s (half of Timer F, so the peer still hears) gets
//! 500. A CANCEL of the re-INVITE withdraws it (487). An offer byte for byte equal to the
//! peer's description in force — a session refresh (RFC 4028) that re-sends it — is answered at
//! once with ours, without an event.
//!
//! A re-INVITE without SDP asks us to offer (§14.2, "late offer"): we offer our current
//! description in the 2xx at once and the peer's answer, in the ACK, is reported as
//! [`UaEvent::RemoteSdp`]. An UPDATE without SDP just refreshes the session (RFC 4028).
//!
//! Collisions: an offer arriving while ours is under way gets 491 (§14.2, RFC 3311 §5.2); a
//! re-INVITE or UPDATE offer arriving while the peer's previous offer is still unanswered gets
//! 500 with a Retry-After of 0–10 s (§14.2, RFC 3311 §5.2).

use std::time::{Duration, Instant};

use dialtone_sip_message::{default_reason, Method, Request, Response};

use super::call::{sdp_of, Call, PendingOffer, Phase};
use super::config::SUPPORTED;
use super::context::Ctx;
use super::incoming::respond;
use super::{CallId, UaError, UaEvent, UserAgent, ALLOWED_METHODS};
use crate::random::Random;
use crate::transaction::TransactionId;

/// How long the application has to answer an offer.
const ANSWER_TIME: Duration = Duration::from_secs(16);

impl UserAgent {
    /// Answers the peer's offer from [`UaEvent::RemoteOffer`] with `sdp` (200 OK carrying it).
    /// [`UaError::WrongState`] when no offer waits (never came, already answered, or withdrawn
    /// by the peer).
    pub fn answer_offer(&mut self, now: Instant, id: CallId, sdp: Vec<u8>) -> Result<(), UaError> {
        self.with_call(now, id, |call, ctx| call.answer_offer(sdp, ctx))
    }

    /// Refuses the peer's offer from [`UaEvent::RemoteOffer`] with `code` (488 Not Acceptable
    /// Here when no codec fits); the session keeps its current descriptions.
    pub fn reject_offer(&mut self, now: Instant, id: CallId, code: u16) -> Result<(), UaError> {
        if !(300..=699).contains(&code) {
            return Err(UaError::InvalidStatus(code));
        }
        self.with_call(now, id, |call, ctx| call.reject_offer(code, ctx))
    }
}

impl Call {
    /// A re-INVITE in the dialog (server transaction `tid`).
    pub(crate) fn on_reinvite(&mut self, tid: TransactionId, request: &Request, ctx: &mut Ctx<'_>) {
        if self.phase != Phase::Confirmed || self.reinvite.is_some() || self.ok.is_some() {
            // Still setting up, our own offer is out, or our previous 2xx awaits its ACK.
            return respond(ctx, tid, request, 491, None);
        }
        if self.pending_offer.is_some() {
            return self.busy_with_offer(tid, request, ctx);
        }
        if self.refuse_short_session(tid, request, ctx) {
            return;
        }
        respond(ctx, tid, request, 100, None);
        match sdp_of(&request.body) {
            Some(sdp) => self.await_answer(tid, request, sdp, ctx),
            None => {
                // Late offer: ours goes in the 2xx, the answer comes in the ACK.
                let mut ok = self.offer_ok(request, ctx);
                self.attach_local_sdp(&mut ok);
                self.start_ok(tid, ok, ctx);
            }
        }
    }

    /// An UPDATE in the dialog (server transaction `tid`).
    pub(crate) fn on_update(&mut self, tid: TransactionId, request: &Request, ctx: &mut Ctx<'_>) {
        if self.refuse_short_session(tid, request, ctx) {
            return;
        }
        let Some(sdp) = sdp_of(&request.body) else {
            let ok = self.offer_ok(request, ctx);
            return ctx.respond(tid, ok);
        };
        if self.phase != Phase::Confirmed || self.reinvite.is_some() || self.ok.is_some() {
            return respond(ctx, tid, request, 491, None);
        }
        if self.pending_offer.is_some() {
            return self.busy_with_offer(tid, request, ctx);
        }
        self.await_answer(tid, request, sdp, ctx);
    }

    /// 500 with Retry-After 0–10 s: the previous offer is still being answered.
    fn busy_with_offer(&mut self, tid: TransactionId, request: &Request, ctx: &mut Ctx<'_>) {
        let after = (ctx.rng.next_u64() % 11).to_string();
        respond(
            ctx,
            tid,
            request,
            500,
            Some(&[("Retry-After".to_owned(), after)]),
        );
    }

    fn await_answer(
        &mut self,
        tid: TransactionId,
        request: &Request,
        sdp: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        self.pending_offer = Some(PendingOffer {
            tid,
            request: request.clone(),
            give_up: ctx.now + ANSWER_TIME,
        });
        let unchanged = self.remote_sdp.as_ref() == Some(&sdp);
        match self.local_sdp.clone().filter(|_| unchanged) {
            // A session refresh repeating the description in force: nothing for the
            // application to decide; our description in force answers it (RFC 3264 §8).
            Some(ours) => {
                let _ = self.answer_offer(ours, ctx);
            }
            None => ctx.event(UaEvent::RemoteOffer { id: self.id, sdp }),
        }
    }

    /// A 200 to the peer's re-INVITE or UPDATE: Contact (both are target refreshes), Allow,
    /// Supported, and the session timer it renegotiates (RFC 4028 §9).
    fn offer_ok(&mut self, request: &Request, ctx: &Ctx<'_>) -> Response {
        let mut ok = self.in_dialog_ok(request);
        ok.headers.push("Allow", ALLOWED_METHODS);
        ok.headers.push("Supported", SUPPORTED);
        self.timer.on_2xx_sent(request, &mut ok, ctx.now);
        ok
    }

    fn answer_offer(&mut self, sdp: Vec<u8>, ctx: &mut Ctx<'_>) -> Result<(), UaError> {
        let Some(offer) = self.pending_offer.take() else {
            return Err(UaError::WrongState {
                call: self.id,
                command: "answer_offer",
            });
        };
        self.remote_sdp = sdp_of(&offer.request.body);
        self.local_sdp = Some(sdp);
        let mut ok = self.offer_ok(&offer.request, ctx);
        self.attach_local_sdp(&mut ok);
        if offer.request.method == Method::Invite {
            self.start_ok(offer.tid, ok, ctx);
        } else {
            ctx.respond(offer.tid, ok);
        }
        Ok(())
    }

    fn reject_offer(&mut self, code: u16, ctx: &mut Ctx<'_>) -> Result<(), UaError> {
        let Some(offer) = self.pending_offer.take() else {
            return Err(UaError::WrongState {
                call: self.id,
                command: "reject_offer",
            });
        };
        self.refuse_offer(&offer, code, default_reason(code), ctx);
        Ok(())
    }

    fn refuse_offer(&mut self, offer: &PendingOffer, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        let mut resp = Response::for_request(&offer.request, code, reason);
        if let Some(dialog) = &self.dialog {
            resp.headers.set("To", dialog.local_uri().to_string());
        }
        ctx.respond(offer.tid, resp);
    }

    /// The application did not answer in time.
    pub(crate) fn on_offer_timeout(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(offer) = self.pending_offer.take() {
            self.refuse_offer(&offer, 500, "Offer Not Answered", ctx);
        }
    }
}
