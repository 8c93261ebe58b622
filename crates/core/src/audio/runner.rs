//! The RTP task of one call: owns the sockets, feeds datagrams and timeouts to the
//! pipeline, sends what it produces, applies the handle's commands and reports events.
//!
//! It sleeps until the first of: a command, a datagram on the RTP or RTCP socket
//! (RFC 3550 §11: RTCP on the next port; with rtcp-mux, RFC 5761, on the RTP socket),
//! the pipeline's [`poll_timeout`](dialtone_media::CallAudio::poll_timeout) (RTCP
//! reports, inactivity, DTMF ends), the audio thread's wake-up after each 20 ms frame,
//! or the statistics interval. After each it drains the pipeline's output.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use dialtone_media::{CallAudio, CallAudioParams, CallOutput, Channel, NtpTime, Xorshift};
use dialtone_sdp::{AcceptedMedia, Direction};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::ports::PortPair;
use super::pump::{PumpThread, Shared};
use super::task::Command;
use super::{AudioConfig, AudioError, AudioEvent};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 868.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// Room for any datagram on the media ports.
const DATAGRAM: usize = 2048;

/// What woke the task up.
enum Wake {
    Command(Option<Command>),
    Rtp(std::io::Result<(usize, SocketAddr)>),
    Rtcp(std::io::Result<(usize, SocketAddr)>),
    Timeout,
    Frame,
    Stats,
}

pub(crate) struct Runner {
    config: AudioConfig,
    sockets: PortPair,
    shared: Arc<Shared>,
    pump: Option<PumpThread>,
    events: UnboundedSender<AudioEvent>,
    rng: Xorshift,
    cname: String,
    /// The accepted audio of the last exchange.
    negotiated: Option<AcceptedMedia>,
    held: bool,
    muted: bool,
    outputs: Vec<CallOutput>,
}

impl Runner {
    pub(crate) fn new(
        config: AudioConfig,
        sockets: PortPair,
        shared: Arc<Shared>,
        pump: PumpThread,
        events: UnboundedSender<AudioEvent>,
    ) -> Runner {
        let seed = random_seed();
        let cname = config
            .cname
            .clone()
            .unwrap_or_else(|| format!("dialtone-{:016x}", seed.rotate_left(17)));
        Runner {
            config,
            sockets,
            shared,
            pump: Some(pump),
            events,
            rng: Xorshift::new(seed),
            cname,
            negotiated: None,
            held: false,
            muted: false,
            outputs: Vec::new(),
        }
    }

    pub(crate) async fn run(mut self, mut commands: UnboundedReceiver<Command>) {
        let mut rtp_buf = vec![0u8; DATAGRAM];
        let mut rtcp_buf = vec![0u8; DATAGRAM];
        let mut stats_timer = self.config.stats_interval.map(|every| {
            let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            timer
        });
        loop {
            let deadline = self
                .shared
                .pipeline()
                .as_ref()
                .and_then(CallAudio::poll_timeout);
            let wake = tokio::select! {
                command = commands.recv() => Wake::Command(command),
                received = self.sockets.rtp.recv_from(&mut rtp_buf) => Wake::Rtp(received),
                received = self.sockets.rtcp.recv_from(&mut rtcp_buf) => Wake::Rtcp(received),
                () = sleep_until(deadline) => Wake::Timeout,
                () = self.shared.wake.notified() => Wake::Frame,
                () = tick(&mut stats_timer) => Wake::Stats,
            };
            match wake {
                Wake::Command(None) => {
                    self.close().await;
                    return;
                }
                Wake::Command(Some(Command::Close(reply))) => {
                    let stats = self.close().await;
                    let _ = reply.send(stats);
                    return;
                }
                Wake::Command(Some(command)) => self.command(command),
                Wake::Rtp(received) => {
                    if let Some((n, from)) = self.received(received).await {
                        self.with_pipeline(|audio, now| audio.handle_rtp(now, from, &rtp_buf[..n]));
                    }
                }
                Wake::Rtcp(received) => {
                    if let Some((n, from)) = self.received(received).await {
                        self.with_pipeline(|audio, now| {
                            audio.handle_rtcp(now, from, &rtcp_buf[..n])
                        });
                    }
                }
                Wake::Timeout => self.with_pipeline(|audio, now| audio.handle_timeout(now)),
                Wake::Frame => {}
                Wake::Stats => {
                    if let Some(stats) = self.shared.pipeline().as_ref().map(CallAudio::stats) {
                        self.emit(AudioEvent::Stats(stats));
                    }
                }
            }
            self.flush().await;
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Apply(media, reply) => {
                let result = self.apply(*media);
                let _ = reply.send(result);
            }
            Command::Hold(held) => {
                self.held = held;
                self.refresh_direction();
            }
            Command::Mute(muted) => {
                self.muted = muted;
                self.refresh_direction();
            }
            Command::Inactivity(timeout) => {
                self.config.inactivity_timeout = timeout;
                self.with_pipeline(|audio, now| audio.set_inactivity_timeout(now, timeout));
            }
            Command::Dtmf(digit, reply) => {
                let duration = self.config.dtmf_duration;
                let result = match self.shared.pipeline().as_mut() {
                    Some(audio) => audio.send_dtmf(digit, duration).map_err(AudioError::from),
                    None => Err(AudioError::NotStarted),
                };
                let _ = reply.send(result);
            }
            Command::Stats(reply) => {
                let _ = reply.send(self.shared.pipeline().as_ref().map(CallAudio::stats));
            }
            Command::Close(_) => {}
        }
    }

    /// The direction the pipeline runs with: the negotiated one, and while held locally
    /// no receiving (RFC 3264 §8.4: the holder stops rendering).
    fn effective_direction(&self, negotiated: Direction) -> Direction {
        if self.held {
            negotiated.intersect(Direction::SendOnly)
        } else {
            negotiated
        }
    }

    fn refresh_direction(&mut self) {
        let Some(negotiated) = self.negotiated.as_ref().map(|m| m.direction) else {
            return;
        };
        let direction = self.effective_direction(negotiated);
        let mute = self.muted || self.held;
        self.with_pipeline(|audio, now| {
            audio.set_direction(now, direction);
            audio.set_mute(mute);
        });
    }

    /// Starts the pipeline, or changes the running one, for an accepted audio stream.
    fn apply(&mut self, media: AcceptedMedia) -> Result<(), AudioError> {
        let direction = self.effective_direction(media.direction);
        let mute = self.muted || self.held;
        let rebuild = match &self.negotiated {
            None => true,
            Some(old) => old.telephone_event != media.telephone_event || old.ptime != media.ptime,
        };
        let restarted = rebuild && self.negotiated.is_some();
        {
            let mut guard = self.shared.pipeline();
            match guard.as_mut() {
                Some(audio) if !rebuild => {
                    let now = Instant::now();
                    let old = self.negotiated.as_ref();
                    if old.map(|o| &o.codec) != Some(&media.codec) {
                        audio.set_codec(
                            media.codec.name,
                            media.codec.payload_type,
                            media.codec.fmtp.clone(),
                        )?;
                    }
                    if old.map(|o| (o.remote_rtp, o.remote_rtcp, o.rtcp_mux))
                        != Some((media.remote_rtp, media.remote_rtcp, media.rtcp_mux))
                    {
                        audio.set_remote(media.remote_rtp, media.remote_rtcp, media.rtcp_mux);
                    }
                    // SDES keys of this exchange (RFC 4568): the same keys keep the
                    // running SRTP contexts, new ones re-key, none means plain RTP.
                    if old.map(|o| &o.srtp) != Some(&media.srtp) {
                        audio.set_srtp(media.srtp.as_ref())?;
                    }
                    audio.set_direction(now, direction);
                    audio.set_mute(mute);
                }
                _ => {
                    let mut params = CallAudioParams::from_negotiated(&media);
                    params.mic_rate = self.config.device_rate;
                    params.speaker_rate = self.config.device_rate;
                    params.cname = self.cname.clone();
                    params.inactivity_timeout = self.config.inactivity_timeout;
                    params.direction = direction;
                    let now = Instant::now();
                    params.ntp_origin = ntp_now();
                    let mut audio = CallAudio::new(now, params, &mut self.rng)?;
                    audio.set_mute(mute);
                    if let Some(old) = guard.as_mut() {
                        old.close(now, Some("media renegotiated"));
                        drain(old, &mut self.outputs);
                    }
                    *guard = Some(audio);
                }
            }
        }
        self.emit(AudioEvent::MediaStarted {
            codec: media.codec.name.as_str().to_string(),
            payload_type: media.codec.payload_type,
            remote_rtp: media.remote_rtp,
            direction: direction.as_str().to_string(),
            restarted,
        });
        self.negotiated = Some(media);
        Ok(())
    }

    /// Calls `f` on the running pipeline with the current time (taken under the lock, so
    /// the pipeline sees time move forward whichever thread calls it).
    fn with_pipeline(&self, f: impl FnOnce(&mut CallAudio, Instant)) {
        if let Some(audio) = self.shared.pipeline().as_mut() {
            f(audio, Instant::now());
        }
    }

    /// A received datagram, or `None` after an error (reported unless it is the ICMP
    /// "port unreachable" echo of an earlier send, which UDP sockets surface on receive).
    async fn received(
        &self,
        received: std::io::Result<(usize, SocketAddr)>,
    ) -> Option<(usize, SocketAddr)> {
        match received {
            Ok(r) => Some(r),
            Err(e) if is_icmp_echo(&e) => None,
            Err(e) => {
                self.emit(AudioEvent::Error {
                    message: format!("receiving media: {e}"),
                });
                // Do not spin on a socket that keeps failing.
                tokio::time::sleep(super::pump::FRAME).await;
                None
            }
        }
    }

    /// Sends the pipeline's datagrams and reports its events.
    async fn flush(&mut self) {
        let mut outputs = std::mem::take(&mut self.outputs);
        if let Some(audio) = self.shared.pipeline().as_mut() {
            drain(audio, &mut outputs);
        }
        let mux = self.negotiated.as_ref().is_some_and(|m| m.rtcp_mux);
        for output in outputs.drain(..) {
            match output {
                CallOutput::Transmit(t) => {
                    let socket = self.socket_for(t.channel, mux);
                    if let Err(e) = socket.send_to(&t.bytes, t.dest).await {
                        if !is_icmp_echo(&e) {
                            self.emit(AudioEvent::Error {
                                message: format!("sending media to {}: {e}", t.dest),
                            });
                        }
                    }
                }
                CallOutput::Event(event) => {
                    if let Some(event) = AudioEvent::from_call(event) {
                        self.emit(event);
                    }
                }
            }
        }
        self.outputs = outputs;
    }

    fn socket_for(&self, channel: Channel, mux: bool) -> &UdpSocket {
        match channel {
            Channel::Rtcp if !mux => &self.sockets.rtcp,
            _ => &self.sockets.rtp,
        }
    }

    /// RTCP BYE, then the audio thread stops; returns the final statistics.
    async fn close(&mut self) -> Option<dialtone_media::MediaStats> {
        let audio = self.shared.pipeline().take();
        let stats = audio.map(|mut audio| {
            audio.close(Instant::now(), None);
            drain(&mut audio, &mut self.outputs);
            audio.stats()
        });
        self.flush().await;
        if let Some(mut pump) = self.pump.take() {
            let _ = tokio::task::spawn_blocking(move || pump.stop()).await;
        }
        stats
    }

    fn emit(&self, event: AudioEvent) {
        let _ = self.events.send(event);
    }
}

fn drain(audio: &mut CallAudio, into: &mut Vec<CallOutput>) {
    while let Some(output) = audio.poll_output() {
        into.push(output);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(timer) => {
            timer.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn is_icmp_echo(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
    )
}

/// The wallclock as an NTP timestamp (RFC 3550 §4), for RTCP sender reports.
fn ntp_now() -> NtpTime {
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    NtpTime((NTP_UNIX_OFFSET + since_unix.as_secs()) << 32)
        + std::time::Duration::new(0, since_unix.subsec_nanos())
}

/// A seed for SSRCs, sequence numbers and the CNAME from OS entropy (RFC 3550 §8 wants
/// SSRCs random); the clock if the OS has none to give.
fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_ok() {
        u64::from_le_bytes(bytes)
    } else {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_time_counts_from_1900() {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let seconds = ntp_now().0 >> 32;
        assert!((unix + NTP_UNIX_OFFSET).abs_diff(seconds) <= 1, "{seconds}");
    }

    #[test]
    fn seeds_differ() {
        assert_ne!(random_seed(), random_seed());
    }
}
