//! SIPp (Debian package `sip-tester`) running one scenario in the foreground as our child.
//!
//! Always bound to 127.0.0.1 (`-i 127.0.0.1`, `-mi 127.0.0.1`), stdin disabled (`-nostdin`),
//! unexpected messages traced (`-trace_err`), every message traced (`-trace_msg`), with a global
//! timeout that counts as failure (`-timeout`, `-timeout_error`). Never `-bg` (it detaches and
//! exits 99). Stopped by PID on drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::process::{require_binary, PeerProcess};
use crate::{peers_dir, TestkitError};

/// What SIPp runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// A scenario embedded in SIPp (`-sn uas`, `-sn uac`, ...).
    BuiltIn(String),
    /// An XML scenario file (`-sf path`).
    File(PathBuf),
}

impl Scenario {
    /// A scenario from `tests/peers/sipp/` by file name, e.g. `Scenario::peer("uas_answer_200.xml")`.
    pub fn peer(file_name: &str) -> Scenario {
        Scenario::File(peers_dir().join("sipp").join(file_name))
    }
}

/// SIPp's signalling transport (`-t`). SIPp has no TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SippTransport {
    /// One UDP socket (`-t u1`).
    Udp,
    /// One TCP connection (`-t t1`).
    Tcp,
}

/// Command-line settings for one SIPp run.
#[derive(Debug, Clone)]
pub struct SippArgs {
    /// Local SIP port on 127.0.0.1 (`-p`).
    pub port: u16,
    /// Remote host (UAC: where calls go; UAS: unused).
    pub remote: Option<SocketAddr>,
    /// Transport (`-t`).
    pub transport: SippTransport,
    /// Calls to process before exiting (`-m`).
    pub calls: u32,
    /// Global timeout (`-timeout`, reaching it is a failure).
    pub timeout: Duration,
    /// Request-URI user part (`-s`).
    pub service: Option<String>,
    /// Digest credentials for `[authentication]` (`-au`, `-ap`).
    pub auth: Option<(String, String)>,
    /// `-key name value` pairs, available as `[name]` in scenarios.
    pub keys: Vec<(String, String)>,
    /// Anything else, appended verbatim.
    pub extra: Vec<String>,
}

impl SippArgs {
    /// UDP on `port`, one call, 30 s timeout.
    pub fn new(port: u16) -> SippArgs {
        SippArgs {
            port,
            remote: None,
            transport: SippTransport::Udp,
            calls: 1,
            timeout: Duration::from_secs(30),
            service: None,
            auth: None,
            keys: Vec::new(),
            extra: Vec::new(),
        }
    }
}

/// How a SIPp run ended.
#[derive(Debug)]
pub struct SippOutcome {
    /// Exit status (0: every call succeeded; 1: some failed; 99: no call processed; 255/254: fatal).
    pub status: ExitStatus,
    /// stdout + stderr.
    pub output: String,
    /// `-trace_err` file: unexpected messages.
    pub errors: String,
    /// `-trace_msg` file: every message sent and received.
    pub messages: String,
}

impl SippOutcome {
    /// Whether SIPp exited 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

impl std::fmt::Display for SippOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sipp exited with {}\n--- errors ---\n{}\n--- messages ---\n{}\n--- output (tail) ---\n{}",
            self.status,
            self.errors,
            self.messages,
            tail(&self.output, 3000)
        )
    }
}

/// A running SIPp.
#[derive(Debug)]
pub struct Sipp {
    process: PeerProcess,
    dir: tempfile::TempDir,
    port: u16,
    transport: SippTransport,
    timeout: Duration,
}

impl Sipp {
    /// Starts a server-side scenario and waits until SIPp listens on `args.port`.
    pub fn uas(scenario: Scenario, args: SippArgs) -> Result<Sipp, TestkitError> {
        Self::start(scenario, args, false)
    }

    /// Starts a client-side scenario towards `args.remote` (required).
    pub fn uac(scenario: Scenario, args: SippArgs) -> Result<Sipp, TestkitError> {
        if args.remote.is_none() {
            return Err(TestkitError::Setup(
                "a SIPp UAC needs SippArgs::remote".into(),
            ));
        }
        Self::start(scenario, args, true)
    }

    fn start(scenario: Scenario, args: SippArgs, client: bool) -> Result<Sipp, TestkitError> {
        let binary = require_binary("sipp", "sip-tester")?;
        if let Scenario::File(path) = &scenario {
            if !path.is_file() {
                return Err(TestkitError::Setup(format!(
                    "no SIPp scenario at {}",
                    path.display()
                )));
            }
        }
        if let Some(remote) = args.remote {
            if !remote.ip().is_loopback() {
                return Err(TestkitError::Setup(format!(
                    "SIPp may only talk to loopback, not {remote}"
                )));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("dialtone-sipp-")
            .tempdir()
            .map_err(|e| TestkitError::io("create temp dir in", std::env::temp_dir(), e))?;
        let mut command = Command::new(binary);
        match &scenario {
            Scenario::BuiltIn(name) => command.args(["-sn", name]),
            Scenario::File(path) => command.arg("-sf").arg(path),
        };
        let timeout_secs = args.timeout.as_secs().max(1);
        command
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin"])
            .args(["-p", &args.port.to_string()])
            .args(["-m", &args.calls.to_string()])
            .args([
                "-t",
                if args.transport == SippTransport::Tcp {
                    "t1"
                } else {
                    "u1"
                },
            ])
            .args(["-timeout", &format!("{timeout_secs}s"), "-timeout_error"])
            .args(["-trace_err", "-error_file"])
            .arg(dir.path().join("errors.log"))
            .args(["-trace_msg", "-message_file"])
            .arg(dir.path().join("messages.log"))
            .current_dir(dir.path());
        if let Some(service) = &args.service {
            command.args(["-s", service]);
        }
        if let Some((user, password)) = &args.auth {
            command.args(["-au", user, "-ap", password]);
        }
        for (key, value) in &args.keys {
            command.args(["-key", key, value]);
        }
        command.args(&args.extra);
        if client {
            if let Some(remote) = args.remote {
                command.arg(remote.to_string());
            }
        }
        let process = PeerProcess::spawn("sipp", command, &dir.path().join("output.log"))?;
        let mut sipp = Sipp {
            process,
            dir,
            port: args.port,
            transport: args.transport,
            timeout: args.timeout,
        };
        sipp.wait_listening()?;
        Ok(sipp)
    }

    fn wait_listening(&mut self) -> Result<(), TestkitError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if is_listening(self.port, self.transport) {
                return Ok(());
            }
            if self.process.try_status().is_some() {
                // Already finished (a quick UAC, or a fatal error): `wait` reports the outcome.
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestkitError::NotReady {
                    peer: "sipp".into(),
                    reason: format!("not listening on port {}", self.port),
                    log: self.process.log_tail(4000),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIPp's address.
    pub fn addr(&self) -> SocketAddr {
        (std::net::Ipv4Addr::LOCALHOST, self.port).into()
    }

    /// SIPp's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Waits for SIPp to finish (its own `-timeout` plus 10 s of grace), then collects logs.
    pub fn wait(mut self) -> Result<SippOutcome, TestkitError> {
        let grace = self.timeout + Duration::from_secs(10);
        match self.process.wait_timeout(grace) {
            Some(status) => Ok(self.outcome(status)),
            None => {
                self.process.stop();
                Err(TestkitError::Timeout {
                    peer: "sipp".into(),
                    seconds: grace.as_secs(),
                    log: self.process.log_tail(4000) + &read(&self.dir.path().join("messages.log")),
                })
            }
        }
    }

    /// Stops SIPp now (for scenarios that never end on their own) and collects logs.
    pub fn stop(mut self) -> Option<SippOutcome> {
        let status = self.process.stop()?;
        Some(self.outcome(status))
    }

    fn outcome(&self, status: ExitStatus) -> SippOutcome {
        SippOutcome {
            status,
            output: self.process.log(),
            errors: read(&self.dir.path().join("errors.log")),
            messages: read(&self.dir.path().join("messages.log")),
        }
    }

    /// Messages traced so far (`-trace_msg`).
    pub fn messages(&self) -> String {
        read(&self.dir.path().join("messages.log"))
    }
}

fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Whether something listens on 127.0.0.1:`port` (UDP bound / TCP LISTEN), read from /proc/net
/// without touching the port.
fn is_listening(port: u16, transport: SippTransport) -> bool {
    let (file, state) = match transport {
        SippTransport::Udp => ("/proc/net/udp", None),
        SippTransport::Tcp => ("/proc/net/tcp", Some("0A")),
    };
    let Ok(table) = std::fs::read_to_string(file) else {
        return false;
    };
    let wanted = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|line| {
        let mut fields = line.split_whitespace();
        let local = fields.nth(1);
        let st = fields.nth(1);
        local == Some(wanted.as_str()) && state.is_none_or(|s| st == Some(s))
    })
}
