//! INVITE sessions (RFC 3261 §13–§15): one [`Call`] per outgoing or incoming call, UAC or UAS.
//!
//! States reported to the application ([`CallState`]): `Pending` (INVITE sent), `Trying` (100),
//! `Ringing` (180–182, or 183 without SDP), `RingingMedia` (183 with SDP: early media),
//! `Established` (2xx; ACK sent / received), then one of `Finished` (BYE either way, CANCEL,
//! no answer), `Failed{code, reason}` or `Busy` (486/600).
//!
//! The verbs live in their own files: `connect.rs` (UAC: INVITE, provisional and final
//! responses, auth retry, redirects, ACK for 2xx and its retransmission), `accept.rs` (UAS:
//! ringing, answer with 2xx retransmission until ACK per §13.3.1.4, reject, CANCEL received) and
//! `close.rs` (hangup as CANCEL or BYE, the 200-after-CANCEL race, requests inside the dialog).
//! SDP bodies are opaque bytes here.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Request, Response};

use super::context::Ctx;
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
    pub acks: Vec<SentAck>,
    pub ok: Option<OkRetransmit>,
    /// BYE in flight, with whether it was already re-sent with credentials.
    pub bye: Option<(TransactionId, Request, bool)>,
    pub bye_reason: EndReason,
    /// UAS: hang up as soon as the ACK arrives (§15: no BYE before it).
    pub bye_after_ack: bool,
    /// UAC no-answer timeout / UAS ring timeout.
    pub no_answer_at: Option<Instant>,
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
    }

    pub(crate) fn owns_server(&self, tid: TransactionId) -> bool {
        (self.role == Role::Uas && self.invite_tid == Some(tid))
            || self.ok.as_ref().is_some_and(|ok| ok.tid == tid)
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
        let ok = self.ok.as_ref().map(|ok| ok.next.min(ok.give_up));
        ok.into_iter().chain(self.no_answer_at).min()
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
    }

    /// A response for one of our client transactions.
    pub(crate) fn on_response(&mut self, tid: TransactionId, resp: Response, ctx: &mut Ctx<'_>) {
        if self.invite_tid == Some(tid) {
            self.on_invite_response(resp, ctx);
        } else if self.bye.as_ref().is_some_and(|(id, _, _)| *id == tid) {
            self.on_bye_response(resp, ctx);
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
        self.ok = None;
        self.report(state, ctx);
    }
}

/// The body as an SDP, if there is one.
pub(crate) fn sdp_of(body: &[u8]) -> Option<Vec<u8>> {
    (!body.is_empty()).then(|| body.to_vec())
}
