//! A private PulseAudio server with virtual devices, for tests (feature `test-server`).
//!
//! [`PulseServer::start`] runs `pulseaudio` in the foreground as our child, with its own
//! temporary `HOME`/`XDG_RUNTIME_DIR` and socket, no config files (`-n`), and four devices:
//! null sinks `spk_a`/`spk_b` (`Speaker_A`/`Speaker_B`) and remap sources `mic_a`/`mic_b`
//! (`Mic_A`/`Mic_B`) of their monitors, so whatever is played to Speaker_X is heard on
//! Mic_X. Dropping the server stops exactly its PID and removes the directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::DeviceError;

const INSTALL_HINT: &str = " (install the Debian packages: apt-get install pulseaudio \
pulseaudio-utils libasound2-plugins)";

/// A running test PulseAudio server; stopped by PID on drop.
#[derive(Debug)]
pub struct PulseServer {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
    client_config: PathBuf,
}

fn server_error(reason: impl Into<String>, hint: bool) -> DeviceError {
    DeviceError::Server {
        reason: reason.into(),
        hint: if hint {
            INSTALL_HINT.to_owned()
        } else {
            String::new()
        },
    }
}

impl PulseServer {
    /// Starts a server with Speaker_A/B and Mic_A/B (`spk_a` and `mic_a` are the defaults)
    /// and waits until `pactl` can talk to it. Fails (never skips) with an install hint when
    /// `pulseaudio` or `pactl` is missing.
    pub fn start() -> Result<Self, DeviceError> {
        Self::start_program("pulseaudio")
    }

    fn start_program(program: &str) -> Result<Self, DeviceError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dialtone-pulse-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let run = dir.join("run");
        let home = dir.join("home");
        for d in [&run, &home] {
            std::fs::create_dir_all(d)
                .map_err(|e| server_error(format!("create {}: {e}", d.display()), false))?;
        }
        set_private(&run);
        let socket = run.join("native");
        let client_config = dir.join("client.conf");
        std::fs::write(&client_config, "autospawn = no\n")
            .map_err(|e| server_error(format!("write client.conf: {e}"), false))?;
        let log = std::fs::File::create(dir.join("pulseaudio.log"))
            .map_err(|e| server_error(format!("create log: {e}"), false))?;
        let log_err = log
            .try_clone()
            .map_err(|e| server_error(format!("log handle: {e}"), false))?;

        let mut command = Command::new(program);
        command
            .args([
                "-n",
                "--daemonize=no",
                "--system=false",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--use-pid-file=no",
                "--high-priority=no",
                "--realtime=no",
                "--log-target=stderr",
            ])
            .arg(format!(
                "--load=module-native-protocol-unix auth-anonymous=1 socket={}",
                socket.display()
            ))
            .arg("--load=module-null-sink sink_name=spk_a sink_properties=device.description=Speaker_A")
            .arg("--load=module-null-sink sink_name=spk_b sink_properties=device.description=Speaker_B")
            .arg("--load=module-remap-source master=spk_a.monitor source_name=mic_a source_properties=device.description=Mic_A")
            .arg("--load=module-remap-source master=spk_b.monitor source_name=mic_b source_properties=device.description=Mic_B")
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &run)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("PULSE_RUNTIME_PATH", &run)
            .env("PULSE_STATE_PATH", dir.join("state"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(server_error(format!("cannot run `{program}`: {e}"), true));
            }
        };
        let mut server = PulseServer {
            child,
            dir,
            socket,
            client_config,
        };
        server.wait_ready(Duration::from_secs(10))?;
        server.pactl(&["set-default-sink", "spk_a"])?;
        server.pactl(&["set-default-source", "mic_a"])?;
        Ok(server)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), DeviceError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(server_error(
                    format!(
                        "pulseaudio exited ({status}) at start-up: {}",
                        self.log_tail()
                    ),
                    true,
                ));
            }
            if self.socket.exists() && self.pactl(&["info"]).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(server_error(
                    format!(
                        "pulseaudio did not answer within {timeout:?}: {}",
                        self.log_tail()
                    ),
                    true,
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address clients use: `unix:/tmp/.../run/native`.
    pub fn address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// The environment a client process needs to reach this server (and never autospawn
    /// another one): `PULSE_SERVER` and `PULSE_CLIENTCONFIG`.
    pub fn client_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PULSE_SERVER", self.address()),
            (
                "PULSE_CLIENTCONFIG",
                self.client_config.display().to_string(),
            ),
        ]
    }

    /// Points this process's PulseAudio clients (cpal, the ALSA `pulse` plugin) at this
    /// server by setting [`client_env`](Self::client_env). The environment is process-wide:
    /// tests that use it must not run concurrently with other audio tests (serialize them).
    pub fn use_in_this_process(&self) {
        for (key, value) in self.client_env() {
            std::env::set_var(key, value);
        }
    }

    /// Runs `pactl` against this server and returns its standard output.
    pub fn pactl(&self, args: &[&str]) -> Result<String, DeviceError> {
        let output = Command::new("pactl")
            .args(args)
            .envs(self.client_env())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| server_error(format!("cannot run `pactl`: {e}"), true))?;
        if !output.status.success() {
            return Err(server_error(
                format!(
                    "pactl {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                false,
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Unloads the module that created the sink or source named `name` (`mic_a`,
    /// `spk_b`): the device disappears as if unplugged.
    pub fn unload_device(&self, name: &str) -> Result<(), DeviceError> {
        let modules = self.pactl(&["list", "short", "modules"])?;
        let wanted = [format!("sink_name={name} "), format!("source_name={name} ")];
        let index = modules
            .lines()
            .find(|line| {
                let line = format!("{line} ");
                wanted.iter().any(|w| line.contains(w.as_str()))
            })
            .and_then(|line| line.split_whitespace().next())
            .ok_or_else(|| server_error(format!("no module created `{name}`"), false))?
            .to_owned();
        self.pactl(&["unload-module", &index]).map(|_| ())
    }

    /// The server's log so far (its stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pulseaudio.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(8)..].join(" | ")
    }

    /// The server's private directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn set_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            if matches!(self.child.try_wait(), Ok(None)) {
                // SAFETY: plain syscall on the PID of our own unreaped child (so it cannot
                // have been reused by another process).
                unsafe { libc::kill(pid, libc::SIGTERM) };
                let deadline = Instant::now() + Duration::from_secs(3);
                while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_binary_is_an_error_with_an_install_hint() {
        let err = PulseServer::start_program("dialtone-no-such-pulseaudio").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("cannot run `dialtone-no-such-pulseaudio`"),
            "{text}"
        );
        assert!(
            text.contains("apt-get install pulseaudio pulseaudio-utils"),
            "{text}"
        );
    }

    #[test]
    fn the_server_runs_as_our_child_and_stops_by_pid() {
        let server = PulseServer::start().unwrap();
        let pid = server.pid();
        let dir = server.dir().to_owned();
        assert!(server
            .pactl(&["info"])
            .unwrap()
            .contains("Default Sink: spk_a"));
        assert!(server.unload_device("no_such_device").is_err());
        drop(server);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} still alive"
        );
        assert!(!dir.exists());
    }
}
