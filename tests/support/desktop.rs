//! The desktop around the app for the OS-integration window tests: a private session bus the test can reach too
//! (so it can play the notification server and the tray, and launch the app a second time on the same bus), a fake
//! notification server and a fake tray on it (`tests/notify/*.py`, Debian's python3-dbus + python3-gi).

use super::{require_program, screenshot_dir, ChildGuard, Sandbox, Session, TauriDriver, Xvfb};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Python that has Debian's `dbus` and `gi` modules (a pyenv `python3` on PATH may not).
pub const PYTHON: &str = "/usr/bin/python3";

/// `<repo>/tests/notify/NAME`.
pub fn notify_script(name: &str) -> PathBuf {
    dialtone_testkit::repo_root()
        .join("tests/notify")
        .join(name)
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("dialtone-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The environment of everything the tests start on their session bus (the bus itself, the fake servers, dbus-send,
/// xdg-utils): the bus address, and HOME and the XDG directories in a temporary directory, so that nothing started
/// on the bus (nor a service it activates) writes into the real HOME.
#[derive(Clone)]
pub struct BusEnv(Vec<(&'static str, std::ffi::OsString)>);

impl BusEnv {
    /// Sets these variables on `cmd`.
    pub fn apply<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.envs(self.0.iter().map(|(k, v)| (*k, v)))
    }
}

/// A private D-Bus session bus (`dbus-daemon --session`) with a temporary HOME of its own, stopped by PID on drop.
pub struct SessionBus {
    /// `unix:path=...`: what `DBUS_SESSION_BUS_ADDRESS` should say.
    pub address: String,
    env: BusEnv,
    _guard: ChildGuard,
    _dir: Scratch,
    _home: Sandbox,
}

impl SessionBus {
    pub fn start() -> SessionBus {
        let daemon = require_program("dbus-daemon");
        let dir = Scratch::new("bus");
        let socket = dir.0.join("bus");
        let address = format!("unix:path={}", socket.display());
        let home = Sandbox::new();
        let mut vars: Vec<(&'static str, std::ffi::OsString)> = home
            .home_vars()
            .into_iter()
            .map(|(k, v)| (k, v.into_os_string()))
            .collect();
        vars.push(("DBUS_SESSION_BUS_ADDRESS", address.clone().into()));
        let env = BusEnv(vars);
        let guard = ChildGuard::spawn(
            "dbus-daemon",
            env.apply(&mut Command::new(daemon))
                .args(["--session", "--nofork", "--nopidfile"])
                .arg(format!("--address={address}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "dbus-daemon did not open {address}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        SessionBus {
            address,
            env,
            _guard: guard,
            _dir: dir,
            _home: home,
        }
    }

    /// The environment of what runs on this bus (its address, the bus's temporary HOME).
    pub fn env(&self) -> BusEnv {
        self.env.clone()
    }

    /// Whether some connection owns the bus name `name`.
    pub fn has_name(&self, name: &str) -> bool {
        let out = self
            .command(require_program("dbus-send"))
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
            ])
            .arg(format!("string:{name}"))
            .output()
            .expect("run dbus-send");
        assert!(
            out.status.success(),
            "NameHasOwner failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// A command with this bus as its session bus (and the bus's temporary HOME).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.env.apply(&mut cmd);
        cmd
    }
}

/// Reads a JSON-lines log written by one of the fake servers.
pub fn read_log(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits until an entry of the log at `path` satisfies `pred`; returns it.
pub fn wait_log(
    path: &Path,
    what: &str,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(entry) = read_log(path).into_iter().find(|e| pred(e)) {
            return entry;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the log says:\n{}",
            std::fs::read_to_string(path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `tests/notify/fake_server.py` on `bus`: records Notify/CloseNotification calls, plays the user's clicks.
pub struct NotificationServer {
    pub log: PathBuf,
    env: BusEnv,
    _guard: ChildGuard,
}

impl NotificationServer {
    pub fn start(bus: &SessionBus, log: PathBuf) -> NotificationServer {
        let _ = std::fs::remove_file(&log);
        let guard = ChildGuard::spawn(
            "fake notification server",
            bus.command(PYTHON)
                .arg(notify_script("fake_server.py"))
                .arg("--log")
                .arg(&log)
                .stdout(Stdio::null()),
        );
        wait_log(
            &log,
            "the fake notification server",
            Duration::from_secs(15),
            |e| e["ready"] == true,
        );
        NotificationServer {
            log,
            env: bus.env(),
            _guard: guard,
        }
    }

    /// Every `Notify` so far.
    pub fn notifications(&self) -> Vec<Value> {
        read_log(&self.log)
            .into_iter()
            .filter(|e| e["method"] == "Notify")
            .collect()
    }

    /// Waits for a `Notify` whose summary contains `summary`.
    pub fn wait_notification(&self, summary: &str, timeout: Duration) -> Value {
        wait_log(
            &self.log,
            &format!("a notification {summary:?}"),
            timeout,
            |e| {
                e["method"] == "Notify"
                    && e["summary"].as_str().is_some_and(|s| s.contains(summary))
            },
        )
    }

    /// Waits for `CloseNotification(id)` from the app.
    pub fn wait_closed(&self, id: u64, timeout: Duration) {
        wait_log(
            &self.log,
            &format!("CloseNotification({id})"),
            timeout,
            |e| e["method"] == "CloseNotification" && e["id"] == id,
        );
    }

    /// The user picks `action` ("default" is a click on the notification itself).
    pub fn invoke(&self, id: u64, action: &str) {
        let status = self
            .env
            .apply(&mut Command::new(require_program("dbus-send")))
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.Notifications",
                "/org/freedesktop/Notifications",
                "org.dialtone.Test.InvokeAction",
            ])
            .arg(format!("uint32:{id}"))
            .arg(format!("string:{action}"))
            .stdout(Stdio::null())
            .status()
            .expect("run dbus-send");
        assert!(
            status.success(),
            "dbus-send InvokeAction({id}, {action}) failed"
        );
    }
}

/// The `[key, label, key, label...]` actions of a notification as pairs.
pub fn actions(notification: &Value) -> Vec<(String, String)> {
    let list: Vec<String> = notification["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    list.chunks(2)
        .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
        .collect()
}

/// The notification's server id.
pub fn id_of(notification: &Value) -> u64 {
    notification["id"].as_u64().expect("a notification id")
}

/// `tests/notify/tray_host.py serve` on `bus`: the StatusNotifierWatcher the app's tray icon registers with.
pub struct TrayHost {
    pub log: PathBuf,
    env: BusEnv,
    _guard: ChildGuard,
}

impl TrayHost {
    pub fn start(bus: &SessionBus, log: PathBuf) -> TrayHost {
        let _ = std::fs::remove_file(&log);
        let guard = ChildGuard::spawn(
            "fake tray",
            bus.command(PYTHON)
                .arg(notify_script("tray_host.py"))
                .arg("serve")
                .arg("--log")
                .arg(&log)
                .stdout(Stdio::null()),
        );
        wait_log(&log, "the fake tray", Duration::from_secs(15), |e| {
            e["ready"] == true
        });
        TrayHost {
            log,
            env: bus.env(),
            _guard: guard,
        }
    }

    /// Waits until the app's tray item registered.
    pub fn wait_item(&self, timeout: Duration) {
        wait_log(&self.log, "the app's tray item", timeout, |e| {
            e.get("item").is_some()
        });
    }

    fn run(&self, args: &[&str]) -> Value {
        let out = self
            .env
            .apply(&mut Command::new(PYTHON))
            .arg(notify_script("tray_host.py"))
            .args(args)
            .arg("--log")
            .arg(&self.log)
            .output()
            .expect("run tray_host.py");
        assert!(
            out.status.success(),
            "tray_host.py {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "tray_host.py {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// The tray menu as the panel reads it: `[{id, label, enabled, toggle, ...}]`.
    pub fn menu(&self) -> Vec<Value> {
        self.run(&["menu"]).as_array().cloned().unwrap_or_default()
    }

    /// Clicks the menu entry labelled `label`; returns the entry afterwards.
    pub fn click(&self, label: &str) -> Value {
        self.run(&["click", label])
    }

    /// Clicks the menu entry labelled `label` without reading the menu back (for Quit: the menu goes away).
    pub fn click_and_leave(&self, label: &str) {
        self.run(&["click", label, "--no-readback"]);
    }
}

/// A command for the app (or what starts it) with `sandbox` as HOME and `bus` as its session bus.
pub fn app_command(
    program: impl AsRef<std::ffi::OsStr>,
    sandbox: &Sandbox,
    bus: &SessionBus,
) -> Command {
    let mut cmd = Command::new(program);
    sandbox.apply(&mut cmd);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    cmd
}

impl TauriDriver {
    /// tauri-driver (and so the app) with `sandbox` as HOME, on `bus` instead of a bus of its own.
    pub fn start_on_bus(
        display: &str,
        log: &Path,
        bus: &SessionBus,
        sandbox: &Sandbox,
    ) -> TauriDriver {
        let driver = require_program("tauri-driver");
        require_program("WebKitWebDriver");
        TauriDriver::launch(&mut app_command(driver, sandbox, bus), display, log)
    }
}

/// The real app on a desktop of its own: Xvfb, a private session bus with a notification server (and, if asked, a
/// tray host) and a sandbox HOME, driven by WebDriver. Fields drop in order: the window first, the bus last.
pub struct Desk {
    pub s: Session,
    pub driver: TauriDriver,
    pub notes: NotificationServer,
    pub tray: Option<TrayHost>,
    pub bus: SessionBus,
    pub sandbox: Sandbox,
    pub xvfb: Xvfb,
    pub scratch: Scratch,
}

impl Desk {
    /// The app with a notification server on its bus; `tag` names the scratch directory and the driver's log.
    pub fn start(tag: &str) -> Desk {
        Desk::launch(tag, false)
    }

    /// Like [`Desk::start`], with a StatusNotifierWatcher (tray host) on the bus before the app starts.
    pub fn with_tray(tag: &str) -> Desk {
        Desk::launch(tag, true)
    }

    fn launch(tag: &str, with_tray: bool) -> Desk {
        let shots = screenshot_dir();
        let scratch = Scratch::new(tag);
        let xvfb = Xvfb::start();
        let bus = SessionBus::start();
        let tray = with_tray.then(|| TrayHost::start(&bus, scratch.0.join("tray.jsonl")));
        let notes = NotificationServer::start(&bus, scratch.0.join("notifications.jsonl"));
        let sandbox = Sandbox::new();
        let driver = TauriDriver::start_on_bus(
            &xvfb.display,
            &shots.join(format!("tauri-driver-{tag}.log")),
            &bus,
            &sandbox,
        );
        let app = std::path::PathBuf::from(env!("CARGO_BIN_EXE_dialtone-app"));
        let s = Session::new(&driver, &app);
        Desk {
            s,
            driver,
            notes,
            tray,
            bus,
            sandbox,
            xvfb,
            scratch,
        }
    }
}
