//! Runs the real `dialtone` binary as a child and reads its JSON event lines.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `dialtone phone ...`, killed by PID on drop.
pub struct Cli {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<Value>,
    /// Lines the process wrote to stderr.
    pub errors: Vec<String>,
}

impl Cli {
    /// Starts `dialtone phone <args>` with `PASSWORD` set to `password`.
    pub fn phone(args: &[&str], password: &str) -> Cli {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .arg("phone")
            .args(args)
            .env("DIALTONE_TEST_PASSWORD", password)
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
        Cli {
            child,
            lines: rx,
            seen: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Waits for an event matching `pred`; panics with everything seen so far on timeout.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    eprintln!("dialtone> {line}");
                    self.note(&line);
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        self.seen.push(v.clone());
                        if pred(&v) {
                            return v;
                        }
                    }
                }
                Err(_) => panic!(
                    "timed out waiting for {what}; events so far: {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Waits for the process to exit and returns its exit code, draining the remaining lines.
    pub fn wait_exit(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            while let Ok(line) = self.lines.try_recv() {
                eprintln!("dialtone> {line}");
                self.note(&line);
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    self.seen.push(v);
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                while let Ok(line) = self.lines.try_recv() {
                    eprintln!("dialtone> {line}");
                    self.note(&line);
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        self.seen.push(v);
                    }
                }
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "dialtone did not exit in time; events: {:#?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn note(&mut self, line: &str) {
        if let Some(err) = line.strip_prefix("stderr: ") {
            self.errors.push(err.to_string());
        }
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        self.errors.join("\n")
    }

    /// Call states seen, in order.
    pub fn call_states(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|v| v["event"] == "call")
            .filter_map(|v| v["state"].as_str().map(str::to_string))
            .collect()
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn is_reg(state: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == "registration" && v["state"] == state
}

pub fn is_call(state: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == "call" && v["state"] == state
}

/// Asserts that the WAV recording at `path` carries `hz` (±15 Hz) well above silence, after its first second (the
/// call's set-up and the jitter buffer's fill).
pub fn assert_tone(what: &str, path: &std::path::Path, hz: f64) {
    let analysis = dialtone_devices::analysis::analyze_wav(path, Duration::from_secs(1))
        .unwrap_or_else(|e| panic!("{what}: cannot analyse {}: {e}", path.display()));
    let dominant = analysis.dominant_hz.unwrap_or_else(|| {
        panic!(
            "{what}: no tone at all in {} ({analysis:?})",
            path.display()
        )
    });
    assert!(
        (dominant - hz).abs() <= 15.0,
        "{what}: dominant {dominant:.1} Hz, expected {hz} Hz ({analysis:?})"
    );
    assert!(analysis.rms > 0.02, "{what}: level too low ({analysis:?})");
}
