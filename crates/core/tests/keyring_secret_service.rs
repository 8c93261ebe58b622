//! The real OS keyring on Linux: gnome-keyring's Secret Service on a private D-Bus session.
//!
//! Each test starts this test binary again as a child (`--ignored --exact keyring_child`) inside the session it
//! needs, with a temporary HOME and XDG directories:
//! - unlocked gnome-keyring: a profile saved with a canary password; the password reads back, `secret-tool` finds it
//!   in the Secret Service, and the canary is in no file under the temporary HOME and in no output;
//! - gnome-keyring started without `--unlock`: a clear "locked" error, nothing saved;
//! - a session bus that has no Secret Service: a clear "no Secret Service" error;
//! - no session bus at all: a clear "no session bus" error.
//!
//! Needs `dbus-run-session`, `gnome-keyring-daemon` and `secret-tool` (Debian packages `dbus`, `gnome-keyring`,
//! `libsecret-tools`).
#![cfg(target_os = "linux")]

use dialtone_core::history::{CallHistory, CallRecord, CallResult};
use dialtone_core::keyring::{SecretStore, SecretStoreError, SystemSecretStore};
use dialtone_core::profile::{Profile, ProfileStore, ProfileStoreError};
use dialtone_core::{CallState, Direction, Secret};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SCENARIO_ENV: &str = "DIALTONE_KEYRING_SCENARIO";
const CANARY_ENV: &str = "DIALTONE_KEYRING_CANARY";

/// Child entry point: runs one scenario inside the environment its parent test prepared.
#[test]
#[ignore = "child process of the keyring tests below, which run it inside a D-Bus session"]
fn keyring_child() {
    let scenario = std::env::var(SCENARIO_ENV).expect("run by the keyring tests with a scenario");
    match scenario.as_str() {
        "store" => child_store(),
        "locked" => child_locked(),
        "no-service" => {
            let err = SystemSecretStore::new().expect_err("no Secret Service on this bus");
            println!("message: {err}");
            assert!(
                matches!(err, SecretStoreError::NoSecretService { .. }),
                "{err:?}"
            );
            assert!(err.to_string().contains("ask each time"), "{err}");
        }
        "no-bus" => {
            let err = SystemSecretStore::new().expect_err("no session bus");
            println!("message: {err}");
            assert!(
                matches!(err, SecretStoreError::NoSessionBus { .. }),
                "{err:?}"
            );
            assert!(err.is_unavailable());
            assert!(err.to_string().contains("no D-Bus session bus"), "{err}");
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn xdg(var: &str) -> PathBuf {
    PathBuf::from(std::env::var(var).unwrap_or_else(|_| panic!("{var} set by the parent")))
}

fn profile() -> Profile {
    Profile {
        name: "Work".into(),
        server_url: "127.0.0.1:5060".into(),
        login: "alice".into(),
        ..Profile::default()
    }
}

fn child_store() {
    let canary = std::env::var(CANARY_ENV).expect("canary from the parent");
    let config = xdg("XDG_CONFIG_HOME").join("dialtone");
    let data = xdg("XDG_DATA_HOME").join("dialtone");

    let secrets = SystemSecretStore::new().expect("the Secret Service is reachable");
    let mut store = ProfileStore::open(&config).expect("open profiles");
    let saved = store
        .save_with_password(profile(), Some(&Secret::new(canary.clone())), &secrets)
        .expect("save with the password in the keyring");
    let history = CallHistory::open(data.join("history.sqlite3")).expect("open history");
    history
        .insert(&CallRecord {
            id: 0,
            profile_id: saved.id.clone(),
            direction: Direction::Outgoing,
            peer: "sip:bob@127.0.0.1".into(),
            display_name: String::new(),
            started_at_ms: 1,
            duration_ms: 1000,
            result: CallResult {
                state: CallState::Finish,
                code: None,
                reason: String::new(),
            },
            stats_json: String::new(),
        })
        .expect("record a call");
    drop(history);

    // A fresh connection and a fresh store read it back.
    let secrets = SystemSecretStore::new().expect("reconnect");
    let store = ProfileStore::open(&config).expect("reopen profiles");
    let password = store
        .password(&saved.id, &secrets)
        .expect("read back")
        .expect("stored");
    assert!(
        password.expose() == canary,
        "the keyring returned another password"
    );

    // It is really in the Secret Service, where other tools see it.
    let lookup = Command::new("secret-tool")
        .args(["lookup", "service", "dialtone", "username", &saved.id])
        .output()
        .expect("run secret-tool");
    assert!(lookup.status.success(), "secret-tool lookup failed");
    assert!(
        lookup.stdout == canary.as_bytes(),
        "secret-tool found another password"
    );
    assert_eq!(secrets.get("no-such-profile"), Ok(None));

    // The parent checks the files after the session has ended; a second profile exercises delete.
    let mut other = profile();
    other.name = "Other".into();
    let other = {
        let mut store = ProfileStore::open(&config).expect("reopen");
        let other = store
            .save_with_password(other, Some(&Secret::new("short-lived")), &secrets)
            .expect("save other");
        store
            .delete_with_password(&other.id, &secrets)
            .expect("delete other");
        other
    };
    assert_eq!(secrets.get(&other.id), Ok(None));
    assert_eq!(secrets.delete(&other.id), Ok(false));
}

fn child_locked() {
    let config = xdg("XDG_CONFIG_HOME").join("dialtone");
    // Connecting works: the service is there; using it needs an unlock prompt that cannot be shown.
    let secrets = SystemSecretStore::new().expect("the Secret Service is reachable");
    let mut store = ProfileStore::open(&config).expect("open profiles");
    let err = store
        .save_with_password(profile(), Some(&Secret::new("pw")), &secrets)
        .expect_err("a locked keyring cannot store");
    println!("message: {err}");
    let ProfileStoreError::Keyring(keyring_error) = &err else {
        panic!("unexpected {err:?}")
    };
    assert!(
        matches!(keyring_error, SecretStoreError::Locked { .. }),
        "{keyring_error:?}"
    );
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(store.list().is_empty());
    assert!(!config.join("profiles.json").exists());
}

/// Fails (does not skip) when the system tools are missing: the real keyring must be tested.
fn require_tools() {
    for tool in [
        "dbus-run-session",
        "dbus-daemon",
        "gnome-keyring-daemon",
        "secret-tool",
    ] {
        let found = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
            .unwrap_or(false);
        assert!(
            found,
            "{tool} is missing: install the Debian packages dbus gnome-keyring libsecret-tools"
        );
    }
}

struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().expect("temp HOME");
        for sub in [".config", ".local/share", ".cache", "run"] {
            std::fs::create_dir_all(root.path().join(sub)).expect("create XDG dir");
        }
        let run = root.path().join("run");
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod runtime dir");
        Sandbox { root }
    }

    fn home(&self) -> &Path {
        self.root.path()
    }

    /// A command with HOME and the XDG directories inside the sandbox and no inherited session bus.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let home = self.home();
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_RUNTIME_DIR", home.join("run"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .process_group(0);
        cmd
    }
}

/// Runs `cmd` (its own process group) to completion, killing the group after `limit`.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let start = Instant::now();
    match rx.recv_timeout(limit) {
        Ok(output) => output.expect("wait for child"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            panic!(
                "the child did not finish within {:?} (hung on a keyring prompt?)",
                start.elapsed()
            );
        }
    }
}

fn child_args() -> Vec<String> {
    let exe = std::env::current_exe().expect("test binary path");
    vec![
        exe.display().to_string(),
        "--ignored".into(),
        "--exact".into(),
        "keyring_child".into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ]
}

/// `dbus-run-session` running `setup` (a shell snippet) and then the child scenario.
fn in_session(sandbox: &Sandbox, scenario: &str, setup: &str, config: Option<&Path>) -> Command {
    let mut cmd = sandbox.command("dbus-run-session");
    if let Some(config) = config {
        cmd.arg(format!("--config-file={}", config.display()));
    }
    cmd.args(["--", "sh", "-c", &format!("{setup} exec \"$@\""), "sh"])
        .args(child_args())
        .env(SCENARIO_ENV, scenario);
    cmd
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "child failed: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The child's harness ran exactly its one test.
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("test result: ok. 1 passed"),
        "the child test did not run: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("list dir") {
        let entry = entry.expect("entry");
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            files_under(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn password_lives_in_the_real_secret_service_and_in_no_file_or_output() {
    require_tools();
    let sandbox = Sandbox::new();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let canary = format!("canary-{nanos:x}-{}", std::process::id());
    let mut cmd = in_session(
        &sandbox,
        "store",
        "echo -n sandbox-login | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97;",
        None,
    );
    cmd.env(CANARY_ENV, &canary);
    let output = run_with_timeout(cmd, Duration::from_secs(120));
    assert_success(&output);
    assert!(
        !contains(&output.stdout, canary.as_bytes()),
        "the password appeared on stdout"
    );
    assert!(
        !contains(&output.stderr, canary.as_bytes()),
        "the password appeared on stderr"
    );

    let mut files = Vec::new();
    files_under(sandbox.home(), &mut files);
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(sandbox.home())
                .unwrap_or(f)
                .display()
                .to_string()
        })
        .collect();
    for must_exist in [
        ".config/dialtone/profiles.json",
        ".local/share/dialtone/history.sqlite3",
    ] {
        assert!(
            names.iter().any(|n| n == must_exist),
            "{must_exist} missing: {names:?}"
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(".local/share/keyrings/")),
        "gnome-keyring wrote no keyring file: {names:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).expect("read file");
        assert!(
            !contains(&bytes, canary.as_bytes()),
            "the password is in {}",
            file.display()
        );
    }
}

#[test]
fn locked_keyring_is_a_clear_error() {
    require_tools();
    let sandbox = Sandbox::new();
    let start_locked =
        "gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1 || exit 97;";
    // 1. No login keyring yet: creating one needs a prompt, and there is no display to show it on.
    let output = run_with_timeout(
        in_session(&sandbox, "locked", start_locked, None),
        Duration::from_secs(120),
    );
    assert_success(&output);
    print!("{}", String::from_utf8_lossy(&output.stdout));

    // 2. A login keyring with an item exists, but this session did not unlock it.
    let mut seed = sandbox.command("dbus-run-session");
    seed.args([
        "--",
        "sh",
        "-c",
        "echo -n sandbox-login | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97; \
         echo -n seed | secret-tool store --label=seed service dialtone-seed username seed",
    ]);
    let output = run_with_timeout(seed, Duration::from_secs(60));
    assert!(
        output.status.success(),
        "seeding the keyring failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let keyrings = sandbox.home().join(".local/share/keyrings");
    assert!(
        keyrings.join("login.keyring").is_file(),
        "no login keyring was created"
    );
    let output = run_with_timeout(
        in_session(&sandbox, "locked", start_locked, None),
        Duration::from_secs(120),
    );
    assert_success(&output);
    print!("{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn session_bus_without_secret_service_is_a_clear_error() {
    require_tools();
    let sandbox = Sandbox::new();
    // A session bus with no service directories: nothing can be activated, nothing provides the secrets name.
    let config = dialtone_testkit::dbus::write_session_config_without_services(
        sandbox.home(),
        "bus.conf",
        &sandbox.home().join("run"),
    )
    .expect("write bus config");
    let cmd = in_session(&sandbox, "no-service", "", Some(&config));
    let output = run_with_timeout(cmd, Duration::from_secs(60));
    assert_success(&output);
    print!("{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn no_session_bus_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let args = child_args();
    let mut cmd = sandbox.command(&args[0]);
    cmd.args(&args[1..]).env(SCENARIO_ENV, "no-bus");
    let output = run_with_timeout(cmd, Duration::from_secs(60));
    assert_success(&output);
    print!("{}", String::from_utf8_lossy(&output.stdout));
}
