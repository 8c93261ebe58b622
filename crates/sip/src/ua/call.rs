//! INVITE sessions (RFC 3261 §13–§15): one `Call` per outgoing or incoming call, UAC or UAS.
//!
//! States reported to the application ([`CallState`]): `Pending` (INVITE sent), `Trying` (100),
//! `Ringing` (180–182, or 183 without SDP), `RingingMedia` (183 with SDP: early media),
//! `Established` (2xx; ACK sent / received), then one of `Finished` (BYE either way, CANCEL,
//! no answer), `Failed{code, reason}` or `Busy` (486/600).
//!
//! The verbs live in their own files: `connect.rs` (UAC: INVITE, provisional and final
//! responses, auth retry, redirects, ACK for 2xx and its retransmission), `accept.rs` (UAS:
//! ringing, answer with 2xx retransmission until ACK per §13.3.1.4, reject, CANCEL received),
//! `close.rs` (hangup as CANCEL or BYE, the 200-after-CANCEL race, requests inside the dialog),
//! `hold.rs` (our re-INVITEs, §14.1, with the 491 back-off) and `offer.rs` (the peer's
//! re-INVITE and UPDATE offers, answered by the application, §14.2 and RFC 3311).
//! SDP bodies are opaque bytes here.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Request, Response};

use super::context::Ctx;
use super::refer::{TransferIn, TransferOut};
use super::request::Outgoing;
use super::session_timer::TimerState;
use super::{CallId, UaEvent};
use crate::auth::Authenticator;
use crate::dialog::{Dialog, DialogId};
use crate::transaction::TransactionId;
use crate::transport::Peer;

/// Where a call stands, as reported in [`UaEvent::Call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallState {
    /// INVITE sent, nothing heard yet.
    Pending,
    /// 100 Trying received.
    Trying,
    /// The callee is alerting (180/181/182, or 183 without SDP). For incoming calls: we sent 180.
    Ringing,
    /// 183 Session Progress with SDP: early media.
    RingingMedia {
        /// The peer's early-media SDP.
        sdp: Vec<u8>,
    },
    /// The session is up.
    Established {
        /// The peer's session description (from the 2xx, the INVITE, or the ACK for a late
        /// offer), if any.
        sdp: Option<Vec<u8>>,
        /// Outgoing late-offer call: the 2xx carried the peer's offer and the ACK waits for our
        /// answer through [`super::UserAgent::answer`].
        needs_answer: bool,
    },
    /// The call ended normally.
    Finished {
        /// How.
        reason: EndReason,
    },
    /// The call could not be set up.
    Failed {
        /// Status code (408 for Timer B, 503 for a transport error).
        code: u16,
        /// Reason phrase or explanation.
        reason: String,
    },
    /// The callee is busy (486 Busy Here, 600 Busy Everywhere).
    Busy {
        /// 486 or 600.
        code: u16,
    },
}

/// Why a call finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// We hung up (BYE sent).
    Hangup,
    /// The peer hung up (BYE received).
    RemoteHangup,
    /// We cancelled before an answer.
    Cancelled,
    /// The caller cancelled before we answered.
    RemoteCancelled,
    /// Nobody answered in time (our CANCEL, or our 480 to an incoming call).
    NoAnswer,
    /// We rejected the incoming call with this code.
    Rejected {
        /// The status we sent.
        code: u16,
    },
    /// We answered but never got the ACK (64·T1, §13.3.1.4); BYE sent.
    AckTimeout,
    /// No session refresh came in time (RFC 4028 §10); BYE sent.
    SessionExpired,
    /// We transferred the call (REFER succeeded) and hung up.
    Transferred,
    /// A new call replaced this one (INVITE with Replaces, RFC 3891).
    Replaced,
    /// A request inside the call got 481 or 408 (or no answer): the peer no longer knows the
    /// dialog (RFC 5057 §5.1), so the call is over.
    DialogTerminated {
        /// 481, or 408 for no answer.
        code: u16,
    },
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::Hangup => f.write_str("hung up"),
            EndReason::RemoteHangup => f.write_str("the other party hung up"),
            EndReason::Cancelled => f.write_str("cancelled"),
            EndReason::RemoteCancelled => f.write_str("the caller cancelled"),
            EndReason::NoAnswer => f.write_str("no answer"),
            EndReason::Rejected { code } => write!(
                f,
                "rejected with {code} {}",
                dialtone_sip_message::default_reason(*code)
            ),
            EndReason::AckTimeout => f.write_str("no ACK for our answer"),
            EndReason::SessionExpired => f.write_str("session expired"),
            EndReason::Transferred => f.write_str("transferred"),
            EndReason::Replaced => f.write_str("replaced by another call"),
            EndReason::DialogTerminated { code } => {
                write!(f, "the other party lost the call ({code})")
            }
        }
    }
}

/// Which side of the INVITE we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Uac,
    Uas,
}

/// Internal progress, finer than [`CallState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// UAC: INVITE in flight, no final response.
    Calling,
    /// UAC: 2xx with the peer's offer received; the ACK waits for our answer.
    AwaitingLateAnswer,
    /// UAS: INVITE received, no final response sent.
    Ringing,
    /// UAS: 2xx sent, waiting for the ACK.
    Answered,
    /// Session up.
    Confirmed,
    /// BYE sent, waiting for its response.
    Closing,
    /// Final state reported.
    Ended,
}

/// A 2xx to an INVITE that the UAS retransmits until the ACK (§13.3.1.4).
#[derive(Debug, Clone)]
pub(crate) struct OkRetransmit {
    pub tid: TransactionId,
    pub response: Response,
    pub cseq: u32,
    pub next: Instant,
    pub interval: Duration,
    pub give_up: Instant,
}

/// An ACK we sent for a 2xx, by the 2xx's To tag, resent when that 2xx is retransmitted.
#[derive(Debug, Clone)]
pub(crate) struct SentAck {
    pub to_tag: String,
    pub dest: Peer,
    pub ack: Request,
}

/// Our re-INVITE in flight (RFC 3261 §14.1).
#[derive(Debug, Clone)]
pub(crate) struct ReInvite {
    pub tid: TransactionId,
    /// As sent.
    pub request: Request,
    /// Our offer.
    pub offer: Vec<u8>,
    /// Asked by the application (its outcome is reported) rather than a session refresh.
    pub from_app: bool,
    /// Retries already made for challenges and 422s.
    pub retries: u8,
}

/// The ACK we sent for a re-INVITE's 2xx, resent for retransmissions of that 2xx until its
/// transaction ends.
#[derive(Debug, Clone)]
pub(crate) struct ReAck {
    pub tid: TransactionId,
    pub dest: Peer,
    pub ack: Request,
}

/// A re-INVITE that met 491, to be sent again at `at` (§14.1).
#[derive(Debug, Clone)]
pub(crate) struct GlareRetry {
    pub at: Instant,
    /// The offer to send; `None` for a session refresh (our current SDP).
    pub offer: Option<Vec<u8>>,
    pub from_app: bool,
}

/// The peer's offer (re-INVITE or UPDATE) waiting for the application's answer.
#[derive(Debug, Clone)]
pub(crate) struct PendingOffer {
    pub tid: TransactionId,
    pub request: Request,
    /// Answered 500 if the application has not answered by then.
    pub give_up: Instant,
}

/// One call.
#[derive(Debug)]
pub(crate) struct Call {
    pub id: CallId,
    pub role: Role,
    pub phase: Phase,
    pub state: CallState,
    /// UAC: where requests go when a URI has no IP address. UAS: where the INVITE came from.
    pub dest: Peer,
    /// UAC: the INVITE as last sent. UAS: the INVITE as received.
    pub invite: Request,
    /// The INVITE's transaction (client for UAC, server for UAS) while it lives.
    pub invite_tid: Option<TransactionId>,
    pub dialog: Option<Dialog>,
    pub local_sdp: Option<Vec<u8>>,
    pub remote_sdp: Option<Vec<u8>>,
    pub auth: Option<Authenticator>,
    /// UAC: a CANCEL was requested; the call ends with this reason.
    pub cancel: Option<EndReason>,
    pub redirects: u8,
    /// INVITEs re-sent after 422 (RFC 4028 §7.3).
    pub se_retries: u8,
    pub acks: Vec<SentAck>,
    pub ok: Option<OkRetransmit>,
    /// BYE in flight, with whether it was already re-sent with credentials.
    pub bye: Option<(TransactionId, Request, bool)>,
    pub bye_reason: EndReason,
    /// UAS: hang up as soon as the ACK arrives (§15: no BYE before it).
    pub bye_after_ack: bool,
    /// UAC no-answer timeout / UAS ring timeout.
    pub no_answer_at: Option<Instant>,
    /// Our re-INVITE in flight.
    pub reinvite: Option<ReInvite>,
    /// ACKs of answered re-INVITEs whose transactions still live.
    pub reacks: Vec<ReAck>,
    /// A re-INVITE waiting out the 491 back-off.
    pub glare: Option<GlareRetry>,
    /// The peer's offer waiting for [`super::UserAgent::answer_offer`].
    pub pending_offer: Option<PendingOffer>,
    /// Our other requests in the dialog (UPDATE refresh, REFER, NOTIFY, INFO, MESSAGE).
    pub requests: Vec<Outgoing>,
    /// Session timer (RFC 4028).
    pub timer: TimerState,
    /// Our REFER awaiting its final NOTIFY.
    pub transfer_out: Option<TransferOut>,
    /// The peer's REFER we report progress of.
    pub transfer_in: Option<TransferIn>,
    /// This (incoming) call replaces that one once confirmed (RFC 3891).
    pub replaces: Option<CallId>,
    /// DTMF digits (and durations in ms) waiting to be sent by INFO.
    pub dtmf_queue: std::collections::VecDeque<(char, u32)>,
}

impl Call {
    pub(crate) fn id(&self) -> CallId {
        self.id
    }

    pub(crate) fn state(&self) -> &CallState {
        &self.state
    }

    /// Over, and nothing left to absorb (retransmitted 2xx, BYE response).
    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Ended
            && self.invite_tid.is_none()
            && self.ok.is_none()
            && self.bye.is_none()
    }

    pub(crate) fn owns_client(&self, tid: TransactionId) -> bool {
        (self.role == Role::Uac && self.invite_tid == Some(tid))
            || self.bye.as_ref().is_some_and(|(id, _, _)| *id == tid)
            || self.reinvite.as_ref().is_some_and(|r| r.tid == tid)
            || self.reacks.iter().any(|r| r.tid == tid)
            || self.requests.iter().any(|r| r.tid == tid)
    }

    pub(crate) fn owns_server(&self, tid: TransactionId) -> bool {
        (self.role == Role::Uas && self.invite_tid == Some(tid))
            || self.ok.as_ref().is_some_and(|ok| ok.tid == tid)
            || self.pending_offer.as_ref().is_some_and(|p| p.tid == tid)
    }

    /// Whether `request` (with a To tag) belongs to this call's dialog, while it lasts (once the
    /// call ended, requests for it get 481).
    pub(crate) fn matches_in_dialog(&self, request: &Request) -> bool {
        if self.phase == Phase::Ended {
            return false;
        }
        match (&self.dialog, DialogId::for_incoming_request(request)) {
            (Some(dialog), Some(id)) => *dialog.id() == id,
            _ => false,
        }
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        if self.phase == Phase::Ended {
            return None;
        }
        let ok = self.ok.as_ref().map(|ok| ok.next.min(ok.give_up));
        let glare = self.glare.as_ref().map(|g| g.at);
        let offer = self.pending_offer.as_ref().map(|p| p.give_up);
        [ok, self.no_answer_at, glare, offer, self.timer.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires the call's own timers that are due.
    pub(crate) fn on_timers(&mut self, ctx: &mut Ctx<'_>) {
        if self.no_answer_at.is_some_and(|at| at <= ctx.now) {
            self.no_answer_at = None;
            self.on_no_answer(ctx);
        }
        if self.ok.as_ref().is_some_and(|ok| ok.give_up <= ctx.now) {
            self.on_ack_timeout(ctx);
        } else if self.ok.as_ref().is_some_and(|ok| ok.next <= ctx.now) {
            self.retransmit_ok(ctx);
        }
        if self.glare.as_ref().is_some_and(|g| g.at <= ctx.now) {
            self.on_glare_timer(ctx);
        }
        if self
            .pending_offer
            .as_ref()
            .is_some_and(|p| p.give_up <= ctx.now)
        {
            self.on_offer_timeout(ctx);
        }
        if self.timer.deadline().is_some_and(|at| at <= ctx.now) {
            self.on_session_timer(ctx);
        }
    }

    /// A response for one of our client transactions.
    pub(crate) fn on_response(&mut self, tid: TransactionId, resp: Response, ctx: &mut Ctx<'_>) {
        if self.invite_tid == Some(tid) {
            self.on_invite_response(resp, ctx);
        } else if self.bye.as_ref().is_some_and(|(id, _, _)| *id == tid) {
            self.on_bye_response(resp, ctx);
        } else if self.reinvite.as_ref().is_some_and(|r| r.tid == tid) {
            self.on_reinvite_response(resp, ctx);
        } else if let Some(reack) = self.reacks.iter().find(|r| r.tid == tid) {
            // A retransmitted 2xx to an answered re-INVITE: its ACK was lost (§13.2.2.4).
            if (200..300).contains(&resp.status) {
                let (dest, ack) = (reack.dest, reack.ack.clone());
                ctx.tl
                    .send_stateless(dest, dialtone_sip_message::Message::Request(ack));
            }
        } else {
            self.on_request_response(tid, resp, ctx);
        }
    }

    /// Timeout or transport error of one of our transactions.
    pub(crate) fn on_failure(
        &mut self,
        tid: TransactionId,
        code: u16,
        reason: &str,
        ctx: &mut Ctx<'_>,
    ) {
        if self.bye.as_ref().is_some_and(|(id, _, _)| *id == tid) {
            self.bye = None;
            let reason = self.bye_reason;
            self.end(CallState::Finished { reason }, ctx);
        } else if self.reinvite.as_ref().is_some_and(|r| r.tid == tid) {
            self.on_reinvite_failure(code, reason, ctx);
        } else if self.pending_offer.as_ref().is_some_and(|p| p.tid == tid) {
            self.pending_offer = None; // the peer is unreachable; nothing to answer
        } else if self.requests.iter().any(|r| r.tid == tid) {
            self.on_request_failure(tid, code, reason, ctx);
        } else if self.invite_tid == Some(tid) {
            self.invite_tid = None;
            // UAS: Timer H (no ACK for our non-2xx) or a transport error: nothing left to do.
            if (self.role, self.phase) == (Role::Uac, Phase::Calling) {
                let state = match self.cancel {
                    Some(reason) => CallState::Finished { reason },
                    None => CallState::Failed {
                        code,
                        reason: reason.to_owned(),
                    },
                };
                self.end(state, ctx);
            }
        }
    }

    /// Transaction `tid` is gone.
    pub(crate) fn on_terminated(&mut self, tid: TransactionId) {
        if self.invite_tid == Some(tid) {
            self.invite_tid = None;
        }
        if self.bye.as_ref().is_some_and(|(id, _, _)| *id == tid) {
            self.bye = None;
        }
        self.reacks.retain(|r| r.tid != tid);
    }

    /// Reports a new state.
    pub(crate) fn report(&mut self, state: CallState, ctx: &mut Ctx<'_>) {
        self.state = state.clone();
        ctx.event(UaEvent::Call { id: self.id, state });
    }

    /// Reports a final state and stops the call's timers.
    pub(crate) fn end(&mut self, state: CallState, ctx: &mut Ctx<'_>) {
        if self.phase == Phase::Ended {
            return;
        }
        self.phase = Phase::Ended;
        self.no_answer_at = None;
        self.timer.running = None;
        self.ok = None;
        self.glare = None;
        if let Some(offer) = self.pending_offer.take() {
            // §15.1.2: a request still unanswered when the session ends gets 487.
            super::incoming::respond(ctx, offer.tid, &offer.request, 487, None);
        }
        self.report(state, ctx);
    }
}

/// The body as an SDP, if there is one.
pub(crate) fn sdp_of(body: &[u8]) -> Option<Vec<u8>> {
    (!body.is_empty()).then(|| body.to_vec())
}
