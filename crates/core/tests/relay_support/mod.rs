//! Helpers for the relay tests: a `dialtone relay` child process whose JSON lines are read, a
//! users file, a free media port range, and a raw SIP-over-UDP client for the security tests.

#![allow(dead_code)]

use dialtone_testkit::{digest, free_port, Scenario, Sipp, SippArgs};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Accounts every relay test uses.
pub const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw")];

/// SIPp registered at the relay as `user`, answering calls (out-of-call scenario), for `hold_ms`.
pub fn sipp_callee(
    relay: SocketAddr,
    user: &str,
    password: &str,
    hold_ms: u32,
    echo: bool,
) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.remote = Some(relay);
    args.auth = Some((user.into(), password.into()));
    args.keys.push(("user".into(), user.into()));
    args.timeout = Duration::from_secs(30);
    let ooc = dialtone_testkit::peers_dir()
        .join("sipp")
        .join("relay_uas_answer_ooc.xml");
    args.extra = vec![
        "-oocsf".into(),
        ooc.display().to_string(),
        "-d".into(),
        hold_ms.to_string(),
    ];
    if echo {
        args.extra.push("-rtp_echo".into());
    }
    Sipp::uac(Scenario::peer("relay_uas_register.xml"), args).expect("start sipp callee")
}

/// A running `dialtone relay ...`, killed by PID on drop.
pub struct RelayProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// JSON events seen so far.
    pub seen: Vec<Value>,
    /// Lines written to stderr.
    pub errors: Vec<String>,
    /// Scratch directory (users file, state dir).
    pub dir: tempfile::TempDir,
}

/// `n` consecutive UDP ports on 127.0.0.1 starting at an even port, free right now.
pub fn free_media_range(n: u16) -> (u16, u16) {
    free_media_range_avoiding(n, &[])
}

/// Like [`free_media_range`], never overlapping `taken` (ports already chosen for the relay's listeners but not
/// bound yet, which a free-port probe cannot see).
pub fn free_media_range_avoiding(n: u16, taken: &[u16]) -> (u16, u16) {
    for _ in 0..100 {
        let base = free_port() & !1;
        if base < 1024 || base > 65535 - n || taken.iter().any(|p| (base..base + n).contains(p)) {
            continue;
        }
        let all_free = (base..base + n).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return (base, base + n - 1);
        }
    }
    panic!("no {n} consecutive free UDP ports");
}

fn write_users(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for (name, password) in USERS {
        text.push_str(&format!(
            "[[user]]\nname = \"{name}\"\npassword = \"{password}\"\n\n"
        ));
    }
    let path = dir.join("users.toml");
    std::fs::write(&path, text).expect("write users.toml");
    path
}

impl RelayProcess {
    /// Starts `dialtone relay --users <USERS> --media-ports <free range> <args>` and waits for
    /// its `started` line.
    pub fn start(args: &[&str]) -> RelayProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, args)
    }

    /// Like [`RelayProcess::start`] in an existing scratch directory (its users file and
    /// state dir are reused).
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> RelayProcess {
        let mut relay = Self::spawn(dir, args);
        relay.wait_for("started", Duration::from_secs(15), is_event("started"));
        relay
    }

    /// Starts the process without waiting for anything.
    pub fn spawn(dir: tempfile::TempDir, args: &[&str]) -> RelayProcess {
        let users = write_users(dir.path());
        // The listener ports in `args` (`KIND:IP:PORT`, `IP:PORT`) are chosen but not bound yet.
        let taken: Vec<u16> = args
            .iter()
            .filter_map(|a| a.rsplit(':').next()?.parse().ok())
            .collect();
        let (first, last) = free_media_range_avoiding(8, &taken);
        let media = format!("{first}-{last}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .arg("relay")
            .arg("--users")
            .arg(&users)
            .args(["--media-ports", &media])
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the dialtone binary");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx2.send(format!("stderr: {line}"));
            }
        });
        RelayProcess {
            child,
            lines: rx,
            seen: Vec::new(),
            errors: Vec::new(),
            dir,
        }
    }

    fn take(&mut self, line: String) -> Option<Value> {
        eprintln!("relay> {line}");
        if let Some(err) = line.strip_prefix("stderr: ") {
            self.errors.push(err.to_string());
            return None;
        }
        let value = serde_json::from_str::<Value>(&line).ok()?;
        self.seen.push(value.clone());
        Some(value)
    }

    /// Waits for an event matching `pred` (seen before or new); panics on timeout.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = self.take(line) {
                        if pred(&v) {
                            return v;
                        }
                    }
                }
                Err(_) => panic!(
                    "relay: timed out waiting for {what}; events so far: {:#?}\nstderr: {:?}",
                    self.seen, self.errors
                ),
            }
        }
    }

    /// Collects whatever arrives for `period`.
    pub fn settle(&mut self, period: Duration) {
        let deadline = Instant::now() + period;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.take(line);
        }
    }

    /// Events named `name` seen so far.
    pub fn events(&self, name: &str) -> Vec<Value> {
        self.seen
            .iter()
            .filter(|v| v["event"] == name)
            .cloned()
            .collect()
    }

    /// The bound address of the first listener of `transport`.
    pub fn addr(&self, transport: &str) -> SocketAddr {
        let started = self
            .seen
            .iter()
            .find(|v| v["event"] == "started")
            .expect("started");
        started["listeners"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["transport"] == transport))
            .and_then(|l| l["addr"].as_str())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no {transport} listener in {started}"))
    }

    /// Sends SIGTERM (by PID) and returns the exit code.
    pub fn terminate(&mut self) -> i32 {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        self.wait_exit(Duration::from_secs(10))
    }

    /// Waits for the process to exit, reading its last lines.
    pub fn wait_exit(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.settle(Duration::from_millis(200));
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the relay did not exit; events: {:#?}",
                self.seen
            );
            self.settle(Duration::from_millis(50));
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Matches events named `name`.
pub fn is_event(name: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == name
}

/// A SIP response as text: status code and the raw message.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub text: String,
}

impl Reply {
    /// Every value of header `name` (case-insensitive), in order.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.text
            .split("\r\n\r\n")
            .next()
            .unwrap_or("")
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    /// Header names in order.
    pub fn header_names(&self) -> Vec<String> {
        self.text
            .split("\r\n\r\n")
            .next()
            .unwrap_or("")
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, _)| n.trim().to_ascii_lowercase())
            .collect()
    }
}

/// A hand-driven SIP client over UDP.
pub struct RawSip {
    pub socket: UdpSocket,
    pub relay: SocketAddr,
    next: u32,
}

impl RawSip {
    /// A socket on `ip` (any port) talking to `relay`.
    pub fn new(ip: &str, relay: SocketAddr) -> RawSip {
        let socket = UdpSocket::bind((ip, 0)).expect("bind raw SIP socket");
        RawSip {
            socket,
            relay,
            next: 0,
        }
    }

    pub fn local(&self) -> SocketAddr {
        self.socket.local_addr().expect("local addr")
    }

    fn fresh(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    /// Sends `text` and waits up to `timeout` for a final response (provisionals skipped).
    pub fn exchange(&mut self, text: &str, timeout: Duration) -> Option<Reply> {
        self.socket
            .send_to(text.as_bytes(), self.relay)
            .expect("send");
        self.final_response(timeout)
    }

    /// The next final response within `timeout`.
    pub fn final_response(&mut self, timeout: Duration) -> Option<Reply> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket
                .set_read_timeout(Some(left))
                .expect("set timeout");
            let Ok((n, _)) = self.socket.recv_from(&mut buf) else {
                return None;
            };
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let status = text
                .strip_prefix("SIP/2.0 ")
                .and_then(|r| r.get(..3))
                .and_then(|c| c.parse::<u16>().ok());
            match status {
                Some(code) if code >= 200 => return Some(Reply { status: code, text }),
                _ => continue,
            }
        }
    }

    /// A REGISTER for `user` with optional `Authorization`, as text.
    pub fn register_text(
        &mut self,
        user: &str,
        call_id: &str,
        cseq: u32,
        auth: Option<&str>,
    ) -> String {
        let n = self.fresh();
        let local = self.local();
        let relay = self.relay;
        let host = relay.ip();
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:{relay} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bKraw{n}x{cseq};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{user}@{host}>;tag=raw{n}\r\n\
             To: <sip:{user}@{host}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <sip:{user}@{local}>\r\n\
             {auth}Expires: 300\r\n\
             Content-Length: 0\r\n\r\n"
        )
    }

    /// REGISTER, then answer the 401 with `user`/`password`; returns the final reply to the
    /// second REGISTER (None if the relay stayed silent at either step).
    pub fn register(&mut self, user: &str, password: &str) -> Option<Reply> {
        let call_id = format!("raw-reg-{}-{}", self.local().port(), self.fresh());
        let first = self.register_text(user, &call_id, 1, None);
        let challenge = self.exchange(&first, Duration::from_secs(2))?;
        assert_eq!(challenge.status, 401, "first REGISTER: {}", challenge.text);
        let www = challenge
            .headers("WWW-Authenticate")
            .into_iter()
            .find(|h| digest::param(h, "algorithm").is_none_or(|a| a.eq_ignore_ascii_case("MD5")))
            .expect("an MD5 challenge");
        let uri = format!("sip:{}", self.relay);
        let creds = digest::md5_credentials(&www, "REGISTER", &uri, user, password)
            .expect("answerable challenge");
        let second = self.register_text(user, &call_id, 2, Some(&creds));
        self.exchange(&second, Duration::from_secs(2))
    }
}
