//! The commands [`crate::Phone`] sends to the driver, and their dispatch: each runs on the active account (or fails
//! with "not connected") and answers on its own reply channel.

use super::{now, Active, CallSettings, Driver};
use crate::account::AccountForm;
use crate::audio::{AudioConfig, SinkChoice, SourceChoice};
use crate::error::PhoneError;
use crate::event::{DtmfMethod, PresenceStatus};
use dialtone_sip::ua::{self, CallId, UserAgent};
use tokio::sync::oneshot;

type Reply<T> = oneshot::Sender<Result<T, PhoneError>>;

/// Answers `reply` once `started` finishes, off the driver (a device switch can block for a second or two).
fn reply_when_done<T: Send + 'static>(
    started: Result<
        impl std::future::Future<Output = Result<T, PhoneError>> + Send + 'static,
        PhoneError,
    >,
    reply: Reply<T>,
) {
    match started {
        Ok(work) => {
            tokio::spawn(async move {
                let _ = reply.send(work.await);
            });
        }
        Err(e) => {
            let _ = reply.send(Err(e));
        }
    }
}

/// Commands from [`crate::Phone`] to the driver.
pub(crate) enum Command {
    Connect {
        form: Box<AccountForm>,
        reply: Reply<()>,
    },
    Disconnect {
        reply: Reply<()>,
    },
    Call {
        target: String,
        strip: Vec<dialtone_sdp::CodecName>,
        reply: Reply<u64>,
    },
    SetAudio {
        config: Box<AudioConfig>,
        reply: Reply<()>,
    },
    SetCallSettings {
        settings: Box<CallSettings>,
        reply: Reply<()>,
    },
    SetDoNotDisturb {
        reject_with: Option<u16>,
        reply: Reply<()>,
    },
    SetWebRtcOffers {
        webrtc: bool,
        reply: Reply<()>,
    },
    Mute {
        id: u64,
        muted: bool,
        reply: Reply<()>,
    },
    SwitchMic {
        id: u64,
        choice: SourceChoice,
        reply: Reply<String>,
    },
    SwitchSpeaker {
        id: u64,
        choice: SinkChoice,
        reply: Reply<String>,
    },
    Answer {
        id: u64,
        reply: Reply<()>,
    },
    Decline {
        id: u64,
        reply: Reply<()>,
    },
    Hangup {
        id: u64,
        reply: Reply<()>,
    },
    Hold {
        id: u64,
        hold: bool,
        reply: Reply<()>,
    },
    Transfer {
        id: u64,
        target: String,
        reply: Reply<()>,
    },
    AttendedTransfer {
        id: u64,
        consult: u64,
        reply: Reply<()>,
    },
    SetDtmfMethod {
        method: DtmfMethod,
        reply: Reply<()>,
    },
    Dtmf {
        id: u64,
        digits: String,
        method: Option<DtmfMethod>,
        reply: Reply<DtmfMethod>,
    },
    Message {
        target: String,
        text: String,
        reply: Reply<u64>,
    },
    MessageInCall {
        id: u64,
        text: String,
        reply: Reply<u64>,
    },
    SetPresence {
        status: PresenceStatus,
        reply: Reply<()>,
    },
    Publish {
        reply: Reply<()>,
    },
    Subscribe {
        target: String,
        reply: Reply<u64>,
    },
    Unsubscribe {
        id: u64,
        reply: Reply<()>,
    },
}

impl Driver {
    pub(super) async fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::Connect { form, reply } => {
                let result = self.connect(*form).await;
                let _ = reply.send(result);
            }
            Command::Disconnect { reply } => {
                self.close(true).await;
                let _ = reply.send(Ok(()));
            }
            Command::Call {
                target,
                strip,
                reply,
            } => {
                let result = match self.active.as_mut() {
                    Some(active) => active.call(&self.env, &target, strip).await,
                    None => Err(PhoneError::NotConnected),
                };
                let _ = reply.send(result);
            }
            Command::SetAudio { config, reply } => {
                self.env.audio = *config;
                let _ = reply.send(Ok(()));
            }
            Command::SetCallSettings { settings, reply } => {
                self.env.settings = *settings;
                let _ = reply.send(Ok(()));
            }
            Command::SetWebRtcOffers { webrtc, reply } => {
                self.env.webrtc_offers = webrtc;
                let _ = reply.send(Ok(()));
            }
            Command::SetDoNotDisturb { reject_with, reply } => {
                let result = match reject_with {
                    Some(code) if !matches!(code, 480 | 486 | 603) => {
                        Err(PhoneError::InvalidInput(format!(
                            "do not disturb rejects calls with 486, 480 or 603, not {code}"
                        )))
                    }
                    _ => {
                        self.env.do_not_disturb = reject_with;
                        Ok(())
                    }
                };
                let _ = reply.send(result);
            }
            Command::Mute { id, muted, reply } => {
                let result = self.active().and_then(|a| a.mute(id, muted));
                let _ = reply.send(result);
            }
            Command::SwitchMic { id, choice, reply } => {
                reply_when_done(self.active().and_then(|a| a.switch_mic(id, choice)), reply)
            }
            Command::SwitchSpeaker { id, choice, reply } => reply_when_done(
                self.active().and_then(|a| a.switch_speaker(id, choice)),
                reply,
            ),
            Command::Answer { id, reply } => {
                let result = match self.active.as_mut() {
                    Some(active) => active.answer(&self.env, id).await,
                    None => Err(PhoneError::NotConnected),
                };
                let _ = reply.send(result);
            }
            Command::Decline { id, reply } => {
                let result = self.with_call(id, |ua, call| ua.reject(now(), call, 603));
                let _ = reply.send(result);
            }
            Command::Hangup { id, reply } => {
                let result = self.with_call(id, |ua, call| ua.hangup(now(), call));
                let _ = reply.send(result);
            }
            Command::Hold { id, hold, reply } => {
                let result = self.active().and_then(|a| a.hold(id, hold));
                let _ = reply.send(result);
            }
            Command::Transfer { id, target, reply } => {
                let result = self.active().and_then(|a| a.transfer(id, &target));
                let _ = reply.send(result);
            }
            Command::AttendedTransfer { id, consult, reply } => {
                let result = self.active().and_then(|a| a.attended_transfer(id, consult));
                let _ = reply.send(result);
            }
            Command::SetDtmfMethod { method, reply } => {
                self.dtmf_method = method;
                let _ = reply.send(Ok(()));
            }
            Command::Dtmf {
                id,
                digits,
                method,
                reply,
            } => {
                let method = method.unwrap_or(self.dtmf_method);
                let result = match self.active.as_mut() {
                    Some(active) => active.send_dtmf(&self.env, id, &digits, method),
                    None => Err(PhoneError::NotConnected),
                };
                let _ = reply.send(result);
            }
            Command::Message {
                target,
                text,
                reply,
            } => {
                let result = match self.active.as_mut() {
                    Some(active) => active.send_message(&self.env, &target, &text).await,
                    None => Err(PhoneError::NotConnected),
                };
                let _ = reply.send(result);
            }
            Command::MessageInCall { id, text, reply } => {
                let result = match self.active.as_mut() {
                    Some(active) => active.send_message_in_call(&self.env, id, &text),
                    None => Err(PhoneError::NotConnected),
                };
                let _ = reply.send(result);
            }
            Command::SetPresence { status, reply } => {
                let result = self.active().map(|a| a.set_presence(&status));
                let _ = reply.send(result);
            }
            Command::Publish { reply } => {
                let result = self.active().map(Active::publish_presence);
                let _ = reply.send(result);
            }
            Command::Subscribe { target, reply } => {
                let result = match self.active.as_mut() {
                    Some(active) => active.subscribe_presence(&self.env, &target).await,
                    None => Err(PhoneError::NotConnected),
                };
                let _ = reply.send(result);
            }
            Command::Unsubscribe { id, reply } => {
                let result = self.active().and_then(|a| a.unsubscribe_presence(id));
                let _ = reply.send(result);
            }
        }
    }

    fn active(&mut self) -> Result<&mut Active, PhoneError> {
        self.active.as_mut().ok_or(PhoneError::NotConnected)
    }

    fn with_call(
        &mut self,
        handle: u64,
        f: impl FnOnce(&mut UserAgent, CallId) -> Result<(), ua::UaError>,
    ) -> Result<(), PhoneError> {
        let active = self.active()?;
        let call = active.find_call(handle)?;
        f(&mut active.ua, call).map_err(|e| PhoneError::WrongState(e.to_string()))
    }
}
