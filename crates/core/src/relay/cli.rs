//! `dialtone relay`: the relay headless. Prints one JSON object per line on stdout for every
//! relay event ([`super::RelayReport`]); errors go to stderr in plain words. Stops cleanly on
//! SIGINT or SIGTERM.
//!
//! ```text
//! dialtone relay --listen udp:127.0.0.1:5060 --listen ws:127.0.0.1:8080 --users users.toml \
//!     --http 127.0.0.1:8088        # the browser phone page: open http://127.0.0.1:8088/
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use dialtone_relay::Users;
use dialtone_sip::auth::Algorithm;

use super::{ListenSpec, MediaPorts, RelayOptions, RelayReport, RelayServer};

/// Arguments of `dialtone relay`.
#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// SIP listener KIND:IP:PORT with KIND udp, tcp, tls, ws or wss (repeatable). Default: udp and tcp on
    /// 127.0.0.1:5060.
    #[arg(long = "listen", value_name = "KIND:IP:PORT")]
    pub listen: Vec<ListenSpec>,
    /// Accounts file (users.toml: `[[user]]` name = "...", password = "..." or ha1 = "...").
    #[arg(long, value_name = "FILE")]
    pub users: PathBuf,
    /// SIP domain of the accounts (sip:USER@DOMAIN). Default: the first listener's IP address.
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,
    /// UDP port range for relayed media (RTP/RTCP pairs), bound on the first listener's IP.
    #[arg(long, value_name = "FIRST-LAST", default_value = "40000-40100")]
    pub media_ports: MediaPorts,
    /// Do not anchor media: the parties send RTP to each other directly.
    #[arg(long)]
    pub no_media: bool,
    /// Allow listening on non-loopback addresses (reachable from the network).
    #[arg(long)]
    pub expose: bool,
    /// Where the TLS/WSS certificate is kept. Default: the user's data directory (dialtone/relay).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Serve the browser phone page (JsSIP over the ws listener) over HTTP on IP:PORT.
    #[arg(long, value_name = "IP:PORT")]
    pub http: Option<SocketAddr>,
    /// Serve the browser phone page over HTTPS (the relay's certificate; use with a wss listener).
    #[arg(long, value_name = "IP:PORT")]
    pub https: Option<SocketAddr>,
    /// Do not bridge WebRTC browsers and plain-RTP phones (such calls are then proxied as they are).
    #[arg(long)]
    pub no_webrtc_bridge: bool,
    /// Also accept WebSocket connections from web pages of this origin (scheme://host[:port], e.g.
    /// https://phone.example.org; repeatable). The relay's own page is always allowed; browsers
    /// from any other origin get 403.
    #[arg(long = "allow-origin", value_name = "URL")]
    pub allow_origin: Vec<String>,
    /// Digest algorithms to challenge with, in header order: `md5` (the default: every SIP
    /// client answers it), `md5,sha256` (adds an RFC 8760 SHA-256 challenge; baresip 1.x then
    /// fails to register) or `sha256` (refuses MD5-only clients, browsers included).
    #[arg(long, value_name = "ALG[,ALG]", value_delimiter = ',', value_parser = parse_algorithm)]
    pub digest: Vec<Algorithm>,
}

fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "md5" => Ok(Algorithm::Md5),
        "sha256" | "sha-256" => Ok(Algorithm::Sha256),
        other => Err(format!(
            "unknown digest algorithm {other:?} (md5 or sha256)"
        )),
    }
}

impl RelayArgs {
    /// The options these arguments ask for (reads the users file).
    pub fn options(&self) -> anyhow::Result<RelayOptions> {
        let text = std::fs::read_to_string(&self.users)
            .with_context(|| format!("cannot read the users file {}", self.users.display()))?;
        let users = Users::from_toml(&text).with_context(|| format!("{}", self.users.display()))?;
        let listen = if self.listen.is_empty() {
            vec!["udp:127.0.0.1:5060".parse()?, "tcp:127.0.0.1:5060".parse()?]
        } else {
            self.listen.clone()
        };
        let mut options = RelayOptions::new(listen, users);
        options.domain = self.domain.clone();
        options.media_ports = (!self.no_media).then_some(self.media_ports);
        options.expose = self.expose;
        options.state_dir = self.state_dir.clone();
        options.http = self.http;
        options.https = self.https;
        options.webrtc_bridge = !self.no_webrtc_bridge;
        options.allow_origins = self.allow_origin.clone();
        if !self.digest.is_empty() {
            let mut algorithms = self.digest.clone();
            algorithms.dedup();
            options.digest_algorithms = Some(algorithms);
        }
        Ok(options)
    }
}

fn print(report: RelayReport) {
    match serde_json::to_string(&report) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("dialtone: cannot print an event: {e}"),
    }
}

/// Completes on SIGINT or SIGTERM with the signal's name.
async fn stop_signal() -> String {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT".to_string(),
                _ = term.recv() => "SIGTERM".to_string(),
            },
            Err(e) => {
                eprintln!("dialtone: cannot watch SIGTERM ({e}); stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT".to_string()
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C".to_string()
    }
}

/// Runs `dialtone relay` until SIGINT/SIGTERM.
pub async fn run(args: RelayArgs) -> anyhow::Result<()> {
    let options = args.options()?;
    // Watch the signals before binding, so a signal during start-up is not lost.
    let stop = tokio::spawn(stop_signal());
    let server = RelayServer::start(options).await?;
    let shutdown = async move { stop.await.unwrap_or_else(|e| format!("signal task: {e}")) };
    server.run(print, shutdown).await;
    Ok(())
}
