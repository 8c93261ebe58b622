//! The `Phone` handle: the one API the desktop shell and the CLI use.
//!
//! Commands go to the driver task over a channel and come back with a result; state changes come out as
//! [`PhoneEvent`]s on a broadcast channel. The handle is cheap to clone.

use crate::account::AccountForm;
use crate::audio::{AudioConfig, SinkChoice, SourceChoice};
use crate::driver::{CallSettings, Command, Driver, DriverOptions};
use crate::error::PhoneError;
use crate::event::{DtmfMethod, PhoneEvent, PresenceStatus};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Handle to a running phone. Dropping every handle stops the driver.
#[derive(Clone)]
pub struct Phone {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<PhoneEvent>,
}

impl Phone {
    /// Starts a phone on the current tokio runtime.
    pub fn start(options: DriverOptions) -> Phone {
        let (commands, rx) = mpsc::channel(64);
        let (events, _) = broadcast::channel(256);
        let driver = Driver::new(options, rx, events.clone());
        tokio::spawn(driver.run());
        Phone { commands, events }
    }

    /// A new receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PhoneEvent> {
        self.events.subscribe()
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, PhoneError>>) -> Command,
    ) -> Result<T, PhoneError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| PhoneError::Stopped)?;
        rx.await.map_err(|_| PhoneError::Stopped)?
    }

    /// Validates the form, opens the transport and (when "register required") registers.
    /// Returns once the account is in place; registration progress arrives as events.
    pub async fn connect(&self, form: AccountForm) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Connect {
            form: Box::new(form),
            reply,
        })
        .await
    }

    /// Unregisters (Expires: 0), ends calls and closes the account.
    pub async fn disconnect(&self) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Disconnect { reply }).await
    }

    /// Places a call to `target` (a SIP URI, `user`, or `user@host`); returns the call handle.
    pub async fn call(&self, target: &str) -> Result<u64, PhoneError> {
        self.call_stripping(target, "").await
    }

    /// Places a call that must not use the codecs in `strip` (a comma list of names: `opus, alaw, ulaw, g729,
    /// speex16, speex, g722, telephone-event`), on top of the phone's codec policy.
    pub async fn call_stripping(&self, target: &str, strip: &str) -> Result<u64, PhoneError> {
        let strip = dialtone_sdp::parse_codec_list(strip)
            .map_err(|e| PhoneError::InvalidInput(format!("codecs to strip: {e}")))?;
        let target = target.to_owned();
        self.ask(|reply| Command::Call {
            target,
            strip,
            reply,
        })
        .await
    }

    /// The audio of the calls placed or answered from now on: microphone and speaker (or a WAV file, a tone,
    /// silence), the ringer device, the RTP inactivity timeout.
    pub async fn set_audio(&self, config: AudioConfig) -> Result<(), PhoneError> {
        self.ask(|reply| Command::SetAudio {
            config: Box::new(config),
            reply,
        })
        .await
    }

    /// The codec policy of the calls from now on: `order` is the preference list (`opus, alaw, ulaw, g729, speex16,
    /// speex, g722, telephone-event`; empty keeps the default order), `excluded_from_offers` the codecs we accept but
    /// never offer, `extra_lines` SDP bandwidth lines (`b=AS:3000`, `b=TIAS:2500000`, `b=RS:1000`, `b=RR:3000`) put
    /// after `c=` in our offers and answers.
    pub async fn set_codecs(
        &self,
        order: &str,
        excluded_from_offers: &str,
        extra_lines: &[String],
    ) -> Result<(), PhoneError> {
        let mut settings = CallSettings::default();
        if !order.trim().is_empty() {
            settings.codecs = dialtone_sdp::CodecPolicy::from_lists(order, excluded_from_offers)
                .map_err(|e| PhoneError::InvalidInput(format!("codec list: {e}")))?;
        } else {
            settings.codecs.excluded_from_offers =
                dialtone_sdp::parse_codec_list(excluded_from_offers).map_err(|e| {
                    PhoneError::InvalidInput(format!("codecs excluded from offers: {e}"))
                })?;
        }
        settings.extra_lines = extra_lines
            .iter()
            .map(|line| dialtone_sdp::ExtraLine::parse(line))
            .collect::<Result<_, _>>()
            .map_err(|e| PhoneError::InvalidInput(format!("extra SDP line: {e}")))?;
        self.ask(|reply| Command::SetCallSettings {
            settings: Box::new(settings),
            reply,
        })
        .await
    }

    /// Do not disturb: `Some(486)` (busy), `Some(480)` (unavailable) or `Some(603)` (decline) refuses every incoming
    /// call at once with that status (reported as a `call` event in state FINISH with the code); `None` turns it off.
    pub async fn set_do_not_disturb(&self, reject_with: Option<u16>) -> Result<(), PhoneError> {
        self.ask(|reply| Command::SetDoNotDisturb { reject_with, reply })
            .await
    }

    /// The media profile of the calls placed from now on: `true` offers the WebRTC profile (`UDP/TLS/RTP/SAVPF`:
    /// ICE, DTLS-SRTP, Opus, BUNDLE, rtcp-mux) so the phone can call a browser; `false` (the default) offers plain
    /// `RTP/AVP`. Incoming WebRTC offers are answered with the WebRTC profile either way.
    pub async fn set_webrtc_offers(&self, webrtc: bool) -> Result<(), PhoneError> {
        self.ask(|reply| Command::SetWebRtcOffers { webrtc, reply })
            .await
    }

    /// Mutes (`true`) or unmutes our microphone in call `id`: silence goes out with the same RTP timing.
    pub async fn mute(&self, id: u64, muted: bool) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Mute { id, muted, reply }).await
    }

    /// Switches the microphone of call `id` during the call (RTP goes on untouched); returns the new source's label.
    pub async fn switch_mic(&self, id: u64, choice: SourceChoice) -> Result<String, PhoneError> {
        self.ask(|reply| Command::SwitchMic { id, choice, reply })
            .await
    }

    /// Switches the speaker of call `id` during the call; returns the new sink's label.
    pub async fn switch_speaker(&self, id: u64, choice: SinkChoice) -> Result<String, PhoneError> {
        self.ask(|reply| Command::SwitchSpeaker { id, choice, reply })
            .await
    }

    /// Answers a ringing incoming call.
    pub async fn answer(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Answer { id, reply }).await
    }

    /// Declines a ringing incoming call (603 Decline).
    pub async fn decline(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Decline { id, reply }).await
    }

    /// Ends a call in any state: CANCEL before answer, BYE after.
    pub async fn hangup(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Hangup { id, reply }).await
    }

    /// Puts an established call on hold: a re-INVITE offering `sendonly` (RFC 3264 §8.4). The call shows `HOLD`
    /// once the other party answered; a refusal arrives as an `error` event and the call goes on as before.
    pub async fn hold(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Hold {
            id,
            hold: true,
            reply,
        })
        .await
    }

    /// Takes a call we hold off hold (re-INVITE offering `sendrecv`).
    pub async fn resume(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Hold {
            id,
            hold: false,
            reply,
        })
        .await
    }

    /// Blind transfer: asks the other party of call `id` to call `target` (REFER, RFC 3515). Progress arrives as
    /// `transfer` events; on success the call ends (`FINISH`, "transferred").
    pub async fn transfer(&self, id: u64, target: &str) -> Result<(), PhoneError> {
        let target = target.to_owned();
        self.ask(|reply| Command::Transfer { id, target, reply })
            .await
    }

    /// Attended transfer: asks the other party of call `id` to call the party of our established call `consult`,
    /// which it replaces (REFER with Replaces, RFC 5589 §7). On success both our calls end.
    pub async fn attended_transfer(&self, id: u64, consult: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::AttendedTransfer { id, consult, reply })
            .await
    }

    /// Sets the account's DTMF method (default `auto`).
    pub async fn set_dtmf_method(&self, method: DtmfMethod) -> Result<(), PhoneError> {
        self.ask(|reply| Command::SetDtmfMethod { method, reply })
            .await
    }

    /// Sends DTMF `digits` (`0`–`9`, `*`, `#`, `A`–`D`) in call `id`, with `method` or else the account's. Returns
    /// the method used. RFC 4733 is refused as `unsupported` until the audio path exists.
    pub async fn send_dtmf(
        &self,
        id: u64,
        digits: &str,
        method: Option<DtmfMethod>,
    ) -> Result<DtmfMethod, PhoneError> {
        let digits = digits.to_owned();
        self.ask(|reply| Command::Dtmf {
            id,
            digits,
            method,
            reply,
        })
        .await
    }

    /// Sends a text message (SIP MESSAGE, RFC 3428) to `target`; returns the handle its `message_result` carries.
    pub async fn send_message(&self, target: &str, text: &str) -> Result<u64, PhoneError> {
        let (target, text) = (target.to_owned(), text.to_owned());
        self.ask(|reply| Command::Message {
            target,
            text,
            reply,
        })
        .await
    }

    /// Sends a text message inside call `id`; returns the handle its `message_result` carries.
    pub async fn send_message_in_call(&self, id: u64, text: &str) -> Result<u64, PhoneError> {
        let text = text.to_owned();
        self.ask(|reply| Command::MessageInCall { id, text, reply })
            .await
    }

    /// Sets our presence status: watchers are notified, a publication is updated.
    pub async fn set_presence(&self, status: PresenceStatus) -> Result<(), PhoneError> {
        self.ask(|reply| Command::SetPresence { status, reply })
            .await
    }

    /// Publishes our presence status to the server (PUBLISH, RFC 3903) and keeps it published until disconnect;
    /// states arrive as `publication` events.
    pub async fn publish_presence(&self) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Publish { reply }).await
    }

    /// Watches `target`'s presence (SUBSCRIBE, RFC 6665/3856); returns the handle of its `subscription` and
    /// `presence` events.
    pub async fn subscribe_presence(&self, target: &str) -> Result<u64, PhoneError> {
        let target = target.to_owned();
        self.ask(|reply| Command::Subscribe { target, reply }).await
    }

    /// Stops watching (the subscription ends as `TERMINATED`, "unsubscribed").
    pub async fn unsubscribe_presence(&self, id: u64) -> Result<(), PhoneError> {
        self.ask(|reply| Command::Unsubscribe { id, reply }).await
    }
}
