//! `dialtone`: the headless phone. Every capability of the desktop app can be driven from here; every registration
//! and call state change is printed as one JSON object per line on stdout. Errors go to stderr in plain words.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use dialtone_core::{
    AccountForm, CallState, Direction, DriverOptions, Phone, PhoneEvent, RegistrationState, Secret,
    Transport,
};
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

#[derive(Parser)]
#[command(name = "dialtone", version, about = "Dialtone headless SIP phone")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Register (unless --no-register), then place or answer a call, printing JSON lines.
    Phone(PhoneArgs),
}

#[derive(Args)]
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
    /// Local IP address to bind (default: the address the system would use to reach the server).
    #[arg(long, value_name = "IP")]
    bind: Option<std::net::IpAddr>,
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
            Cmd::Phone(args) => phone(args).await,
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

async fn phone(args: PhoneArgs) -> anyhow::Result<()> {
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
    };
    let timeout = secs(args.timeout)?;
    let phone = Phone::start(DriverOptions {
        bind_ip: args.bind,
        ..Default::default()
    });
    let mut events = phone.subscribe();
    phone.connect(form).await?;
    let outcome = tokio::time::timeout(timeout, script(&phone, &mut events, &args)).await;
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

async fn script(
    phone: &Phone,
    events: &mut tokio::sync::broadcast::Receiver<PhoneEvent>,
    args: &PhoneArgs,
) -> anyhow::Result<()> {
    let register = !args.no_register;
    let mut registered = !register;
    let mut call_id: Option<u64> = None;
    let mut ended_calls = 0u32;
    let hangup_after = args.hangup_after.map(secs).transpose()?;
    let cancel_after = args.cancel_after.map(secs).transpose()?;
    let stay = secs(args.stay)?;
    let mut timer: Option<(tokio::time::Instant, u64)> = None; // (deadline, call) for hangup/cancel
    let mut stay_until: Option<tokio::time::Instant> = None;

    if registered {
        begin(
            phone,
            args,
            cancel_after,
            stay,
            &mut call_id,
            &mut timer,
            &mut stay_until,
        )
        .await?;
    }
    loop {
        let deadline = timer.map(|t| t.0).or(stay_until);
        let event = tokio::select! {
            ev = events.recv() => ev,
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                if let Some((_, id)) = timer.take() {
                    phone.hangup(id).await?;
                    continue;
                }
                return Ok(()); // stayed registered as long as asked
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
        match &event {
            PhoneEvent::Registration {
                state: RegistrationState::Registered,
                ..
            } if !registered => {
                registered = true;
                begin(
                    phone,
                    args,
                    cancel_after,
                    stay,
                    &mut call_id,
                    &mut timer,
                    &mut stay_until,
                )
                .await?;
            }
            PhoneEvent::Registration {
                state: RegistrationState::Failed,
                code,
                reason,
                ..
            } if !registered => {
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
                ..
            } => match state {
                CallState::Ring if *direction == Direction::Incoming && args.auto_answer => {
                    call_id = Some(*id);
                    phone.answer(*id).await?;
                }
                CallState::Established => {
                    if let Some(d) = hangup_after {
                        timer = Some((tokio::time::Instant::now() + d, *id));
                    } else if call_id == Some(*id) && cancel_after.is_some() {
                        timer = None;
                    }
                }
                CallState::Finish => {
                    timer = None;
                    ended_calls += 1;
                    if args.call.is_some() || ended_calls >= args.calls {
                        return Ok(());
                    }
                }
                CallState::Failed | CallState::Busy => {
                    timer = None;
                    let what = format!(
                        "call {}: {}{}",
                        if *state == CallState::Busy {
                            "busy"
                        } else {
                            "failed"
                        },
                        code.map(|c| format!("{c} ")).unwrap_or_default(),
                        reason.as_deref().unwrap_or("no reason given")
                    );
                    if args.call.is_some() {
                        // A cancelled call ends as FAILED 487; that is what --cancel-after asked for.
                        if cancel_after.is_some() && *code == Some(487) {
                            return Ok(());
                        }
                        bail!(what);
                    }
                    eprintln!("dialtone: {what}");
                    ended_calls += 1;
                    if ended_calls >= args.calls {
                        return Ok(());
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// Starts the scripted part once the account is usable: place the call, or start the stay timer.
async fn begin(
    phone: &Phone,
    args: &PhoneArgs,
    cancel_after: Option<Duration>,
    stay: Duration,
    call_id: &mut Option<u64>,
    timer: &mut Option<(tokio::time::Instant, u64)>,
    stay_until: &mut Option<tokio::time::Instant>,
) -> anyhow::Result<()> {
    if let Some(target) = args.call.as_deref() {
        let id = phone.call(target).await?;
        *call_id = Some(id);
        if let Some(d) = cancel_after {
            *timer = Some((tokio::time::Instant::now() + d, id));
        }
    } else if !args.auto_answer {
        *stay_until = Some(tokio::time::Instant::now() + stay);
    }
    Ok(())
}
