//! What deserves a desktop notification, decided from the phone's events alone (no I/O): an incoming call (and when
//! its notification should go away again), a missed call, a registration that dropped.
//!
//! The desktop shell feeds every [`PhoneEvent`] to an [`AlertTracker`] and shows what comes out; it tells the tracker
//! when the user disconnects on purpose ([`AlertTracker::expect_unregister`]) so that is not reported as a drop.
//!
//! - **Incoming call**: a `call` event `RING`, direction incoming, for a call not seen ringing before.
//! - **Over**: the ringing call was answered (`ESTABLISHED`/`HOLD`) or ended: its notification is withdrawn.
//! - **Missed**: the ringing call ended before it was established *without a status code*, i.e. the caller
//!   cancelled or nobody answered in time. A call we refused (Decline, hangup while ringing, do-not-disturb) ends
//!   with the code we sent (603, 486, 480) and is not "missed".
//! - **Registration lost**: `FAILED`, or `UNREGISTERED` the user did not ask for, after the account had been
//!   registered. A first registration that fails is shown in the window, not as a notification.

use crate::event::{CallState, Direction, PhoneEvent, RegistrationState};
use std::collections::HashMap;

/// The other party of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    /// Their URI (`sip:bob@example.com`): what a call-back dials.
    pub uri: String,
    /// Their display name, if they sent one.
    pub display_name: Option<String>,
}

impl Party {
    /// How to name them to people: the display name, or the URI without a display name.
    pub fn label(&self) -> &str {
        match self.display_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => name,
            _ => &self.uri,
        }
    }
}

/// Something to tell the user outside the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alert {
    /// Call `call` rings: offer Answer and Decline.
    IncomingCall {
        /// The call handle (for `Phone::answer`/`decline`).
        call: u64,
        /// Who calls.
        caller: Party,
    },
    /// The ringing call `call` was answered or ended: withdraw its incoming-call notification.
    CallOver {
        /// The call handle.
        call: u64,
    },
    /// Call `call` rang and was not answered: offer a call-back.
    MissedCall {
        /// The call handle (gone by now; for bookkeeping only).
        call: u64,
        /// Who called: `caller.uri` is what to call back.
        caller: Party,
    },
    /// The account was registered and is not any more.
    RegistrationLost {
        /// The address of record.
        aor: String,
        /// The SIP status behind it, when there was one.
        code: Option<u16>,
        /// Why, in plain words, when known.
        reason: Option<String>,
    },
}

impl Alert {
    /// The notification's title.
    pub fn title(&self) -> String {
        match self {
            Alert::IncomingCall { caller, .. } => format!("Incoming call from {}", caller.label()),
            Alert::CallOver { .. } => String::new(),
            Alert::MissedCall { caller, .. } => format!("Missed call from {}", caller.label()),
            Alert::RegistrationLost { .. } => "Dialtone is no longer registered".to_string(),
        }
    }

    /// The notification's text.
    pub fn body(&self) -> String {
        match self {
            Alert::IncomingCall { caller, .. } => caller.uri.clone(),
            Alert::CallOver { .. } => String::new(),
            Alert::MissedCall { caller, .. } => format!("{} — click to call back", caller.uri),
            Alert::RegistrationLost { aor, code, reason } => {
                let why = match (code, reason.as_deref()) {
                    (Some(code), Some(reason)) => format!("{code} {reason}"),
                    (Some(code), None) => code.to_string(),
                    (None, Some(reason)) => reason.to_string(),
                    (None, None) => "the registrar no longer accepts us".to_string(),
                };
                format!("{aor}: {why}. Incoming calls cannot reach you.")
            }
        }
    }
}

/// Turns the stream of [`PhoneEvent`]s into [`Alert`]s.
#[derive(Debug, Default)]
pub struct AlertTracker {
    /// Incoming calls ringing now.
    ringing: HashMap<u64, Party>,
    /// The account reached `REGISTERED` since it last left it.
    registered: bool,
    /// The user disconnects: the next `UNREGISTERED` is expected.
    leaving: bool,
}

impl AlertTracker {
    /// A tracker with nothing ringing and no registration.
    pub fn new() -> AlertTracker {
        AlertTracker::default()
    }

    /// The user is disconnecting (or quitting): the `UNREGISTERED` that follows is not a drop.
    pub fn expect_unregister(&mut self) {
        self.leaving = true;
    }

    /// Whether the account is registered, as far as the events said.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The incoming calls ringing now.
    pub fn ringing(&self) -> impl Iterator<Item = (u64, &Party)> {
        self.ringing.iter().map(|(id, p)| (*id, p))
    }

    /// What `event` means for the user outside the window (usually nothing).
    pub fn on_event(&mut self, event: &PhoneEvent) -> Vec<Alert> {
        match event {
            PhoneEvent::Call {
                id,
                state,
                direction,
                peer,
                display_name,
                code,
                ..
            } => self.on_call(*id, *state, *direction, peer, display_name, *code),
            PhoneEvent::Registration {
                state,
                aor,
                code,
                reason,
                ..
            } => self.on_registration(*state, aor, *code, reason),
            _ => Vec::new(),
        }
    }

    fn on_call(
        &mut self,
        id: u64,
        state: CallState,
        direction: Direction,
        peer: &str,
        display_name: &Option<String>,
        code: Option<u16>,
    ) -> Vec<Alert> {
        match state {
            CallState::Ring if direction == Direction::Incoming => {
                if self.ringing.contains_key(&id) {
                    return Vec::new();
                }
                let caller = Party {
                    uri: peer.to_string(),
                    display_name: display_name.clone(),
                };
                self.ringing.insert(id, caller.clone());
                vec![Alert::IncomingCall { call: id, caller }]
            }
            CallState::Established | CallState::Hold => match self.ringing.remove(&id) {
                Some(_) => vec![Alert::CallOver { call: id }],
                None => Vec::new(),
            },
            CallState::Finish | CallState::Failed | CallState::Busy => {
                let Some(caller) = self.ringing.remove(&id) else {
                    return Vec::new();
                };
                let mut alerts = vec![Alert::CallOver { call: id }];
                if code.is_none() {
                    alerts.push(Alert::MissedCall { call: id, caller });
                }
                alerts
            }
            _ => Vec::new(),
        }
    }

    fn on_registration(
        &mut self,
        state: RegistrationState,
        aor: &str,
        code: Option<u16>,
        reason: &Option<String>,
    ) -> Vec<Alert> {
        match state {
            RegistrationState::Registered => {
                self.registered = true;
                self.leaving = false;
                Vec::new()
            }
            RegistrationState::Registering => Vec::new(),
            RegistrationState::Failed | RegistrationState::Unregistered => {
                let was = std::mem::take(&mut self.registered);
                let asked = state == RegistrationState::Unregistered && self.leaving;
                if state == RegistrationState::Unregistered {
                    self.leaving = false;
                }
                if was && !asked {
                    vec![Alert::RegistrationLost {
                        aor: aor.to_string(),
                        code,
                        reason: reason.clone(),
                    }]
                } else {
                    Vec::new()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64, state: CallState, direction: Direction, code: Option<u16>) -> PhoneEvent {
        PhoneEvent::Call {
            id,
            state,
            direction,
            peer: "sip:bob@example.com".into(),
            display_name: Some("Bob".into()),
            code,
            reason: None,
            held: None,
            replaces: None,
        }
    }

    fn reg(state: RegistrationState, code: Option<u16>) -> PhoneEvent {
        PhoneEvent::Registration {
            state,
            aor: "sip:alice@example.com".into(),
            code,
            reason: code.map(|c| dialtone_sip_message::default_reason(c).to_string()),
            expires: None,
        }
    }

    fn bob() -> Party {
        Party {
            uri: "sip:bob@example.com".into(),
            display_name: Some("Bob".into()),
        }
    }

    #[test]
    fn an_answered_call_rings_then_its_notification_goes() {
        let mut t = AlertTracker::new();
        let ring = t.on_event(&call(7, CallState::Ring, Direction::Incoming, Some(180)));
        assert_eq!(
            ring,
            vec![Alert::IncomingCall {
                call: 7,
                caller: bob()
            }]
        );
        assert_eq!(ring[0].title(), "Incoming call from Bob");
        assert_eq!(ring[0].body(), "sip:bob@example.com");
        // A repeated RING is not a second call.
        assert!(t
            .on_event(&call(7, CallState::Ring, Direction::Incoming, None))
            .is_empty());
        assert_eq!(t.ringing().count(), 1);
        assert_eq!(
            t.on_event(&call(
                7,
                CallState::Established,
                Direction::Incoming,
                Some(200)
            )),
            vec![Alert::CallOver { call: 7 }]
        );
        // Its end is not a missed call.
        assert!(t
            .on_event(&call(7, CallState::Finish, Direction::Incoming, None))
            .is_empty());
        assert_eq!(t.ringing().count(), 0);
    }

    #[test]
    fn a_cancelled_call_is_missed() {
        let mut t = AlertTracker::new();
        t.on_event(&call(3, CallState::Ring, Direction::Incoming, None));
        let alerts = t.on_event(&call(3, CallState::Finish, Direction::Incoming, None));
        assert_eq!(
            alerts,
            vec![
                Alert::CallOver { call: 3 },
                Alert::MissedCall {
                    call: 3,
                    caller: bob()
                }
            ]
        );
        assert_eq!(alerts[1].title(), "Missed call from Bob");
        assert!(alerts[1].body().starts_with("sip:bob@example.com"));
    }

    #[test]
    fn a_call_we_refused_is_not_missed() {
        for code in [603, 486, 480, 488] {
            let mut t = AlertTracker::new();
            t.on_event(&call(4, CallState::Ring, Direction::Incoming, None));
            assert_eq!(
                t.on_event(&call(4, CallState::Finish, Direction::Incoming, Some(code))),
                vec![Alert::CallOver { call: 4 }],
                "{code}"
            );
        }
    }

    #[test]
    fn calls_that_never_rang_here_say_nothing() {
        let mut t = AlertTracker::new();
        // Outgoing calls ring at the other end.
        assert!(t
            .on_event(&call(1, CallState::Ring, Direction::Outgoing, Some(180)))
            .is_empty());
        assert!(t
            .on_event(&call(1, CallState::Finish, Direction::Outgoing, None))
            .is_empty());
        // Do-not-disturb refuses before ringing: only the end is reported.
        assert!(t
            .on_event(&call(2, CallState::Finish, Direction::Incoming, Some(486)))
            .is_empty());
        // Replacing calls (attended transfer) are answered at once.
        assert!(t
            .on_event(&call(
                5,
                CallState::Established,
                Direction::Incoming,
                Some(200)
            ))
            .is_empty());
    }

    #[test]
    fn a_caller_without_a_display_name_is_named_by_uri() {
        let mut t = AlertTracker::new();
        let event = PhoneEvent::Call {
            id: 9,
            state: CallState::Ring,
            direction: Direction::Incoming,
            peer: "sip:+15550100@gw.example.com".into(),
            display_name: Some("  ".into()),
            code: None,
            reason: None,
            held: None,
            replaces: None,
        };
        let alerts = t.on_event(&event);
        assert_eq!(
            alerts[0].title(),
            "Incoming call from sip:+15550100@gw.example.com"
        );
    }

    #[test]
    fn a_registration_that_drops_is_reported_once() {
        let mut t = AlertTracker::new();
        assert!(t
            .on_event(&reg(RegistrationState::Registering, None))
            .is_empty());
        assert!(t
            .on_event(&reg(RegistrationState::Registered, Some(200)))
            .is_empty());
        assert!(t.is_registered());
        let lost = t.on_event(&reg(RegistrationState::Failed, Some(403)));
        assert_eq!(
            lost,
            vec![Alert::RegistrationLost {
                aor: "sip:alice@example.com".into(),
                code: Some(403),
                reason: Some("Forbidden".into()),
            }]
        );
        assert_eq!(lost[0].title(), "Dialtone is no longer registered");
        assert_eq!(
            lost[0].body(),
            "sip:alice@example.com: 403 Forbidden. Incoming calls cannot reach you."
        );
        // Further failures of the same outage are not repeated.
        assert!(t
            .on_event(&reg(RegistrationState::Failed, Some(408)))
            .is_empty());
        assert!(!t.is_registered());
    }

    #[test]
    fn a_first_registration_that_fails_is_not_a_drop() {
        let mut t = AlertTracker::new();
        t.on_event(&reg(RegistrationState::Registering, None));
        assert!(t
            .on_event(&reg(RegistrationState::Failed, Some(401)))
            .is_empty());
    }

    #[test]
    fn unregistering_on_purpose_is_not_a_drop_but_otherwise_it_is() {
        let mut t = AlertTracker::new();
        t.on_event(&reg(RegistrationState::Registered, Some(200)));
        t.expect_unregister();
        assert!(t
            .on_event(&reg(RegistrationState::Unregistered, None))
            .is_empty());
        // Connected again; this time nobody asked.
        t.on_event(&reg(RegistrationState::Registered, Some(200)));
        assert_eq!(
            t.on_event(&reg(RegistrationState::Unregistered, None))
                .len(),
            1
        );
        // A disconnect asked for while registering is forgotten once registered again.
        t.expect_unregister();
        t.on_event(&reg(RegistrationState::Registered, Some(200)));
        assert_eq!(
            t.on_event(&reg(RegistrationState::Unregistered, None))
                .len(),
            1
        );
    }

    #[test]
    fn other_events_say_nothing() {
        let mut t = AlertTracker::new();
        assert!(t.on_event(&PhoneEvent::error("x")).is_empty());
        assert_eq!(Alert::CallOver { call: 1 }.title(), "");
    }
}
