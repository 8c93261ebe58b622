//! The scripted session of `dialtone phone`: what to do when, driven by the phone's events.
//!
//! Times count from events: the call's first `ESTABLISHED` for --hangup-after, --hold-after, --transfer-after,
//! --dtmf-after and an in-call --message; our hold taking effect (`HOLD`) for --resume-after; registering (or the
//! start, without registering) for --message-to and presence. The "main" call — the one placed with --call, or the
//! first one answered with --auto-answer — gets the whole script; other calls (answered later, or placed because the
//! other party transferred us) only --hangup-after.
//!
//! The session ends when the main call and every other call are over (--call), when --calls calls have ended
//! (--auto-answer), or after --stay seconds (neither); in every case not before the results of our messages came
//! back. A failed call (--call), a message not delivered or DTMF that could not be sent makes the exit status 1.

use super::{print, secs, PhoneArgs};
use anyhow::bail;
use dialtone_core::{
    CallState, Direction, Held, Phone, PhoneEvent, RegistrationState, SubscriptionState,
};
use std::collections::HashSet;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

/// Something to do at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Hang up (or cancel) this call.
    Hangup(u64),
    Hold(u64),
    Resume(u64),
    /// Blind transfer or, for an attended one, hold and place the consult call.
    Transfer(u64),
    Dtmf(u64),
    MessageInCall(u64),
    /// --switch-mic-after, --switch-speaker-after, --mute-after.
    SwitchMic(u64),
    SwitchSpeaker(u64),
    Mute(u64),
    /// The out-of-dialog message.
    Message,
    /// --stay is over.
    StayOver,
}

/// The whole scripted session.
struct Script<'a> {
    phone: &'a Phone,
    args: &'a PhoneArgs,
    timers: Vec<(Instant, Action)>,
    registered: bool,
    /// The call the script is about.
    main: Option<u64>,
    main_over: bool,
    /// Our consult call of an attended transfer.
    consult: Option<u64>,
    /// Calls placed because the other party transferred us.
    referred: HashSet<u64>,
    live: HashSet<u64>,
    established: HashSet<u64>,
    ended_calls: u32,
    resumed: bool,
    /// Messages sent, waiting for their result.
    pending_messages: HashSet<u64>,
    message_scheduled: bool,
    stay_over: bool,
    /// What went wrong (reported at the end as a non-zero exit).
    failures: Vec<String>,
}

/// Runs the scripted session until it is over.
pub(super) async fn run(
    phone: &Phone,
    events: &mut broadcast::Receiver<PhoneEvent>,
    args: &PhoneArgs,
) -> anyhow::Result<()> {
    let mut script = Script {
        phone,
        args,
        timers: Vec::new(),
        registered: args.no_register,
        main: None,
        main_over: false,
        consult: None,
        referred: HashSet::new(),
        live: HashSet::new(),
        established: HashSet::new(),
        ended_calls: 0,
        resumed: false,
        pending_messages: HashSet::new(),
        message_scheduled: false,
        stay_over: false,
        failures: Vec::new(),
    };
    if script.registered {
        script.begin().await?;
    }
    loop {
        if script.done() {
            break;
        }
        let next = script.timers.iter().map(|(at, _)| *at).min();
        let event = tokio::select! {
            ev = events.recv() => ev,
            _ = async { match next { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                script.fire_due().await?;
                continue;
            }
        };
        let event = match event {
            Ok(e) => e,
            Err(RecvError::Lagged(n)) => {
                eprintln!("dialtone: {n} events were dropped (output too slow)");
                continue;
            }
            Err(RecvError::Closed) => bail!("the phone stopped unexpectedly"),
        };
        print(&event);
        script.on_event(&event).await?;
    }
    if script.failures.is_empty() {
        Ok(())
    } else {
        bail!(script.failures.join("; "))
    }
}

fn after(s: f64) -> anyhow::Result<Instant> {
    Ok(Instant::now() + secs(s)?)
}

impl Script<'_> {
    fn at(&mut self, s: f64, action: Action) -> anyhow::Result<()> {
        self.timers.push((after(s)?, action));
        Ok(())
    }

    /// The account is usable: place the call, start presence and messages, start the stay timer.
    async fn begin(&mut self) -> anyhow::Result<()> {
        let args = self.args;
        if let Some(status) = args.publish.clone() {
            self.phone.set_presence(status).await?;
            self.phone.publish_presence().await?;
        } else if let Some(status) = args.presence.clone() {
            self.phone.set_presence(status).await?;
        }
        for target in &args.subscribe {
            self.phone.subscribe_presence(target).await?;
        }
        if args.message_to.is_some() {
            self.message_scheduled = true;
            self.at(args.message_after, Action::Message)?;
        }
        if let Some(target) = args.call.as_deref() {
            let id = self
                .phone
                .call_stripping(target, &args.strip_codecs)
                .await?;
            self.main = Some(id);
            self.live.insert(id);
            if let Some(s) = args.cancel_after {
                self.at(s, Action::Hangup(id))?;
            }
        } else if !args.auto_answer {
            self.at(args.stay, Action::StayOver)?;
        }
        Ok(())
    }

    fn done(&self) -> bool {
        if !self.pending_messages.is_empty() || self.message_scheduled {
            return false;
        }
        if self.args.call.is_some() {
            self.main_over && self.live.is_empty()
        } else if self.args.auto_answer {
            self.ended_calls >= self.args.calls && self.live.is_empty()
        } else {
            self.stay_over
        }
    }

    async fn fire_due(&mut self) -> anyhow::Result<()> {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = self.timers.drain(..).partition(|(at, _)| *at <= now);
        self.timers = later;
        for (_, action) in due {
            self.act(action).await?;
        }
        Ok(())
    }

    async fn act(&mut self, action: Action) -> anyhow::Result<()> {
        let phone = self.phone;
        let args = self.args;
        let result = match action {
            Action::Hangup(id) => phone.hangup(id).await,
            Action::Hold(id) => phone.hold(id).await,
            Action::Resume(id) => phone.resume(id).await,
            Action::Transfer(id) => {
                if let Some(target) = &args.transfer_to {
                    phone.transfer(id, target).await
                } else if let Some(target) = &args.attended_transfer_to {
                    // RFC 5589 §7: the transferee waits on hold while we consult.
                    if let Err(e) = phone.hold(id).await {
                        eprintln!("dialtone: hold before the consult call: {e}");
                    }
                    match phone.call(target).await {
                        Ok(consult) => {
                            self.consult = Some(consult);
                            self.live.insert(consult);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    Ok(())
                }
            }
            Action::Dtmf(id) => match &args.dtmf {
                Some(digits) => phone.send_dtmf(id, digits, None).await.map(|_| ()),
                None => Ok(()),
            },
            Action::MessageInCall(id) => match &args.message {
                Some(text) => phone.send_message_in_call(id, text).await.map(|m| {
                    self.pending_messages.insert(m);
                }),
                None => Ok(()),
            },
            Action::SwitchMic(id) => match &args.switch_mic {
                Some((_, name)) => phone
                    .switch_mic(id, super::source_named(name))
                    .await
                    .map(|label| eprintln!("dialtone: call {id}: microphone now {label}")),
                None => Ok(()),
            },
            Action::SwitchSpeaker(id) => match &args.switch_speaker {
                Some((_, name)) => phone
                    .switch_speaker(id, super::sink_named(name))
                    .await
                    .map(|label| eprintln!("dialtone: call {id}: speaker now {label}")),
                None => Ok(()),
            },
            Action::Mute(id) => phone.mute(id, true).await,
            Action::Message => {
                self.message_scheduled = false;
                match (&args.message_to, &args.message) {
                    (Some(to), Some(text)) => phone.send_message(to, text).await.map(|m| {
                        self.pending_messages.insert(m);
                    }),
                    _ => Ok(()),
                }
            }
            Action::StayOver => {
                self.stay_over = true;
                Ok(())
            }
        };
        if let Err(e) = result {
            eprintln!("dialtone: {e}");
            self.failures.push(e.to_string());
        }
        Ok(())
    }

    async fn on_event(&mut self, event: &PhoneEvent) -> anyhow::Result<()> {
        match event {
            PhoneEvent::Registration {
                state: RegistrationState::Registered,
                ..
            } if !self.registered => {
                self.registered = true;
                self.begin().await?;
            }
            PhoneEvent::Registration {
                state: RegistrationState::Failed,
                code,
                reason,
                ..
            } if !self.registered => {
                bail!(
                    "registration failed: {}{}",
                    code.map(|c| format!("{c} ")).unwrap_or_default(),
                    reason.as_deref().unwrap_or("no reason given")
                );
            }
            PhoneEvent::Call {
                id,
                state,
                direction,
                code,
                reason,
                held,
                replaces,
                ..
            } => {
                self.on_call(
                    *id,
                    *state,
                    *direction,
                    *code,
                    reason.as_deref(),
                    *held,
                    *replaces,
                )
                .await?
            }
            PhoneEvent::TransferRequested {
                new_call: Some(new),
                ..
            } => {
                self.referred.insert(*new);
                self.live.insert(*new);
            }
            PhoneEvent::MessageResult { id, code, reason }
                if self.pending_messages.remove(id) && !(200..300).contains(code) =>
            {
                let what = format!("message not delivered: {code} {reason}");
                eprintln!("dialtone: {what}");
                self.failures.push(what);
            }
            PhoneEvent::Subscription {
                state: SubscriptionState::Terminated,
                target,
                reason,
                ..
            } => eprintln!(
                "dialtone: presence subscription to {target} ended: {}",
                reason.as_deref().unwrap_or("no reason given")
            ),
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // the fields of one event
    async fn on_call(
        &mut self,
        id: u64,
        state: CallState,
        direction: Direction,
        code: Option<u16>,
        reason: Option<&str>,
        held: Option<Held>,
        replaces: Option<u64>,
    ) -> anyhow::Result<()> {
        let args = self.args;
        match state {
            CallState::Ring if direction == Direction::Incoming && args.auto_answer => {
                self.live.insert(id);
                self.phone.answer(id).await?;
            }
            CallState::Established | CallState::Hold if self.established.insert(id) => {
                self.live.insert(id);
                if replaces.is_some() {
                    // The end of an attended transfer: the other party (the transferee) hangs up.
                    return Ok(());
                }
                if self.consult == Some(id) {
                    if let Some(main) = self.main {
                        if let Err(e) = self.phone.attended_transfer(main, id).await {
                            eprintln!("dialtone: {e}");
                            self.failures.push(e.to_string());
                        }
                    }
                    return Ok(());
                }
                if self.main == Some(id) {
                    self.timers.retain(|(_, a)| *a != Action::Hangup(id)); // answered: no cancel
                } else if self.main.is_none() && !self.referred.contains(&id) {
                    self.main = Some(id);
                }
                if let Some(s) = args.hangup_after {
                    self.at(s, Action::Hangup(id))?;
                }
                if self.main == Some(id) {
                    self.schedule_in_call(id)?;
                }
            }
            CallState::Hold
                if self.main == Some(id)
                    && matches!(held, Some(Held::Local | Held::Both))
                    && !self.resumed =>
            {
                if let Some(s) = args.resume_after {
                    self.resumed = true;
                    self.at(s, Action::Resume(id))?;
                }
            }
            CallState::Finish | CallState::Failed | CallState::Busy => {
                self.timers.retain(|(_, a)| match a {
                    Action::Hangup(c)
                    | Action::Hold(c)
                    | Action::Resume(c)
                    | Action::Transfer(c)
                    | Action::Dtmf(c)
                    | Action::MessageInCall(c)
                    | Action::SwitchMic(c)
                    | Action::SwitchSpeaker(c)
                    | Action::Mute(c) => *c != id,
                    _ => true,
                });
                self.live.remove(&id);
                self.ended_calls += 1;
                if self.main == Some(id) {
                    self.main_over = true;
                }
                if state != CallState::Finish {
                    let what = format!(
                        "call {}: {}{}",
                        if state == CallState::Busy {
                            "busy"
                        } else {
                            "failed"
                        },
                        code.map(|c| format!("{c} ")).unwrap_or_default(),
                        reason.unwrap_or("no reason given")
                    );
                    // A cancelled call ends as FAILED 487; that is what --cancel-after asked for.
                    let cancelled = args.cancel_after.is_some() && code == Some(487);
                    if args.call.is_some() && self.main == Some(id) && !cancelled {
                        bail!(what);
                    }
                    if !cancelled {
                        eprintln!("dialtone: {what}");
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The main call is established: schedule the in-call script.
    fn schedule_in_call(&mut self, id: u64) -> anyhow::Result<()> {
        let args = self.args;
        if let Some(s) = args.hold_after {
            self.at(s, Action::Hold(id))?;
        }
        if args.transfer_to.is_some() || args.attended_transfer_to.is_some() {
            self.at(args.transfer_after, Action::Transfer(id))?;
        }
        if args.dtmf.is_some() {
            self.at(args.dtmf_after, Action::Dtmf(id))?;
        }
        if args.message.is_some() && args.message_to.is_none() {
            self.at(args.message_after, Action::MessageInCall(id))?;
        }
        if let Some((s, _)) = &args.switch_mic {
            self.at(*s, Action::SwitchMic(id))?;
        }
        if let Some((s, _)) = &args.switch_speaker {
            self.at(*s, Action::SwitchSpeaker(id))?;
        }
        if let Some(s) = args.mute_after {
            self.at(s, Action::Mute(id))?;
        }
        Ok(())
    }
}
