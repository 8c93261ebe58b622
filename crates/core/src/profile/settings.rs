//! `settings.json` in the app's config directory, next to `profiles.json`: the app-wide choices that belong to no
//! account — what a click-to-call link does ([`LinkAction`]) and which status do-not-disturb refuses calls with
//! ([`DndRefusal`]).
//!
//! Written through the same crash-safe writer as the profile list (temporary file, fsync, rename, directory fsync),
//! so a `kill -9` leaves the old settings or the new ones. A missing file means the defaults. A file that does not
//! parse is not fatal: the defaults are used, the reason is kept for the user ([`SettingsStore::problem`]), and the
//! next save replaces the file. Unknown fields are ignored and missing ones take their default, so older and newer
//! versions of the app can share the file.

use super::atomic_file::{write_atomically, WriteError};
use crate::dial_link::LinkAction;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

/// File name of the settings inside the config directory.
pub const SETTINGS_FILE_NAME: &str = "settings.json";

/// The status do-not-disturb refuses incoming calls with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DndRefusal {
    /// 486 Busy Here (RFC 3261 §21.4.24): the caller hears a busy signal (the default).
    #[default]
    Busy,
    /// 480 Temporarily Unavailable (RFC 3261 §21.4.18): the caller is told the user is not reachable now.
    Unavailable,
}

impl DndRefusal {
    /// The SIP status code: 486 or 480.
    pub fn code(self) -> u16 {
        match self {
            DndRefusal::Busy => 486,
            DndRefusal::Unavailable => 480,
        }
    }
}

/// The app-wide settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppSettings {
    /// What a click-to-call link does: dial at once (default) or fill in the dial field.
    pub link_action: LinkAction,
    /// What do-not-disturb refuses incoming calls with.
    pub dnd_refusal: DndRefusal,
}

/// Why the settings could not be saved or read. `Display` is meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A file system operation failed.
    #[error("Could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "create", "rename", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The settings could not be turned into JSON (not expected for this plain data).
    #[error("Could not encode the settings: {0}")]
    Encode(#[from] serde_json::Error),
}

impl From<WriteError> for SettingsError {
    fn from(e: WriteError) -> Self {
        SettingsError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

/// The settings of one config directory.
#[derive(Debug)]
pub struct SettingsStore {
    path: PathBuf,
    settings: AppSettings,
    problem: Option<String>,
}

impl SettingsStore {
    /// Opens (creating the directory if needed) the settings in `dir`, the app's config directory. Fails only when
    /// the directory cannot be created or the file cannot be read; a damaged file gives the defaults and a
    /// [`SettingsStore::problem`].
    pub fn open(dir: impl AsRef<Path>) -> Result<SettingsStore, SettingsError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| SettingsError::Io {
            action: "create",
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(SETTINGS_FILE_NAME);
        let (settings, problem) = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<AppSettings>(&bytes) {
                Ok(settings) => (settings, None),
                Err(e) => (
                    AppSettings::default(),
                    Some(format!(
                        "The settings in {} could not be read ({e}); the defaults are used until you change one",
                        path.display()
                    )),
                ),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => (AppSettings::default(), None),
            Err(source) => {
                return Err(SettingsError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        Ok(SettingsStore {
            path,
            settings,
            problem,
        })
    }

    /// The current settings.
    pub fn get(&self) -> AppSettings {
        self.settings
    }

    /// Why the file on disk was not used when the store was opened, for the user.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The settings file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the settings, on disk first: when the write fails nothing changes.
    pub fn save(&mut self, settings: AppSettings) -> Result<(), SettingsError> {
        let mut bytes = serde_json::to_vec_pretty(&settings)?;
        bytes.push(b'\n');
        write_atomically(&self.path, &bytes)?;
        self.settings = settings;
        self.problem = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_dial_and_busy() {
        let s = AppSettings::default();
        assert_eq!(s.link_action, LinkAction::Dial);
        assert_eq!(s.dnd_refusal.code(), 486);
        assert_eq!(DndRefusal::Unavailable.code(), 480);
    }

    #[test]
    fn saved_settings_come_back_and_the_file_is_plain_json() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = SettingsStore::open(dir.path()).expect("open");
        assert_eq!(store.get(), AppSettings::default());
        let wanted = AppSettings {
            link_action: LinkAction::Prefill,
            dnd_refusal: DndRefusal::Unavailable,
        };
        store.save(wanted).expect("save");
        let text = std::fs::read_to_string(dir.path().join(SETTINGS_FILE_NAME)).expect("read");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"linkAction": "prefill", "dndRefusal": "unavailable"})
        );
        let again = SettingsStore::open(dir.path()).expect("reopen");
        assert_eq!(again.get(), wanted);
        assert!(again.problem().is_none());
        // No temporary files left next to it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(names, [SETTINGS_FILE_NAME]);
    }

    #[test]
    fn a_damaged_file_gives_defaults_and_a_message_and_the_next_save_repairs_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE_NAME);
        std::fs::write(&path, b"{\"linkAction\": \"prefill\",").expect("write");
        let mut store = SettingsStore::open(dir.path()).expect("open");
        assert_eq!(store.get(), AppSettings::default());
        let problem = store.problem().expect("a problem").to_string();
        assert!(problem.contains("could not be read"), "{problem}");
        let wanted = AppSettings {
            link_action: LinkAction::Prefill,
            ..AppSettings::default()
        };
        store.save(wanted).expect("save");
        assert!(store.problem().is_none());
        assert_eq!(
            SettingsStore::open(dir.path()).expect("reopen").get(),
            wanted
        );
    }

    #[test]
    fn missing_and_unknown_fields_are_tolerated() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join(SETTINGS_FILE_NAME),
            br#"{"dndRefusal": "unavailable", "fromTheFuture": 1}"#,
        )
        .expect("write");
        let store = SettingsStore::open(dir.path()).expect("open");
        assert_eq!(
            store.get(),
            AppSettings {
                link_action: LinkAction::Dial,
                dnd_refusal: DndRefusal::Unavailable,
            }
        );
        assert!(store.problem().is_none());
    }

    #[test]
    fn a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = SettingsStore::open(dir.path()).expect("open");
        // A directory where the file should be: the rename over it fails.
        std::fs::create_dir(dir.path().join(SETTINGS_FILE_NAME)).expect("mkdir");
        let err = store
            .save(AppSettings {
                link_action: LinkAction::Prefill,
                ..AppSettings::default()
            })
            .expect_err("the write must fail");
        assert!(err.to_string().contains("Could not"), "{err}");
        assert_eq!(store.get(), AppSettings::default());
    }
}
