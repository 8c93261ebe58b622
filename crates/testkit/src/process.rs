//! Child processes that are stopped by PID when dropped.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::TestkitError;

/// Checks that `binary` is on PATH; otherwise a [`TestkitError::MissingBinary`] naming `package`.
pub fn require_binary(binary: &str, package: &str) -> Result<PathBuf, TestkitError> {
    let missing = || TestkitError::MissingBinary {
        binary: binary.to_owned(),
        package: package.to_owned(),
    };
    let path = std::env::var_os("PATH").ok_or_else(missing)?;
    // Debian puts kamailio in /usr/sbin, which is not on every user's PATH.
    let extra = [PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")];
    std::env::split_paths(&path)
        .chain(extra)
        .map(|dir| dir.join(binary))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(missing)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A running peer: our direct child, leader of its own process group, with stdout and stderr
/// going to `log_path`. Dropping it stops exactly this PID (SIGTERM, then SIGKILL to its group
/// after a grace period) and reaps it.
#[derive(Debug)]
pub struct PeerProcess {
    name: String,
    child: Child,
    log_path: PathBuf,
    status: Option<ExitStatus>,
}

impl PeerProcess {
    /// Spawns `command` with stdin closed and output appended to `log_path`.
    pub fn spawn(name: &str, mut command: Command, log_path: &Path) -> Result<Self, TestkitError> {
        let log = File::create(log_path).map_err(|e| TestkitError::io("create", log_path, e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| TestkitError::io("duplicate handle of", log_path, e))?;
        command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0);
        let child = command.spawn().map_err(|e| TestkitError::NotReady {
            peer: name.to_owned(),
            reason: format!("spawn failed: {e}"),
            log: String::new(),
        })?;
        Ok(PeerProcess {
            name: name.to_owned(),
            child,
            log_path: log_path.to_owned(),
            status: None,
        })
    }

    /// The child's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The peer's name (for messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Everything the peer has written to stdout/stderr so far.
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.log_path.display()))
    }

    /// The last `max` bytes of the log (for error messages).
    pub fn log_tail(&self, max: usize) -> String {
        let log = self.log();
        let start = log.len().saturating_sub(max);
        let start = (start..=log.len())
            .find(|i| log.is_char_boundary(*i))
            .unwrap_or(log.len());
        log[start..].to_owned()
    }

    /// The exit status if the process has exited (reaps it).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits for the process to exit on its own, up to `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the process: SIGTERM to its PID, up to 5 s for a clean exit (Kamailio stops its
    /// own children), then SIGKILL to its process group; always reaps the child.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.try_status() {
            return Some(status);
        }
        let Ok(pid) = libc::pid_t::try_from(self.child.id()) else {
            return None;
        };
        // SAFETY: plain syscall on the PID of our own unreaped child (it cannot have been reused).
        unsafe { libc::kill(pid, libc::SIGTERM) };
        if let Some(status) = self.wait_timeout(Duration::from_secs(5)) {
            return Some(status);
        }
        // SAFETY: the child is still alive and unreaped, so its process group (created by
        // `process_group(0)` with pgid == pid) is ours.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        self.status = self.child.wait().ok();
        self.status
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
