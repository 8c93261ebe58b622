//! Our re-INVITEs (RFC 3261 §14.1): hold, resume and any other change of our session
//! description, and the re-INVITEs the session timer sends.
//!
//! [`UserAgent::reinvite`] sends the application's new SDP (e.g. `a=sendonly` or `a=inactive` to
//! hold, `a=sendrecv` to resume) in a re-INVITE with the dialog's next CSeq and our Contact. The
//! 2xx is ACKed (and re-ACKed if retransmitted) and its SDP, the answer, is reported as
//! [`UaEvent::RemoteSdp`]. Outcomes:
//!
//! - 401/407: sent again once per challenge with credentials (§22.2);
//! - 491 (glare: the peer sent its own re-INVITE at the same time): sent again after a random
//!   back-off in steps of 10 ms — 2.1–4 s when we generated the Call-ID (we placed the call),
//!   0–2 s otherwise (§14.1). A newer [`UserAgent::reinvite`] during the wait replaces the offer;
//! - 481 or 408 / no answer: the dialog is gone (RFC 5057 §5.1): the call ends with
//!   [`EndReason::DialogTerminated`] (a BYE is sent for 408);
//! - other errors: [`UaEvent::OfferFailed`]; the previous descriptions stay in force (§14.1).
//!
//! Only one offer may be under way in a dialog (RFC 3264 §4; §14.1: no re-INVITE while another
//! INVITE transaction is in progress either way), so `reinvite` refuses with
//! [`UaError::WrongState`] while one is.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Method, Request, Response};

use super::call::{sdp_of, Call, CallState, EndReason, GlareRetry, Phase, ReAck, ReInvite, Role};
use super::config::SUPPORTED;
use super::context::{resolve, Ctx};
use super::{CallId, UaError, UaEvent, UserAgent, ALLOWED_METHODS};
use crate::random::Random;

/// At most this many challenge retries for one re-INVITE.
const MAX_RETRIES: u8 = 2;

impl UserAgent {
    /// Sends a re-INVITE with `sdp`, our new session description (RFC 3261 §14.1): hold
    /// (`sendonly`/`inactive`), resume (`sendrecv`), new codecs or address. The peer's answer
    /// arrives as [`UaEvent::RemoteSdp`], a refusal as [`UaEvent::OfferFailed`].
    /// [`UaError::WrongState`] when the call is not established or an offer is already under
    /// way (ours or the peer's).
    pub fn reinvite(&mut self, now: Instant, id: CallId, sdp: Vec<u8>) -> Result<(), UaError> {
        self.with_call(now, id, |call, ctx| call.reinvite(sdp, ctx))
    }
}

impl Call {
    /// Whether an offer/answer exchange is under way in either direction: our re-INVITE, the
    /// peer's offer awaiting the application, or a 2xx of ours awaiting its ACK.
    pub(crate) fn offer_in_progress(&self) -> bool {
        self.reinvite.is_some() || self.pending_offer.is_some() || self.ok.is_some()
    }

    fn reinvite(&mut self, sdp: Vec<u8>, ctx: &mut Ctx<'_>) -> Result<(), UaError> {
        if self.phase != Phase::Confirmed {
            return Err(UaError::WrongState {
                call: self.id,
                command: "reinvite",
            });
        }
        if let Some(glare) = &mut self.glare {
            glare.offer = Some(sdp);
            glare.from_app = true;
            return Ok(());
        }
        if self.offer_in_progress() {
            return Err(UaError::WrongState {
                call: self.id,
                command: "reinvite",
            });
        }
        self.send_reinvite(sdp, true, ctx);
        Ok(())
    }

    /// Builds and sends a re-INVITE offering `offer`.
    pub(crate) fn send_reinvite(&mut self, offer: Vec<u8>, from_app: bool, ctx: &mut Ctx<'_>) {
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        let mut request = dialog.make_request(Method::Invite);
        let dest = resolve(dialog.next_hop(), self.dest);
        request.headers.push("Allow", ALLOWED_METHODS);
        request.headers.push("Supported", SUPPORTED);
        self.timer.request_headers(&mut request.headers);
        request.headers.push("Content-Type", "application/sdp");
        request.body = offer.clone();
        self.preauthorize(&mut request, ctx);
        self.transmit_reinvite(dest, request, offer, from_app, 0, ctx);
    }

    fn transmit_reinvite(
        &mut self,
        dest: crate::transport::Peer,
        request: Request,
        offer: Vec<u8>,
        from_app: bool,
        retries: u8,
        ctx: &mut Ctx<'_>,
    ) {
        match ctx.send_request(dest, request) {
            Ok((tid, sent)) => {
                self.reinvite = Some(ReInvite {
                    tid,
                    request: sent,
                    offer,
                    from_app,
                    retries,
                });
            }
            Err(e) => {
                if from_app {
                    ctx.event(UaEvent::OfferFailed {
                        id: self.id,
                        code: 500,
                        reason: format!("cannot send re-INVITE: {e}"),
                    });
                }
            }
        }
    }

    /// A response to our re-INVITE.
    pub(crate) fn on_reinvite_response(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        if resp.status < 200 {
            return;
        }
        let Some(re) = self.reinvite.take() else {
            return;
        };
        match resp.status {
            200..=299 => self.on_reinvite_2xx(re, resp, ctx),
            401 | 407 if re.retries < MAX_RETRIES => {
                match self.authorized_retry(&re.request, &resp, ctx) {
                    Some(retry) => self.resend_reinvite(re, retry, ctx),
                    None => self.reinvite_refused(&re, resp.status, &resp.reason, ctx),
                }
            }
            491 => {
                let at = ctx.now + self.glare_backoff(ctx);
                self.glare = Some(GlareRetry {
                    at,
                    offer: Some(re.offer),
                    from_app: re.from_app,
                });
            }
            422 => {
                if !self.retry_reinvite_after_422(&re, &resp, ctx) {
                    self.reinvite_refused(&re, 422, &resp.reason, ctx);
                }
            }
            code => self.reinvite_refused(&re, code, &resp.reason, ctx),
        }
    }

    /// `retry` (the re-INVITE renumbered, with credentials) goes out in place of `re`.
    pub(crate) fn resend_reinvite(&mut self, re: ReInvite, retry: Request, ctx: &mut Ctx<'_>) {
        let dest = self
            .dialog
            .as_ref()
            .map(|d| resolve(d.next_hop(), self.dest))
            .unwrap_or(self.dest);
        self.transmit_reinvite(dest, retry, re.offer, re.from_app, re.retries + 1, ctx);
    }

    fn on_reinvite_2xx(&mut self, re: ReInvite, resp: Response, ctx: &mut Ctx<'_>) {
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        // A target refresh (§12.2.1.2); a malformed Contact leaves the target as it was.
        let _ = dialog.handle_response(&resp);
        self.timer.on_2xx_received(&resp, ctx.now);
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        let seq = re.request.cseq().map(|c| c.seq).unwrap_or(0);
        let mut ack = dialog.make_ack(seq);
        let dest = resolve(dialog.next_hop(), self.dest);
        for name in ["Authorization", "Proxy-Authorization"] {
            for value in re.request.headers.get_all(name) {
                ack.headers.push(name, value);
            }
        }
        let ack = ctx.send_ack(dest, ack);
        self.reacks.push(ReAck {
            tid: re.tid,
            dest,
            ack,
        });
        self.local_sdp = Some(re.offer);
        if let Some(sdp) = sdp_of(&resp.body) {
            let changed = self.remote_sdp.as_ref() != Some(&sdp);
            self.remote_sdp = Some(sdp.clone());
            if re.from_app || changed {
                ctx.event(UaEvent::RemoteSdp { id: self.id, sdp });
            }
        }
    }

    /// Our re-INVITE got final error `code` (or no answer).
    fn reinvite_refused(&mut self, re: &ReInvite, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        if re.from_app {
            ctx.event(UaEvent::OfferFailed {
                id: self.id,
                code,
                reason: reason.to_owned(),
            });
        }
        self.on_dialog_error(code, ctx);
    }

    /// RFC 5057 §5.1: 481 or 408 to a request in the dialog means the peer lost it.
    pub(crate) fn on_dialog_error(&mut self, code: u16, ctx: &mut Ctx<'_>) {
        match code {
            481 => self.end(
                CallState::Finished {
                    reason: EndReason::DialogTerminated { code },
                },
                ctx,
            ),
            408 if self.phase == Phase::Confirmed => {
                self.send_bye(EndReason::DialogTerminated { code }, ctx)
            }
            _ => {}
        }
    }

    /// Our re-INVITE timed out or could not be delivered.
    pub(crate) fn on_reinvite_failure(&mut self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        if let Some(re) = self.reinvite.take() {
            self.reinvite_refused(&re, code, reason, ctx);
        }
    }

    /// §14.1 back-off after a 491: 2.1–4 s for the owner of the Call-ID (the UAC of the
    /// initial INVITE), 0–2 s for the other side, in units of 10 ms.
    pub(crate) fn glare_backoff(&self, ctx: &mut Ctx<'_>) -> Duration {
        let r = ctx.rng.next_u64();
        let tens = match self.role {
            Role::Uac => 210 + r % 191,
            Role::Uas => r % 201,
        };
        Duration::from_millis(tens * 10)
    }

    /// The back-off is over: send the re-INVITE again, unless an exchange is under way (the
    /// peer's), in which case wait another back-off.
    pub(crate) fn on_glare_timer(&mut self, ctx: &mut Ctx<'_>) {
        let Some(glare) = self.glare.take() else {
            return;
        };
        if self.phase != Phase::Confirmed {
            return;
        }
        if self.offer_in_progress() {
            let at = ctx.now + self.glare_backoff(ctx);
            self.glare = Some(GlareRetry { at, ..glare });
            return;
        }
        match glare.offer {
            Some(offer) => self.send_reinvite(offer, glare.from_app, ctx),
            None => self.send_refresh(ctx),
        }
    }
}
