//! D-Bus helpers for tests that need a session bus of their own.

use std::path::{Path, PathBuf};

/// Writes `<dir>/<name>`: a session-bus configuration listening in `listen_dir` with **no service directories**, so
/// nothing can be activated on demand (e.g. no gnome-keyring: nothing provides `org.freedesktop.secrets`). Returns
/// its path, for `dbus-run-session --config-file=...`.
pub fn write_session_config_without_services(
    dir: &Path,
    name: &str,
    listen_dir: &Path,
) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            listen_dir.display()
        ),
    )?;
    Ok(path)
}
