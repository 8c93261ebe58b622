//! Headless Chromium driving the JsSIP phone page (`tests/browser/phone.mjs`): tool checks, the
//! private-network-namespace re-run, tone WAVs for the fake microphone, and the browser process.
//! Shared by the relay's browser tests and the phone's own WebRTC tests.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn browser_dir() -> PathBuf {
    dialtone_testkit::repo_root().join("tests/browser")
}

pub fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Fails with an install hint when Chromium, node or the npm packages are missing.
pub fn require_browser_tools() {
    let hint = "install the browser test tools: `scripts/setup.sh` (or `apt-get install chromium nodejs npm \
                nftables` and `cd tests/browser && npm ci`)";
    assert!(
        Path::new(&chromium()).exists(),
        "no Chromium at {} (set CHROMIUM to override): {hint}",
        chromium()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is not on PATH: {hint}"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").exists(),
        "tests/browser/node_modules/playwright-core is missing: {hint}"
    );
    let nft = Command::new("nft").arg("--version").output();
    assert!(
        nft.is_ok_and(|o| o.status.success()),
        "nft is missing: {hint}"
    );
}

/// Runs the test named `name` again inside a new network namespace with only loopback up; returns
/// `true` in that child (which then runs the body) and `false` in the parent once the child passed.
/// One such child runs at a time per test binary: each starts a Chromium, a SIP server and phones,
/// and several at once on a small shared machine starved ICE/DTLS set-up past the tests' timeouts.
pub fn in_private_netns(name: &str) -> bool {
    if std::env::var_os("DIALTONE_TEST_NETNS").is_some() {
        return true;
    }
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    require_browser_tools();
    let exe = std::env::current_exe().expect("test binary path");
    let status = Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(&exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("DIALTONE_TEST_NETNS", "1")
        .status()
        .expect("run unshare (util-linux)");
    assert!(
        status.success(),
        "{name} failed inside its network namespace (see the output above; `unshare -n` needs root)"
    );
    false
}

/// A 48 kHz mono 16-bit WAV of `hz` for `seconds` (Chromium's fake microphone loops it).
pub fn tone_wav(dir: &Path, hz: f64, seconds: u32) -> PathBuf {
    let rate = 48_000u32;
    let n = rate * seconds;
    let mut data = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        let x = (0.4
            * 32767.0
            * (2.0 * std::f64::consts::PI * hz * f64::from(i) / f64::from(rate)).sin())
            as i16;
        data.extend_from_slice(&x.to_le_bytes());
    }
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    let path = dir.join(format!("tone-{hz}.wav"));
    std::fs::write(&path, wav).expect("write the tone");
    path
}

/// One browser phone: `node tests/browser/phone.mjs <options>`, killed by PID on drop.
pub struct Browser {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Events seen so far.
    pub seen: Vec<Value>,
}

impl Browser {
    pub fn start(options: Value) -> Browser {
        let mut child = Command::new("node")
            .arg(browser_dir().join("phone.mjs"))
            .arg(options.to_string())
            .current_dir(browser_dir())
            .env("CHROMIUM", chromium())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("browser stderr> {line}");
            }
        });
        Browser {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for the event named `name`; panics on an `error` event or timeout.
    pub fn wait_for(&mut self, name: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => panic!(
                    "browser: timed out waiting for {name}; seen {:#?}",
                    self.seen
                ),
            };
            eprintln!("browser> {line}");
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            self.seen.push(v.clone());
            if v["event"] == "error" {
                panic!("browser failed: {v}; seen {:#?}", self.seen);
            }
            if v["event"] == name {
                return v;
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many of the page's analyser samples heard `hz` (±30 Hz) above -70 dB.
pub fn heard_tone(result: &Value, hz: f64) -> usize {
    result["heard"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter(|s| {
                    let f = s["frequency"].as_f64().unwrap_or(0.0);
                    let level = s["levelDb"].as_f64().unwrap_or(-200.0);
                    (f - hz).abs() <= 30.0 && level > -70.0
                })
                .count()
        })
        .unwrap_or(0)
}

/// The JsSIP phone page (`ui/phone-page/`) served over plain HTTP on 127.0.0.1 by a thread of the
/// test, with a `config.js` pointing it at any SIP-over-WebSocket server (e.g. Kamailio). Stops
/// serving when dropped.
pub struct PhonePage {
    /// The page's URL.
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _dir: tempfile::TempDir,
}

impl PhonePage {
    /// Serves the page with `window.DIALTONE_CONFIG = { wsUrl, domain }`.
    pub fn serve(ws_url: &str, domain: &str) -> PhonePage {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicBool, Ordering};
        let source = dialtone_testkit::repo_root().join("ui/phone-page");
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["index.html", "phone.js", "phone.css", "jssip.min.js"] {
            std::fs::copy(source.join(name), dir.path().join(name))
                .unwrap_or_else(|e| panic!("copy ui/phone-page/{name}: {e}"));
        }
        let config = serde_json::json!({ "wsUrl": ws_url, "domain": domain });
        std::fs::write(
            dir.path().join("config.js"),
            format!("window.DIALTONE_CONFIG = {config};\n"),
        )
        .expect("write config.js");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the page server");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}/", listener.local_addr().expect("local addr"));
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let root = dir.path().to_path_buf();
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = [0u8; 4096];
                let n = stream.read(&mut head).unwrap_or(0);
                let text = String::from_utf8_lossy(&head[..n]);
                let path = text.split_whitespace().nth(1).unwrap_or("/");
                let name = match path.trim_start_matches('/') {
                    "" => "index.html",
                    other => other,
                };
                let known = [
                    "index.html",
                    "phone.js",
                    "phone.css",
                    "jssip.min.js",
                    "config.js",
                ];
                let reply = match std::fs::read(root.join(name))
                    .ok()
                    .filter(|_| known.contains(&name))
                {
                    Some(body) => {
                        let kind = match name.rsplit('.').next() {
                            Some("html") => "text/html",
                            Some("css") => "text/css",
                            _ => "text/javascript",
                        };
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(&body);
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&reply);
            }
        });
        PhonePage {
            url,
            stop,
            _dir: dir,
        }
    }
}

impl Drop for PhonePage {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
