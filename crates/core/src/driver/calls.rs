//! Calls on the runtime side: placing and answering them, their state events, and every offer/answer exchange in
//! them (RFC 3264 through RFC 3261 §13–§14 and RFC 3311): the initial one, our hold and resume re-offers, the peer's
//! re-offers (answered through the call's [`CallSession`]), and a refused re-offer of ours, after which the previous
//! descriptions stay in force.

use super::session::{CallSession, CallSettings};
use super::{credentials, now, proxy_uri, seed, Active, CallInfo, Env};
use crate::error::PhoneError;
use crate::event::{CallState, Direction, PhoneEvent};
use crate::media::CallMedia;
use dialtone_sip::ua::{self, CallId, InviteConfig};
use dialtone_sip_message::{NameAddr, Uri};

/// An `o=` session id: random, kept to 12 digits.
fn session_id() -> u64 {
    seed() % 1_000_000_000_000
}

impl Active {
    /// Places a call to what the user typed; `strip`: codecs this call must not use.
    pub(super) async fn call(
        &mut self,
        env: &Env,
        target: &str,
        strip: Vec<dialtone_sdp::CodecName>,
    ) -> Result<u64, PhoneError> {
        let uri = self.target_uri(target)?;
        let mut settings = env.settings.clone();
        settings.strip = strip;
        self.place_call_with(env, uri, None, &settings)
            .await
            .map(|(_, handle)| handle)
    }

    /// Opens the media of call `handle` with the phone's audio settings.
    async fn open_media(&self, env: &Env, handle: u64) -> Result<CallMedia, PhoneError> {
        CallMedia::open(self.local_ip, &env.audio, handle, env.notices.clone())
            .await
            .map_err(PhoneError::from)
    }

    /// Places a call to `target` (its URI headers, e.g. `Replaces`, go into the INVITE), with an offer from a fresh
    /// session. `transfer_for`: the call whose REFER asked for this one.
    pub(super) async fn place_call(
        &mut self,
        env: &Env,
        target: Uri,
        transfer_for: Option<CallId>,
    ) -> Result<(CallId, u64), PhoneError> {
        self.place_call_with(env, target, transfer_for, &env.settings)
            .await
    }

    async fn place_call_with(
        &mut self,
        env: &Env,
        target: Uri,
        transfer_for: Option<CallId>,
        settings: &CallSettings,
    ) -> Result<(CallId, u64), PhoneError> {
        let dest = self.dest_for(&target).await?;
        let handle = env.next_handle();
        let media = self.open_media(env, handle).await?;
        let mut session =
            CallSession::new(media, settings, session_id()).with_sdes(self.secure_signaling());
        let offer = if env.webrtc_offers {
            session.offer_webrtc().await
        } else {
            session.offer(false)
        }
        .map_err(|e| PhoneError::Network(format!("cannot make an SDP offer: {e}")))?;
        let mut config = InviteConfig::new(
            target.clone(),
            self.from()?,
            self.contact(),
            Some(offer),
            dest,
        );
        config.auth = credentials(&self.account);
        config.route = self.account.outbound_proxy.as_ref().map(proxy_uri);
        let id = self.ua.invite(now(), config);
        let mut shown = target;
        shown.headers.clear();
        let mut info = CallInfo::new(handle, Direction::Outgoing, shown.to_string());
        info.session = Some(session);
        info.transfer_for = transfer_for;
        if let Some(event) = info.report(CallState::Pending, None, None) {
            env.emit(event);
        }
        self.calls.insert(id, info);
        Ok((id, handle))
    }

    /// Answers a ringing incoming call: our answer to its offer, or our offer when it came without one.
    pub(super) async fn answer(&mut self, env: &Env, handle: u64) -> Result<(), PhoneError> {
        let call = self.find_call(handle)?;
        let media = self.open_media(env, handle).await?;
        let mut session =
            CallSession::new(media, &env.settings, session_id()).with_sdes(self.secure_signaling());
        // A WebRTC-profile offer (UDP/TLS/RTP/SAVPF): the call's audio goes through a bridge of its own.
        let offer = self.calls.get(&call).and_then(|c| c.remote_offer.clone());
        if let Some(offer) = offer {
            if let Err(e) = session.start_webrtc(&offer).await {
                let status = e.status();
                let _ = self.ua.reject(now(), call, status);
                return Err(PhoneError::WrongState(format!(
                    "cannot answer the caller's WebRTC offer ({e}); refused with {status}"
                )));
            }
        }
        self.answer_with(env, call, session)
    }

    fn answer_with(
        &mut self,
        env: &Env,
        call: CallId,
        mut session: CallSession,
    ) -> Result<(), PhoneError> {
        let info = self
            .calls
            .get_mut(&call)
            .ok_or(PhoneError::WrongState("the call is over".into()))?;
        if info.session.is_some() {
            return Err(PhoneError::WrongState(format!(
                "call {} is already answered",
                info.handle
            )));
        }
        let sdp = match info.remote_offer.take() {
            Some(offer) => match session.answer(&offer) {
                Ok(answered) => answered.sdp,
                Err(e) => {
                    // Nothing in the offer fits: refuse the call as RFC 3261 §13.3.1.3 says.
                    let status = e.status();
                    let _ = self.ua.reject(now(), call, status);
                    return Err(PhoneError::WrongState(format!(
                        "cannot answer: the caller's session description does not fit ({e}); refused with {status}"
                    )));
                }
            },
            None => session
                .offer(false)
                .map_err(|e| PhoneError::Network(format!("cannot make an SDP offer: {e}")))?,
        };
        info.session = Some(session);
        self.ua
            .answer(now(), call, sdp)
            .map_err(|e| PhoneError::WrongState(e.to_string()))?;
        if let Some(event) = info.media_report() {
            env.emit(event);
        }
        Ok(())
    }

    pub(super) async fn on_incoming_call(
        &mut self,
        env: &Env,
        id: CallId,
        from: NameAddr,
        sdp: Option<Vec<u8>>,
        replaces: Option<CallId>,
    ) {
        let mut info = CallInfo::new(env.next_handle(), Direction::Incoming, from.uri.to_string());
        info.display_name = from.display_name.clone();
        info.remote_offer = sdp;
        if let (Some(code), None) = (env.do_not_disturb, replaces) {
            // Do not disturb: refused at once, reported so the user can see who called.
            let _ = self.ua.reject(now(), id, code);
            if let Some(event) = info.report(
                CallState::Finish,
                Some(code),
                Some("rejected: do not disturb".into()),
            ) {
                env.emit(event);
            }
            return;
        }
        let Some(old) = replaces else {
            // It rings: only now the 180 goes out (the UA's automatic 180 is off, see `connect`).
            if let Err(e) = self.ua.ring(now(), id) {
                env.emit(PhoneEvent::error(format!(
                    "cannot ring the incoming call: {e}"
                )));
            }
            if let Some(event) = info.report(CallState::Ring, None, None) {
                env.emit(event);
            }
            self.calls.insert(id, info);
            return;
        };
        // An INVITE with Replaces (RFC 3891): not rung, answered at once, taking over the replaced call's media.
        let old_info = self.calls.get_mut(&old);
        info.replaces = old_info.as_ref().map(|o| o.handle);
        let handle = info.handle;
        let media = match old_info.and_then(|o| o.session.take()) {
            Some(session) => {
                let media = session.into_media().await;
                media.retag(handle);
                media
            }
            None => match self.open_media(env, handle).await {
                Ok(media) => media,
                Err(e) => {
                    let _ = self.ua.reject(now(), id, 500);
                    env.emit(PhoneEvent::error(format!(
                        "cannot take the replacing call: {e}"
                    )));
                    return;
                }
            },
        };
        let offer = info.remote_offer.clone();
        self.calls.insert(id, info);
        let mut session =
            CallSession::new(media, &env.settings, session_id()).with_sdes(self.secure_signaling());
        // A WebRTC-profile replacing offer gets a bridge of its own in front of the taken-over audio.
        if let Some(offer) = offer {
            if let Err(e) = session.start_webrtc(&offer).await {
                let status = e.status();
                let _ = self.ua.reject(now(), id, status);
                env.emit(PhoneEvent::Error {
                    message: format!("cannot answer the replacing call's WebRTC offer ({e}); refused with {status}"),
                    call: Some(handle),
                    code: None,
                });
                return;
            }
        }
        if let Err(e) = self.answer_with(env, id, session) {
            env.emit(PhoneEvent::Error {
                message: e.to_string(),
                call: Some(handle),
                code: None,
            });
        }
    }

    pub(super) async fn on_call_state(&mut self, env: &Env, id: CallId, state: ua::CallState) {
        let Some(info) = self.calls.get_mut(&id) else {
            return;
        };
        let mut problem = None;
        let (state, code, reason, done) = match state {
            ua::CallState::Pending => (CallState::Pending, None, None, false),
            ua::CallState::Trying => (CallState::Trying, Some(100), None, false),
            ua::CallState::Ringing => (CallState::Ring, Some(180), None, false),
            ua::CallState::RingingMedia { sdp } => {
                match info.session.as_mut() {
                    Some(session) if session.awaits_webrtc_answer() => {
                        problem = session.complete_webrtc(&sdp).await.err();
                    }
                    Some(session) => problem = session.accept_answer(&sdp).err(),
                    None => {}
                }
                (CallState::RingMedia, Some(183), None, false)
            }
            ua::CallState::Established { sdp, needs_answer } => {
                match (info.session.as_mut(), sdp) {
                    (Some(session), Some(sdp)) if needs_answer => match session.answer(&sdp) {
                        // Late offer in the 2xx: our answer goes in the ACK.
                        Ok(answered) => {
                            let _ = self.ua.answer(now(), id, answered.sdp);
                        }
                        Err(e) => problem = Some(e),
                    },
                    (Some(session), Some(sdp)) if session.awaits_webrtc_answer() => {
                        problem = session.complete_webrtc(&sdp).await.err()
                    }
                    (Some(session), Some(sdp)) => problem = session.accept_answer(&sdp).err(),
                    _ => {}
                }
                info.established = true;
                if let Some(event) = info.media_report() {
                    env.emit(event);
                }
                let state = if info.held().is_some() {
                    CallState::Hold
                } else {
                    CallState::Established
                };
                (state, Some(200), None, false)
            }
            ua::CallState::Finished { reason } => {
                // A call we refused ends with the code we sent, so it is not taken for a missed one.
                let code = match reason {
                    ua::EndReason::Rejected { code } => Some(code),
                    _ => None,
                };
                (CallState::Finish, code, Some(reason.to_string()), true)
            }
            ua::CallState::Failed { code, reason } => {
                (CallState::Failed, Some(code), Some(reason), true)
            }
            ua::CallState::Busy { code } => (
                CallState::Busy,
                Some(code),
                Some(dialtone_sip_message::default_reason(code).to_string()),
                true,
            ),
        };
        if let Some(e) = problem {
            env.emit(PhoneEvent::Error {
                message: format!("the other party's session description is not usable: {e}"),
                call: Some(info.handle),
                code: None,
            });
        }
        let established = info.established;
        let transfer_for = info.transfer_for;
        let handle = info.handle;
        let event = info.report(state, code, reason.clone());
        if done {
            // The media ends first (RTCP BYE, recording complete), so the final figures come before the end.
            if let Some(session) = self.calls.remove(&id).and_then(|info| info.session) {
                if let Some(stats) = session.close().await {
                    env.emit(PhoneEvent::Stats {
                        id: handle,
                        final_: true,
                        stats,
                    });
                }
            }
        }
        if let Some(event) = event {
            env.emit(event);
        }
        if let Some(original) = transfer_for {
            self.report_transfer(env, original, state, established, code, reason.as_deref());
        }
    }

    /// The peer's description changed: the answer to our re-offer, or one that answers no offer of ours.
    pub(super) fn on_remote_sdp(&mut self, env: &Env, id: CallId, sdp: &[u8]) {
        let Some(session) = self.calls.get_mut(&id).and_then(|c| c.session.as_mut()) else {
            return;
        };
        match session.accept_answer(sdp) {
            Ok(()) => self.after_negotiation(env, id),
            Err(e) => {
                if let Some(info) = self.calls.get(&id) {
                    env.emit(PhoneEvent::Error {
                        message: format!("the other party's answer is not usable: {e}"),
                        call: Some(info.handle),
                        code: None,
                    });
                }
            }
        }
    }

    /// The peer re-offers (re-INVITE or UPDATE): answer it through the call's negotiator, or refuse it.
    pub(super) fn on_remote_offer(&mut self, env: &Env, id: CallId, offer: &[u8]) {
        let Some(info) = self.calls.get_mut(&id) else {
            return;
        };
        let handle = info.handle;
        let Some(session) = info.session.as_mut() else {
            let _ = self.ua.reject_offer(now(), id, 488);
            return;
        };
        let answered = match session.answer(offer) {
            Ok(answered) => answered,
            Err(e) => {
                let status = e.status();
                let _ = self.ua.reject_offer(now(), id, status);
                env.emit(PhoneEvent::Error {
                    message: format!("refused the other party's new session description ({e})"),
                    call: Some(handle),
                    code: Some(status),
                });
                return;
            }
        };
        if let Err(e) = self.ua.answer_offer(now(), id, answered.sdp) {
            env.emit(PhoneEvent::Error {
                message: format!("cannot answer the other party's offer: {e}"),
                call: Some(handle),
                code: None,
            });
        }
        self.after_negotiation(env, id);
        // Glare (RFC 3261 §14.1): the peer's offer won over ours, which waits out its back-off. Make ours again on
        // top of the session just agreed; the user agent sends it when the back-off ends.
        if let Some(hold) = answered.superseded {
            self.reoffer(env, id, hold);
        }
    }

    /// Our re-offer was refused: the previous descriptions stay in force (RFC 3261 §14.1).
    pub(super) fn on_offer_failed(&mut self, env: &Env, id: CallId, code: u16, reason: &str) {
        let Some(info) = self.calls.get_mut(&id) else {
            return;
        };
        let what = match info.session.as_mut().and_then(CallSession::abandon_offer) {
            Some(true) => "put the call on hold",
            Some(false) => "resume the call",
            None => "change the session",
        };
        env.emit(PhoneEvent::Error {
            message: format!(
                "the other party refused to {what}: {code} {reason}; the call goes on as before"
            ),
            call: Some(info.handle),
            code: Some(code),
        });
    }

    /// Puts call `handle` on hold (`hold`) or resumes it, by a re-INVITE with a `sendonly` or `sendrecv` offer.
    pub(super) fn hold(&mut self, handle: u64, hold: bool) -> Result<(), PhoneError> {
        let id = self.find_call(handle)?;
        let info = self
            .calls
            .get_mut(&id)
            .ok_or(PhoneError::NoSuchCall(handle))?;
        let session = match info.session.as_mut() {
            Some(s) if info.established => s,
            _ => {
                return Err(PhoneError::WrongState(format!(
                    "call {handle} is not established"
                )))
            }
        };
        if session.has_pending_offer() {
            return Err(PhoneError::WrongState(format!(
                "call {handle}: a hold or resume is already under way"
            )));
        }
        if session.local_hold() == hold {
            return Err(PhoneError::WrongState(format!(
                "call {handle} is {}",
                if hold {
                    "already on hold"
                } else {
                    "not on hold"
                }
            )));
        }
        let offer = session
            .offer(hold)
            .map_err(|e| PhoneError::Network(format!("cannot make an SDP offer: {e}")))?;
        if let Err(e) = self.ua.reinvite(now(), id, offer) {
            session.abandon_offer();
            return Err(PhoneError::WrongState(format!("call {handle}: {e}")));
        }
        Ok(())
    }

    /// Makes our hold or resume offer again after the peer's offer superseded it.
    fn reoffer(&mut self, env: &Env, id: CallId, hold: bool) {
        let Some(info) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(session) = info.session.as_mut() else {
            return;
        };
        if session.local_hold() == hold {
            return; // the peer's exchange already left the call as we wanted it
        }
        let sent = session
            .offer(hold)
            .map_err(|e| e.to_string())
            .and_then(|offer| {
                self.ua
                    .reinvite(now(), id, offer)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = sent {
            session.abandon_offer();
            env.emit(PhoneEvent::Error {
                message: format!("cannot make our offer again after a collision: {e}"),
                call: Some(info.handle),
                code: None,
            });
        }
    }

    /// Reports what an exchange changed: the media, and HOLD or back to ESTABLISHED.
    fn after_negotiation(&mut self, env: &Env, id: CallId) {
        let Some(info) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(event) = info.media_report() {
            env.emit(event);
        }
        if !info.established {
            return;
        }
        let held = info.held();
        let reason = held.map(|h| {
            match h {
                crate::event::Held::Local => "we put the call on hold",
                crate::event::Held::Remote => "the other party put the call on hold",
                crate::event::Held::Both => "both parties put the call on hold",
            }
            .to_string()
        });
        let state = if held.is_some() {
            CallState::Hold
        } else {
            CallState::Established
        };
        if let Some(event) = info.report(state, None, reason) {
            env.emit(event);
        }
    }
}
