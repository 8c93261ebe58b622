//! CPU cost of Dialtone's relay against rtpengine (media) and Kamailio (signalling), measured in one run.
//!
//! Not a test: run it with `scripts/bench-relay.sh` (release build, installs rtpengine-daemon when missing). Every
//! server under test is a separate process on 127.0.0.1; its CPU time is read from `/proc/<pid>/stat` (utime +
//! stime, summed over the process and its children for the forking Kamailio) before and after each phase, and the
//! idle cost of the same span (measured first) is subtracted.
//!
//! * **RTP per packet**: `--rtp-calls` calls are set up through `dialtone relay` (raw SIP with digest from this
//!   program: REGISTER, INVITE/407/INVITE, 200 with SDP, ACK) and through rtpengine (ng protocol over UDP: offer,
//!   answer; `--table=-1`, userspace forwarding). Then both ends of every call send 20 ms PCMU packets (172 bytes)
//!   for `--seconds`; the relay's CPU divided by the packets that came out of it on the far side is its cost per
//!   relayed packet.
//! * **Per call**: SIPp calls through `dialtone relay` and through Kamailio with the *same* scenario files
//!   (`tests/peers/sipp/relay_*.xml`: caller and callee registered with digest, INVITE challenged with 407,
//!   Record-Route, 180, 200, ACK, BYE), `--calls` calls at `--rate` calls/s; the relay once without media anchoring
//!   (signalling only, like Kamailio) and once anchoring media; rtpengine's share of a call (offer + answer + delete
//!   over ng) measured alone, so "relay with media" compares with "Kamailio + rtpengine".
//!
//! ```text
//! bench_relay [--calls 2000] [--rate 100] [--rtp-calls 50] [--seconds 20] [--dialtone PATH] [--rtpengine PATH]
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dialtone_testkit::{digest, free_port, Kamailio, KamailioOpts};

type Result<T> = std::result::Result<T, String>;

const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw")];
/// RTP packet: 12-byte header + 20 ms of PCMU.
const RTP_LEN: usize = 172;
const PTIME: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------------------------------------------
// Options

struct Options {
    calls: u32,
    rate: u32,
    rtp_calls: usize,
    seconds: u64,
    dialtone: PathBuf,
    rtpengine: PathBuf,
}

fn parse_options() -> Result<Options> {
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    // target/<profile>/examples/bench_relay -> target/<profile>/dialtone
    let dialtone = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("dialtone"))
        .unwrap_or_else(|| PathBuf::from("dialtone"));
    let mut options = Options {
        calls: 2000,
        rate: 100,
        rtp_calls: 50,
        seconds: 20,
        dialtone,
        rtpengine: PathBuf::from("/usr/bin/rtpengine"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--calls" => options.calls = number(value()?)? as u32,
            "--rate" => options.rate = number(value()?)? as u32,
            "--rtp-calls" => options.rtp_calls = number(value()?)? as usize,
            "--seconds" => options.seconds = number(value()?)?,
            "--dialtone" => options.dialtone = PathBuf::from(value()?),
            "--rtpengine" => options.rtpengine = PathBuf::from(value()?),
            "-h" | "--help" => {
                println!(
                    "bench_relay [--calls N] [--rate CPS] [--rtp-calls N] [--seconds S] [--dialtone PATH] \
                     [--rtpengine PATH]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    for (what, path) in [
        ("dialtone", &options.dialtone),
        ("rtpengine", &options.rtpengine),
    ] {
        if !path.is_file() {
            return Err(format!(
                "no {what} binary at {} (scripts/bench-relay.sh builds and installs them)",
                path.display()
            ));
        }
    }
    if options.calls == 0 || options.rate == 0 || options.rtp_calls == 0 || options.seconds == 0 {
        return Err("--calls, --rate, --rtp-calls and --seconds must be positive".into());
    }
    Ok(options)
}

// ---------------------------------------------------------------------------------------------------------------
// CPU time from /proc

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// (ppid, utime + stime in ticks) of `pid`, from /proc/<pid>/stat.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// CPU seconds used so far by `root` and every process descending from it.
fn tree_cpu(root: u32, ticks: f64) -> f64 {
    let mut table: HashMap<u32, (u32, u64)> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            if let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            {
                if let Some(s) = stat(pid) {
                    table.insert(pid, s);
                }
            }
        }
    }
    let mut total = 0u64;
    for (&pid, &(_, cpu)) in &table {
        let mut at = pid;
        // Walk up the parents: counted if `root` is among them.
        for _ in 0..64 {
            if at == root {
                total += cpu;
                break;
            }
            match table.get(&at) {
                Some(&(ppid, _)) if ppid != 0 && ppid != at => at = ppid,
                _ => break,
            }
        }
    }
    total as f64 / ticks
}

/// A server under test: its process tree's CPU, and its idle CPU rate to subtract.
struct Meter {
    pid: u32,
    ticks: f64,
    idle_per_s: f64,
}

impl Meter {
    /// Measures `pid`'s idle CPU over `span` first.
    fn new(pid: u32, ticks: f64, span: Duration) -> Meter {
        let before = tree_cpu(pid, ticks);
        std::thread::sleep(span);
        let after = tree_cpu(pid, ticks);
        Meter {
            pid,
            ticks,
            idle_per_s: ((after - before) / span.as_secs_f64()).max(0.0),
        }
    }

    /// CPU seconds spent by `work`, idle share removed; and `work`'s result.
    fn measure<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<(f64, T)> {
        let start = Instant::now();
        let before = tree_cpu(self.pid, self.ticks);
        let out = work()?;
        let after = tree_cpu(self.pid, self.ticks);
        let idle = self.idle_per_s * start.elapsed().as_secs_f64();
        Ok(((after - before - idle).max(0.0), out))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes we start (stopped by PID on drop)

struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn spawn(command: &mut Command) -> Result<Proc> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let (tx, lines) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream)
                    .lines()
                    .map_while(std::io::Result::ok)
                {
                    let _ = tx.send(line);
                }
            });
        }
        Ok(Proc { child, lines })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a line containing `needle`; the lines seen on failure.
    fn wait_line(&mut self, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Ok(line),
                Ok(line) => seen.push(line),
                Err(_) => {
                    return Err(format!(
                        "no line with {needle:?} within {timeout:?}; output: {}",
                        seen.join("\n")
                    ))
                }
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn users_file(dir: &Path) -> Result<PathBuf> {
    let mut text = String::new();
    for (name, password) in USERS {
        text.push_str(&format!(
            "[[user]]\nname = \"{name}\"\npassword = \"{password}\"\n\n"
        ));
    }
    let path = dir.join("users.toml");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// `dialtone relay` on UDP 127.0.0.1, media anchored in a free range (or not).
fn start_relay(options: &Options, dir: &Path, media: bool) -> Result<(Proc, SocketAddr)> {
    let port = free_port();
    let mut command = Command::new(&options.dialtone);
    command
        .arg("relay")
        .args(["--listen", &format!("udp:127.0.0.1:{port}")])
        .arg("--users")
        .arg(users_file(dir)?)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--no-webrtc-bridge");
    if media {
        let pairs = (options.rtp_calls as u16 * 2 + 40).max(100);
        let (first, last) = free_udp_range(pairs * 2)?;
        command.args(["--media-ports", &format!("{first}-{last}")]);
    } else {
        command.arg("--no-media");
    }
    let mut relay = Proc::spawn(&mut command)?;
    relay.wait_line("\"started\"", Duration::from_secs(20))?;
    Ok((relay, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// `n` consecutive free UDP ports on 127.0.0.1, starting at an even port.
fn free_udp_range(n: u16) -> Result<(u16, u16)> {
    for _ in 0..200 {
        let base = free_port() & !1;
        let Some(last) = base.checked_add(n - 1) else {
            continue;
        };
        if base >= 1024 && (base..=last).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok()) {
            return Ok((base, last));
        }
    }
    Err(format!("no {n} consecutive free UDP ports"))
}

/// rtpengine in the foreground, userspace only (`--table=-1`), ng control on 127.0.0.1.
fn start_rtpengine(options: &Options, dir: &Path) -> Result<(Proc, SocketAddr)> {
    let ng = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (first, last) = free_udp_range(options.rtp_calls as u16 * 4 + 200)?;
    let rtpengine = Proc::spawn(
        Command::new(&options.rtpengine)
            .args([
                "--config-file=none",
                "--foreground",
                "--log-stderr",
                "--table=-1",
            ])
            .args(["--interface=127.0.0.1", &format!("--listen-ng={ng}")])
            .args([
                &format!("--port-min={first}"),
                &format!("--port-max={last}"),
            ])
            .args(["--log-level=4", "--delete-delay=0"])
            .arg(format!("--pidfile={}", dir.join("rtpengine.pid").display())),
    )?;
    let ctl = Ng::new(ng)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ctl.call(&[("command", B::s("ping"))]) {
            Ok(reply) if reply.get("result").and_then(B::text).as_deref() == Some("pong") => break,
            _ if Instant::now() > deadline => {
                let out: Vec<String> = rtpengine.lines.try_iter().collect();
                return Err(format!(
                    "rtpengine does not answer ng pings: {}",
                    out.join("\n")
                ));
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    Ok((rtpengine, ng))
}

// ---------------------------------------------------------------------------------------------------------------
// Bencode and rtpengine's ng protocol

#[derive(Debug, Clone)]
enum B {
    Int(i64),
    Str(Vec<u8>),
    List(Vec<B>),
    Dict(Vec<(Vec<u8>, B)>),
}

impl B {
    fn s(text: &str) -> B {
        B::Str(text.as_bytes().to_vec())
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            B::Int(i) => out.extend_from_slice(format!("i{i}e").as_bytes()),
            B::Str(s) => {
                out.extend_from_slice(format!("{}:", s.len()).as_bytes());
                out.extend_from_slice(s);
            }
            B::List(items) => {
                out.push(b'l');
                for item in items {
                    item.encode(out);
                }
                out.push(b'e');
            }
            B::Dict(entries) => {
                let mut sorted: Vec<&(Vec<u8>, B)> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                out.push(b'd');
                for (key, value) in sorted {
                    B::Str(key.clone()).encode(out);
                    value.encode(out);
                }
                out.push(b'e');
            }
        }
    }

    /// Decodes one value from the front of `input`; returns it and the rest.
    fn decode(input: &[u8]) -> Option<(B, &[u8])> {
        match *input.first()? {
            b'i' => {
                let end = input.iter().position(|&c| c == b'e')?;
                let n = std::str::from_utf8(&input[1..end]).ok()?.parse().ok()?;
                Some((B::Int(n), &input[end + 1..]))
            }
            b'l' => {
                let mut rest = &input[1..];
                let mut items = Vec::new();
                while *rest.first()? != b'e' {
                    let (item, after) = B::decode(rest)?;
                    items.push(item);
                    rest = after;
                }
                Some((B::List(items), &rest[1..]))
            }
            b'd' => {
                let mut rest = &input[1..];
                let mut entries = Vec::new();
                while *rest.first()? != b'e' {
                    let (B::Str(key), after) = B::decode(rest)? else {
                        return None;
                    };
                    let (value, after) = B::decode(after)?;
                    entries.push((key, value));
                    rest = after;
                }
                Some((B::Dict(entries), &rest[1..]))
            }
            b'0'..=b'9' => {
                let colon = input.iter().position(|&c| c == b':')?;
                let len: usize = std::str::from_utf8(&input[..colon]).ok()?.parse().ok()?;
                let body = input.get(colon + 1..colon + 1 + len)?;
                Some((B::Str(body.to_vec()), &input[colon + 1 + len..]))
            }
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&B> {
        match self {
            B::Dict(entries) => entries
                .iter()
                .find(|(k, _)| k == key.as_bytes())
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            B::Str(s) => String::from_utf8(s.clone()).ok(),
            _ => None,
        }
    }
}

/// An ng control client: `<cookie> <bencoded dict>` datagrams (rtpengine's ng protocol). rtpengine caches
/// replies by cookie (for retransmissions), so cookies are unique per process run and request.
struct Ng {
    socket: UdpSocket,
    server: SocketAddr,
}

static NG_COOKIE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Ng {
    fn new(server: SocketAddr) -> Result<Ng> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("ng socket: {e}"))?;
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| format!("ng socket: {e}"))?;
        Ok(Ng { socket, server })
    }

    fn call(&self, entries: &[(&str, B)]) -> Result<B> {
        let n = NG_COOKIE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cookie = format!("{}_{n}", std::process::id());
        let dict = B::Dict(
            entries
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.clone()))
                .collect(),
        );
        let mut packet = format!("{cookie} ").into_bytes();
        dict.encode(&mut packet);
        for _ in 0..3 {
            self.socket
                .send_to(&packet, self.server)
                .map_err(|e| format!("ng send: {e}"))?;
            let mut buf = vec![0u8; 65536];
            while let Ok((n, _)) = self.socket.recv_from(&mut buf) {
                let reply = &buf[..n];
                let Some(space) = reply.iter().position(|&c| c == b' ') else {
                    continue;
                };
                if &reply[..space] != cookie.as_bytes() {
                    continue; // a late answer to an earlier retry
                }
                let (value, _) = B::decode(&reply[space + 1..]).ok_or("undecodable ng reply")?;
                return Ok(value);
            }
        }
        Err(format!("no ng reply from {}", self.server))
    }

    /// offer/answer with `sdp`; returns rtpengine's rewritten SDP.
    fn offer_answer(
        &self,
        command: &str,
        call_id: &str,
        to_tag: Option<&str>,
        sdp: &str,
    ) -> Result<String> {
        let mut entries = vec![
            ("command", B::s(command)),
            ("call-id", B::s(call_id)),
            ("from-tag", B::s("caller")),
            ("sdp", B::s(sdp)),
        ];
        if let Some(tag) = to_tag {
            entries.push(("to-tag", B::s(tag)));
        }
        let reply = self.call(&entries)?;
        if reply.get("result").and_then(B::text).as_deref() != Some("ok") {
            return Err(format!("rtpengine {command}: {reply:?}"));
        }
        reply
            .get("sdp")
            .and_then(B::text)
            .ok_or_else(|| format!("rtpengine {command}: no SDP in {reply:?}"))
    }

    fn delete(&self, call_id: &str) -> Result<()> {
        let reply = self.call(&[
            ("command", B::s("delete")),
            ("call-id", B::s(call_id)),
            ("from-tag", B::s("caller")),
        ])?;
        match reply.get("result").and_then(B::text).as_deref() {
            Some("ok") => Ok(()),
            _ => Err(format!("rtpengine delete: {reply:?}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// SDP and raw SIP (the RTP phase's signalling through the relay)

fn sdp(port: u16, session: usize) -> String {
    format!(
        "v=0\r\no=bench {session} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    )
}

/// The address an SDP body sends its audio to.
fn sdp_media(body: &str) -> Option<SocketAddr> {
    let ip = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("c=IN IP4 "))?
        .trim()
        .parse::<std::net::Ipv4Addr>()
        .ok()?;
    let port = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(SocketAddr::from((ip, port)))
}

struct Sip {
    text: String,
}

impl Sip {
    fn status(&self) -> Option<u16> {
        self.text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
    }

    fn head(&self) -> &str {
        self.text.split("\r\n\r\n").next().unwrap_or("")
    }

    fn body(&self) -> &str {
        self.text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("")
    }

    fn headers(&self, name: &str) -> Vec<String> {
        self.head()
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    fn header(&self, name: &str) -> String {
        self.headers(name).into_iter().next().unwrap_or_default()
    }
}

fn recv_sip(socket: &UdpSocket, timeout: Duration, accept: impl Fn(&Sip) -> bool) -> Result<Sip> {
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65536];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no SIP message in time".into());
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let (n, _) = socket
            .recv_from(&mut buf)
            .map_err(|e| format!("waiting for SIP: {e}"))?;
        let message = Sip {
            text: String::from_utf8_lossy(&buf[..n]).into_owned(),
        };
        if accept(&message) {
            return Ok(message);
        }
    }
}

/// Raw SIP phones `alice` (caller) and `bob` (callee) on one UDP socket each, talking to the relay.
struct RawPhones {
    relay: SocketAddr,
    alice: UdpSocket,
    bob: UdpSocket,
    n: u32,
}

const SIP_WAIT: Duration = Duration::from_secs(5);

impl RawPhones {
    fn new(relay: SocketAddr) -> Result<RawPhones> {
        let bind = || UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("SIP socket: {e}"));
        Ok(RawPhones {
            relay,
            alice: bind()?,
            bob: bind()?,
            n: 0,
        })
    }

    fn branch(&mut self) -> String {
        self.n += 1;
        format!("z9hG4bKbench{}", self.n)
    }

    fn register_bob(&mut self) -> Result<()> {
        let local = self.bob.local_addr().map_err(|e| e.to_string())?;
        let relay = self.relay;
        let uri = format!("sip:{relay}");
        let mut auth = String::new();
        for cseq in 1..=2 {
            let branch = self.branch();
            let text = format!(
                "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
                 From: <sip:bob@127.0.0.1>;tag=benchreg\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: bench-reg-{}\r\n\
                 CSeq: {cseq} REGISTER\r\nContact: <sip:bob@{local}>\r\n{auth}Expires: 3600\r\nContent-Length: 0\r\n\r\n",
                local.port()
            );
            self.bob
                .send_to(text.as_bytes(), relay)
                .map_err(|e| e.to_string())?;
            let reply = recv_sip(&self.bob, SIP_WAIT, |m| {
                m.status().is_some_and(|s| s >= 200)
            })?;
            match reply.status() {
                Some(200) => return Ok(()),
                Some(401) if cseq == 1 => {
                    let creds =
                        md5_answer(&reply, "WWW-Authenticate", "REGISTER", &uri, "bob", "bobpw")?;
                    auth = format!("Authorization: {creds}\r\n");
                }
                _ => return Err(format!("REGISTER: {}", reply.head())),
            }
        }
        Err("REGISTER not accepted".into())
    }

    /// alice calls bob with media at `alice_rtp`; bob answers with media at `bob_rtp`. Returns where each side
    /// must send its RTP: (alice → relay port facing alice, bob → relay port facing bob).
    fn call(&mut self, i: usize, alice_rtp: u16, bob_rtp: u16) -> Result<(SocketAddr, SocketAddr)> {
        let local = self.alice.local_addr().map_err(|e| e.to_string())?;
        let bob_local = self.bob.local_addr().map_err(|e| e.to_string())?;
        let relay = self.relay;
        let uri = format!("sip:bob@{relay}");
        let call_id = format!("bench-call-{i}-{}", local.port());
        let body = sdp(alice_rtp, i);
        let mut auth = String::new();
        let mut bob_side = None;
        for cseq in 1..=2 {
            let branch = self.branch();
            let invite = format!(
                "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
                 From: <sip:alice@127.0.0.1>;tag=a{i}\r\nTo: <{uri}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\n\
                 Contact: <sip:alice@{local}>\r\n{auth}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            self.alice
                .send_to(invite.as_bytes(), relay)
                .map_err(|e| e.to_string())?;
            if cseq == 2 {
                // bob gets the INVITE (SDP rewritten to the relay's port facing him) and answers 200.
                let incoming = recv_sip(&self.bob, SIP_WAIT, |m| m.text.starts_with("INVITE "))?;
                bob_side = sdp_media(incoming.body());
                let answer = sdp(bob_rtp, i);
                let mut ok = String::from("SIP/2.0 200 OK\r\n");
                for via in incoming.headers("Via") {
                    ok.push_str(&format!("Via: {via}\r\n"));
                }
                for rr in incoming.headers("Record-Route") {
                    ok.push_str(&format!("Record-Route: {rr}\r\n"));
                }
                ok.push_str(&format!(
                    "From: {}\r\nTo: {};tag=b{i}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{bob_local}>\r\n\
                     Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
                    incoming.header("From"),
                    incoming.header("To"),
                    incoming.header("Call-ID"),
                    incoming.header("CSeq"),
                    answer.len()
                ));
                self.bob
                    .send_to(ok.as_bytes(), relay)
                    .map_err(|e| e.to_string())?;
            }
            let reply = recv_sip(&self.alice, SIP_WAIT, |m| {
                m.status().is_some_and(|s| s >= 200)
            })?;
            match reply.status() {
                Some(407) if cseq == 1 => {
                    let ack = format!(
                        "ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
                         From: <sip:alice@127.0.0.1>;tag=a{i}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\n\
                         Content-Length: 0\r\n\r\n",
                        reply.header("To")
                    );
                    self.alice
                        .send_to(ack.as_bytes(), relay)
                        .map_err(|e| e.to_string())?;
                    let creds = md5_answer(
                        &reply,
                        "Proxy-Authenticate",
                        "INVITE",
                        &uri,
                        "alice",
                        "alicepw",
                    )?;
                    auth = format!("Proxy-Authorization: {creds}\r\n");
                }
                Some(200) if cseq == 2 => {
                    let alice_side = sdp_media(reply.body()).ok_or("no SDP in the 200")?;
                    // ACK along the route set (the Record-Route reversed), to bob's Contact.
                    let contact = reply.header("Contact");
                    let target = contact
                        .trim_start_matches('<')
                        .split('>')
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let mut routes = reply.headers("Record-Route");
                    routes.reverse();
                    let route: String = routes.iter().map(|r| format!("Route: {r}\r\n")).collect();
                    let branch = self.branch();
                    let ack = format!(
                        "ACK {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
                         {route}From: <sip:alice@127.0.0.1>;tag=a{i}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: 2 ACK\r\n\
                         Content-Length: 0\r\n\r\n",
                        reply.header("To")
                    );
                    self.alice
                        .send_to(ack.as_bytes(), relay)
                        .map_err(|e| e.to_string())?;
                    let bob_side = bob_side.ok_or("no SDP in the INVITE bob got")?;
                    return Ok((alice_side, bob_side));
                }
                _ => return Err(format!("INVITE {i}: {}", reply.head())),
            }
        }
        Err(format!("call {i} not set up"))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// RTP load

/// One call's media: each end's socket and where it sends.
struct CallMedia {
    alice: UdpSocket,
    bob: UdpSocket,
    alice_to: SocketAddr,
    bob_to: SocketAddr,
}

fn rtp_sockets(n: usize) -> Result<Vec<(UdpSocket, UdpSocket)>> {
    (0..n)
        .map(|_| {
            let a = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            let b = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            Ok((a, b))
        })
        .collect()
}

fn port_of(socket: &UdpSocket) -> u16 {
    socket.local_addr().map(|a| a.port()).unwrap_or(0)
}

/// Sends 20 ms packets both ways on every call for `seconds`; returns (sent, received) packet counts.
fn pump_rtp(calls: &[CallMedia], seconds: u64) -> Result<(u64, u64)> {
    for c in calls {
        for s in [&c.alice, &c.bob] {
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
        }
    }
    let mut packet = [0x55u8; RTP_LEN];
    packet[0] = 0x80; // V=2
    packet[1] = 0; // PT 0 (PCMU)
    let (mut sent, mut received) = (0u64, 0u64);
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    let ticks = seconds * 1000 / PTIME.as_millis() as u64;
    for tick in 0..ticks {
        let seq = (tick & 0xffff) as u16;
        let ts = (tick as u32).wrapping_mul(160);
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        packet[4..8].copy_from_slice(&ts.to_be_bytes());
        for (i, c) in calls.iter().enumerate() {
            for (k, (socket, to)) in [(&c.alice, c.alice_to), (&c.bob, c.bob_to)]
                .into_iter()
                .enumerate()
            {
                let ssrc = (i as u32) << 1 | k as u32;
                packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
                if socket.send_to(&packet, to).is_ok() {
                    sent += 1;
                }
            }
        }
        let deadline = start + PTIME * (tick as u32 + 1);
        // Drain what arrived, then sleep until the next tick.
        loop {
            for c in calls {
                for socket in [&c.alice, &c.bob] {
                    while socket.recv_from(&mut buf).is_ok() {
                        received += 1;
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
        }
    }
    // Stragglers.
    std::thread::sleep(Duration::from_millis(100));
    for c in calls {
        for socket in [&c.alice, &c.bob] {
            while socket.recv_from(&mut buf).is_ok() {
                received += 1;
            }
        }
    }
    Ok((sent, received))
}

// ---------------------------------------------------------------------------------------------------------------
// SIPp call load

fn scenario(name: &str) -> PathBuf {
    dialtone_testkit::peers_dir().join("sipp").join(name)
}

fn sipp(args: &[String]) -> Command {
    let mut command = Command::new("sipp");
    command
        .args([
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-nostdin",
            "-t",
            "u1",
        ])
        .args(args)
        // SIPp chats on stderr ("Resolving remote host..."); failures show in its exit status.
        .stderr(Stdio::null());
    command
}

/// SIPp registered as bob at `proxy`, answering every call (out-of-call scenario), until dropped.
fn sipp_callee(proxy: SocketAddr) -> Result<Proc> {
    let args: Vec<String> = [
        "-sf",
        &scenario("relay_uas_register.xml").display().to_string(),
        "-oocsf",
        &scenario("relay_uas_answer_ooc.xml").display().to_string(),
        "-p",
        &free_port().to_string(),
        "-mp",
        &free_port().to_string(),
        "-m",
        "1",
        "-d",
        "3600000",
        "-au",
        "bob",
        "-ap",
        "bobpw",
        "-key",
        "user",
        "bob",
        &proxy.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut command = sipp(&args);
    let callee = Proc::spawn(command.stdout(Stdio::null()))?;
    Ok(callee)
}

/// alice (SIPp) registers at `proxy`, then places `calls` calls to bob at `rate` per second, each hung up at once.
/// Returns the calls' wall time.
fn sipp_calls(proxy: SocketAddr, calls: u32, rate: u32) -> Result<Duration> {
    // SIPp exits 254 when it cannot bind a port (a free port taken in between): try other ports.
    for _ in 0..3 {
        match sipp_calls_from(free_port(), proxy, calls, rate)? {
            Some(elapsed) => return Ok(elapsed),
            None => eprintln!("SIPp could not bind its ports; trying others"),
        }
    }
    Err("SIPp could not bind its ports three times".into())
}

/// [`sipp_calls`] from SIPp port `port`; `None` when SIPp could not bind its ports.
fn sipp_calls_from(
    port: u16,
    proxy: SocketAddr,
    calls: u32,
    rate: u32,
) -> Result<Option<Duration>> {
    const BIND_FAILED: i32 = 254;
    let port = port.to_string();
    let common = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = vec![
            "-p".into(),
            port.clone(),
            "-mp".into(),
            free_port().to_string(),
            "-au".into(),
            "alice".into(),
            "-ap".into(),
            "alicepw".into(),
            "-key".into(),
            "user".into(),
            "alice".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(proxy.to_string());
        args
    };
    let register = scenario("relay_uas_register.xml").display().to_string();
    let status = sipp(&common(&[
        "-sf",
        &register,
        "-m",
        "1",
        "-d",
        "0",
        "-timeout",
        "20s",
        "-timeout_error",
    ]))
    .stdout(Stdio::null())
    .status()
    .map_err(|e| format!("sipp: {e}"))?;
    if status.code() == Some(BIND_FAILED) {
        return Ok(None);
    }
    if !status.success() {
        return Err(format!(
            "SIPp alice could not register at {proxy} ({status})"
        ));
    }
    let call = scenario("relay_uac_call.xml").display().to_string();
    let auth_uri = format!("bob@{proxy}");
    let start = Instant::now();
    let status = sipp(&common(&[
        "-sf",
        &call,
        "-s",
        "bob",
        "-auth_uri",
        &auth_uri,
        "-m",
        &calls.to_string(),
        "-r",
        &rate.to_string(),
        "-d",
        "0",
        "-timeout",
        &format!("{}s", calls / rate + 60),
        "-timeout_error",
    ]))
    .stdout(Stdio::null())
    .status()
    .map_err(|e| format!("sipp: {e}"))?;
    let elapsed = start.elapsed();
    if status.code() == Some(BIND_FAILED) {
        return Ok(None);
    }
    if !status.success() {
        return Err(format!(
            "SIPp: not every call through {proxy} succeeded ({status})"
        ));
    }
    Ok(Some(elapsed))
}

// ---------------------------------------------------------------------------------------------------------------
// The phases

struct Figures {
    relay_rtp_us: f64,
    rtpengine_rtp_us: f64,
    relay_rtp_loss: f64,
    rtpengine_rtp_loss: f64,
    relay_call_us: f64,
    relay_media_call_us: f64,
    kamailio_call_us: f64,
    rtpengine_call_us: f64,
}

const IDLE: Duration = Duration::from_secs(3);

fn relay_rtp(options: &Options, ticks: f64) -> Result<(f64, f64)> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (relay, addr) = start_relay(options, dir.path(), true)?;
    let mut phones = RawPhones::new(addr)?;
    phones.register_bob()?;
    let mut calls = Vec::new();
    for (i, (alice, bob)) in rtp_sockets(options.rtp_calls)?.into_iter().enumerate() {
        let (alice_to, bob_to) = phones.call(i, port_of(&alice), port_of(&bob))?;
        calls.push(CallMedia {
            alice,
            bob,
            alice_to,
            bob_to,
        });
    }
    let meter = Meter::new(relay.pid(), ticks, IDLE);
    let (cpu, (sent, received)) = meter.measure(|| pump_rtp(&calls, options.seconds))?;
    eprintln!("relay RTP: {sent} sent, {received} relayed, {cpu:.3} s CPU");
    if received == 0 {
        return Err("the relay forwarded no RTP".into());
    }
    Ok((
        cpu / received as f64 * 1e6,
        1.0 - received as f64 / sent as f64,
    ))
}

fn rtpengine_rtp(options: &Options, ticks: f64) -> Result<(f64, f64)> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (rtpengine, ng) = start_rtpengine(options, dir.path())?;
    let ctl = Ng::new(ng)?;
    let mut calls = Vec::new();
    for (i, (alice, bob)) in rtp_sockets(options.rtp_calls)?.into_iter().enumerate() {
        let call_id = format!("bench-rtp-{i}");
        let offer = ctl.offer_answer("offer", &call_id, None, &sdp(port_of(&alice), i))?;
        let answer =
            ctl.offer_answer("answer", &call_id, Some("callee"), &sdp(port_of(&bob), i))?;
        // The offer as rewritten goes to bob: he sends there; the answer as rewritten goes to alice.
        let bob_to = sdp_media(&offer).ok_or("no media in rtpengine's offer")?;
        let alice_to = sdp_media(&answer).ok_or("no media in rtpengine's answer")?;
        calls.push(CallMedia {
            alice,
            bob,
            alice_to,
            bob_to,
        });
    }
    let meter = Meter::new(rtpengine.pid(), ticks, IDLE);
    let (cpu, (sent, received)) = meter.measure(|| pump_rtp(&calls, options.seconds))?;
    eprintln!("rtpengine RTP: {sent} sent, {received} relayed, {cpu:.3} s CPU");
    for i in 0..options.rtp_calls {
        let _ = ctl.delete(&format!("bench-rtp-{i}"));
    }
    if received == 0 {
        return Err("rtpengine forwarded no RTP".into());
    }
    Ok((
        cpu / received as f64 * 1e6,
        1.0 - received as f64 / sent as f64,
    ))
}

fn rtpengine_calls(options: &Options, ticks: f64) -> Result<f64> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (rtpengine, ng) = start_rtpengine(options, dir.path())?;
    let ctl = Ng::new(ng)?;
    let meter = Meter::new(rtpengine.pid(), ticks, IDLE);
    let (a, b) = (free_port(), free_port());
    let (cpu, ()) = meter.measure(|| {
        for i in 0..options.calls as usize {
            let call_id = format!("bench-call-{i}");
            ctl.offer_answer("offer", &call_id, None, &sdp(a, i))?;
            ctl.offer_answer("answer", &call_id, Some("callee"), &sdp(b, i))?;
            ctl.delete(&call_id)?;
        }
        Ok(())
    })?;
    eprintln!(
        "rtpengine: {} offer/answer/delete, {cpu:.3} s CPU",
        options.calls
    );
    Ok(cpu / f64::from(options.calls) * 1e6)
}

/// CPU per SIPp call through a proxy process (`pid`) at `proxy`.
fn proxy_calls(
    options: &Options,
    ticks: f64,
    pid: u32,
    proxy: SocketAddr,
    what: &str,
) -> Result<f64> {
    // The callee registers and stays; it exits at once only when it could not bind its ports.
    let mut callee = None;
    for _ in 0..3 {
        let mut candidate = sipp_callee(proxy)?;
        std::thread::sleep(Duration::from_secs(1));
        if matches!(candidate.child.try_wait(), Ok(None)) {
            callee = Some(candidate);
            break;
        }
    }
    let _callee = callee.ok_or("the SIPp callee exited at start three times")?;
    let meter = Meter::new(pid, ticks, IDLE);
    let (cpu, elapsed) = meter.measure(|| sipp_calls(proxy, options.calls, options.rate))?;
    eprintln!(
        "{what}: {} calls in {:.1} s, {cpu:.3} s CPU",
        options.calls,
        elapsed.as_secs_f64()
    );
    Ok(cpu / f64::from(options.calls) * 1e6)
}

fn relay_calls(options: &Options, ticks: f64, media: bool) -> Result<f64> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (relay, addr) = start_relay(options, dir.path(), media)?;
    let what = if media {
        "relay (media anchored)"
    } else {
        "relay (signalling only)"
    };
    proxy_calls(options, ticks, relay.pid(), addr, what)
}

fn kamailio_calls(options: &Options, ticks: f64) -> Result<f64> {
    let kamailio =
        Kamailio::start(KamailioOpts::udp_tcp(USERS)).map_err(|e| format!("kamailio: {e}"))?;
    proxy_calls(
        options,
        ticks,
        kamailio.pid(),
        kamailio.udp_addr(),
        "kamailio",
    )
}

fn run(options: &Options) -> Result<Figures> {
    let ticks = clock_ticks();
    let (relay_rtp_us, relay_rtp_loss) = relay_rtp(options, ticks)?;
    let (rtpengine_rtp_us, rtpengine_rtp_loss) = rtpengine_rtp(options, ticks)?;
    let relay_call_us = relay_calls(options, ticks, false)?;
    let relay_media_call_us = relay_calls(options, ticks, true)?;
    let kamailio_call_us = kamailio_calls(options, ticks)?;
    let rtpengine_call_us = rtpengine_calls(options, ticks)?;
    Ok(Figures {
        relay_rtp_us,
        rtpengine_rtp_us,
        relay_rtp_loss,
        rtpengine_rtp_loss,
        relay_call_us,
        relay_media_call_us,
        kamailio_call_us,
        rtpengine_call_us,
    })
}

fn main() {
    let options = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench_relay: {e}");
            std::process::exit(2);
        }
    };
    match run(&options) {
        Ok(f) => {
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
            println!(
                "## Relay benchmark: {} RTP calls x {} s (2 streams, 50 pkt/s each), {} calls at {}/s",
                options.rtp_calls, options.seconds, options.calls, options.rate
            );
            println!();
            println!("| measure | Dialtone relay | reference | ratio (relay / reference) |");
            println!("|---|---|---|---|");
            println!(
                "| CPU per relayed RTP packet | {:.2} µs (loss {:.2} %) | rtpengine userspace {:.2} µs (loss {:.2} %) | {:.2} |",
                f.relay_rtp_us,
                f.relay_rtp_loss * 100.0,
                f.rtpengine_rtp_us,
                f.rtpengine_rtp_loss * 100.0,
                ratio(f.relay_rtp_us, f.rtpengine_rtp_us)
            );
            println!(
                "| CPU per call, signalling only | {:.0} µs | Kamailio {:.0} µs | {:.2} |",
                f.relay_call_us,
                f.kamailio_call_us,
                ratio(f.relay_call_us, f.kamailio_call_us)
            );
            println!(
                "| CPU per call, media anchored | {:.0} µs | Kamailio + rtpengine {:.0} µs ({:.0} + {:.0}) | {:.2} |",
                f.relay_media_call_us,
                f.kamailio_call_us + f.rtpengine_call_us,
                f.kamailio_call_us,
                f.rtpengine_call_us,
                ratio(f.relay_media_call_us, f.kamailio_call_us + f.rtpengine_call_us)
            );
        }
        Err(e) => {
            eprintln!("bench_relay: {e}");
            std::process::exit(1);
        }
    }
}

/// Credentials for the MD5 challenge in `header` of `reply` (the relay's default algorithm).
fn md5_answer(
    reply: &Sip,
    header: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
) -> Result<String> {
    let challenge = reply
        .headers(header)
        .into_iter()
        .find(|h| digest::param(h, "algorithm").is_none_or(|a| a.eq_ignore_ascii_case("MD5")))
        .ok_or("no MD5 challenge")?;
    Ok(
        digest::md5_credentials(&challenge, method, uri, user, password)
            .ok_or("unanswerable challenge")?,
    )
}
