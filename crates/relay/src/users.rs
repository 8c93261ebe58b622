//! The relay's accounts: user names with a password or precomputed digest HA1 values
//! (RFC 7616 §3.4.2: `HA1 = H(username ":" realm ":" password)`; RFC 8760 for SHA-256).
//!
//! Accounts come from the app's settings ([`Users::add_password`]) or from a `users.toml`
//! file ([`Users::from_toml`]):
//!
//! ```toml
//! realm = "dialtone"            # optional for password users; required with ha1 values
//!
//! [[user]]
//! name = "alice"
//! password = "wonderland"
//!
//! [[user]]
//! name = "bob"
//! ha1 = "0c1c0d4e3a5d0f4a1c3bd0c6d0c8a1f2"          # MD5(bob:dialtone:password)
//! ha1_sha256 = "..."                                # optional: SHA-256(bob:dialtone:password)
//! ```
//!
//! Passwords are hashed into HA1 values when loaded and then dropped; HA1 values are
//! password-equivalent secrets, so neither ever shows in `Debug` output or in an error
//! message (a TOML error on a secret line is reported without the offending value).

use std::collections::BTreeMap;
use std::fmt;

use dialtone_sip::auth::{Algorithm, Password};
use md5::Md5;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The realm used when neither the file nor the caller names one.
pub const DEFAULT_REALM: &str = "dialtone";

/// Why an account list could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsersError {
    /// The text is not valid TOML or does not have the expected shape.
    #[error("users.toml line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong (never contains a secret value).
        message: String,
    },
    /// The realm is empty or contains characters that cannot appear in a quoted string.
    #[error("the realm {0:?} is empty or contains control characters or quotes")]
    InvalidRealm(String),
    /// A user name is empty or not a plain SIP user part.
    #[error(
        "user name {0:?} is not allowed: use 1-64 letters, digits or - _ . ! ~ * ' ( ) + characters"
    )]
    InvalidName(String),
    /// The same user name appears twice.
    #[error("user {0:?} is defined more than once")]
    Duplicate(String),
    /// A user has neither a password nor an HA1.
    #[error("user {0:?} needs a password or an ha1")]
    NoSecret(String),
    /// A user has both a password and an HA1.
    #[error("user {0:?} has both a password and an ha1; keep one")]
    BothSecrets(String),
    /// A user's password is empty.
    #[error("user {0:?} has an empty password")]
    EmptyPassword(String),
    /// An HA1 value is not the right number of hexadecimal digits.
    #[error("user {name:?}: {field} must be {digits} hexadecimal digits")]
    BadHa1 {
        /// The user.
        name: String,
        /// `ha1` or `ha1_sha256`.
        field: &'static str,
        /// The expected length.
        digits: usize,
    },
    /// HA1 values depend on the realm, so a file with HA1 values must name it.
    #[error("user {0:?} has an ha1, which depends on the realm: add `realm = \"...\"` at the top")]
    Ha1WithoutRealm(String),
}

/// The two HA1 values of one account; `Debug` prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
struct Ha1 {
    md5: Option<String>,
    sha256: Option<String>,
}

impl fmt::Debug for Ha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    name: String,
    ha1: Ha1,
}

impl User {
    /// The user name (the user part of the address-of-record and the digest username).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The accounts of one realm. `Debug` shows names, never secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Users {
    realm: String,
    users: BTreeMap<String, User>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    realm: Option<String>,
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    password: Option<String>,
    ha1: Option<String>,
    ha1_sha256: Option<String>,
}

/// Keys whose values are secrets: TOML errors on their lines are reported without the value.
const SECRET_KEYS: [&str; 3] = ["password", "ha1", "ha1_sha256"];

impl Users {
    /// An empty account list for `realm`.
    pub fn new(realm: &str) -> Result<Users, UsersError> {
        if realm.is_empty()
            || realm
                .chars()
                .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(UsersError::InvalidRealm(realm.to_owned()));
        }
        Ok(Users {
            realm: realm.to_owned(),
            users: BTreeMap::new(),
        })
    }

    /// Reads a `users.toml` text (see the [module documentation](self) for its shape).
    pub fn from_toml(text: &str) -> Result<Users, UsersError> {
        let file: UsersFile = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
        if file.realm.is_none() {
            if let Some(entry) = file
                .user
                .iter()
                .find(|u| u.ha1.is_some() || u.ha1_sha256.is_some())
            {
                return Err(UsersError::Ha1WithoutRealm(entry.name.clone()));
            }
        }
        let mut users = Users::new(file.realm.as_deref().unwrap_or(DEFAULT_REALM))?;
        for entry in file.user {
            match (entry.password, entry.ha1, entry.ha1_sha256) {
                (Some(password), None, None) => users.add_password(&entry.name, &password)?,
                (None, md5, sha256) if md5.is_some() || sha256.is_some() => {
                    users.add_ha1(&entry.name, md5.as_deref(), sha256.as_deref())?
                }
                (None, _, _) => return Err(UsersError::NoSecret(entry.name)),
                (Some(_), _, _) => return Err(UsersError::BothSecrets(entry.name)),
            }
        }
        Ok(users)
    }

    /// Adds an account with a password (hashed into HA1 values at once).
    pub fn add_password(&mut self, name: &str, password: &str) -> Result<(), UsersError> {
        self.check_new_name(name)?;
        if password.is_empty() {
            return Err(UsersError::EmptyPassword(name.to_owned()));
        }
        let password = Password::new(password);
        let input = format!("{name}:{}:{}", self.realm, password.expose());
        let ha1 = Ha1 {
            md5: Some(hex(&Md5::digest(input.as_bytes()))),
            sha256: Some(hex(&Sha256::digest(input.as_bytes()))),
        };
        self.insert(name, ha1);
        Ok(())
    }

    /// Adds an account known by its HA1 values: `md5` is `MD5(name:realm:password)` (32 hex
    /// digits), `sha256` is `SHA-256(name:realm:password)` (64 hex digits). At least one.
    pub fn add_ha1(
        &mut self,
        name: &str,
        md5: Option<&str>,
        sha256: Option<&str>,
    ) -> Result<(), UsersError> {
        self.check_new_name(name)?;
        if md5.is_none() && sha256.is_none() {
            return Err(UsersError::NoSecret(name.to_owned()));
        }
        let check = |value: Option<&str>, field: &'static str, digits: usize| {
            value
                .map(|v| {
                    if v.len() == digits && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                        Ok(v.to_ascii_lowercase())
                    } else {
                        Err(UsersError::BadHa1 {
                            name: name.to_owned(),
                            field,
                            digits,
                        })
                    }
                })
                .transpose()
        };
        let ha1 = Ha1 {
            md5: check(md5, "ha1", 32)?,
            sha256: check(sha256, "ha1_sha256", 64)?,
        };
        self.insert(name, ha1);
        Ok(())
    }

    /// The digest realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Whether an account with this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.users.contains_key(name)
    }

    /// The account with this name.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// The account names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The digest algorithms every account can be verified with, strongest first: the relay
    /// challenges with exactly these, whoever asks, so a challenge never depends on whether
    /// the user exists.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let mut out = Vec::new();
        if self.users.values().all(|u| u.ha1.sha256.is_some()) {
            out.push(Algorithm::Sha256);
        }
        if self.users.values().all(|u| u.ha1.md5.is_some()) {
            out.push(Algorithm::Md5);
        }
        out
    }

    /// The HA1 of `name` for `algorithm` (lower-case hex), if the user exists and has one.
    pub(crate) fn ha1(&self, name: &str, algorithm: Algorithm) -> Option<&str> {
        let ha1 = &self.users.get(name)?.ha1;
        match algorithm {
            Algorithm::Md5 => ha1.md5.as_deref(),
            Algorithm::Sha256 => ha1.sha256.as_deref(),
            Algorithm::Md5Sess | Algorithm::Sha256Sess => None,
        }
    }

    fn check_new_name(&self, name: &str) -> Result<(), UsersError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.!~*'()+".contains(c);
        if name.is_empty() || name.len() > 64 || !name.chars().all(allowed) {
            return Err(UsersError::InvalidName(name.to_owned()));
        }
        if self.users.contains_key(name) {
            return Err(UsersError::Duplicate(name.to_owned()));
        }
        Ok(())
    }

    fn insert(&mut self, name: &str, ha1: Ha1) {
        let user = User {
            name: name.to_owned(),
            ha1,
        };
        self.users.insert(name.to_owned(), user);
    }
}

/// A TOML error as line/column and a message that cannot leak a secret: on a line that sets
/// `password`, `ha1` or `ha1_sha256`, the parser's message (which may quote the value) is
/// replaced by a generic one.
fn syntax_error(text: &str, error: &toml::de::Error) -> UsersError {
    let offset = error.span().map_or(0, |span| span.start).min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.len() - line_start + 1;
    let line_text = text
        .get(line_start..)
        .and_then(|rest| rest.lines().next())
        .unwrap_or("");
    let key = line_text
        .split('=')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"');
    let message = if SECRET_KEYS.contains(&key) && line_text.contains('=') {
        format!("invalid value for {key} (expected a quoted string)")
    } else {
        error.message().to_owned()
    };
    UsersError::Syntax {
        line,
        column,
        message,
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
