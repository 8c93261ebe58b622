//! Crash-safe replacement of a small file: write a temporary file in the same directory, fsync it, rename it over
//! the target (atomic on POSIX file systems, `MoveFileEx` with replace on Windows), then fsync the directory so the
//! rename itself is durable. A reader sees the old content or the new, never a mix, even after `kill -9` or a power
//! loss.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of the temporary files; [`remove_stale_temps`] deletes leftovers after a crash.
const TEMP_MARK: &str = ".tmp-";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Where a failed write stopped, for error messages.
#[derive(Debug)]
pub(crate) struct WriteError {
    /// The step that failed ("create", "write", "sync", "rename", "sync directory").
    pub(crate) action: &'static str,
    /// The file involved.
    pub(crate) path: PathBuf,
    /// The OS error.
    pub(crate) source: io::Error,
}

/// Replaces `target` with `bytes` atomically and durably (new files get the default mode, i.e. the umask's).
pub(crate) fn write_atomically(target: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomically_with_mode(target, bytes, None)
}

/// Like [`write_atomically`], the file created with permission bits `mode` (unix; e.g. `0o600` for a file holding
/// passwords, so it is never readable by others, not even between create and rename).
pub(crate) fn write_atomically_with_mode(
    target: &Path,
    bytes: &[u8],
    mode: Option<u32>,
) -> Result<(), WriteError> {
    let dir = parent_dir(target);
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{file_name}{TEMP_MARK}{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let fail = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError {
            action,
            path,
            source,
        }
    };
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&temp).map_err(fail("create", &temp))?;
        file.write_all(bytes).map_err(fail("write", &temp))?;
        file.sync_all().map_err(fail("sync", &temp))?;
        drop(file);
        fs::rename(&temp, target).map_err(fail("rename", target))
    })();
    if result.is_err() {
        // Best effort: the temp file is garbage either way, and remove_stale_temps would find it later.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir).map_err(fail("sync directory", dir))
}

/// Deletes temporary files a crashed writer of `target` left behind.
pub(crate) fn remove_stale_temps(target: &Path) -> io::Result<()> {
    let Some(file_name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(());
    };
    let prefix = format!(".{file_name}{TEMP_MARK}");
    for entry in fs::read_dir(parent_dir(target))? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes a rename in `dir` durable (POSIX: fsync on the directory). Windows cannot open a directory as a file;
/// NTFS journals the rename's metadata itself.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("x.json");
        write_atomically(&target, b"one").expect("first write");
        write_atomically(&target, b"two").expect("second write");
        assert_eq!(fs::read(&target).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["x.json"]);
    }

    #[test]
    fn stale_temps_are_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("x.json");
        fs::write(dir.path().join(".x.json.tmp-1-0"), b"half").expect("write temp");
        fs::write(dir.path().join("other"), b"keep").expect("write other");
        remove_stale_temps(&target).expect("cleanup");
        assert!(!dir.path().join(".x.json.tmp-1-0").exists());
        assert!(dir.path().join("other").exists());
    }
}
