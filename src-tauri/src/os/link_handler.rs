//! Linux: Dialtone registers itself as the user's handler of `sip:`, `sips:`, `tel:` and `callto:` links at every
//! start, so clicking such a link (anything that goes through `xdg-open` or GIO) reaches the running app even when
//! it was not installed from a package.
//!
//! - It writes `$XDG_DATA_HOME/applications/dialtone-links.desktop` (hidden from menus) whose `Exec` runs this very
//!   binary with the link (`%u`) and whose `MimeType` lists `x-scheme-handler/<scheme>` for each scheme, refreshes
//!   the MIME cache with `update-desktop-database` when it is installed, and makes the file the default handler with
//!   `xdg-mime default`.
//! - A scheme another program is already the default for is left to it (the user chose it); one with no handler, or
//!   with ours (whose `Exec` may name an older path), is claimed. Set `DIALTONE_NO_LINK_HANDLER` to skip all this
//!   (a developer build that should not take the desktop's links).
//!
//! tauri-plugin-deep-link's `register()` does much the same, but writes `Exec` with the path always in quotes, which
//! the `xdg-open` of xdg-utils 1.1 (Debian 12, Ubuntu 22.04) cannot run: it looks the quoted word up on PATH and
//! fails. Here the path is quoted only when the Desktop Entry Specification requires it (a reserved character in
//! it), so the common case works with every `xdg-open`.

use super::{emit, OsEvent};
use dialtone_core::dial_link::SCHEMES;
use std::path::Path;
use std::process::{Command, Stdio};
use tauri::{AppHandle, Manager, Runtime};

/// File name of the desktop entry written under `$XDG_DATA_HOME/applications`.
pub const DESKTOP_FILE: &str = "dialtone-links.desktop";

/// Set (to anything) to keep the app from registering itself as the link handler.
pub const NO_REGISTRATION_ENV: &str = "DIALTONE_NO_LINK_HANDLER";

/// Registers on a background thread (it runs `xdg-mime`, a shell script); a failure is told to the window.
pub fn register<R: Runtime>(app: &AppHandle<R>) {
    if std::env::var_os(NO_REGISTRATION_ENV).is_some() {
        return;
    }
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("link-handler".into())
        .spawn(move || {
            if let Err(why) = register_now(&app) {
                emit(
                    &app,
                    OsEvent::Notice {
                        message: format!(
                            "Dialtone could not make itself the handler of call links: {why}"
                        ),
                    },
                );
            }
        });
    if let Err(e) = spawned {
        eprintln!("dialtone: cannot register the link handler: {e}");
    }
}

fn register_now<R: Runtime>(app: &AppHandle<R>) -> Result<(), String> {
    let exe = tauri::utils::platform::current_exe()
        .map_err(|e| format!("this program's path is unknown ({e})"))?;
    let dir = app
        .path()
        .data_dir()
        .map_err(|e| format!("no data directory ({e})"))?
        .join("applications");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
    let path = dir.join(DESKTOP_FILE);
    let entry = desktop_entry(&exe);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(entry.as_str()) {
        std::fs::write(&path, &entry)
            .map_err(|e| format!("cannot write {} ({e})", path.display()))?;
        // Optional: without it the cache is stale, which xdg-mime's own lookup does not use anyway.
        let _ = Command::new("update-desktop-database")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let mut claim = Vec::new();
    for scheme in SCHEMES {
        let mime = format!("x-scheme-handler/{scheme}");
        match default_handler(&mime)? {
            Some(other) if other != DESKTOP_FILE => {
                eprintln!("dialtone: {scheme}: links stay with {other}");
            }
            _ => claim.push(mime),
        }
    }
    if claim.is_empty() {
        return Ok(());
    }
    let status = Command::new("xdg-mime")
        .arg("default")
        .arg(DESKTOP_FILE)
        .args(&claim)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run xdg-mime ({e}); install xdg-utils"))?;
    if !status.success() {
        return Err(format!("xdg-mime default failed ({status})"));
    }
    Ok(())
}

/// The desktop file `xdg-mime` names as the default handler of `mime`, if any.
fn default_handler(mime: &str) -> Result<Option<String>, String> {
    let out = Command::new("xdg-mime")
        .args(["query", "default", mime])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run xdg-mime ({e}); install xdg-utils"))?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((!name.is_empty()).then_some(name))
}

/// The desktop entry that runs `exe` with a link.
fn desktop_entry(exe: &Path) -> String {
    let mimes: String = SCHEMES
        .iter()
        .map(|s| format!("x-scheme-handler/{s};"))
        .collect();
    format!(
        "[Desktop Entry]\nType=Application\nName=Dialtone\nComment=Call sip:, sips:, tel: and callto: links with \
         Dialtone\nExec={} %u\nTerminal=false\nNoDisplay=true\nMimeType={mimes}\nCategories=Network;Telephony;\n",
        exec_arg(&exe.to_string_lossy())
    )
}

/// `path` as an `Exec` argument (Desktop Entry Specification, "The Exec key"): quoted, with `"`, `` ` ``, `$` and
/// `\` escaped, only when it holds a reserved character; then the string-level escaping of backslashes.
fn exec_arg(path: &str) -> String {
    const RESERVED: &[char] = &[
        ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(',
        ')', '`', '%',
    ];
    if !path.contains(RESERVED) {
        return path.to_string();
    }
    let mut quoted = String::from("\"");
    for c in path.chars() {
        match c {
            '"' | '`' | '$' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '%' => quoted.push_str("%%"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    // The value is a string: each backslash is written twice.
    quoted.replace('\\', "\\\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_path_is_not_quoted() {
        assert_eq!(
            exec_arg("/opt/dialtone/bin/dialtone-app"),
            "/opt/dialtone/bin/dialtone-app"
        );
    }

    #[test]
    fn reserved_characters_are_quoted_and_escaped() {
        assert_eq!(exec_arg("/home/a b/dialtone"), "\"/home/a b/dialtone\"");
        assert_eq!(exec_arg("/x/$HOME/d"), "\"/x/\\\\$HOME/d\"");
        assert_eq!(exec_arg("/x/100%/d"), "\"/x/100%%/d\"");
    }

    #[test]
    fn the_entry_claims_every_scheme_and_passes_the_link() {
        let entry = desktop_entry(Path::new("/usr/bin/dialtone-app"));
        assert!(entry.starts_with("[Desktop Entry]\n"), "{entry}");
        assert!(
            entry.contains("\nExec=/usr/bin/dialtone-app %u\n"),
            "{entry}"
        );
        assert!(
            entry.contains(
                "\nMimeType=x-scheme-handler/sip;x-scheme-handler/sips;x-scheme-handler/tel;x-scheme-handler/callto;\n"
            ),
            "{entry}"
        );
    }
}
