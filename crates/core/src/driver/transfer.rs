//! Call transfer on the runtime side (RFC 3515 REFER, RFC 5589 call flows, RFC 3891 Replaces).
//!
//! - Transferor: a blind transfer REFERs the peer to a new party; an attended one REFERs it to the party of our
//!   consult call with `Replaces` naming that call (the user agent builds the Refer-To). The peer's NOTIFYs arrive as
//!   `transfer` events (role `transferor`); on a 2xx the user agent hangs up the transferred call.
//! - Transferee: the peer's REFER makes us place a call to the Refer-To target (its `Replaces` rides along into our
//!   INVITE). That call's progress is reported to the transferor in NOTIFYs — 180 when it rings, 200 when answered,
//!   the failure status otherwise — and as `transfer` events (role `transferee`). The transferor hangs up the old call
//!   once it hears 200 (RFC 5589 §6.1).

use super::{now, Active, Env};
use crate::error::PhoneError;
use crate::event::{CallState, PhoneEvent, TransferRole};
use dialtone_sip::ua::CallId;
use dialtone_sip_message::{NameAddr, Uri};

impl Active {
    /// Blind transfer of call `handle` to what the user typed.
    pub(super) fn transfer(&mut self, handle: u64, target: &str) -> Result<(), PhoneError> {
        let id = self.find_call(handle)?;
        let uri = self.target_uri(target)?;
        self.ua
            .refer(now(), id, uri)
            .map_err(|e| PhoneError::WrongState(format!("cannot transfer call {handle}: {e}")))
    }

    /// Attended transfer: call `handle`'s peer is asked to call the party of our consult call `consult`, replacing
    /// it.
    pub(super) fn attended_transfer(
        &mut self,
        handle: u64,
        consult: u64,
    ) -> Result<(), PhoneError> {
        let id = self.find_call(handle)?;
        let other = self.find_call(consult)?;
        self.ua
            .refer_with_replaces(now(), id, other)
            .map_err(|e| PhoneError::WrongState(format!("cannot transfer call {handle}: {e}")))
    }

    pub(super) fn on_transfer_progress(
        &mut self,
        env: &Env,
        id: CallId,
        code: u16,
        reason: String,
    ) {
        if let Some(info) = self.calls.get(&id) {
            env.emit(PhoneEvent::Transfer {
                id: info.handle,
                role: TransferRole::Transferor,
                code,
                reason,
            });
        }
    }

    /// The peer of call `id` asks us to call `target`.
    pub(super) async fn on_transfer_requested(
        &mut self,
        env: &Env,
        id: CallId,
        target: Uri,
        referred_by: Option<NameAddr>,
    ) {
        let Some(handle) = self.calls.get(&id).map(|c| c.handle) else {
            return;
        };
        let shown = target.to_string();
        let placed = self.place_call(env, target, Some(id)).await;
        env.emit(PhoneEvent::TransferRequested {
            id: handle,
            target: shown,
            referred_by: referred_by.map(|r| r.uri.to_string()),
            new_call: placed.as_ref().ok().map(|(_, h)| *h),
        });
        if let Err(e) = placed {
            let (code, reason) = match e {
                PhoneError::InvalidTarget { .. } => (400, "Bad Refer-To"),
                _ => (503, "Service Unavailable"),
            };
            self.notify_transferor(env, id, code, reason);
            env.emit(PhoneEvent::Error {
                message: format!("cannot place the call the other party asked for: {e}"),
                call: Some(handle),
                code: Some(code),
            });
        }
    }

    /// The call we placed for call `original`'s REFER changed state: tell the transferor.
    pub(super) fn report_transfer(
        &mut self,
        env: &Env,
        original: CallId,
        state: CallState,
        established: bool,
        code: Option<u16>,
        reason: Option<&str>,
    ) {
        let (code, reason) = match state {
            CallState::Ring | CallState::RingMedia => (code.unwrap_or(180), "Ringing"),
            CallState::Established | CallState::Hold if established => (200, "OK"),
            CallState::Busy => (code.unwrap_or(486), "Busy Here"),
            CallState::Failed => (code.unwrap_or(500), reason.unwrap_or("Failed")),
            // Ended before it was answered: cancelled.
            CallState::Finish if !established => (487, "Request Terminated"),
            _ => return,
        };
        // Only the first final status goes out: the subscription ends with it.
        if let Some(info) = self.calls.get_mut(&original) {
            if code >= 200 {
                if info.transfer_done {
                    return;
                }
                info.transfer_done = true;
            }
        } else if code >= 200 {
            return;
        }
        self.notify_transferor(env, original, code, reason);
    }

    fn notify_transferor(&mut self, env: &Env, original: CallId, code: u16, reason: &str) {
        let Some(handle) = self.calls.get(&original).map(|c| c.handle) else {
            return;
        };
        if let Err(e) = self
            .ua
            .notify_transfer_progress(now(), original, code, reason)
        {
            tracing::debug!("transfer progress for call {handle} not sent: {e}");
            return;
        }
        env.emit(PhoneEvent::Transfer {
            id: handle,
            role: TransferRole::Transferee,
            code,
            reason: reason.to_string(),
        });
    }
}
