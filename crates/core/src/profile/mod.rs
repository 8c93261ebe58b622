//! Saved SIP account profiles: what the connection form holds, minus the password, plus the per-account choices
//! (transport, TLS trust, codec order, DTMF method, audio devices, do-not-disturb).
//!
//! - [`Profile`] is plain serde data. It has no password field at all: passwords live in the OS keyring
//!   ([`crate::keyring`]) keyed by the profile id, or are asked for at each connect ([`PasswordMode::AskEachTime`]).
//! - [`ProfileStore`] keeps the profiles of one config directory in `profiles.json`, written atomically with a
//!   last-good backup, and recovers from a damaged file (see [`store`]).
//! - [`Profile::validate`] checks the SIP login and auth name with [`dialtone_sip::validate`] (RFC 3261 §25.1
//!   `user`) and the rest of the form with [`AccountForm::validate`], so a bad login is refused on save with a
//!   message naming the field.
//!
//! - [`SettingsStore`] keeps the app-wide [`AppSettings`] (what click-to-call links do, what do-not-disturb refuses
//!   calls with) in `settings.json` beside it, through the same atomic writer.
//!
//! DTMF methods: RFC 4733 telephone-events in RTP, or SIP INFO (RFC 6086). Do-not-disturb rejects incoming INVITEs
//! with 486 Busy Here (RFC 3261 §21.4.24) or 480 Temporarily Unavailable (RFC 3261 §21.4.18).

pub(crate) mod atomic_file;
pub mod settings;
pub mod store;

pub use settings::{AppSettings, DndRefusal, SettingsError, SettingsStore};
pub use store::{ProfileRecovery, ProfileStore, ProfileStoreError, RestoredFrom};

use crate::account::{AccountForm, FieldError, Transport};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// How DTMF digits are sent during a call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DtmfMethod {
    /// RFC 4733 telephone-events when the peer offers them, SIP INFO otherwise.
    #[default]
    Auto,
    /// RFC 4733 telephone-events in the RTP stream.
    Rfc4733,
    /// SIP INFO requests carrying `application/dtmf-relay` (RFC 6086).
    Info,
}

/// Whether the password is remembered in the OS keyring or asked for at each connect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PasswordMode {
    /// Kept in the OS keyring (Secret Service, Keychain, Credential Manager). Never in a file.
    #[default]
    Remember,
    /// Not stored anywhere; the user types it at each connect.
    AskEachTime,
}

/// Audio devices chosen for an account; `None` means the system default. Ids are the device ids the audio layer
/// reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeviceChoice {
    /// Microphone (capture device) id.
    pub microphone: Option<String>,
    /// Speaker or headset (playback device) id for the call audio.
    pub speaker: Option<String>,
    /// Playback device id for the ringtone (often the loudspeaker while the call goes to a headset).
    pub ringer: Option<String>,
}

/// One saved SIP account. Field names match [`AccountForm`] (camelCase in JSON); there is no password field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Profile {
    /// Stable identifier, also the key of the password in the OS keyring. Assigned by
    /// [`ProfileStore::save`] when empty.
    pub id: String,
    /// Name shown in the profiles list ("Work", "Home PBX").
    pub name: String,
    /// Server address: a host, `host:port`, a SIP URI, or a WebSocket URL.
    pub server_url: String,
    /// SIP login: the user part of the address of record.
    pub login: String,
    /// SIP auth name for digest authentication; the login when empty.
    pub auth_name: String,
    /// SIP domain of the address of record; the server's host when empty.
    pub domain: String,
    /// Outbound proxy as a SIP URI or `host[:port]`.
    pub outbound_proxy: String,
    /// Server port; the transport's default when absent.
    pub port: Option<u16>,
    /// Transport.
    pub transport: Transport,
    /// Whether to REGISTER.
    pub register_required: bool,
    /// Display name shown to called parties.
    pub display_name: String,
    /// TLS/WSS trust: a PEM file with the CA(s) to trust instead of the system's roots.
    pub tls_ca_file: String,
    /// TLS/WSS trust: the SHA-256 fingerprint of the one server certificate to accept.
    pub tls_pin: String,
    /// Audio codecs in order of preference, by RTP encoding name (`opus`, `G722`, `PCMU`); empty means the
    /// built-in order.
    pub audio_codecs: Vec<String>,
    /// Video codecs in order of preference (`VP8`, `H264`); empty means the built-in order.
    pub video_codecs: Vec<String>,
    /// How DTMF digits are sent.
    pub dtmf: DtmfMethod,
    /// Audio devices for calls on this account.
    pub devices: DeviceChoice,
    /// Whether the password is kept in the OS keyring or asked for at each connect.
    pub password_mode: PasswordMode,
}

impl Profile {
    /// A profile from the connection form; the form's password is dropped (store it with
    /// [`crate::keyring::SecretStore`]).
    pub fn from_form(name: impl Into<String>, form: &AccountForm) -> Profile {
        Profile {
            name: name.into(),
            server_url: form.server_url.clone(),
            login: form.login.clone(),
            auth_name: form.auth_name.clone(),
            domain: form.domain.clone(),
            outbound_proxy: form.outbound_proxy.clone(),
            port: form.port,
            transport: form.transport,
            register_required: form.register_required,
            display_name: form.display_name.clone(),
            tls_ca_file: form.tls_ca_file.clone(),
            tls_pin: form.tls_pin.clone(),
            ..Profile::default()
        }
    }

    /// The connection form for this profile with the given password, ready for [`crate::Phone::connect`].
    pub fn to_form(&self, password: Secret) -> AccountForm {
        AccountForm {
            server_url: self.server_url.clone(),
            login: self.login.clone(),
            auth_name: self.auth_name.clone(),
            password,
            domain: self.domain.clone(),
            outbound_proxy: self.outbound_proxy.clone(),
            port: self.port,
            transport: self.transport,
            register_required: self.register_required,
            display_name: self.display_name.clone(),
            tls_ca_file: self.tls_ca_file.clone(),
            tls_pin: self.tls_pin.clone(),
        }
    }

    /// Checks every field and returns every problem found, each naming its field (`login`, `authName`, `name`,
    /// `audioCodecs`, ...) so the form can show it inline. Called by [`ProfileStore::save`].
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err =
            |field: &'static str, message: String| errors.push(FieldError { field, message });

        if self.name.trim().is_empty() {
            err("name", "Profile name is required".into());
        } else if self.name.chars().any(char::is_control) {
            err(
                "name",
                "Profile name must not contain control characters (line breaks, tabs)".into(),
            );
        }
        // The login and auth name are checked here, directly with the SIP core's rules, so the message is the
        // SIP core's own ("SIP login contains a space at position 4; ..."); the form's checks cover the rest.
        if self.login.trim().is_empty() {
            err("login", "SIP login is required".into());
        } else if let Err(e) = dialtone_sip::validate::validate_user_part(&self.login) {
            err("login", e.to_string());
        }
        if !self.auth_name.is_empty() {
            if let Err(e) = dialtone_sip::validate::validate_auth_name(&self.auth_name) {
                err("authName", e.to_string());
            }
        }
        if let Err(form_errors) = self.to_form(Secret::default()).validate() {
            for e in form_errors {
                if e.field != "login" && e.field != "authName" {
                    err(e.field, e.message);
                }
            }
        }
        for (field, label, codecs) in [
            ("audioCodecs", "Audio codec", &self.audio_codecs),
            ("videoCodecs", "Video codec", &self.video_codecs),
        ] {
            if let Some(message) = codec_list_problem(label, codecs) {
                err(field, message);
            }
        }
        for (field, label, id) in [
            ("devices.microphone", "Microphone", &self.devices.microphone),
            ("devices.speaker", "Speaker", &self.devices.speaker),
            ("devices.ringer", "Ringer", &self.devices.ringer),
        ] {
            if id
                .as_deref()
                .is_some_and(|id| id.is_empty() || id.chars().any(char::is_control))
            {
                err(
                    field,
                    format!("{label} device id is empty or contains control characters"),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// RTP encoding names are RFC 4566 §9 `token`s; a list must not name a codec twice.
fn codec_list_problem(label: &str, codecs: &[String]) -> Option<String> {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`{|}~".contains(c);
    for (i, name) in codecs.iter().enumerate() {
        if name.is_empty() || !name.chars().all(is_token_char) {
            return Some(format!(
                "{label} \"{name}\" is not a codec name (letters, digits and - . _ only, no spaces)"
            ));
        }
        if codecs[..i]
            .iter()
            .any(|earlier| earlier.eq_ignore_ascii_case(name))
        {
            return Some(format!("{label} \"{name}\" is listed twice"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            name: "Work".into(),
            server_url: "127.0.0.1:5070".into(),
            login: "alice".into(),
            ..Profile::default()
        }
    }

    #[test]
    fn form_round_trip_keeps_fields_and_drops_password() {
        let form = AccountForm {
            login: "alice".into(),
            password: Secret::new("hunter2"),
            server_url: "wss://pbx.example.com/ws".into(),
            transport: Transport::Wss,
            tls_pin: "ab".repeat(32),
            ..AccountForm::default()
        };
        let p = Profile::from_form("Work", &form);
        let json = serde_json::to_string(&p).expect("profile serializes");
        assert!(!json.contains("hunter2"));
        let back = p.to_form(Secret::new("again"));
        assert_eq!(back.server_url, form.server_url);
        assert_eq!(back.tls_pin, form.tls_pin);
        assert_eq!(back.transport, Transport::Wss);
        assert_eq!(back.password.expose(), "again");
    }

    #[test]
    fn auth_name_with_quote_is_refused_naming_the_field() {
        let mut p = profile();
        p.auth_name = "al\"ice".into();
        let errors = p.validate().unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "authName");
        assert!(
            errors[0].message.contains("auth name"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn codec_lists_must_be_tokens_without_repeats() {
        let mut p = profile();
        p.audio_codecs = vec!["opus".into(), "PCMU".into(), "OPUS".into()];
        p.video_codecs = vec!["VP 8".into()];
        let errors = p.validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["audioCodecs", "videoCodecs"]);
        assert!(errors[0].message.contains("twice"));
    }
}
