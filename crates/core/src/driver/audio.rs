//! The calls' audio on the runtime side: what each call's media reports (statistics, RFC 4733 digits received,
//! device changes, RTP inactivity), and the user's in-call audio commands (mute, switching microphone or speaker).
//!
//! RTP inactivity (no packet for the timeout while receiving, never during hold) ends the call with a BYE: the other
//! side is gone or its media path is broken, and a call nobody can hear should not run up a bill.

use super::{now, Active, Env};
use crate::audio::{AudioEvent, SinkChoice, SourceChoice};
use crate::error::PhoneError;
use crate::event::{DeviceChange, DtmfMethod, Flow, PhoneEvent};
use crate::media::{AudioNotice, CallMedia, MediaNotice};
use dialtone_sip::ua::CallId;

impl Active {
    /// The call with `handle` and its media, once the call has one.
    fn media_of(&mut self, handle: u64) -> Result<(CallId, &mut CallMedia), PhoneError> {
        let id = self.find_call(handle)?;
        let session = self
            .calls
            .get_mut(&id)
            .and_then(|info| info.session.as_mut())
            .ok_or_else(|| PhoneError::WrongState(format!("call {handle} has no audio yet")))?;
        Ok((id, session.media_mut()))
    }

    /// Mutes (`true`) or unmutes our microphone in call `handle`.
    pub(super) fn mute(&mut self, handle: u64, muted: bool) -> Result<(), PhoneError> {
        let (_, media) = self.media_of(handle)?;
        media.mute(muted).map_err(PhoneError::from)
    }

    /// Starts switching the microphone of call `handle`; the returned future finishes the switch off the driver.
    pub(super) fn switch_mic(
        &mut self,
        handle: u64,
        choice: SourceChoice,
    ) -> Result<
        impl std::future::Future<Output = Result<String, PhoneError>> + Send + 'static,
        PhoneError,
    > {
        let (_, media) = self.media_of(handle)?;
        let switch = media.switch_mic(choice)?;
        Ok(async move { switch.await.map_err(PhoneError::from) })
    }

    /// Starts switching the speaker of call `handle`; the returned future finishes the switch off the driver.
    pub(super) fn switch_speaker(
        &mut self,
        handle: u64,
        choice: SinkChoice,
    ) -> Result<
        impl std::future::Future<Output = Result<String, PhoneError>> + Send + 'static,
        PhoneError,
    > {
        let (_, media) = self.media_of(handle)?;
        let switch = media.switch_speaker(choice)?;
        Ok(async move { switch.await.map_err(PhoneError::from) })
    }

    /// Something a call's media reported.
    pub(super) fn on_media_notice(&mut self, env: &Env, notice: AudioNotice) {
        let AudioNotice { handle, notice } = notice;
        let Ok(call) = self.find_call(handle) else {
            return; // the call is over
        };
        match notice {
            MediaNotice::Audio(event) => self.on_audio_event(env, call, handle, *event),
            MediaNotice::DevicesUnavailable(reason) => env.emit(PhoneEvent::AudioDevice {
                id: handle,
                role: None,
                change: DeviceChange::Unavailable,
                from: None,
                to: None,
                reason: Some(format!(
                    "{reason}; the call goes on without a microphone or speaker (silence is sent)"
                )),
            }),
            MediaNotice::Failed(message) => env.emit(PhoneEvent::Error {
                message,
                call: Some(handle),
                code: None,
            }),
        }
    }

    fn on_audio_event(&mut self, env: &Env, call: CallId, handle: u64, event: AudioEvent) {
        match event {
            AudioEvent::Stats(stats) => env.emit(PhoneEvent::Stats {
                id: handle,
                final_: false,
                stats,
            }),
            AudioEvent::Dtmf { digit, duration_ms } => env.emit(PhoneEvent::Dtmf {
                id: handle,
                digit,
                flow: Flow::Received,
                method: DtmfMethod::Rfc4733,
                duration_ms: Some(u32::try_from(duration_ms).unwrap_or(u32::MAX)),
            }),
            AudioEvent::Inactive { silent_for_ms } => {
                env.emit(PhoneEvent::Error {
                    message: format!(
                        "no audio from the other party for {} s: hanging up",
                        silent_for_ms / 1000
                    ),
                    call: Some(handle),
                    code: None,
                });
                if let Err(e) = self.ua.hangup(now(), call) {
                    tracing::debug!("hanging up silent call {handle}: {e}");
                }
            }
            AudioEvent::DeviceSwitched { role, from, to } => env.emit(PhoneEvent::AudioDevice {
                id: handle,
                role: Some(role),
                change: DeviceChange::Switched,
                from: Some(from),
                to: Some(to),
                reason: None,
            }),
            AudioEvent::DeviceFallback {
                role,
                lost,
                to,
                reason,
            } => env.emit(PhoneEvent::AudioDevice {
                id: handle,
                role: Some(role),
                change: DeviceChange::Fallback,
                from: Some(lost),
                to: Some(to),
                reason: Some(reason),
            }),
            AudioEvent::DeviceFallbackFailed { role, lost, reason } => {
                env.emit(PhoneEvent::AudioDevice {
                    id: handle,
                    role: Some(role),
                    change: DeviceChange::Unavailable,
                    from: Some(lost),
                    to: None,
                    reason: Some(reason),
                })
            }
            AudioEvent::Error { message } => env.emit(PhoneEvent::Error {
                message: format!("audio: {message}"),
                call: Some(handle),
                code: None,
            }),
            other => tracing::debug!("call {handle} audio: {other:?}"),
        }
    }
}
