//! Per-call media endpoint: the seam between call signalling and the audio path.
//!
//! One [`CallMedia`] per call, around the call's [`CallAudioTask`] (RTP/RTCP sockets, codecs, jitter buffer,
//! devices). The driver opens it before writing its first SDP (our RTP port goes into the offer or answer), hands it
//! the outcome of every offer/answer exchange (RFC 3264 §6–§8: codec, where the peer wants RTP, the direction from our
//! side — `sendonly` while we hold, `recvonly` while the peer holds us), and closes it when the call ends, which sends
//! RTCP BYE (RFC 3550 §6.6), completes a WAV recording and yields the final statistics.
//!
//! The driver never waits on the media: commands are queued to the call's RTP task in order, and what the media
//! reports (statistics, DTMF received as RFC 4733 events, device changes, RTP inactivity, a command that failed)
//! comes back as [`AudioNotice`]s on one channel for all calls, tagged with the call's handle.
//!
//! Devices are the user's choice; when the chosen microphone or speaker cannot be opened at all (no sound server, a
//! machine without a sound card), the call still goes ahead with silence sent and nothing played — RTP timing is
//! kept — and the user is told. A file the user named (`--play`, `--record`) that cannot be opened fails the call.

use crate::audio::{AudioConfig, AudioError, AudioEvent, CallAudioTask, SinkChoice, SourceChoice};
use dialtone_media::MediaStats;
use dialtone_sdp::{AcceptedMedia, Direction, NegotiatedCodec, TelephoneEvent};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long closing a call's audio may take before the driver stops waiting for it (RTCP BYE, the audio thread's
/// last frame, a WAV header written).
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// What a call's media reports to the driver.
#[derive(Debug)]
pub(crate) enum MediaNotice {
    /// An event of the audio path.
    Audio(Box<AudioEvent>),
    /// The chosen devices could not be opened; the call goes on with silence and no playback.
    DevicesUnavailable(String),
    /// A queued command failed (a codec the pipeline cannot run, a digit the pipeline refused).
    Failed(String),
}

/// A [`MediaNotice`] of call `handle`.
#[derive(Debug)]
pub(crate) struct AudioNotice {
    /// The call's handle.
    pub handle: u64,
    /// What happened.
    pub notice: MediaNotice,
}

/// Where the media of every call reports.
pub(crate) type NoticeSender = mpsc::UnboundedSender<AudioNotice>;

/// The media side of one call.
pub(crate) struct CallMedia {
    audio: Option<CallAudioTask>,
    local: SocketAddr,
    /// The audio settled by the last exchange.
    accepted: Option<AcceptedMedia>,
    /// The stream was rejected or disabled (port 0).
    disabled: bool,
    held: bool,
    /// The call's handle, shared with the event forwarder (a call replacing another takes its media over).
    handle: Arc<AtomicU64>,
    notices: NoticeSender,
    forwarder: tokio::task::JoinHandle<()>,
}

fn notify(notices: &NoticeSender, handle: &AtomicU64, notice: MediaNotice) {
    // The driver is gone when this fails: nobody is left to tell.
    let _ = notices.send(AudioNotice {
        handle: handle.load(Ordering::Relaxed),
        notice,
    });
}

/// Opens the call's audio, falling back to silence and no playback when the chosen devices cannot be opened.
async fn open_audio(
    ip: IpAddr,
    config: &AudioConfig,
) -> Result<(CallAudioTask, crate::audio::AudioEvents, Option<String>), AudioError> {
    match CallAudioTask::open(ip, config.clone()).await {
        Ok((task, events)) => Ok((task, events, None)),
        Err(AudioError::Device(e)) => {
            let mut fallback = config.clone();
            if matches!(fallback.source, SourceChoice::Device(_)) {
                fallback.source = SourceChoice::Silence;
            }
            if matches!(fallback.sink, SinkChoice::Device(_)) {
                fallback.sink = SinkChoice::Null;
            }
            if fallback == *config {
                // A file the user named: theirs to fix, so the call fails with the reason.
                return Err(AudioError::Device(e));
            }
            let (task, events) = CallAudioTask::open(ip, fallback).await?;
            Ok((task, events, Some(e.to_string())))
        }
        Err(e) => Err(e),
    }
}

impl CallMedia {
    /// Binds the call's RTP/RTCP ports on `ip` and opens its audio as `config` says; its reports go to `notices`
    /// tagged with `handle`.
    pub(crate) async fn open(
        ip: IpAddr,
        config: &AudioConfig,
        handle: u64,
        notices: NoticeSender,
    ) -> Result<CallMedia, AudioError> {
        let (audio, mut events, fallback) = open_audio(ip, config).await?;
        let local = audio.local_addr();
        let handle = Arc::new(AtomicU64::new(handle));
        if let Some(reason) = fallback {
            notify(&notices, &handle, MediaNotice::DevicesUnavailable(reason));
        }
        let forwarder = {
            let handle = Arc::clone(&handle);
            let notices = notices.clone();
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    notify(&notices, &handle, MediaNotice::Audio(Box::new(event)));
                }
            })
        };
        Ok(CallMedia {
            audio: Some(audio),
            local,
            accepted: None,
            disabled: false,
            held: false,
            handle,
            notices,
            forwarder,
        })
    }

    /// Where a WebRTC bridge in front of this call's audio reports (`webrtc::PhoneWebRtc`): the bridge ending by
    /// itself (ICE/DTLS failed, the peer's connection closed) comes back as a notice of this call.
    pub(crate) fn bridge_events(&self) -> mpsc::UnboundedSender<crate::webrtc::BridgeEvent> {
        use crate::webrtc::{BridgeEnd, BridgeEvent};
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (notices, handle) = (self.notices.clone(), Arc::clone(&self.handle));
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                match event {
                    BridgeEvent::Connected => {
                        tracing::debug!("WebRTC media connected (ICE and DTLS up)")
                    }
                    BridgeEvent::Ended(why) => {
                        let why = match why {
                            BridgeEnd::Stopped => continue,
                            BridgeEnd::WebRtcFailed => {
                                "ICE or DTLS failed, or the peer closed its connection".to_string()
                            }
                            BridgeEnd::PlainFailed(e) => {
                                format!("the bridge's RTP socket failed: {e}")
                            }
                        };
                        notify(
                            &notices,
                            &handle,
                            MediaNotice::Failed(format!("the call's WebRTC media ended: {why}")),
                        );
                    }
                }
            }
        });
        tx
    }

    /// From now on the media reports as call `handle` (an INVITE with Replaces took it over).
    pub(crate) fn retag(&self, handle: u64) {
        self.handle.store(handle, Ordering::Relaxed);
    }

    /// Our RTP address (written into our offers and answers).
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Applies the outcome of an offer/answer exchange for the audio stream; `hold`: we hold the call.
    pub(crate) fn apply(&mut self, audio: &AcceptedMedia, hold: bool) {
        self.disabled = false;
        self.accepted = Some(audio.clone());
        self.push(audio);
        self.set_hold(hold);
    }

    /// The audio stream was rejected or disabled (port 0): nothing to send or play.
    pub(crate) fn disable(&mut self) {
        self.disabled = true;
        if let Some(accepted) = self.accepted.as_mut() {
            accepted.direction = Direction::Inactive;
            let accepted = accepted.clone();
            self.push(&accepted);
        }
    }

    /// Applies a peer's description we could not match to an offer of ours (it came in the ACK to a re-INVITE of the
    /// peer without SDP, or in the answer to a session refresh): only where to send and the direction change.
    pub(crate) fn update_remote(&mut self, remote: SocketAddr, direction: Direction, hold: bool) {
        let Some(accepted) = self.accepted.as_mut() else {
            return;
        };
        accepted.remote_rtp = remote;
        accepted.remote_rtcp = if accepted.rtcp_mux {
            remote
        } else {
            SocketAddr::new(remote.ip(), remote.port().saturating_add(1))
        };
        accepted.direction = direction;
        let accepted = accepted.clone();
        self.push(&accepted);
        self.set_hold(hold);
    }

    /// Queues `audio` to the RTP task; a failure comes back as a notice.
    fn push(&self, audio: &AcceptedMedia) {
        let Some(task) = self.audio.as_ref() else {
            return;
        };
        match task.apply_queued(audio) {
            Ok(result) => {
                let (notices, handle) = (self.notices.clone(), Arc::clone(&self.handle));
                tokio::spawn(async move {
                    if let Ok(Err(e)) = result.await {
                        notify(
                            &notices,
                            &handle,
                            MediaNotice::Failed(format!(
                                "the audio cannot use what was negotiated: {e}"
                            )),
                        );
                    }
                });
            }
            Err(e) => notify(
                &self.notices,
                &self.handle,
                MediaNotice::Failed(e.to_string()),
            ),
        }
    }

    fn set_hold(&mut self, hold: bool) {
        if hold == self.held {
            return;
        }
        self.held = hold;
        if let Some(task) = self.audio.as_ref() {
            let result = if hold { task.hold() } else { task.resume() };
            if let Err(e) = result {
                notify(
                    &self.notices,
                    &self.handle,
                    MediaNotice::Failed(e.to_string()),
                );
            }
        }
    }

    /// Mutes or unmutes our microphone (silence is sent with the same timing).
    pub(crate) fn mute(&mut self, muted: bool) -> Result<(), AudioError> {
        let task = self.audio.as_ref().ok_or(AudioError::Closed)?;
        task.mute(muted)
    }

    /// Whether RFC 4733 telephone-events can go out in the media stream now: negotiated, and the stream sends.
    pub(crate) fn can_send_telephone_events(&self) -> bool {
        self.audio.is_some()
            && !self.disabled
            && self
                .accepted
                .as_ref()
                .is_some_and(|a| a.telephone_event.is_some() && a.direction.sends())
    }

    /// Queues an RFC 4733 digit; returns how long it lasts. A failure later comes back as a notice.
    pub(crate) fn send_dtmf(&self, digit: char) -> Result<Duration, AudioError> {
        let task = self.audio.as_ref().ok_or(AudioError::Closed)?;
        let result = task.dtmf_queued(digit)?;
        let (notices, handle) = (self.notices.clone(), Arc::clone(&self.handle));
        tokio::spawn(async move {
            if let Ok(Err(e)) = result.await {
                notify(
                    &notices,
                    &handle,
                    MediaNotice::Failed(format!("DTMF {digit} not sent: {e}")),
                );
            }
        });
        Ok(task.dtmf_duration())
    }

    /// Switches the microphone during the call; returns the new source's label.
    pub(crate) fn switch_mic(
        &self,
        choice: SourceChoice,
    ) -> Result<
        impl std::future::Future<Output = Result<String, AudioError>> + Send + 'static,
        AudioError,
    > {
        let task = self.audio.as_ref().ok_or(AudioError::Closed)?;
        Ok(task.switch_mic_detached(choice))
    }

    /// Switches the speaker during the call; returns the new sink's label.
    pub(crate) fn switch_speaker(
        &self,
        choice: SinkChoice,
    ) -> Result<
        impl std::future::Future<Output = Result<String, AudioError>> + Send + 'static,
        AudioError,
    > {
        let task = self.audio.as_ref().ok_or(AudioError::Closed)?;
        Ok(task.switch_speaker_detached(choice))
    }

    /// The negotiated RFC 4733 payload, if any.
    pub(crate) fn telephone_event(&self) -> Option<&TelephoneEvent> {
        self.accepted.as_ref()?.telephone_event.as_ref()
    }

    /// The codec in use, if negotiated.
    pub(crate) fn codec(&self) -> Option<&NegotiatedCodec> {
        self.accepted.as_ref().map(|a| &a.codec)
    }

    /// The direction from our side.
    pub(crate) fn direction(&self) -> Direction {
        match self.accepted.as_ref() {
            Some(_) if self.disabled => Direction::Inactive,
            Some(a) => a.direction,
            None => Direction::SendRecv,
        }
    }

    /// Where the peer wants our RTP.
    pub(crate) fn remote(&self) -> Option<SocketAddr> {
        self.accepted.as_ref().map(|a| a.remote_rtp)
    }

    /// Ends the call's audio: RTCP BYE, the recording completed, devices and ports released. Returns the final
    /// statistics (`None` when the media never started or did not close in time).
    pub(crate) async fn close(mut self) -> Option<MediaStats> {
        let task = self.audio.take()?;
        match tokio::time::timeout(CLOSE_GRACE, task.close()).await {
            Ok(Ok(stats)) => stats,
            Ok(Err(e)) => {
                tracing::debug!("closing the call's audio: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("the call's audio did not close within {CLOSE_GRACE:?}");
                None
            }
        }
    }
}

impl Drop for CallMedia {
    fn drop(&mut self) {
        // Dropping the audio task closes it without waiting; the forwarder ends with its event channel, but stop it
        // now so a late event is not reported for a call that is gone.
        self.forwarder.abort();
    }
}
