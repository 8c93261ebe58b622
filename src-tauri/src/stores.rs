//! What the app keeps between runs: saved profiles (`profiles.json` in the app's config directory, passwords in the
//! OS keyring), the app-wide settings (`settings.json` beside it) and the call history (SQLite in the app's data directory, recorded by the core's
//! [`HistoryRecorder`]).
//!
//! Opening never stops the app: a damaged profile file is recovered by the core and its message kept for the UI
//! ([`Stores::notices`]); a directory that cannot be used leaves that part unavailable with its reason.

use dialtone_core::history::CallHistory;
use dialtone_core::history_recorder::HistoryRecorder;
use dialtone_core::keyring::{SecretStore, SecretStoreError, SystemSecretStore};
use dialtone_core::profile::{self, AppSettings, ProfileStore, SettingsStore};
use dialtone_core::PhoneEvent;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast;

/// File name of the call history database inside the app's data directory.
pub const HISTORY_FILE: &str = "history.sqlite3";

/// A keyring user name no profile has (profile ids are `p` + hex digits), looked up to see whether the keyring
/// answers at all.
const KEYRING_PROBE: &str = "dialtone-keyring-probe";

/// The app's saved state, managed by Tauri.
pub struct Stores {
    /// The saved profiles, or why they cannot be used.
    profiles: Mutex<Result<ProfileStore, String>>,
    /// The app-wide settings, or why they cannot be saved (the defaults apply then).
    settings: Mutex<Result<SettingsStore, String>>,
    /// The call history (shared with the recorder thread), or why it cannot be used.
    history: Result<Arc<Mutex<CallHistory>>, String>,
    /// Records the phone's calls; kept alive for the app's life.
    recorder: Option<HistoryRecorder>,
    /// Messages for the user from start-up (a recovered profile file, an unusable directory).
    notices: Vec<String>,
    /// No profile was ever saved: neither `profiles.json` nor its backup existed when the app started.
    first_run: bool,
    /// The OS keyring once reached (connecting again after a failure: the user may start one meanwhile).
    secrets: Mutex<Option<Arc<SystemSecretStore>>>,
}

/// Locks a mutex, carrying on after a panic elsewhere (each update is a whole-value replacement).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Stores {
    /// Opens the profile store and the history in the app's directories and starts recording `events` there. A
    /// `history` frontend event tells the UI when a call was recorded.
    pub fn open(app: &AppHandle, events: broadcast::Receiver<PhoneEvent>) -> Stores {
        let mut notices = Vec::new();
        let path = app.path();
        let mut first_run = false;
        let profiles = match path.app_config_dir() {
            Ok(dir) => {
                // Checked before opening: a damaged file is moved aside by the open, yet the user had profiles.
                first_run = !dir.join(profile::store::FILE_NAME).exists()
                    && !dir.join(profile::store::BACKUP_FILE_NAME).exists();
                open_profiles(&dir, &mut notices)
            }
            Err(e) => Err(format!(
                "Saved profiles are unavailable: no config directory ({e})"
            )),
        };
        if let Err(why) = &profiles {
            notices.push(why.clone());
        }
        let settings = open_settings(path.app_config_dir(), &mut notices);
        let history = match path.app_data_dir() {
            Ok(dir) => CallHistory::open(dir.join(HISTORY_FILE))
                .map(|h| Arc::new(Mutex::new(h)))
                .map_err(|e| format!("The call history is unavailable: {e}")),
            Err(e) => Err(format!(
                "The call history is unavailable: no data directory ({e})"
            )),
        };
        let recorder = match &history {
            Ok(history) => {
                let app = app.clone();
                match HistoryRecorder::spawn(Arc::clone(history), events, move |change| {
                    let _ = app.emit("history", change);
                }) {
                    Ok(recorder) => Some(recorder),
                    Err(e) => {
                        notices.push(format!("Calls are not being recorded in the history: {e}"));
                        None
                    }
                }
            }
            Err(why) => {
                notices.push(why.clone());
                None
            }
        };
        Stores {
            profiles: Mutex::new(profiles),
            settings: Mutex::new(settings),
            history,
            recorder,
            notices,
            first_run,
            secrets: Mutex::new(None),
        }
    }

    /// Start-up messages for the user.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Whether this is the app's first start here: no profile file and no backup of one existed.
    pub fn first_run(&self) -> bool {
        self.first_run
    }

    /// The profile store (locked), or why it is unavailable.
    pub fn profiles(&self) -> MutexGuard<'_, Result<ProfileStore, String>> {
        lock(&self.profiles)
    }

    /// The settings store (locked), or why it is unavailable.
    pub fn settings_store(&self) -> MutexGuard<'_, Result<SettingsStore, String>> {
        lock(&self.settings)
    }

    /// The current app-wide settings (the defaults when the store is unavailable).
    pub fn settings(&self) -> AppSettings {
        match &*lock(&self.settings) {
            Ok(store) => store.get(),
            Err(_) => AppSettings::default(),
        }
    }

    /// The history, or why it is unavailable.
    pub fn history(&self) -> Result<&Arc<Mutex<CallHistory>>, String> {
        self.history.as_ref().map_err(Clone::clone)
    }

    /// Calls from now on are recorded under this profile id (empty: a connection made without a profile).
    pub fn set_recording_profile(&self, id: &str) {
        if let Some(recorder) = &self.recorder {
            recorder.set_profile(id);
        }
    }

    /// The OS keyring, connecting on first use. Blocks (D-Bus): call from a blocking thread.
    pub fn secrets(&self) -> Result<Arc<dyn SecretStore>, SecretStoreError> {
        let mut slot = lock(&self.secrets);
        if let Some(store) = slot.as_ref() {
            return Ok(Arc::clone(store) as Arc<dyn SecretStore>);
        }
        let store = Arc::new(SystemSecretStore::new()?);
        // Connecting does not reach the Secret Service yet; one lookup tells whether anything answers.
        store.get(KEYRING_PROBE)?;
        *slot = Some(Arc::clone(&store));
        Ok(store)
    }
}

fn open_profiles(dir: &Path, notices: &mut Vec<String>) -> Result<ProfileStore, String> {
    match ProfileStore::open(dir) {
        Ok(mut store) => {
            if let Some(recovery) = store.take_recovery() {
                notices.push(recovery.to_string());
            }
            Ok(store)
        }
        Err(e) => Err(format!("Saved profiles are unavailable: {e}")),
    }
}

fn open_settings(
    dir: tauri::Result<std::path::PathBuf>,
    notices: &mut Vec<String>,
) -> Result<SettingsStore, String> {
    let opened = match dir {
        Ok(dir) => SettingsStore::open(dir)
            .map_err(|e| format!("Settings cannot be saved (the defaults apply): {e}")),
        Err(e) => Err(format!(
            "Settings cannot be saved (the defaults apply): no config directory ({e})"
        )),
    };
    match &opened {
        Ok(store) => notices.extend(store.problem().map(str::to_string)),
        Err(why) => notices.push(why.clone()),
    }
    opened
}

/// Opens the stores and lets Tauri manage them.
pub fn manage(app: &AppHandle, events: broadcast::Receiver<PhoneEvent>) {
    let stores = Stores::open(app, events);
    app.manage(stores);
}
