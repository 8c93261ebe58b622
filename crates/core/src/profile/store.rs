//! `profiles.json` in the app's config directory: atomic writes, a last-good backup, recovery from damage.
//!
//! Every save writes the previous (known good) content to `profiles.json.bak`, then replaces `profiles.json`; both
//! writes go through a temporary file in the same directory, fsync, rename and a directory fsync, so a `kill -9` or
//! power loss at any point leaves each file either old or new. Opening a store whose `profiles.json` does not parse
//! moves it aside to `profiles.json.corrupt-<n>` (kept for the user to inspect), continues from the backup (or
//! empty when the backup is unusable too) and reports what happened in a [`ProfileRecovery`]; the app still starts.
//!
//! A missing `profiles.json` means "no profiles yet" (the backup is not consulted: deleting the file is how a user
//! resets the list).

use super::atomic_file::{remove_stale_temps, write_atomically, WriteError};
use super::{PasswordMode, Profile};
use crate::account::FieldError;
use crate::keyring::{SecretStore, SecretStoreError};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// File name of the profile list inside the config directory.
pub const FILE_NAME: &str = "profiles.json";
/// File name of the last-good backup.
pub const BACKUP_FILE_NAME: &str = "profiles.json.bak";
/// The file format this version writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// What `profiles.json` holds.
#[derive(Serialize, Deserialize)]
struct ProfileFile {
    version: u32,
    profiles: Vec<Profile>,
}

/// Why a profile operation failed. `Display` is meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum ProfileStoreError {
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
    /// The profile file did not parse; it was moved aside. Found in [`ProfileRecovery::error`].
    #[error("The saved profiles in {} could not be read ({detail}); the damaged file was moved to {}", path.display(), moved_to.display())]
    Corrupt {
        /// The damaged file's original path.
        path: PathBuf,
        /// Where it is now.
        moved_to: PathBuf,
        /// What is wrong with it (the parser's message, with line and column).
        detail: String,
    },
    /// The profile file was written by a newer version of Dialtone; it was left untouched.
    #[error(
        "The saved profiles in {} were written by a newer Dialtone (format {found}; this version reads up to \
         {FORMAT_VERSION}). Update Dialtone; the file was left untouched.",
        path.display()
    )]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Its format version.
        found: u32,
    },
    /// The profile has invalid fields; nothing was saved.
    #[error("The profile was not saved: {}", join_messages(.0))]
    Invalid(Vec<FieldError>),
    /// No profile has this id.
    #[error("There is no saved profile with id \"{0}\"")]
    NotFound(String),
    /// The OS keyring failed; nothing was saved.
    #[error(transparent)]
    Keyring(#[from] SecretStoreError),
}

fn join_messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<WriteError> for ProfileStoreError {
    fn from(e: WriteError) -> Self {
        ProfileStoreError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

/// What the store continued from after finding a damaged profile file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoredFrom {
    /// The last-good backup, with this many profiles.
    Backup {
        /// Number of profiles restored.
        profiles: usize,
    },
    /// Nothing usable: the store starts empty.
    Empty,
}

/// A damaged profile file was found and dealt with when the store was opened. `Display` is the message to show.
#[derive(Debug)]
pub struct ProfileRecovery {
    /// What was wrong and where the damaged file went (a [`ProfileStoreError::Corrupt`]).
    pub error: ProfileStoreError,
    /// What the store continued from.
    pub restored_from: RestoredFrom,
}

impl fmt::Display for ProfileRecovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}. ", self.error)?;
        match self.restored_from {
            RestoredFrom::Backup { profiles: 1 } => {
                f.write_str("1 profile was restored from the last good backup.")
            }
            RestoredFrom::Backup { profiles } => {
                write!(
                    f,
                    "{profiles} profiles were restored from the last good backup."
                )
            }
            RestoredFrom::Empty => {
                f.write_str("No usable backup was found; starting with no saved profiles.")
            }
        }
    }
}

/// The saved profiles of one config directory.
#[derive(Debug)]
pub struct ProfileStore {
    dir: PathBuf,
    profiles: Vec<Profile>,
    /// The bytes of `profiles.json` as they are on disk (known to parse), or `None` when there is no file yet.
    on_disk: Option<Vec<u8>>,
    recovery: Option<ProfileRecovery>,
}

impl ProfileStore {
    /// Opens (creating it if needed) the store in `dir`, the app's config directory.
    ///
    /// A damaged `profiles.json` does not make this fail: see [`ProfileStore::recovery`]. Errors are I/O failures
    /// (the directory cannot be created or read) and a file from a newer version.
    pub fn open(dir: impl Into<PathBuf>) -> Result<ProfileStore, ProfileStoreError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        let mut store = ProfileStore {
            dir,
            profiles: Vec::new(),
            on_disk: None,
            recovery: None,
        };
        store.load()?;
        Ok(store)
    }

    /// Re-reads the profiles from disk, with the same recovery as [`ProfileStore::open`].
    pub fn load(&mut self) -> Result<(), ProfileStoreError> {
        let path = self.path();
        let backup = self.backup_path();
        for target in [&path, &backup] {
            remove_stale_temps(target)
                .map_err(io_error("clean up temporary files in", &self.dir))?;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.profiles = Vec::new();
                self.on_disk = None;
                return Ok(());
            }
            Err(e) => return Err(io_error("read", &path)(e)),
        };
        if let Some(found) = newer_version(&bytes) {
            return Err(ProfileStoreError::NewerFormat { path, found });
        }
        match parse(&bytes) {
            Ok(file) => {
                self.profiles = file.profiles;
                self.on_disk = Some(bytes);
                Ok(())
            }
            Err(detail) => self.recover(path, detail),
        }
    }

    /// Moves the damaged main file aside and continues from the backup, or empty.
    fn recover(&mut self, path: PathBuf, detail: String) -> Result<(), ProfileStoreError> {
        let moved_to = self.free_corrupt_name()?;
        std::fs::rename(&path, &moved_to).map_err(io_error("move aside", &path))?;
        let backup = std::fs::read(self.backup_path())
            .ok()
            .filter(|bytes| newer_version(bytes).is_none())
            .and_then(|bytes| parse(&bytes).ok().map(|file| (file, bytes)));
        let restored_from = match backup {
            Some((file, bytes)) => {
                write_atomically(&path, &bytes)?;
                self.on_disk = Some(bytes);
                self.profiles = file.profiles;
                RestoredFrom::Backup {
                    profiles: self.profiles.len(),
                }
            }
            None => {
                self.profiles = Vec::new();
                self.on_disk = None;
                RestoredFrom::Empty
            }
        };
        self.recovery = Some(ProfileRecovery {
            error: ProfileStoreError::Corrupt {
                path,
                moved_to,
                detail,
            },
            restored_from,
        });
        Ok(())
    }

    fn free_corrupt_name(&self) -> Result<PathBuf, ProfileStoreError> {
        for n in 1u32.. {
            let candidate = self.dir.join(format!("{FILE_NAME}.corrupt-{n}"));
            match candidate.try_exists() {
                Ok(false) => return Ok(candidate),
                Ok(true) => continue,
                Err(e) => return Err(io_error("inspect", &candidate)(e)),
            }
        }
        Err(ProfileStoreError::Io {
            action: "move aside",
            path: self.path(),
            source: io::Error::other("every profiles.json.corrupt-<n> name is taken"),
        })
    }

    /// The config directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of `profiles.json`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Path of the last-good backup.
    pub fn backup_path(&self) -> PathBuf {
        self.dir.join(BACKUP_FILE_NAME)
    }

    /// What happened if the profile file was found damaged at the last [`ProfileStore::open`]/[`ProfileStore::load`].
    pub fn recovery(&self) -> Option<&ProfileRecovery> {
        self.recovery.as_ref()
    }

    /// Takes the recovery notice (to show it once).
    pub fn take_recovery(&mut self) -> Option<ProfileRecovery> {
        self.recovery.take()
    }

    /// All profiles, in the order they were first saved.
    pub fn list(&self) -> &[Profile] {
        &self.profiles
    }

    /// The profile with this id.
    pub fn get(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// Validates and saves a profile: replaces the one with the same id, or adds it (assigning an id when empty).
    /// Returns the saved profile. Nothing is written when validation fails.
    pub fn save(&mut self, profile: Profile) -> Result<Profile, ProfileStoreError> {
        let profile = self.prepare(profile)?;
        self.write_with(Some(&profile), None)?;
        Ok(profile)
    }

    /// Deletes a profile and returns it. Its keyring password is left alone: see
    /// [`ProfileStore::delete_with_password`].
    pub fn delete(&mut self, id: &str) -> Result<Profile, ProfileStoreError> {
        let removed = self
            .get(id)
            .cloned()
            .ok_or_else(|| ProfileStoreError::NotFound(id.to_string()))?;
        self.write_with(None, Some(id))?;
        Ok(removed)
    }

    /// Saves a profile and puts its password where [`Profile::password_mode`] says:
    /// - `Remember`: `password` goes to the keyring (`None` keeps the one already stored). A keyring failure is
    ///   returned as [`ProfileStoreError::Keyring`] and nothing is saved: show it and offer "ask each time".
    /// - `AskEachTime`: any stored password is removed from the keyring (an unreachable keyring holds none).
    pub fn save_with_password(
        &mut self,
        profile: Profile,
        password: Option<&Secret>,
        secrets: &dyn SecretStore,
    ) -> Result<Profile, ProfileStoreError> {
        let profile = self.prepare(profile)?;
        let is_new = self.get(&profile.id).is_none();
        match profile.password_mode {
            PasswordMode::Remember => {
                if let Some(password) = password {
                    secrets.set(&profile.id, password)?;
                }
            }
            PasswordMode::AskEachTime => forget_password(secrets, &profile.id)?,
        }
        if let Err(e) = self.write_with(Some(&profile), None) {
            if is_new && profile.password_mode == PasswordMode::Remember && password.is_some() {
                // Best effort: do not leave the password of a profile that was never saved in the keyring.
                let _ = secrets.delete(&profile.id);
            }
            return Err(e);
        }
        Ok(profile)
    }

    /// Deletes a profile and its keyring password (first the password, so a locked keyring leaves both in place).
    pub fn delete_with_password(
        &mut self,
        id: &str,
        secrets: &dyn SecretStore,
    ) -> Result<Profile, ProfileStoreError> {
        if self.get(id).is_none() {
            return Err(ProfileStoreError::NotFound(id.to_string()));
        }
        forget_password(secrets, id)?;
        self.delete(id)
    }

    /// The password to connect with: `Ok(None)` means ask the user (ask-each-time mode, or nothing stored).
    pub fn password(
        &self,
        id: &str,
        secrets: &dyn SecretStore,
    ) -> Result<Option<Secret>, ProfileStoreError> {
        let profile = self
            .get(id)
            .ok_or_else(|| ProfileStoreError::NotFound(id.to_string()))?;
        match profile.password_mode {
            PasswordMode::AskEachTime => Ok(None),
            PasswordMode::Remember => Ok(secrets.get(id)?),
        }
    }

    /// Validates and assigns an id.
    fn prepare(&self, mut profile: Profile) -> Result<Profile, ProfileStoreError> {
        let mut errors = match profile.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors,
        };
        if !profile.id.is_empty() && !is_valid_id(&profile.id) {
            errors.push(FieldError {
                field: "id",
                message: "Profile id must be 1-64 letters, digits, '-' or '_'".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ProfileStoreError::Invalid(errors));
        }
        if profile.id.is_empty() {
            profile.id = self.new_id();
        }
        Ok(profile)
    }

    /// A fresh id: the time in microseconds, in hex, bumped until unused (ids are keyring keys, so an id is never
    /// handed out twice in practice, even after a delete).
    fn new_id(&self) -> String {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let mut n = micros;
        loop {
            let id = format!("p{n:x}");
            if self.get(&id).is_none() {
                return id;
            }
            n += 1;
        }
    }

    /// Writes the list with `upsert` replaced/added and `remove` removed, then commits it in memory.
    fn write_with(
        &mut self,
        upsert: Option<&Profile>,
        remove: Option<&str>,
    ) -> Result<(), ProfileStoreError> {
        let mut profiles = self.profiles.clone();
        if let Some(id) = remove {
            profiles.retain(|p| p.id != id);
        }
        if let Some(profile) = upsert {
            match profiles.iter_mut().find(|p| p.id == profile.id) {
                Some(slot) => *slot = profile.clone(),
                None => profiles.push(profile.clone()),
            }
        }
        let file = ProfileFile {
            version: FORMAT_VERSION,
            profiles,
        };
        let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| ProfileStoreError::Io {
            action: "serialize",
            path: self.path(),
            source: io::Error::other(e),
        })?;
        bytes.push(b'\n');
        match &self.on_disk {
            Some(previous) => write_atomically(&self.backup_path(), previous)?,
            // No current file: a backup left from before the user reset the list must not come back later.
            None => match std::fs::remove_file(self.backup_path()) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(io_error("remove", &self.backup_path())(e))
                }
                _ => {}
            },
        }
        write_atomically(&self.path(), &bytes)?;
        self.profiles = file.profiles;
        self.on_disk = Some(bytes);
        Ok(())
    }
}

/// Removes a stored password; a keyring that cannot be reached holds none, so that is not an error.
fn forget_password(secrets: &dyn SecretStore, id: &str) -> Result<(), ProfileStoreError> {
    match secrets.delete(id) {
        Ok(_) => Ok(()),
        Err(e) if e.is_unavailable() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn is_valid_id(id: &str) -> bool {
    id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The format version of a file from a newer Dialtone, read before the full parse (whose shape may differ).
fn newer_version(bytes: &[u8]) -> Option<u32> {
    #[derive(Deserialize)]
    struct VersionOnly {
        version: u32,
    }
    serde_json::from_slice::<VersionOnly>(bytes)
        .ok()
        .map(|v| v.version)
        .filter(|&v| v > FORMAT_VERSION)
}

fn parse(bytes: &[u8]) -> Result<ProfileFile, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ProfileStoreError {
    let path = path.to_path_buf();
    move |source| ProfileStoreError::Io {
        action,
        path,
        source,
    }
}
