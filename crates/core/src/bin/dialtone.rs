//! `dialtone`: the headless phone. Every capability of the desktop app can be driven from here; every registration
//! and call state change is printed as one JSON object per line on stdout. Errors go to stderr in plain words.

#[path = "dialtone/script.rs"]
mod script;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use dialtone_core::audio::{AudioConfig, SinkChoice, SourceChoice};
use dialtone_core::{
    AccountForm, DriverOptions, DtmfMethod, Phone, PhoneEvent, PresenceStatus, Secret, Transport,
};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "dialtone", version, about = "Dialtone headless SIP phone")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Register (unless --no-register), then place or answer a call, printing JSON lines.
    Phone(Box<PhoneArgs>),
    /// Run the built-in relay (registrar, proxy, media relay) headless, printing JSON lines.
    Relay(Box<dialtone_core::relay::RelayArgs>),
}

#[derive(Args)]
#[command(after_help = "\
Output: one JSON object per line on stdout, its kind in \"event\": registration; call (state PENDING, TRYING, \
RING, RING_MEDIA, ESTABLISHED, HOLD with \"held\": local|remote|both, BUSY, FINISH, FAILED; \"replaces\" on a call \
that replaces another); media (codec, addresses and direction after each offer/answer); transfer (role transferor \
or transferee, SIP status); transfer_requested; dtmf (flow sent|received); dtmf_failed; message; message_result; \
publication; subscription; presence; listening; stats (codec, packets, bytes, loss, jitter, RTT, MOS: every \
--stats-interval seconds and once with \"final\": true when a call ends, before its FINISH); audio_device; error. \
Plain-words problems go to stderr.

Timing: --hangup-after, --hold-after, --transfer-after, --dtmf-after and an in-call --message count from the call's \
first ESTABLISHED; --resume-after from our HOLD. With --call the run ends when every call is over; with \
--auto-answer after --calls calls; otherwise after --stay seconds; never before sent messages have their result. \
Exit status 1 when the call failed, a message was not delivered or DTMF could not be sent.")]
struct PhoneArgs {
    /// Our account: sip:USER@HOST[:PORT] (the registrar/server is HOST:PORT unless --server is given).
    #[arg(long, value_name = "SIP-URI")]
    account: String,
    /// Name of the environment variable holding the password (never pass passwords as arguments).
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Digest auth name when it differs from the user part.
    #[arg(long, value_name = "NAME")]
    auth_user: Option<String>,
    /// Signaling transport.
    #[arg(long, default_value = "udp", value_name = "udp|tcp|tls|ws|wss")]
    transport: Transport,
    /// Server address when it differs from the account's host: host[:port], sip:host:port or ws[s]://host:port/path.
    #[arg(long, value_name = "ADDRESS")]
    server: Option<String>,
    /// Outbound proxy: every request is sent there (with a Route header).
    #[arg(long, value_name = "SIP-URI")]
    outbound: Option<String>,
    /// Do not register; calls go directly to the server / the callee.
    #[arg(long)]
    no_register: bool,
    /// Display name shown to the called party.
    #[arg(long, value_name = "TEXT", default_value = "")]
    display_name: String,
    /// Place a call to this URI (or user, or user@host).
    #[arg(long, value_name = "SIP-URI", conflicts_with = "auto_answer")]
    call: Option<String>,
    /// Answer incoming calls automatically.
    #[arg(long)]
    auto_answer: bool,
    /// Hang up this many seconds after the call is established.
    #[arg(long, value_name = "SECONDS")]
    hangup_after: Option<f64>,
    /// Cancel an outgoing call that is not answered within this many seconds.
    #[arg(long, value_name = "SECONDS")]
    cancel_after: Option<f64>,
    /// With --auto-answer: exit after this many calls have ended (default 1).
    #[arg(long, value_name = "N", default_value_t = 1)]
    calls: u32,
    /// Give up (exit non-zero) if the scripted session has not ended after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    timeout: f64,
    /// Without --call/--auto-answer: stay registered this many seconds, then unregister and exit.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    stay: f64,
    /// TLS/WSS: trust the CA certificate(s) in this PEM file instead of the system's roots.
    #[arg(long, value_name = "FILE", conflicts_with = "tls_pin")]
    tls_ca: Option<String>,
    /// TLS/WSS: accept exactly the server certificate with this SHA-256 fingerprint (self-signed PBX).
    #[arg(long, value_name = "SHA256")]
    tls_pin: Option<String>,
    /// Local IP address to bind (default: the address the system would use to reach the server).
    #[arg(long, value_name = "IP")]
    bind: Option<std::net::IpAddr>,

    /// Put the call on hold (re-INVITE with a sendonly offer) this many seconds after it is established.
    #[arg(long, value_name = "SECONDS", help_heading = "In-call script")]
    hold_after: Option<f64>,
    /// With --hold-after: resume (re-INVITE with sendrecv) this many seconds after the hold took effect.
    #[arg(
        long,
        value_name = "SECONDS",
        requires = "hold_after",
        help_heading = "In-call script"
    )]
    resume_after: Option<f64>,
    /// Blind transfer: ask the other party to call this URI (REFER), --transfer-after seconds into the call.
    #[arg(
        long,
        value_name = "SIP-URI",
        conflicts_with = "attended_transfer_to",
        help_heading = "In-call script"
    )]
    transfer_to: Option<String>,
    /// Attended transfer: --transfer-after seconds into the call, hold it, call this URI (the consult call), and once
    /// that is answered ask the other party to call it instead (REFER with Replaces).
    #[arg(long, value_name = "SIP-URI", help_heading = "In-call script")]
    attended_transfer_to: Option<String>,
    /// Seconds after the call is established when a transfer starts.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        help_heading = "In-call script"
    )]
    transfer_after: f64,
    /// Send these DTMF digits (0-9, *, #, A-D) --dtmf-after seconds into the call.
    #[arg(long, value_name = "DIGITS", help_heading = "In-call script")]
    dtmf: Option<String>,
    /// The account's DTMF method: info (SIP INFO), rfc4733 (telephone-events in the RTP stream; needs them
    /// negotiated in the call), auto (rfc4733 when the call negotiated it, else info).
    #[arg(
        long,
        value_name = "info|rfc4733|auto",
        default_value = "auto",
        help_heading = "In-call script"
    )]
    dtmf_method: DtmfMethod,
    /// Seconds after the call is established when --dtmf is sent.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        help_heading = "In-call script"
    )]
    dtmf_after: f64,
    /// Text message (SIP MESSAGE) to send: to --message-to outside any call, else inside the call once established.
    #[arg(long, value_name = "TEXT", help_heading = "Messages and presence")]
    message: Option<String>,
    /// Recipient of --message (a SIP URI, user, or user@host): sent once registered (or at start without
    /// registering), --message-after seconds later.
    #[arg(
        long,
        value_name = "SIP-URI",
        requires = "message",
        help_heading = "Messages and presence"
    )]
    message_to: Option<String>,
    /// Delay of --message, in seconds (after registering, or after the call is established).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0.0,
        help_heading = "Messages and presence"
    )]
    message_after: f64,
    /// Watch this address's presence (SUBSCRIBE); repeatable. Status arrives as `presence` events.
    #[arg(long, value_name = "SIP-URI", help_heading = "Messages and presence")]
    subscribe: Vec<String>,
    /// Set our presence status (open|closed, optionally :NOTE) and PUBLISH it to the server.
    #[arg(
        long,
        value_name = "open|closed[:NOTE]",
        help_heading = "Messages and presence"
    )]
    publish: Option<PresenceStatus>,
    /// Set our presence status (open|closed, optionally :NOTE) for those who subscribe to us directly, without
    /// PUBLISH (for servers with no presence service).
    #[arg(
        long,
        value_name = "open|closed[:NOTE]",
        conflicts_with = "publish",
        help_heading = "Messages and presence"
    )]
    presence: Option<PresenceStatus>,

    /// Send this WAV file (looped) instead of the microphone.
    #[arg(long, value_name = "FILE.wav", conflicts_with_all = ["mic", "tone", "no_mic"], help_heading = "Audio")]
    play: Option<std::path::PathBuf>,
    /// Record what we receive to this WAV file (mono, 16-bit) instead of playing it.
    #[arg(
        long,
        value_name = "FILE.wav",
        conflicts_with = "speaker",
        help_heading = "Audio"
    )]
    record: Option<std::path::PathBuf>,
    /// Send a sine tone of this frequency (Hz) instead of the microphone.
    #[arg(long, value_name = "HZ", conflicts_with_all = ["mic", "no_mic"], help_heading = "Audio")]
    tone: Option<f64>,
    /// Microphone to use, by name or id (e.g. Mic_A, pulseaudio:mic_a); default: the system's default.
    #[arg(long, value_name = "NAME", help_heading = "Audio")]
    mic: Option<String>,
    /// Speaker to use, by name or id; default: the system's default.
    #[arg(long, value_name = "NAME", help_heading = "Audio")]
    speaker: Option<String>,
    /// No microphone: send silence (keeps RTP timing), e.g. for receive-only calls.
    #[arg(long, help_heading = "Audio")]
    no_mic: bool,
    /// Do not play what we receive (no speaker).
    #[arg(long, conflicts_with_all = ["speaker", "record"], help_heading = "Audio")]
    no_speaker: bool,
    /// Switch the microphone during the call: SECONDS after it is established, to NAME (a device, or
    /// `tone:HZ`, `file:PATH.wav`, `silence`).
    #[arg(long, num_args = 2, value_names = ["SECONDS", "NAME"], help_heading = "Audio")]
    switch_mic_after: Vec<String>,
    /// Switch the speaker during the call: SECONDS after it is established, to NAME (a device, or `file:PATH.wav`,
    /// `null`).
    #[arg(long, num_args = 2, value_names = ["SECONDS", "NAME"], help_heading = "Audio")]
    switch_speaker_after: Vec<String>,
    /// `--switch-mic-after` read.
    #[arg(skip)]
    switch_mic: Option<(f64, String)>,
    /// `--switch-speaker-after` read.
    #[arg(skip)]
    switch_speaker: Option<(f64, String)>,
    /// Mute our microphone this many seconds after the call is established.
    #[arg(long, value_name = "SECONDS", help_heading = "Audio")]
    mute_after: Option<f64>,
    /// Hang up when no RTP arrives for this many seconds (not while on hold).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30.0,
        help_heading = "Audio"
    )]
    inactivity_timeout: f64,
    /// Never hang up for lack of RTP (listen-only calls, voice menus).
    #[arg(long, help_heading = "Audio")]
    no_inactivity_timeout: bool,
    /// Print a `stats` event every this many seconds during a call (0: only the final one).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        help_heading = "Audio"
    )]
    stats_interval: f64,
    /// Codec preference order: a comma list of opus, alaw, ulaw, g729, speex16, speex, g722, telephone-event.
    #[arg(long, value_name = "LIST", default_value = "", help_heading = "Audio")]
    codecs: String,
    /// Codecs accepted in answers but never offered (comma list).
    #[arg(long, value_name = "LIST", default_value = "", help_heading = "Audio")]
    no_offer_codecs: String,
    /// Codecs this call must not use at all (comma list; the per-call strip list).
    #[arg(long, value_name = "LIST", default_value = "", help_heading = "Audio")]
    strip_codecs: String,
    /// An extra SDP bandwidth line for our offers and answers (repeatable), e.g. `b=AS:3000`, `b=TIAS:2500000`.
    #[arg(long, value_name = "LINE", help_heading = "Audio")]
    sdp_line: Vec<String>,
    /// The media profile of the calls we place: `avp` (plain RTP, SDES-SRTP over TLS/WSS) or `webrtc`
    /// (`UDP/TLS/RTP/SAVPF`: ICE, DTLS-SRTP, Opus, for calling browsers). WebRTC offers are answered either way.
    #[arg(long, value_name = "PROFILE", default_value = "avp", value_parser = ["avp", "webrtc"], help_heading = "Audio")]
    media_profile: String,
}

/// Reads a `SECONDS NAME` pair.
fn switch_pair(flag: &str, values: &[String]) -> anyhow::Result<Option<(f64, String)>> {
    match values {
        [] => Ok(None),
        [seconds, name] => {
            let s: f64 = seconds
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                .with_context(|| format!("{flag} {seconds}: not a number of seconds"))?;
            Ok(Some((s, name.clone())))
        }
        _ => bail!("{flag} takes two values: SECONDS NAME"),
    }
}

/// What `--switch-mic-after` names as a source.
fn source_named(name: &str) -> SourceChoice {
    if let Some(hz) = name.strip_prefix("tone:").and_then(|h| h.parse().ok()) {
        SourceChoice::Tone(hz)
    } else if let Some(path) = name.strip_prefix("file:") {
        SourceChoice::Wav(path.into())
    } else if name == "silence" {
        SourceChoice::Silence
    } else {
        SourceChoice::Device(Some(name.to_string()))
    }
}

/// What `--switch-speaker-after` names as a sink.
fn sink_named(name: &str) -> SinkChoice {
    if let Some(path) = name.strip_prefix("file:") {
        SinkChoice::Wav(path.into())
    } else if name == "null" {
        SinkChoice::Null
    } else {
        SinkChoice::Device(Some(name.to_string()))
    }
}

/// The audio of the call(s) from the flags.
fn audio_config(args: &PhoneArgs) -> anyhow::Result<AudioConfig> {
    let source = if let Some(path) = &args.play {
        SourceChoice::Wav(path.clone())
    } else if let Some(hz) = args.tone {
        if !(hz.is_finite() && hz > 0.0 && hz < 24_000.0) {
            bail!("--tone {hz}: give a frequency in Hz between 0 and 24000");
        }
        SourceChoice::Tone(hz)
    } else if args.no_mic {
        SourceChoice::Silence
    } else {
        SourceChoice::Device(args.mic.clone())
    };
    let sink = if let Some(path) = &args.record {
        SinkChoice::Wav(path.clone())
    } else if args.no_speaker {
        SinkChoice::Null
    } else {
        SinkChoice::Device(args.speaker.clone())
    };
    let inactivity_timeout = if args.no_inactivity_timeout {
        None
    } else {
        Some(secs(args.inactivity_timeout)?)
    };
    let stats_interval = if args.stats_interval > 0.0 {
        Some(secs(args.stats_interval)?)
    } else {
        None
    };
    Ok(AudioConfig {
        source,
        sink,
        inactivity_timeout,
        stats_interval,
        ..AudioConfig::default()
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dialtone: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Cmd::Phone(args) => phone(*args).await,
            Cmd::Relay(args) => dialtone_core::relay::cli::run(*args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dialtone: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn print(event: &PhoneEvent) {
    match serde_json::to_string(event) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("dialtone: cannot print an event: {e}"),
    }
}

fn secs(s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("{s} is not a valid number of seconds"))
}

/// Splits `sip:user@host[:port][;params]` into (user, hostport-with-params).
fn split_account(account: &str) -> anyhow::Result<(String, String)> {
    let rest = account
        .strip_prefix("sip:")
        .or_else(|| account.strip_prefix("sips:"))
        .unwrap_or(account);
    let (user, host) = rest
        .split_once('@')
        .with_context(|| format!("--account \"{account}\" must look like sip:USER@HOST[:PORT]"))?;
    if user.is_empty() || host.is_empty() {
        bail!("--account \"{account}\" must look like sip:USER@HOST[:PORT]");
    }
    Ok((user.to_string(), host.to_string()))
}

async fn phone(mut args: PhoneArgs) -> anyhow::Result<()> {
    args.switch_mic = switch_pair("--switch-mic-after", &args.switch_mic_after)?;
    args.switch_speaker = switch_pair("--switch-speaker-after", &args.switch_speaker_after)?;
    let audio = audio_config(&args)?;
    let (login, hostport) = split_account(&args.account)?;
    let password = match &args.password_env {
        Some(var) => Secret::new(std::env::var(var).with_context(|| {
            format!("environment variable {var} (from --password-env) is not set")
        })?),
        None => Secret::default(),
    };
    let domain = hostport
        .split([';', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    let form = AccountForm {
        server_url: args.server.clone().unwrap_or_else(|| hostport.clone()),
        login,
        auth_name: args.auth_user.clone().unwrap_or_default(),
        password,
        domain,
        outbound_proxy: args.outbound.clone().unwrap_or_default(),
        port: None,
        transport: args.transport,
        register_required: !args.no_register,
        display_name: args.display_name.clone(),
        tls_ca_file: args.tls_ca.clone().unwrap_or_default(),
        tls_pin: args.tls_pin.clone().unwrap_or_default(),
    };
    let timeout = secs(args.timeout)?;
    let phone = Phone::start(DriverOptions { bind_ip: args.bind });
    let mut events = phone.subscribe();
    phone.set_dtmf_method(args.dtmf_method).await?;
    phone.set_audio(audio).await?;
    phone
        .set_codecs(&args.codecs, &args.no_offer_codecs, &args.sdp_line)
        .await?;
    phone
        .set_webrtc_offers(args.media_profile == "webrtc")
        .await?;
    phone.connect(form).await?;
    let outcome = tokio::time::timeout(timeout, script::run(&phone, &mut events, &args)).await;
    let result = match outcome {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!(
            "the scripted session did not finish within {} s",
            args.timeout
        )),
    };
    // Always unregister and let the last events out.
    if let Err(e) = phone.disconnect().await {
        eprintln!("dialtone: disconnect: {e}");
    }
    while let Ok(Ok(event)) = tokio::time::timeout(Duration::from_millis(300), events.recv()).await
    {
        print(&event);
    }
    result
}
