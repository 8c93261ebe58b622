//! baresip (Debian package `baresip-core`) as a headless far-end phone on 127.0.0.1.
//!
//! Each run gets a temporary configuration directory (`config` + `accounts`): SIP on
//! 127.0.0.1 only (`sip_listen`, `net_interface`), G.711, the timer-paced `aubridge` null
//! player and source (no sound card, no busy-spinning), and the `ctrl_tcp` module, whose JSON
//! netstring connection this handle keeps open: [`Baresip::command`] sends menu commands
//! (`dial`, `hold`, `resume`, `hangup`, `transfer`, `sndcode`...), and every event baresip
//! reports (`CALL_ESTABLISHED`, `CALL_DTMF_START`, `CALL_REMOTE_SDP`...) is kept in order for
//! [`Baresip::wait_event`]. The account answers calls automatically; it registers with a
//! proxy when [`BaresipOpts::proxy`] is set (with `outbound`, so its calls go through the
//! proxy too), else it takes calls sent straight to [`Baresip::uri`].
//!
//! baresip runs in the foreground as our child and is stopped by PID on drop.
//!
//! ```no_run
//! use dialtone_testkit::{Baresip, BaresipOpts};
//! let mut bob = Baresip::start(BaresipOpts::direct("bob")).unwrap();
//! println!("call {}", bob.uri());
//! let established = bob.wait_event("call", std::time::Duration::from_secs(10), |e| e.kind == "CALL_ESTABLISHED");
//! # let _ = established;
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::process::{require_binary, PeerProcess};
use crate::{free_port, TestkitError};

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const MODULE_PATH: &str = "/usr/lib/baresip/modules";

/// Who the baresip account is and where it registers.
#[derive(Debug, Clone)]
pub struct BaresipOpts {
    /// The account's user part.
    pub user: String,
    /// Register with this proxy (UDP) and send every request through it; `None`: no registration,
    /// calls go straight to baresip.
    pub proxy: Option<SocketAddr>,
    /// Digest password for the proxy.
    pub password: Option<String>,
    /// Register and send requests over TLS (the proxy address is then its TLS port), trusting the
    /// CA certificate(s) in this PEM file (`sip_cafile`).
    pub tls_ca: Option<std::path::PathBuf>,
    /// The account's `mediaenc` (e.g. `srtp-mand`: SDES-SRTP with `RTP/SAVP`; loads `srtp.so`).
    pub mediaenc: Option<String>,
    /// Send a sine tone of this frequency (the `ausine` source) instead of the null source.
    pub tone_hz: Option<u32>,
    /// Dump the decoded received audio to WAV files in the configuration directory (the `sndfile`
    /// filter); see [`Baresip::received_wavs`].
    pub record: bool,
    /// Load the G.722 and Opus modules too and limit the account to these codecs, as baresip names them
    /// (`PCMU/8000`, `PCMA/8000`, `G722/8000/1`, `opus/48000/2`, comma-separated).
    pub audio_codecs: Option<String>,
}

impl BaresipOpts {
    /// An unregistered account `user@127.0.0.1`, reached directly.
    pub fn direct(user: &str) -> BaresipOpts {
        BaresipOpts {
            user: user.to_owned(),
            proxy: None,
            password: None,
            tls_ca: None,
            mediaenc: None,
            tone_hz: None,
            record: false,
            audio_codecs: None,
        }
    }

    /// An account `user` registered with the proxy at `proxy` using `password`.
    pub fn registered(user: &str, password: &str, proxy: SocketAddr) -> BaresipOpts {
        BaresipOpts {
            user: user.to_owned(),
            proxy: Some(proxy),
            password: Some(password.to_owned()),
            tls_ca: None,
            mediaenc: None,
            tone_hz: None,
            record: false,
            audio_codecs: None,
        }
    }
}

/// One event from baresip's `ctrl_tcp` connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaresipEvent {
    /// The event type, e.g. `CALL_ESTABLISHED`, `CALL_DTMF_START`, `REGISTER_OK`.
    pub kind: String,
    /// Its parameter (the digit of a DTMF event, `offer`/`answer` for SDP events...).
    pub param: Option<String>,
    /// The other party, for call events.
    pub peer_uri: Option<String>,
    /// The whole JSON object as sent.
    pub raw: String,
}

/// Something read from the control connection.
#[derive(Debug)]
enum Incoming {
    Event(BaresipEvent),
    Response { ok: bool, data: String },
}

/// A running baresip; dropped = stopped (by PID) and its directory removed.
#[derive(Debug)]
pub struct Baresip {
    // Field order matters: the process stops before its directory is removed.
    process: PeerProcess,
    dir: tempfile::TempDir,
    sip_port: u16,
    user: String,
    proxy: Option<SocketAddr>,
    ctrl: TcpStream,
    incoming: mpsc::Receiver<Result<Incoming, String>>,
    events: Vec<BaresipEvent>,
    unread: usize,
}

impl Baresip {
    /// Writes the configuration, starts baresip and connects to its control port.
    pub fn start(opts: BaresipOpts) -> Result<Baresip, TestkitError> {
        let binary = require_binary("baresip", "baresip-core")?;
        if !Path::new(MODULE_PATH).join("ctrl_tcp.so").is_file() {
            return Err(TestkitError::MissingBinary {
                binary: format!("{MODULE_PATH}/ctrl_tcp.so"),
                package: "baresip-core".into(),
            });
        }
        if let Some(proxy) = opts.proxy {
            if !proxy.ip().is_loopback() {
                return Err(TestkitError::Setup(format!(
                    "baresip may only talk to loopback, not {proxy}"
                )));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("dialtone-baresip-")
            .tempdir()
            .map_err(|e| TestkitError::io("create temp dir in", std::env::temp_dir(), e))?;
        let sip_port = sip_port_pair()?;
        let ctrl_port = free_port();
        let rtp = free_port();
        let mut config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             net_interface\t\t127.0.0.1\n\
             audio_player\t\taubridge,nil\n\
             audio_source\t\t{source}\n\
             audio_alert\t\taubridge,nil\n\
             rtp_ports\t\t{rtp}-{}\n\
             module_path\t\t{MODULE_PATH}\n\
             module\t\t\tg711.so\n\
             module\t\t\taubridge.so\n\
             module_app\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             module_app\t\tctrl_tcp.so\n\
             ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}\n",
            rtp.saturating_add(40),
            source = match opts.tone_hz {
                Some(hz) => format!("ausine,{hz}"),
                None => "aubridge,nil".to_string(),
            },
        );
        config.push_str(&media_config(&opts, dir.path())?);
        write(&dir.path().join("config"), &config)?;
        write(&dir.path().join("accounts"), &account_line(&opts))?;
        let mut command = Command::new(binary);
        command.arg("-f").arg(dir.path()).current_dir(dir.path());
        let mut process = PeerProcess::spawn("baresip", command, &dir.path().join("baresip.log"))?;
        let ctrl = connect(&mut process, ctrl_port)?;
        let reader = ctrl
            .try_clone()
            .map_err(|e| not_ready(&process, format!("control connection: {e}")))?;
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || read_netstrings(reader, tx));
        Ok(Baresip {
            process,
            dir,
            sip_port,
            user: opts.user,
            proxy: opts.proxy,
            ctrl,
            incoming,
            events: Vec::new(),
            unread: 0,
        })
    }

    /// The WAV files the `sndfile` filter wrote with what baresip received and decoded
    /// (`dump-*-dec.wav`, one per call), oldest first; empty unless [`BaresipOpts::record`].
    pub fn received_wavs(&self) -> Vec<std::path::PathBuf> {
        let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("dump-") && n.ends_with("-dec.wav"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// baresip's SIP address.
    pub fn sip_addr(&self) -> SocketAddr {
        (Ipv4Addr::LOCALHOST, self.sip_port).into()
    }

    /// Where to call this account: `sip:user@127.0.0.1:port` (at the proxy when registered).
    pub fn uri(&self) -> String {
        let port = self.proxy.map(|p| p.port()).unwrap_or(self.sip_port);
        format!("sip:{}@127.0.0.1:{port}", self.user)
    }

    /// baresip's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Everything baresip printed so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The configuration directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a menu command (`hold`, `resume`, `dial sip:...`, ...): `command` with optional
    /// `params`, waiting up to 5 s for its response. Returns the response data; a refusal is an
    /// error.
    pub fn command(&mut self, command: &str, params: Option<&str>) -> Result<String, TestkitError> {
        let mut object = format!(
            "{{\"command\":{},\"token\":\"dialtone\"",
            json_string(command)
        );
        if let Some(p) = params {
            object.push_str(&format!(",\"params\":{}", json_string(p)));
        }
        object.push('}');
        let frame = format!("{}:{object},", object.len());
        self.ctrl
            .write_all(frame.as_bytes())
            .map_err(|e| self.failure(format!("cannot send `{command}`: {e}")))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.next_incoming(deadline)? {
                Incoming::Response { ok: true, data } => return Ok(data),
                Incoming::Response { ok: false, data } => {
                    return Err(self.failure(format!("`{command}` refused: {data}")))
                }
                Incoming::Event(e) => self.events.push(e),
            }
        }
    }

    /// Waits until the account is registered (with [`BaresipOpts::proxy`]): polls the `reginfo`
    /// command, since the first REGISTER may be answered before the control connection is up
    /// and its `REGISTER_OK` event is then lost.
    pub fn wait_registered(&mut self, timeout: Duration) -> Result<(), TestkitError> {
        let deadline = Instant::now() + timeout;
        loop {
            let info = self.command("reginfo", None)?;
            if info
                .lines()
                .any(|l| l.contains("OK ") && l.contains("Expires"))
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestkitError::Timeout {
                    peer: "baresip (waiting to be registered)".into(),
                    seconds: timeout.as_secs(),
                    log: format!("reginfo: {info:?}\n{}", self.process.log_tail(4000)),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits for an event matching `pred` that has not been returned before; events are kept in
    /// order, so one that arrived earlier is found too.
    pub fn wait_event(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&BaresipEvent) -> bool,
    ) -> Result<BaresipEvent, TestkitError> {
        let deadline = Instant::now() + timeout;
        loop {
            while self.unread < self.events.len() {
                let event = &self.events[self.unread];
                self.unread += 1;
                if pred(event) {
                    return Ok(event.clone());
                }
            }
            match self.next_incoming(deadline) {
                Ok(Incoming::Event(e)) => self.events.push(e),
                Ok(Incoming::Response { .. }) => {}
                Err(_) => {
                    return Err(TestkitError::Timeout {
                        peer: format!("baresip (waiting for {what})"),
                        seconds: timeout.as_secs(),
                        log: format!(
                            "events: {:#?}\n{}",
                            self.events.iter().map(|e| &e.raw).collect::<Vec<_>>(),
                            self.process.log_tail(4000)
                        ),
                    })
                }
            }
        }
    }

    /// Every event received so far (including ones not yet returned by [`Baresip::wait_event`]).
    pub fn events(&mut self) -> &[BaresipEvent] {
        while let Ok(Ok(Incoming::Event(e))) = self.incoming.try_recv() {
            self.events.push(e);
        }
        &self.events
    }

    fn next_incoming(&mut self, deadline: Instant) -> Result<Incoming, TestkitError> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(Ok(incoming)) => Ok(incoming),
            Ok(Err(e)) => Err(self.failure(format!("control connection: {e}"))),
            Err(_) => Err(self.failure("no answer on the control connection".into())),
        }
    }

    fn failure(&self, reason: String) -> TestkitError {
        not_ready(&self.process, reason)
    }
}

fn not_ready(process: &PeerProcess, reason: String) -> TestkitError {
    TestkitError::NotReady {
        peer: "baresip".into(),
        reason,
        log: process.log_tail(4000),
    }
}

/// The `accounts` line: answer automatically; register through the proxy when there is one.
fn account_line(opts: &BaresipOpts) -> String {
    let mut line = match opts.proxy {
        Some(proxy) => {
            let transport = if opts.tls_ca.is_some() { "tls" } else { "udp" };
            let mut line = format!(
                "<sip:{user}@127.0.0.1:{port};transport={transport}>;outbound=\"sip:127.0.0.1:{port};transport={transport}\";regint=600;answermode=auto",
                user = opts.user,
                port = proxy.port()
            );
            if let Some(password) = &opts.password {
                line.push_str(&format!(";auth_pass={password}"));
            }
            line
        }
        None => format!("<sip:{}@127.0.0.1>;regint=0;answermode=auto", opts.user),
    };
    if let Some(mediaenc) = &opts.mediaenc {
        line.push_str(&format!(";mediaenc={mediaenc}"));
    }
    if let Some(codecs) = &opts.audio_codecs {
        line.push_str(&format!(";audio_codecs={codecs}"));
    }
    line + "\n"
}

/// The configuration lines for TLS, media encryption, a tone source and recording.
fn media_config(opts: &BaresipOpts, dir: &Path) -> Result<String, TestkitError> {
    let mut config = String::new();
    if let Some(ca) = &opts.tls_ca {
        config.push_str(&format!("sip_cafile\t\t{}\n", ca.display()));
    }
    let mut need = |module: &str, line: String| -> Result<(), TestkitError> {
        if !Path::new(MODULE_PATH).join(module).is_file() {
            return Err(TestkitError::MissingBinary {
                binary: format!("{MODULE_PATH}/{module}"),
                package: "baresip-core".into(),
            });
        }
        config.push_str(&line);
        Ok(())
    };
    if opts
        .mediaenc
        .as_deref()
        .is_some_and(|m| m.starts_with("srtp"))
    {
        need("srtp.so", "module\t\t\tsrtp.so\n".to_string())?;
    }
    if opts.tone_hz.is_some() {
        // ausine produces 48 kHz stereo only; baresip resamples to the codec.
        need(
            "ausine.so",
            "module\t\t\tausine.so\nausrc_srate\t\t48000\nausrc_channels\t\t2\n".to_string(),
        )?;
    }
    if opts.audio_codecs.is_some() {
        need("g722.so", "module\t\t\tg722.so\n".to_string())?;
        need("opus.so", "module\t\t\topus.so\n".to_string())?;
    }
    if opts.record {
        need(
            "sndfile.so",
            format!("module\t\t\tsndfile.so\nsnd_path\t\t{}\n", dir.display()),
        )?;
    }
    Ok(config)
}

/// A SIP port whose next port is free as well: baresip also listens on TCP port + 1.
fn sip_port_pair() -> Result<u16, TestkitError> {
    for _ in 0..50 {
        let port = free_port();
        let Some(next) = port.checked_add(1) else {
            continue;
        };
        if TcpListener::bind((Ipv4Addr::LOCALHOST, next)).is_ok() {
            return Ok(port);
        }
    }
    Err(TestkitError::Setup(
        "no free pair of ports for baresip's SIP listeners".into(),
    ))
}

/// Connects to the control port once baresip listens; fails if it exits first.
fn connect(process: &mut PeerProcess, port: u16) -> Result<TcpStream, TestkitError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            return Ok(stream);
        }
        if let Some(status) = process.try_status() {
            return Err(not_ready(process, format!("exited with {status}")));
        }
        if Instant::now() >= deadline {
            return Err(not_ready(
                process,
                format!("control port {port} not listening"),
            ));
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn write(path: &Path, text: &str) -> Result<(), TestkitError> {
    std::fs::write(path, text).map_err(|e| TestkitError::io("write", path, e))
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Reads `len:json,` netstrings until the connection closes.
fn read_netstrings(mut stream: TcpStream, tx: mpsc::Sender<Result<Incoming, String>>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                return;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        while let Some((frame, used)) = netstring(&buf) {
            let parsed = parse(&frame);
            buf.drain(..used);
            if tx.send(parsed).is_err() {
                return;
            }
        }
    }
}

/// The first complete netstring in `buf` and the bytes it used.
fn netstring(buf: &[u8]) -> Option<(String, usize)> {
    let colon = buf.iter().position(|b| *b == b':')?;
    let len: usize = std::str::from_utf8(&buf[..colon])
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let end = colon + 1 + len;
    if buf.len() <= end {
        return None;
    }
    let frame = String::from_utf8_lossy(&buf[colon + 1..end]).into_owned();
    Some((frame, end + 1))
}

fn parse(frame: &str) -> Result<Incoming, String> {
    let value: serde_json::Value =
        serde_json::from_str(frame).map_err(|e| format!("bad JSON {frame:?}: {e}"))?;
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    if value.get("response").and_then(|v| v.as_bool()) == Some(true) {
        return Ok(Incoming::Response {
            ok: value.get("ok").and_then(|v| v.as_bool()) == Some(true),
            data: text("data").unwrap_or_default(),
        });
    }
    Ok(Incoming::Event(BaresipEvent {
        kind: text("type").unwrap_or_default(),
        param: text("param"),
        peer_uri: text("peeruri"),
        raw: frame.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstrings_are_split_and_parsed() {
        let buf = b"49:{\"response\":true,\"ok\":true,\"data\":\"\",\"token\":\"t\"},30:{\"event\":true,\"type\":\"CALL_";
        let (frame, used) = netstring(buf).expect("one complete frame");
        assert!(matches!(
            parse(&frame),
            Ok(Incoming::Response { ok: true, .. })
        ));
        assert!(netstring(&buf[used..]).is_none(), "the second one is cut");
        let event =
            parse(r#"{"event":true,"type":"CALL_DTMF_START","param":"5","peeruri":"sip:a@b"}"#);
        match event {
            Ok(Incoming::Event(e)) => {
                assert_eq!(e.kind, "CALL_DTMF_START");
                assert_eq!(e.param.as_deref(), Some("5"));
                assert_eq!(e.peer_uri.as_deref(), Some("sip:a@b"));
            }
            _ => panic!("not an event"),
        }
    }

    #[test]
    fn account_lines() {
        assert_eq!(
            account_line(&BaresipOpts::direct("bob")),
            "<sip:bob@127.0.0.1>;regint=0;answermode=auto\n"
        );
        let line = account_line(&BaresipOpts::registered(
            "bob",
            "pw",
            "127.0.0.1:5070".parse().unwrap(),
        ));
        assert!(
            line.contains("outbound=\"sip:127.0.0.1:5070;transport=udp\""),
            "{line}"
        );
        assert!(line.contains(";auth_pass=pw"), "{line}");
    }
}
