//! [`CallAudioTask`]: the handle the driver keeps per call, and the commands it sends to
//! the call's RTP task ([`super::runner`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dialtone_devices::{SinkSwitch, SourceSwitch, SwitchableSink, SwitchableSource};
use dialtone_media::MediaStats;
use dialtone_sdp::AcceptedMedia;
use tokio::sync::{mpsc, oneshot};

use super::endpoints::{open_sink, open_source};
use super::ports::PortPair;
use super::pump::{Pump, PumpThread, Shared};
use super::runner::Runner;
use super::{AudioConfig, AudioError, AudioEvent, SinkChoice, SourceChoice};

/// The events of one call's audio, in order. Ends when the audio is closed.
pub type AudioEvents = mpsc::UnboundedReceiver<AudioEvent>;

/// What the handle asks of the RTP task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Start or change the media after an offer/answer exchange.
    Apply(Box<AcceptedMedia>, oneshot::Sender<Result<(), AudioError>>),
    Hold(bool),
    Mute(bool),
    Inactivity(Option<Duration>),
    Dtmf(char, oneshot::Sender<Result<(), AudioError>>),
    Stats(oneshot::Sender<Option<MediaStats>>),
    Close(oneshot::Sender<Option<MediaStats>>),
}

/// The audio of one call: RTP/RTCP sockets, a [`dialtone_media::CallAudio`] pipeline,
/// its timers, and an audio thread between the pipeline and the devices.
///
/// 1. [`open`](Self::open) binds the ports (the RTP port goes into our SDP) and opens the
///    devices (so they have started by the time media flows).
/// 2. [`start`](Self::start) with the accepted audio of the first completed offer/answer;
///    [`update`](Self::update) after each later one (re-INVITE, UPDATE): codec, address
///    and direction change without restarting RTP.
/// 3. [`hold`](Self::hold) / [`resume`](Self::resume), [`mute`](Self::mute),
///    [`send_dtmf`](Self::send_dtmf), [`switch_mic`](Self::switch_mic),
///    [`switch_speaker`](Self::switch_speaker), [`stats`](Self::stats) at any time.
/// 4. [`close`](Self::close) when the call ends: RTCP BYE, devices and ports released.
///
/// Dropping the handle closes the audio too (without waiting for it).
#[derive(Debug)]
pub struct CallAudioTask {
    commands: mpsc::UnboundedSender<Command>,
    local: SocketAddr,
    mic: SourceSwitch,
    speaker: SinkSwitch,
    rate: u32,
    dtmf_duration: Duration,
}

impl CallAudioTask {
    /// Binds the RTP/RTCP ports on `ip` (the call's local address: where the signaling
    /// socket is bound) and opens the configured source and sink. Must run inside a tokio
    /// runtime. Returns the handle and the call's audio events.
    pub async fn open(
        ip: IpAddr,
        config: AudioConfig,
    ) -> Result<(CallAudioTask, AudioEvents), AudioError> {
        let sockets = PortPair::bind(ip, config.rtp_ports).await?;
        let local = sockets.local_rtp()?;
        let rate = config.device_rate;
        let dtmf_duration = config.dtmf_duration;
        let (source_choice, sink_choice) = (config.source.clone(), config.sink.clone());
        let (source, sink) = tokio::task::spawn_blocking(move || {
            Ok::<_, AudioError>((
                open_source(&source_choice, rate)?,
                open_sink(&sink_choice, rate)?,
            ))
        })
        .await
        .map_err(|e| AudioError::Thread(e.to_string()))??;
        let (device_tx, device_events) = std::sync::mpsc::channel();
        let (source, mic) = SwitchableSource::new(source, Some(device_tx.clone()));
        let (sink, speaker) = SwitchableSink::new(sink, Some(device_tx));
        let (events_tx, events) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let pump = PumpThread::spawn(Pump {
            source,
            sink,
            device_events,
            events: events_tx.clone(),
            shared: Arc::clone(&shared),
        })
        .map_err(|e| AudioError::Thread(e.to_string()))?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let runner = Runner::new(config, sockets, shared, pump, events_tx);
        tokio::spawn(runner.run(command_rx));
        Ok((
            CallAudioTask {
                commands,
                local,
                mic,
                speaker,
                rate,
                dtmf_duration,
            },
            events,
        ))
    }

    /// Our RTP address (RTCP is on the next port unless rtcp-mux is negotiated).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Our RTP port, for the SDP (`SessionParams::new(ip, task.local_port())`).
    pub fn local_port(&self) -> u16 {
        self.local.port()
    }

    /// Starts the media with the accepted audio stream of a completed offer/answer
    /// (`negotiated.audio()`). On a task that already runs, the same as
    /// [`update`](Self::update).
    pub async fn start(&self, media: &AcceptedMedia) -> Result<(), AudioError> {
        self.apply(media).await
    }

    /// Applies a later offer/answer (re-INVITE, UPDATE): a new codec, remote address or
    /// direction takes effect on the same RTP session (same SSRC, sequence continues).
    /// Only a changed telephone-event payload or packetization time rebuilds the
    /// pipeline (new SSRC; reported with `restarted: true`). On a task that has not
    /// started, the same as [`start`](Self::start).
    pub async fn update(&self, media: &AcceptedMedia) -> Result<(), AudioError> {
        self.apply(media).await
    }

    async fn apply(&self, media: &AcceptedMedia) -> Result<(), AudioError> {
        self.apply_queued(media)?
            .await
            .map_err(|_| AudioError::Closed)?
    }

    /// [`update`](Self::update) without waiting: the command is queued in order with the others and its result
    /// arrives on the returned channel (for the driver, which must not wait on the media).
    pub(crate) fn apply_queued(
        &self,
        media: &AcceptedMedia,
    ) -> Result<oneshot::Receiver<Result<(), AudioError>>, AudioError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Apply(Box::new(media.clone()), tx))?;
        Ok(rx)
    }

    /// [`send_dtmf`](Self::send_dtmf) without waiting: queued in order, its result on the returned channel.
    pub(crate) fn dtmf_queued(
        &self,
        digit: char,
    ) -> Result<oneshot::Receiver<Result<(), AudioError>>, AudioError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Dtmf(digit, tx))?;
        Ok(rx)
    }

    /// How long each RFC 4733 digit lasts.
    pub(crate) fn dtmf_duration(&self) -> Duration {
        self.dtmf_duration
    }

    /// Puts the call on hold locally, at once: nothing is played, silence is sent and the
    /// inactivity timer pauses. The re-offer with `sendonly` is the driver's; its result
    /// comes back through [`update`](Self::update).
    pub fn hold(&self) -> Result<(), AudioError> {
        self.send(Command::Hold(true))
    }

    /// Ends a local hold: the negotiated direction applies again.
    pub fn resume(&self) -> Result<(), AudioError> {
        self.send(Command::Hold(false))
    }

    /// Mutes (silence is sent with the same timing) or unmutes the microphone.
    pub fn mute(&self, muted: bool) -> Result<(), AudioError> {
        self.send(Command::Mute(muted))
    }

    /// Switches the RTP inactivity timeout on (`Some`) or off (`None`) from now.
    pub fn set_inactivity_timeout(&self, timeout: Option<Duration>) -> Result<(), AudioError> {
        self.send(Command::Inactivity(timeout))
    }

    /// Sends a DTMF digit (`0-9 * # A-D`) as RFC 4733 telephone-events, for
    /// [`AudioConfig::dtmf_duration`]. Digits queue behind each other. Fails when
    /// telephone-event was not negotiated (use SIP INFO then) or the media has not started.
    pub async fn send_dtmf(&self, digit: char) -> Result<(), AudioError> {
        self.dtmf_queued(digit)?
            .await
            .map_err(|_| AudioError::Closed)?
    }

    /// Switches what we send to `source` during the call, RTP untouched. A device takes
    /// over when its first samples arrive (the old one plays until then); an
    /// [`AudioEvent::DeviceSwitched`] follows. Returns the new source's label (the
    /// resolved device id, e.g. `pulseaudio:mic_b`).
    pub async fn switch_mic(&self, source: SourceChoice) -> Result<String, AudioError> {
        self.switch_mic_detached(source).await
    }

    /// [`switch_mic`](Self::switch_mic) as a future that does not borrow the handle.
    pub(crate) fn switch_mic_detached(
        &self,
        source: SourceChoice,
    ) -> impl std::future::Future<Output = Result<String, AudioError>> + Send + 'static {
        let switch = self.mic.clone();
        let rate = self.rate;
        run_blocking(move || match source {
            SourceChoice::Device(id) => switch.switch_to_device(id.as_deref()),
            other => {
                let source = open_source(&other, rate)?;
                let label = source.label();
                switch.switch_to(source).map(|()| label)
            }
        })
    }

    /// Switches where received audio plays during the call, RTP untouched. Both play until
    /// the new device has started; an [`AudioEvent::DeviceSwitched`] follows. Returns the
    /// new sink's label.
    pub async fn switch_speaker(&self, sink: SinkChoice) -> Result<String, AudioError> {
        self.switch_speaker_detached(sink).await
    }

    /// [`switch_speaker`](Self::switch_speaker) as a future that does not borrow the handle.
    pub(crate) fn switch_speaker_detached(
        &self,
        sink: SinkChoice,
    ) -> impl std::future::Future<Output = Result<String, AudioError>> + Send + 'static {
        let switch = self.speaker.clone();
        let rate = self.rate;
        run_blocking(move || match sink {
            SinkChoice::Device(id) => switch.switch_to_device(id.as_deref()),
            other => {
                let sink = open_sink(&other, rate)?;
                let label = sink.label();
                switch.switch_to(sink).map(|()| label)
            }
        })
    }

    /// The call's statistics now (`None` before the media started).
    pub async fn stats(&self) -> Result<Option<MediaStats>, AudioError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stats(tx))?;
        rx.await.map_err(|_| AudioError::Closed)
    }

    /// Ends the call's audio: RTCP BYE (RFC 3550 §6.6), the audio thread stops (a WAV
    /// recording is complete when this returns), devices and ports are released.
    /// Returns the final statistics (`None` if the media never started).
    pub async fn close(self) -> Result<Option<MediaStats>, AudioError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Close(tx))?;
        rx.await.map_err(|_| AudioError::Closed)
    }

    fn send(&self, command: Command) -> Result<(), AudioError> {
        self.commands.send(command).map_err(|_| AudioError::Closed)
    }
}

async fn run_blocking(
    f: impl FnOnce() -> Result<String, dialtone_devices::DeviceError> + Send + 'static,
) -> Result<String, AudioError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AudioError::Thread(e.to_string()))?
        .map_err(AudioError::from)
}
