//! Helpers for the desktop-window tests: a private X server, a session bus, tauri-driver, and a tiny WebDriver
//! client over HTTP. Every process started here is stopped by its PID when the guard drops; nothing is killed by name.

#![allow(dead_code)]

pub mod desktop;

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (by PID) and reaped on drop.
pub struct ChildGuard {
    pub child: Child,
    pub name: &'static str,
}

impl ChildGuard {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> ChildGuard {
        // Its own process group, so stopping it also stops what it started (tauri-driver → WebKitWebDriver → app).
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {name} ({e}); run scripts/setup.sh to install the test dependencies"
            )
        });
        ChildGuard { child, name }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // SIGTERM to the whole group first so tauri-driver can end the app it started; whatever of the group is
        // still there after a grace period (the app, WebKitWebDriver, the bus) gets SIGKILL.
        let group = format!("-{}", self.child.id());
        kill_group(&group, "TERM");
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        kill_group(&group, "KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signals the process group this guard created (a negative PID): only our own children are in it.
fn kill_group(group: &str, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(group)
        .stderr(Stdio::null())
        .status();
}

/// Finds a program on PATH or fails the test with an install hint (never skips).
pub fn require_program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed; run scripts/setup.sh (this test never skips)")
        })
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A private Xvfb display.
pub struct Xvfb {
    pub display: String,
    _guard: ChildGuard,
}

impl Xvfb {
    /// Saves a PNG of the whole X screen (the real window as the user would see it) with ImageMagick's `import`.
    /// (WebKitWebDriver's own screenshot command hangs under Xvfb without GL.)
    pub fn screenshot(&self, path: &Path) {
        let import = require_program("import");
        let status = Command::new(import)
            .args([
                "-display",
                &self.display,
                "-window",
                "root",
                &path.to_string_lossy(),
            ])
            .status()
            .expect("run import");
        assert!(
            status.success(),
            "import failed to capture {}",
            self.display
        );
    }

    pub fn start() -> Xvfb {
        let xvfb = require_program("Xvfb");
        // Pick a display number nobody uses; -nolisten tcp keeps it off the network.
        for n in 90..200 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let guard = ChildGuard::spawn(
                "Xvfb",
                Command::new(&xvfb)
                    .args([
                        display.as_str(),
                        "-screen",
                        "0",
                        "900x720x24",
                        "-nolisten",
                        "tcp",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            );
            let socket = format!("/tmp/.X11-unix/X{n}");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if Path::new(&socket).exists() {
                    return Xvfb {
                        display,
                        _guard: guard,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("Xvfb did not start on any display :90-:199");
    }
}

/// A private HOME with its own XDG directories, so the app's profiles, history, window state and keyring live in a
/// temporary directory and never in the user's own.
pub struct Sandbox {
    root: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let root = tempfile::tempdir().expect("temporary HOME");
        for sub in [".config", ".local/share", ".cache", "run"] {
            std::fs::create_dir_all(root.path().join(sub)).expect("create XDG dir");
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            root.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .expect("chmod the runtime dir");
        Sandbox {
            root,
            env: Vec::new(),
        }
    }

    pub fn home(&self) -> &Path {
        self.root.path()
    }

    /// The app's config directory (Tauri's `app_config_dir`: `$XDG_CONFIG_HOME/<identifier>`).
    pub fn app_config_dir(&self) -> PathBuf {
        self.home().join(".config").join(APP_IDENTIFIER)
    }

    /// The app's data directory (Tauri's `app_data_dir`: `$XDG_DATA_HOME/<identifier>`).
    pub fn app_data_dir(&self) -> PathBuf {
        self.home().join(".local/share").join(APP_IDENTIFIER)
    }

    /// HOME and the XDG directories inside the sandbox, as environment variables.
    pub fn home_vars(&self) -> Vec<(&'static str, PathBuf)> {
        let home = self.home();
        vec![
            ("HOME", home.to_path_buf()),
            ("XDG_CONFIG_HOME", home.join(".config")),
            ("XDG_DATA_HOME", home.join(".local/share")),
            ("XDG_CACHE_HOME", home.join(".cache")),
            ("XDG_RUNTIME_DIR", home.join("run")),
        ]
    }

    /// Sets HOME and the XDG directories of `cmd` to the sandbox and drops any inherited session bus.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.envs(self.home_vars())
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
    }

    /// Adds a variable to the environment of everything started in the sandbox (e.g. a test PulseAudio's
    /// `PULSE_SERVER`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }
}

/// `identifier` in tauri.conf.json.
pub const APP_IDENTIFIER: &str = "app.dialtone.desktop";

/// The password that unlocks the sandbox's gnome-keyring login collection.
pub const SANDBOX_KEYRING_PASSWORD: &str = "sandbox-login";

/// What provides the Secret Service on the app's session bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKeyring {
    /// The system's session bus configuration (D-Bus may start gnome-keyring on demand, locked).
    Default,
    /// An unlocked gnome-keyring, started before the app.
    Unlocked,
    /// Nothing: a bus configuration without service directories.
    Absent,
}

/// tauri-driver (which starts WebKitWebDriver, which starts our app) under a private session bus.
pub struct TauriDriver {
    pub port: u16,
    _guard: ChildGuard,
    _sandbox: Option<Sandbox>,
}

impl TauriDriver {
    /// The driver and app in a fresh sandbox HOME, on a session bus with the system's default configuration.
    pub fn start(display: &str, log: &Path) -> TauriDriver {
        let sandbox = Sandbox::new();
        let mut driver = Self::start_in(display, log, &sandbox, SessionKeyring::Default);
        driver._sandbox = Some(sandbox);
        driver
    }

    /// The driver and app with `sandbox` as HOME, on a private session bus with the given keyring situation.
    pub fn start_in(
        display: &str,
        log: &Path,
        sandbox: &Sandbox,
        keyring: SessionKeyring,
    ) -> TauriDriver {
        let driver = require_program("tauri-driver");
        require_program("WebKitWebDriver");
        let dbus = require_program("dbus-run-session");
        let setup = match keyring {
            SessionKeyring::Unlocked => {
                require_program("gnome-keyring-daemon");
                format!(
                    "echo -n {SANDBOX_KEYRING_PASSWORD} | gnome-keyring-daemon --unlock --components=secrets \
                     >/dev/null || exit 97;"
                )
            }
            SessionKeyring::Default | SessionKeyring::Absent => String::new(),
        };
        let mut cmd = Command::new(dbus);
        sandbox.apply(&mut cmd);
        if keyring == SessionKeyring::Absent {
            // The default session configuration lets D-Bus start gnome-keyring on demand; this one has no service
            // directories, so nothing provides org.freedesktop.secrets.
            let config = dialtone_testkit::dbus::write_session_config_without_services(
                sandbox.home(),
                "session-no-services.conf",
                &sandbox.home().join("run"),
            )
            .expect("write the bus config");
            cmd.arg(format!("--config-file={}", config.display()));
        }
        cmd.args(["--", "sh", "-c", &format!("{setup} exec \"$@\""), "sh"])
            .arg(driver);
        TauriDriver::launch(&mut cmd, display, log)
    }
}

impl TauriDriver {
    /// Runs `cmd` (tauri-driver, or what execs it) on free ports with `display`, logging to `log`, and waits until
    /// it listens.
    pub fn launch(cmd: &mut Command, display: &str, log: &Path) -> TauriDriver {
        let port = free_port();
        let native_port = free_port();
        let logfile = std::fs::File::create(log).expect("cannot create the driver log");
        let guard = ChildGuard::spawn(
            "tauri-driver",
            cmd.args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", display)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdout(logfile.try_clone().expect("log handle"))
            .stderr(logfile),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return TauriDriver {
                    port,
                    _guard: guard,
                    _sandbox: None,
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "tauri-driver did not listen on port {port}; see {}",
            log.display()
        );
    }
}

/// A WebDriver session on the real app.
pub struct Session {
    base: String,
    id: String,
}

impl Session {
    pub fn new(driver: &TauriDriver, application: &Path) -> Session {
        let base = format!("http://127.0.0.1:{}", driver.port);
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": application}}}});
        // tauri-driver answers an empty reply when its WebKitWebDriver is not accepting yet (seen under load even
        // after the port opened): try a few times before failing.
        let url = format!("{base}/session");
        let mut attempt = 0;
        let resp = loop {
            attempt += 1;
            match ureq::post(&url)
                .timeout(Duration::from_secs(60))
                .send_json(caps.clone())
            {
                Ok(r) => break r.into_json::<Value>().unwrap_or(Value::Null),
                Err(ureq::Error::Status(_, r)) => {
                    break r.into_json::<Value>().unwrap_or(Value::Null)
                }
                Err(e) if attempt < 5 => {
                    eprintln!("WebDriver session attempt {attempt} failed: {e}; retrying");
                    std::thread::sleep(Duration::from_secs(2));
                }
                Err(e) => panic!("WebDriver POST {url}: {e}"),
            }
        };
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {resp}"))
            .to_string();
        Session { base, id }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.id, path)
    }

    /// Finds one element by CSS selector, waiting up to `wait` for it to appear.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let resp = post(
                &self.url("/element"),
                &json!({"using": "css selector", "value": css}),
            );
            if let Some(obj) = resp["value"].as_object() {
                if let Some(id) = obj.values().next().and_then(Value::as_str) {
                    if !obj.contains_key("error") {
                        return id.to_string();
                    }
                }
            }
            assert!(Instant::now() < deadline, "element {css} not found: {resp}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn exists(&self, css: &str) -> bool {
        let resp = post(
            &self.url("/elements"),
            &json!({"using": "css selector", "value": css}),
        );
        resp["value"].as_array().is_some_and(|a| !a.is_empty())
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        post(&self.url(&format!("/element/{el}/clear")), &json!({}));
        post(
            &self.url(&format!("/element/{el}/value")),
            &json!({"text": text}),
        );
    }

    /// Sends keys to the element without clearing it first (WebDriver key codes like `\u{E007}` for Enter work).
    pub fn send_keys(&self, css: &str, text: &str) {
        let el = self.find(css);
        post(
            &self.url(&format!("/element/{el}/value")),
            &json!({"text": text}),
        );
    }

    /// Runs a script in the page and returns its result.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        post(
            &self.url("/execute/sync"),
            &json!({"script": script, "args": args}),
        )["value"]
            .clone()
    }

    pub fn click(&self, css: &str) {
        let el = self.find(css);
        // Centre it first: an element half hidden under a fixed bar of a scrolled page counts as "in view" for
        // WebKitWebDriver, which then clicks on the bar.
        post(
            &self.url("/execute/sync"),
            &json!({
                "script": "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'center'});",
                "args": [css],
            }),
        );
        post(&self.url(&format!("/element/{el}/click")), &json!({}));
    }

    pub fn text(&self, css: &str) -> String {
        let el = self.find(css);
        get(&self.url(&format!("/element/{el}/text")))["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let el = self.find(css);
        get(&self.url(&format!("/element/{el}/attribute/{name}")))["value"]
            .as_str()
            .map(str::to_string)
    }

    pub fn property(&self, css: &str, name: &str) -> Value {
        let el = self.find(css);
        get(&self.url(&format!("/element/{el}/property/{name}")))["value"].clone()
    }

    /// The window's rectangle as WebDriver reports it: `{x, y, width, height}`.
    pub fn window_rect(&self) -> Value {
        get(&self.url("/window/rect"))["value"].clone()
    }

    /// Moves and resizes the window (WebDriver "Set Window Rect"); returns the rectangle it then has.
    pub fn set_window_rect(&self, x: i64, y: i64, width: i64, height: i64) -> Value {
        post(
            &self.url("/window/rect"),
            &json!({"x": x, "y": y, "width": width, "height": height}),
        )["value"]
            .clone()
    }

    /// Waits until the element's text satisfies `pred`; returns the text.
    pub fn wait_text(&self, css: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let t = self.text(css);
            if pred(&t) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {css}; its text is {t:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.id)).call();
    }
}

fn post(url: &str, body: &Value) -> Value {
    match ureq::post(url)
        .timeout(Duration::from_secs(60))
        .send_json(body.clone())
    {
        Ok(r) => r.into_json().unwrap_or(Value::Null),
        Err(ureq::Error::Status(_, r)) => r.into_json().unwrap_or(Value::Null),
        Err(e) => panic!("WebDriver POST {url}: {e}"),
    }
}

fn get(url: &str) -> Value {
    match ureq::get(url).timeout(Duration::from_secs(60)).call() {
        Ok(r) => r.into_json().unwrap_or(Value::Null),
        Err(ureq::Error::Status(_, r)) => r.into_json().unwrap_or(Value::Null),
        Err(e) => panic!("WebDriver GET {url}: {e}"),
    }
}

/// `<repo>/target/screenshots`, created.
pub fn screenshot_dir() -> PathBuf {
    let dir = dialtone_testkit::repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}
