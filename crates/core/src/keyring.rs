//! Account passwords in the OS keyring, and nowhere else.
//!
//! [`SecretStore`] is the small interface the rest of the app uses: set, get and delete the password of one
//! profile, keyed by the profile id. Two implementations:
//! - [`SystemSecretStore`]: the OS keyring through `keyring-core` and one platform store, as the keyring project
//!   recommends. On Linux that is the freedesktop Secret Service API (gnome-keyring, KWallet, KeePassXC) over the
//!   D-Bus session bus; Keychain on macOS; Credential Manager on Windows.
//! - [`MemorySecretStore`]: a map in memory, for unit tests.
//!
//! Failures become a [`SecretStoreError`] whose `Display` tells the user what is wrong and what to do: no session
//! bus, no Secret Service on the bus, a locked collection that needs an unlock prompt. There is deliberately no
//! plaintext fallback: the caller offers [`crate::profile::PasswordMode::AskEachTime`] instead. Passwords travel only
//! inside [`Secret`], and no error message, `Debug` output or log line here contains one.

use crate::secret::Secret;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The keyring "service" attribute under which Dialtone keeps its passwords.
pub const DEFAULT_SERVICE: &str = "dialtone";

/// Why the keyring could not be used. `Display` is a sentence for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretStoreError {
    /// There is no D-Bus session bus to reach the Secret Service through (a headless session, or a desktop
    /// session without D-Bus).
    #[error(
        "The system keyring cannot be reached: there is no D-Bus session bus ({detail}). Log in to a desktop \
         session, or choose \"Don't remember, ask each time\"."
    )]
    NoSessionBus {
        /// Technical detail for bug reports.
        detail: String,
    },
    /// The session bus works but no program provides the Secret Service (`org.freedesktop.secrets`).
    #[error(
        "No system keyring is running: nothing provides the Secret Service on the session bus ({detail}). \
         Install and start gnome-keyring, KWallet or KeePassXC (with Secret Service enabled), or choose \
         \"Don't remember, ask each time\"."
    )]
    NoSecretService {
        /// Technical detail for bug reports.
        detail: String,
    },
    /// The keyring is locked and unlocking needs a prompt that could not be shown or was dismissed.
    #[error(
        "The system keyring is locked and could not be unlocked ({detail}). Unlock it (for example by logging \
         in to the desktop) and try again, or choose \"Don't remember, ask each time\"."
    )]
    Locked {
        /// Technical detail for bug reports.
        detail: String,
    },
    /// This platform has no supported keyring.
    #[error("This system has no supported keyring; choose \"Don't remember, ask each time\".")]
    Unsupported,
    /// Any other keyring failure.
    #[error("The system keyring failed: {detail}")]
    Other {
        /// What failed.
        detail: String,
    },
}

impl SecretStoreError {
    /// True when no keyring is reachable at all (no bus, no service, unsupported platform): nothing can have been
    /// stored there, and the user should be offered "don't remember, ask each time".
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            SecretStoreError::NoSessionBus { .. }
                | SecretStoreError::NoSecretService { .. }
                | SecretStoreError::Unsupported
        )
    }
}

/// Where profile passwords are kept. Keys are profile ids.
pub trait SecretStore: Send + Sync {
    /// Stores (or replaces) the password of a profile.
    fn set(&self, profile_id: &str, password: &Secret) -> Result<(), SecretStoreError>;
    /// The stored password of a profile, or `None` when none is stored.
    fn get(&self, profile_id: &str) -> Result<Option<Secret>, SecretStoreError>;
    /// Removes the password of a profile; `Ok(false)` when none was stored.
    fn delete(&self, profile_id: &str) -> Result<bool, SecretStoreError>;
}

/// Passwords in memory, for tests. Can be told to fail like an unreachable keyring.
#[derive(Default)]
pub struct MemorySecretStore {
    entries: Mutex<HashMap<String, Secret>>,
    failure: Mutex<Option<SecretStoreError>>,
}

impl MemorySecretStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later call fail with `error` (or work again with `None`).
    pub fn set_failure(&self, error: Option<SecretStoreError>) {
        *lock(&self.failure) = error;
    }

    /// How many passwords are stored.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether no password is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check(&self) -> Result<(), SecretStoreError> {
        match &*lock(&self.failure) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

/// Locks a mutex, carrying on after a panic elsewhere (the maps stay consistent: every update is one insert or
/// remove).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySecretStore")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl SecretStore for MemorySecretStore {
    fn set(&self, profile_id: &str, password: &Secret) -> Result<(), SecretStoreError> {
        self.check()?;
        lock(&self.entries).insert(profile_id.to_string(), password.clone());
        Ok(())
    }

    fn get(&self, profile_id: &str) -> Result<Option<Secret>, SecretStoreError> {
        self.check()?;
        Ok(lock(&self.entries).get(profile_id).cloned())
    }

    fn delete(&self, profile_id: &str) -> Result<bool, SecretStoreError> {
        self.check()?;
        Ok(lock(&self.entries).remove(profile_id).is_some())
    }
}

/// The OS keyring. Each password is one keyring item with service [`DEFAULT_SERVICE`] (or the one given to
/// [`SystemSecretStore::with_service`]) and the profile id as its user.
///
/// Calls block (D-Bus round trips, possibly an unlock prompt): call them from a blocking thread
/// (`tokio::task::spawn_blocking`), not from an async task.
pub struct SystemSecretStore {
    service: String,
    store: Arc<keyring_core::CredentialStore>,
}

impl fmt::Debug for SystemSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemSecretStore")
            .field("service", &self.service)
            .field("store", &self.store.vendor())
            .finish()
    }
}

impl SystemSecretStore {
    /// Connects to the OS keyring, using [`DEFAULT_SERVICE`].
    pub fn new() -> Result<Self, SecretStoreError> {
        Self::with_service(DEFAULT_SERVICE)
    }

    /// Connects to the OS keyring, keeping passwords under another service name (a second installation, tests).
    pub fn with_service(service: &str) -> Result<Self, SecretStoreError> {
        Ok(SystemSecretStore {
            service: service.to_string(),
            store: platform::connect()?,
        })
    }

    /// The keyring implementation in use, for diagnostics.
    pub fn vendor(&self) -> String {
        self.store.vendor()
    }

    fn entry(&self, profile_id: &str) -> Result<keyring_core::Entry, SecretStoreError> {
        platform::entry(&*self.store, &self.service, profile_id).map_err(platform::classify)
    }
}

impl SecretStore for SystemSecretStore {
    fn set(&self, profile_id: &str, password: &Secret) -> Result<(), SecretStoreError> {
        self.entry(profile_id)?
            .set_password(password.expose())
            .map_err(platform::classify)
    }

    fn get(&self, profile_id: &str) -> Result<Option<Secret>, SecretStoreError> {
        match self.entry(profile_id)?.get_password() {
            Ok(password) => Ok(Some(Secret::new(password))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(platform::classify(e)),
        }
    }

    fn delete(&self, profile_id: &str) -> Result<bool, SecretStoreError> {
        match self.entry(profile_id)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(platform::classify(e)),
        }
    }
}

/// Maps a keyring error to a [`SecretStoreError`] without ever formatting data the error may carry (some variants
/// hold the raw secret bytes).
fn classify_common(error: &keyring_core::Error) -> Option<SecretStoreError> {
    use keyring_core::Error as E;
    let other = |detail: &str| {
        Some(SecretStoreError::Other {
            detail: detail.to_string(),
        })
    };
    match error {
        E::BadEncoding(_) => other("the stored password is not valid UTF-8 text"),
        E::BadDataFormat(..) => other("the stored password has a format this version cannot read"),
        E::Ambiguous(entries) => Some(SecretStoreError::Other {
            detail: format!(
                "{} keyring items match this profile; remove the extra ones",
                entries.len()
            ),
        }),
        E::NoDefaultStore => Some(SecretStoreError::Unsupported),
        E::TooLong(what, max) => Some(SecretStoreError::Other {
            detail: format!("the {what} is longer than the keyring allows ({max})"),
        }),
        E::Invalid(what, why) => Some(SecretStoreError::Other {
            detail: format!("invalid {what}: {why}"),
        }),
        E::NotSupportedByStore(what) => Some(SecretStoreError::Other {
            detail: what.clone(),
        }),
        E::BadStoreFormat(what) => Some(SecretStoreError::Other {
            detail: what.clone(),
        }),
        _ => None,
    }
}

#[cfg(target_os = "linux")]
mod platform {
    //! Linux: the freedesktop Secret Service over the D-Bus session bus.
    use super::{classify_common, SecretStoreError};
    use std::collections::HashMap;
    use std::sync::Arc;

    pub(super) fn connect() -> Result<Arc<keyring_core::CredentialStore>, SecretStoreError> {
        match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => Ok(store as Arc<keyring_core::CredentialStore>),
            // zbus reports a bus it cannot reach in several ways (a plain "Failed to connect" among them): when
            // connecting fails for an unrecognized reason, look at the bus to say what is missing.
            Err(e) => Err(match classify(e) {
                SecretStoreError::Other { detail } => diagnose_bus(detail),
                known => known,
            }),
        }
    }

    pub(super) fn entry(
        store: &keyring_core::CredentialStore,
        service: &str,
        profile_id: &str,
    ) -> keyring_core::Result<keyring_core::Entry> {
        let label = format!("Dialtone SIP password ({profile_id})");
        let modifiers = HashMap::from([("label", label.as_str())]);
        store.build(service, profile_id, Some(&modifiers))
    }

    pub(super) fn classify(error: keyring_core::Error) -> SecretStoreError {
        if let Some(e) = classify_common(&error) {
            return e;
        }
        let (locked_hint, inner) = match &error {
            keyring_core::Error::NoStorageAccess(inner) => (true, inner),
            keyring_core::Error::PlatformFailure(inner) => (false, inner),
            _ => {
                return SecretStoreError::Other {
                    detail: error.to_string(),
                }
            }
        };
        let detail = inner.to_string();
        match inner.downcast_ref::<secret_service::Error>() {
            Some(secret_service::Error::Locked | secret_service::Error::Prompt) => {
                SecretStoreError::Locked {
                    detail: prompt_detail(&detail),
                }
            }
            Some(secret_service::Error::PromptDisconnected) => SecretStoreError::Locked {
                detail: "the keyring went away while waiting for the unlock prompt".into(),
            },
            Some(secret_service::Error::Unavailable) => diagnose_bus(detail),
            Some(secret_service::Error::Zbus(z)) if is_missing_service(z) => {
                SecretStoreError::NoSecretService { detail }
            }
            Some(secret_service::Error::ZbusFdo(zbus::fdo::Error::ServiceUnknown(_))) => {
                SecretStoreError::NoSecretService { detail }
            }
            Some(secret_service::Error::Zbus(z)) if is_missing_collection(z) => {
                // gnome-keyring answers this way when the login collection does not exist yet and creating it
                // needs a prompt that cannot be shown.
                SecretStoreError::Locked {
                    detail: prompt_detail(&detail),
                }
            }
            _ if locked_hint => SecretStoreError::Locked {
                detail: prompt_detail(&detail),
            },
            _ => SecretStoreError::Other { detail },
        }
    }

    fn prompt_detail(detail: &str) -> String {
        format!("{detail}; an unlock prompt is needed but none could be shown or it was dismissed")
    }

    fn is_missing_service(error: &zbus::Error) -> bool {
        match error {
            zbus::Error::MethodError(name, _, _) => {
                let name = name.as_str();
                name == "org.freedesktop.DBus.Error.ServiceUnknown"
                    || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
                    || name == "org.freedesktop.DBus.Error.Spawn.ServiceNotFound"
            }
            zbus::Error::FDO(fdo) => matches!(**fdo, zbus::fdo::Error::ServiceUnknown(_)),
            _ => false,
        }
    }

    fn is_missing_collection(error: &zbus::Error) -> bool {
        match error {
            zbus::Error::MethodError(name, _, _) => {
                name.as_str() == "org.freedesktop.Secret.Error.NoSuchObject"
                    || name.as_str() == "org.freedesktop.DBus.Error.UnknownObject"
            }
            _ => false,
        }
    }

    /// secret-service reports both "no bus" and "no provider" as `Unavailable`; look at the bus ourselves to say
    /// which.
    fn diagnose_bus(detail: String) -> SecretStoreError {
        let connection = match zbus::blocking::Connection::session() {
            Ok(c) => c,
            Err(e) => {
                let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
                let why = if address.is_empty() {
                    format!("DBUS_SESSION_BUS_ADDRESS is not set: {e}")
                } else {
                    format!("cannot connect to {address}: {e}")
                };
                return SecretStoreError::NoSessionBus { detail: why };
            }
        };
        match zbus::blocking::fdo::DBusProxy::new(&connection) {
            Ok(bus) => {
                let name = "org.freedesktop.secrets";
                let owned = zbus::names::BusName::try_from(name)
                    .ok()
                    .and_then(|bus_name| bus.name_has_owner(bus_name).ok())
                    .unwrap_or(false);
                let activatable = bus
                    .list_activatable_names()
                    .map(|names| names.iter().any(|n| n.as_str() == name))
                    .unwrap_or(false);
                if owned || activatable {
                    SecretStoreError::Other { detail }
                } else {
                    SecretStoreError::NoSecretService {
                        detail: format!("{name} is neither running nor activatable"),
                    }
                }
            }
            Err(e) => SecretStoreError::NoSessionBus {
                detail: e.to_string(),
            },
        }
    }
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
mod platform {
    //! macOS Keychain / Windows Credential Manager.
    use super::{classify_common, SecretStoreError};
    use std::sync::Arc;

    pub(super) fn connect() -> Result<Arc<keyring_core::CredentialStore>, SecretStoreError> {
        #[cfg(target_os = "macos")]
        let store = apple_native_keyring_store::keychain::Store::new();
        #[cfg(target_os = "windows")]
        let store = windows_native_keyring_store::Store::new();
        match store {
            Ok(store) => Ok(store as Arc<keyring_core::CredentialStore>),
            Err(e) => Err(classify(e)),
        }
    }

    pub(super) fn entry(
        store: &keyring_core::CredentialStore,
        service: &str,
        profile_id: &str,
    ) -> keyring_core::Result<keyring_core::Entry> {
        store.build(service, profile_id, None)
    }

    pub(super) fn classify(error: keyring_core::Error) -> SecretStoreError {
        if let Some(e) = classify_common(&error) {
            return e;
        }
        match error {
            keyring_core::Error::NoStorageAccess(inner) => SecretStoreError::Locked {
                detail: inner.to_string(),
            },
            other => SecretStoreError::Other {
                detail: other.to_string(),
            },
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod platform {
    //! No supported keyring on this platform.
    use super::SecretStoreError;
    use std::sync::Arc;

    pub(super) fn connect() -> Result<Arc<keyring_core::CredentialStore>, SecretStoreError> {
        Err(SecretStoreError::Unsupported)
    }

    pub(super) fn entry(
        store: &keyring_core::CredentialStore,
        service: &str,
        profile_id: &str,
    ) -> keyring_core::Result<keyring_core::Entry> {
        store.build(service, profile_id, None)
    }

    pub(super) fn classify(_error: keyring_core::Error) -> SecretStoreError {
        SecretStoreError::Unsupported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip_and_failure() {
        let store = MemorySecretStore::new();
        assert_eq!(store.get("p1"), Ok(None));
        store.set("p1", &Secret::new("hunter2")).expect("set");
        assert_eq!(
            store
                .get("p1")
                .expect("get")
                .map(|s| s.expose().to_string())
                .as_deref(),
            Some("hunter2")
        );
        assert!(!format!("{store:?}").contains("hunter2"));
        store.set_failure(Some(SecretStoreError::Locked {
            detail: "test".into(),
        }));
        assert!(matches!(
            store.get("p1"),
            Err(SecretStoreError::Locked { .. })
        ));
        store.set_failure(None);
        assert_eq!(store.delete("p1"), Ok(true));
        assert_eq!(store.delete("p1"), Ok(false));
    }

    #[test]
    fn bad_encoding_never_shows_the_bytes() {
        let e = classify_common(&keyring_core::Error::BadEncoding(b"hunter2\xff".to_vec()))
            .expect("classified");
        assert!(!e.to_string().contains("hunter2"));
        assert!(!format!("{e:?}").contains("hunter2"));
    }

    #[test]
    fn messages_offer_ask_each_time() {
        for e in [
            SecretStoreError::NoSessionBus { detail: "x".into() },
            SecretStoreError::NoSecretService { detail: "x".into() },
            SecretStoreError::Locked { detail: "x".into() },
            SecretStoreError::Unsupported,
        ] {
            assert!(e.to_string().contains("ask each time"), "{e}");
        }
        assert!(SecretStoreError::Unsupported.is_unavailable());
        assert!(!SecretStoreError::Locked {
            detail: String::new()
        }
        .is_unavailable());
    }
}
