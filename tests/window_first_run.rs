//! End to end: the first minute of the real `dialtone-app` with nothing set up (empty XDG config and data
//! directories, so no saved profile). The app starts Dialtone's own relay on loopback and shows the first-run panel:
//! the SIP server, the second demo account and the browser page; `users.toml` holds both demo accounts with random
//! passwords and is readable by its owner only. The connection form is pre-filled with the first demo account, so
//! Connect alone registers (the badge shows Registered). Then a `dialtone phone` process logs in with the second
//! demo account the panel shows and calls the app through the relay: the window shows the incoming call ringing;
//! Decline reaches the caller as 603. Screenshots go to `target/screenshots/`.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(30);

/// The `dialtone` CLI built next to the app (`cargo test --workspace` builds every binary of the workspace).
fn dialtone_cli() -> PathBuf {
    let cli = Path::new(env!("CARGO_BIN_EXE_dialtone-app")).with_file_name("dialtone");
    assert!(
        cli.exists(),
        "no dialtone CLI at {}: build it first (`cargo build -p dialtone-core --bin dialtone`)",
        cli.display()
    );
    cli
}

/// Waits for a JSON line of the CLI matching `pred`.
fn wait_line(
    lines: &mpsc::Receiver<String>,
    what: &str,
    seen: &mut Vec<String>,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + T;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("dialtone phone: no {what}; its output: {seen:#?}"));
        eprintln!("dialtone> {line}");
        seen.push(line.clone());
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if pred(&v) {
                return v;
            }
        }
    }
}

#[test]
fn window_first_run_registers_to_its_own_relay_and_takes_a_call() {
    let shots = screenshot_dir();
    // The app gets a temporary HOME with empty XDG config and data directories: no profile.
    let sandbox = Sandbox::new();

    let xvfb = Xvfb::start();
    let driver = TauriDriver::start_in(
        &xvfb.display,
        &shots.join("tauri-driver-first-run.log"),
        &sandbox,
        SessionKeyring::Default,
    );
    let app = PathBuf::from(env!("CARGO_BIN_EXE_dialtone-app"));
    let s = Session::new(&driver, &app);

    // The panel appears once the relay runs, with what a second phone needs.
    let server = s.wait_text("#first-run-server", T, |t| !t.is_empty());
    let sip: std::net::SocketAddr = server
        .parse()
        .unwrap_or_else(|_| panic!("the panel's SIP server is not an address: {server:?}"));
    assert!(sip.ip().is_loopback(), "{sip}");
    assert_eq!(
        s.property("#first-run", "hidden"),
        serde_json::json!(false),
        "the first-run panel stays hidden"
    );
    let second_user = s.text("#first-run-second-user");
    let second_password = s.text("#first-run-second-password");
    assert_eq!(second_user, "demo2");
    assert!(s.text("#first-run-page").starts_with("http://127.0.0.1:"));

    // users.toml: both demo accounts, the passwords the panel shows, mode 0600.
    let users = sandbox.app_data_dir().join("relay/users.toml");
    let text =
        std::fs::read_to_string(&users).unwrap_or_else(|e| panic!("{}: {e}", users.display()));
    assert!(text.contains("name = \"demo1\"") && text.contains("name = \"demo2\""));
    assert!(
        second_password.len() >= 12 && text.contains(&format!("password = \"{second_password}\"")),
        "the panel's password {second_password:?} is not demo2's in {}",
        users.display()
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&users)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "users.toml mode {mode:o}");
    }

    // The form is filled with the first demo account: Connect is all it takes.
    assert_eq!(
        s.property("#server-url", "value"),
        serde_json::json!(server)
    );
    assert_eq!(s.property("#login", "value"), serde_json::json!("demo1"));
    let first_password = s.property("#password", "value");
    assert!(
        first_password
            .as_str()
            .is_some_and(|p| text.contains(&format!("password = \"{p}\""))),
        "the form's password is not demo1's"
    );
    xvfb.screenshot(&shots.join("10-first-run-panel.png"));
    s.click("#connect");
    s.wait_text("#reg-status", T, |t| t == "Registered");
    let next = s.wait_text("#first-run-intro", T, |t| {
        t.starts_with("Registered as demo1")
    });
    assert!(next.contains("Call demo2"), "{next}");
    xvfb.screenshot(&shots.join("11-first-run-registered.png"));

    // A second phone with demo2 calls the app through its relay.
    let account = format!("sip:{second_user}@{sip}");
    let mut caller = ChildGuard::spawn(
        "dialtone phone",
        Command::new(dialtone_cli())
            .args([
                "phone",
                "--account",
                &account,
                "--password-env",
                "DIALTONE_FIRST_RUN_PASSWORD",
                "--call",
                "demo1",
                "--timeout",
                "60",
            ])
            .env("DIALTONE_FIRST_RUN_PASSWORD", &second_password)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    );
    let stdout = caller
        .child
        .stdout
        .take()
        .expect("the caller's stdout is piped");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    wait_line(&lines, "REGISTERED", &mut seen, |v| {
        v["event"] == "registration" && v["state"] == "REGISTERED"
    });

    let ringing = s.wait_text("#call-status", T, |t| t.starts_with("RING"));
    assert!(ringing.contains("demo2"), "{ringing}");
    assert!(s.text("#status-line").contains("Incoming call"));
    assert_eq!(s.property("#answer", "disabled"), serde_json::json!(false));
    xvfb.screenshot(&shots.join("12-first-run-incoming-call.png"));

    s.click("#decline");
    let ended = wait_line(&lines, "the end of the call", &mut seen, |v| {
        v["event"] == "call"
            && ["FAILED", "BUSY", "FINISH"].contains(&v["state"].as_str().unwrap_or(""))
    });
    assert_eq!(ended["code"], 603, "{ended}");
    s.wait_text("#call-status", T, |t| !t.starts_with("RING"));
}
