//! Do-not-disturb: while on, an incoming INVITE is refused at once with the chosen final status — 486 Busy Here
//! (RFC 3261 §21.4.24) or 480 Temporarily Unavailable (§21.4.18) — and never rung. The call is reported as one
//! `call` event, `FINISH` with that code, so the UI and the history see it and nobody takes it for a missed call.
//!
//! The setting belongs to the phone, not to a connection: it survives reconnects.

use super::{now, Active, CallInfo, Env};
use crate::error::PhoneError;
use crate::event::Direction;
use dialtone_sip::ua::CallId;
use dialtone_sip_message::NameAddr;
use std::sync::atomic::{AtomicU16, Ordering};

/// The do-not-disturb setting: the status incoming calls are refused with, 0 when off.
#[derive(Debug, Default)]
pub(crate) struct DoNotDisturb(AtomicU16);

impl DoNotDisturb {
    /// Switches do-not-disturb on (`Some(code)`, a final error status 400–699) or off (`None`).
    pub(crate) fn set(&self, reject_with: Option<u16>) -> Result<(), PhoneError> {
        let code = match reject_with {
            None => 0,
            Some(code @ 400..=699) => code,
            Some(code) => return Err(PhoneError::InvalidInput(format!(
                "do-not-disturb refuses calls with a final error status (486 or 480), not {code}"
            ))),
        };
        self.0.store(code, Ordering::Relaxed);
        Ok(())
    }

    /// The status to refuse incoming calls with, or `None` when calls ring.
    pub(crate) fn code(&self) -> Option<u16> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            code => Some(code),
        }
    }
}

impl Active {
    /// Refuses the new incoming call `id` when do-not-disturb is on; returns whether it did. The user agent then
    /// reports the call finished (rejected with the code), which `on_call_state` turns into `FINISH` with that code.
    /// An INVITE with Replaces is not refused: it takes over a call the user is already in.
    pub(super) fn refuse_for_dnd(
        &mut self,
        env: &Env,
        id: CallId,
        from: &NameAddr,
        replacing: bool,
    ) -> bool {
        let Some(code) = env.dnd.code() else {
            return false;
        };
        if replacing {
            return false;
        }
        let mut info = CallInfo::new(env.next_handle(), Direction::Incoming, from.uri.to_string());
        info.display_name = from.display_name.clone();
        self.calls.insert(id, info);
        if let Err(e) = self.ua.reject(now(), id, code) {
            tracing::debug!("do-not-disturb could not refuse call {id:?}: {e}");
            self.calls.remove(&id);
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_error_statuses_are_accepted() {
        let dnd = DoNotDisturb::default();
        assert_eq!(dnd.code(), None);
        dnd.set(Some(486)).expect("486");
        assert_eq!(dnd.code(), Some(486));
        dnd.set(Some(480)).expect("480");
        assert_eq!(dnd.code(), Some(480));
        assert!(dnd.set(Some(200)).is_err());
        assert!(dnd.set(Some(0)).is_err());
        assert!(dnd.set(Some(700)).is_err());
        assert_eq!(
            dnd.code(),
            Some(480),
            "a refused setting leaves the old one"
        );
        dnd.set(None).expect("off");
        assert_eq!(dnd.code(), None);
    }
}
