//! Checks on what users type into account settings, with messages a user can act on.
//!
//! - SIP login (the user part of the address-of-record): RFC 3261 §25.1
//!   `user = 1*( unreserved / escaped / user-unreserved )`, checked by [`validate_user_part`].
//! - Auth name (the digest `username`): RFC 3261 §25.1 `username-value = quoted-string`, so
//!   almost anything is legal on the wire. [`validate_auth_name`] is deliberately stricter than
//!   the grammar and refuses what is practically always a typing or pasting mistake and what
//!   servers handle inconsistently: control characters (including tab and line breaks), `"` and
//!   `\` (legal only escaped, and many servers compare the escaped form), and leading or trailing
//!   spaces. Spaces inside, `@` (providers often use `user@domain` auth names) and non-ASCII text
//!   are accepted.
//! - Display name: any text; [`quote_display_name`] escapes `"` and `\` when serializing
//!   (RFC 3261 §25.1 `quoted-string`).
//!
//! Positions in messages count characters from 1, as a user would.

use std::fmt;

/// Why a SIP login or auth name was refused. `Display` gives a plain-words message naming the
/// field, the character and its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserPartError {
    /// Nothing was entered.
    #[error("{field} is empty; enter a user name")]
    Empty {
        /// Which setting ("SIP login", "auth name").
        field: Field,
    },
    /// A character that is not allowed.
    #[error(
        "{field} contains {} at position {position}; {}",
        describe(*.character),
        reason(*.field, *.character)
    )]
    BadCharacter {
        /// Which setting.
        field: Field,
        /// The offending character.
        character: char,
        /// 1-based character position.
        position: usize,
    },
    /// A `%` not followed by two hex digits (RFC 3261 §25.1 `escaped`).
    #[error(
        "{field} contains a '%' at position {position} that is not followed by two hexadecimal \
         digits; write a literal percent sign as %25"
    )]
    BadEscape {
        /// Which setting.
        field: Field,
        /// 1-based character position of the `%`.
        position: usize,
    },
    /// Leading or trailing white space (auth name only).
    #[error(
        "{field} starts or ends with a space; remove the space (it is easy to paste by mistake)"
    )]
    OuterSpace {
        /// Which setting.
        field: Field,
    },
}

/// The setting being checked, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The SIP login (user part of the SIP address).
    SipLogin,
    /// The authentication user name.
    AuthName,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::SipLogin => "SIP login",
            Field::AuthName => "auth name",
        })
    }
}

/// Checks a SIP login against RFC 3261 §25.1 `user`.
pub fn validate_user_part(s: &str) -> Result<(), UserPartError> {
    let field = Field::SipLogin;
    if s.is_empty() {
        return Err(UserPartError::Empty { field });
    }
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '%' {
            let hex_at = |k: usize| chars.get(k).is_some_and(|d| d.is_ascii_hexdigit());
            if !(hex_at(i + 1) && hex_at(i + 2)) {
                return Err(UserPartError::BadEscape {
                    field,
                    position: i + 1,
                });
            }
            i += 3;
            continue;
        }
        if !is_user_char(c) {
            return Err(UserPartError::BadCharacter {
                field,
                character: c,
                position: i + 1,
            });
        }
        i += 1;
    }
    Ok(())
}

/// Checks an auth name (see the module docs for the chosen rule).
pub fn validate_auth_name(s: &str) -> Result<(), UserPartError> {
    let field = Field::AuthName;
    if s.is_empty() {
        return Err(UserPartError::Empty { field });
    }
    for (i, c) in s.chars().enumerate() {
        if c.is_control() || c == '"' || c == '\\' {
            return Err(UserPartError::BadCharacter {
                field,
                character: c,
                position: i + 1,
            });
        }
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Err(UserPartError::OuterSpace { field });
    }
    Ok(())
}

/// Serializes a display name as a quoted-string: `Alice "Al" B` → `"Alice \"Al\" B"`.
pub fn quote_display_name(name: &str) -> String {
    crate::auth::quote(name)
}

/// RFC 3261 §25.1 `unreserved / user-unreserved` (the `escaped` form is handled by the caller).
fn is_user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c) || "&=+$,;?/".contains(c)
}

fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        '\r' | '\n' => "a line break".to_owned(),
        '"' => "a double quote (\")".to_owned(),
        c if c.is_control() => format!("a control character (U+{:04X})", u32::from(c)),
        c => format!("the character '{c}'"),
    }
}

fn reason(field: Field, c: char) -> String {
    match (field, c) {
        (_, ' ' | '\t') => "spaces are not allowed in a SIP user name".to_owned(),
        (_, c) if c.is_control() => "control characters are not allowed".to_owned(),
        (Field::AuthName, '"' | '\\') => {
            "quotes and backslashes are not allowed in an auth name".to_owned()
        }
        (Field::SipLogin, '@') => {
            "'@' separates the user from the domain; enter only the part before '@'".to_owned()
        }
        (Field::SipLogin, ':') => "':' is reserved for a password in a SIP address".to_owned(),
        (Field::SipLogin, c) if !c.is_ascii() => {
            let mut buf = [0u8; 4];
            let escaped: String = c
                .encode_utf8(&mut buf)
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            format!("characters outside ASCII must be written percent-encoded ({c} is {escaped})")
        }
        _ => {
            "it is not allowed in a SIP user name (allowed: letters, digits and - _ . ! ~ * ' ( ) \
              & = + $ , ; ? / or %XX escapes)"
                .to_owned()
        }
    }
}
