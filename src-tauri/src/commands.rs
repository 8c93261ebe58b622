//! Tauri commands: each takes a DTO, calls the core once, and maps errors to `{ code, message }`.

use crate::stores::Stores;
use dialtone_core::audio::{AudioConfig, SinkChoice, SourceChoice};
use dialtone_core::history::{CallRecord, PeerSuggestion};
use dialtone_core::keyring::SecretStoreError;
use dialtone_core::profile::{PasswordMode, Profile, ProfileStoreError};
use dialtone_core::Secret;
use dialtone_core::{AccountForm, DtmfMethod, FieldError, Phone, PhoneError, PresenceStatus};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

/// Error shape the UI sees. `code` is stable; `message` is for people; `fields` lists form problems.
#[derive(Debug, Serialize)]
pub struct UiError {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldError>,
}

impl From<PhoneError> for UiError {
    fn from(e: PhoneError) -> Self {
        let fields = match &e {
            PhoneError::InvalidAccount(fields) => fields.clone(),
            _ => Vec::new(),
        };
        UiError {
            code: e.code(),
            message: e.to_string(),
            fields,
        }
    }
}

/// What the core can do in this build, so the UI enables only real controls. `features` names the controls that
/// work (`hold`, `transfer`, `dtmf`, `message`, `presence`, `mute`, `devices` for switching during a call).
#[derive(Debug, Serialize)]
pub struct Capabilities {
    version: &'static str,
    features: Vec<&'static str>,
}

#[tauri::command]
pub fn capabilities() -> Capabilities {
    Capabilities {
        version: env!("CARGO_PKG_VERSION"),
        features: vec![
            "hold", "transfer", "dtmf", "message", "presence", "mute", "devices",
        ],
    }
}

#[tauri::command]
pub fn validate_account(account: AccountForm) -> Vec<FieldError> {
    match account.validate() {
        Ok(_) => Vec::new(),
        Err(fields) => fields,
    }
}

/// Connects with the form as typed (no saved profile: calls are recorded without a profile id).
#[tauri::command]
pub async fn connect(
    app: AppHandle,
    phone: State<'_, Phone>,
    account: AccountForm,
) -> Result<(), UiError> {
    phone.connect(account).await?;
    app.state::<Stores>().set_recording_profile("");
    Ok(())
}

#[tauri::command]
pub async fn disconnect(
    phone: State<'_, Phone>,
    os: State<'_, crate::os::Os>,
) -> Result<(), UiError> {
    os.expect_unregister(); // not a dropped registration
    Ok(phone.disconnect().await?)
}

#[tauri::command]
pub async fn call(phone: State<'_, Phone>, target: String) -> Result<u64, UiError> {
    Ok(phone.call(&target).await?)
}

#[tauri::command]
pub async fn answer(phone: State<'_, Phone>, id: u64) -> Result<(), UiError> {
    Ok(phone.answer(id).await?)
}

#[tauri::command]
pub async fn decline(phone: State<'_, Phone>, id: u64) -> Result<(), UiError> {
    Ok(phone.decline(id).await?)
}

#[tauri::command]
pub async fn hangup(phone: State<'_, Phone>, id: u64) -> Result<(), UiError> {
    Ok(phone.hangup(id).await?)
}

#[tauri::command]
pub async fn hold(phone: State<'_, Phone>, id: u64) -> Result<(), UiError> {
    Ok(phone.hold(id).await?)
}

#[tauri::command]
pub async fn resume(phone: State<'_, Phone>, id: u64) -> Result<(), UiError> {
    Ok(phone.resume(id).await?)
}

#[tauri::command]
pub async fn transfer(phone: State<'_, Phone>, id: u64, target: String) -> Result<(), UiError> {
    Ok(phone.transfer(id, &target).await?)
}

#[tauri::command]
pub async fn attended_transfer(
    phone: State<'_, Phone>,
    id: u64,
    consult: u64,
) -> Result<(), UiError> {
    Ok(phone.attended_transfer(id, consult).await?)
}

#[tauri::command]
pub async fn set_dtmf_method(phone: State<'_, Phone>, method: DtmfMethod) -> Result<(), UiError> {
    Ok(phone.set_dtmf_method(method).await?)
}

/// Sends `digits` in call `id`; `method` overrides the account's (`info`, `rfc4733`, `auto`).
#[tauri::command]
pub async fn send_dtmf(
    phone: State<'_, Phone>,
    id: u64,
    digits: String,
    method: Option<DtmfMethod>,
) -> Result<DtmfMethod, UiError> {
    Ok(phone.send_dtmf(id, &digits, method).await?)
}

/// Sends a text message: inside call `call` when given, else to `target`. Returns the handle of its result event.
#[tauri::command]
pub async fn send_message(
    phone: State<'_, Phone>,
    target: String,
    text: String,
    call: Option<u64>,
) -> Result<u64, UiError> {
    Ok(match call {
        Some(id) => phone.send_message_in_call(id, &text).await?,
        None => phone.send_message(&target, &text).await?,
    })
}

/// Sets our presence status; with `publish`, also PUBLISHes it to the server.
#[tauri::command]
pub async fn set_presence(
    phone: State<'_, Phone>,
    status: PresenceStatus,
    publish: bool,
) -> Result<(), UiError> {
    phone.set_presence(status).await?;
    if publish {
        phone.publish_presence().await?;
    }
    Ok(())
}

#[tauri::command]
pub async fn subscribe_presence(phone: State<'_, Phone>, target: String) -> Result<u64, UiError> {
    Ok(phone.subscribe_presence(&target).await?)
}

#[tauri::command]
pub async fn unsubscribe_presence(phone: State<'_, Phone>, id: u64) -> Result<(), UiError> {
    Ok(phone.unsubscribe_presence(id).await?)
}

// ---- Profiles, keyring, devices and call history -------------------------------------------------------------

impl UiError {
    /// An error with a stable `code` and a message for people.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> UiError {
        UiError {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }
}

impl From<ProfileStoreError> for UiError {
    fn from(e: ProfileStoreError) -> Self {
        match e {
            ProfileStoreError::Invalid(fields) => UiError {
                code: "invalid_profile",
                message: "The profile was not saved: please correct the highlighted fields.".into(),
                fields,
            },
            ProfileStoreError::Keyring(k) => k.into(),
            ProfileStoreError::NotFound(_) => UiError::new("no_such_profile", e.to_string()),
            other => UiError::new("profile_store", other.to_string()),
        }
    }
}

impl From<SecretStoreError> for UiError {
    fn from(e: SecretStoreError) -> Self {
        // Both ask the user to choose "don't remember, ask each time"; the UI offers that choice for these codes.
        let code = if e.is_unavailable() {
            "keyring_unavailable"
        } else {
            "keyring"
        };
        UiError::new(code, e.to_string())
    }
}

fn blocking_failed(e: impl std::fmt::Display) -> UiError {
    UiError::new("internal", format!("a background task failed: {e}"))
}

/// Whether passwords can be remembered, and what start-up found (a recovered profile file...).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    /// The OS keyring is reachable.
    keyring_available: bool,
    /// Why it is not, in words for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    keyring_message: Option<String>,
    /// Messages from start-up.
    notices: Vec<String>,
}

/// Runs `f` with the stores on a blocking thread (keyring calls are D-Bus round trips, SQLite writes disk).
async fn with_stores<T: Send + 'static>(
    app: &AppHandle,
    f: impl FnOnce(&Stores) -> Result<T, UiError> + Send + 'static,
) -> Result<T, UiError> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<Stores>()))
        .await
        .map_err(blocking_failed)?
}

fn profile_store_missing(why: &str) -> UiError {
    UiError::new("profile_store", why)
}

/// Whether the OS keyring answers (with its message when not) and the start-up notices.
#[tauri::command]
pub async fn app_status(app: AppHandle) -> Result<AppStatus, UiError> {
    with_stores(&app, |stores| {
        let keyring = stores.secrets();
        Ok(AppStatus {
            keyring_available: keyring.is_ok(),
            keyring_message: keyring.err().map(|e| e.to_string()),
            notices: stores.notices().to_vec(),
        })
    })
    .await
}

/// The saved profiles, in the order they were created.
#[tauri::command]
pub async fn list_profiles(app: AppHandle) -> Result<Vec<Profile>, UiError> {
    with_stores(&app, |stores| match &*stores.profiles() {
        Ok(store) => Ok(store.list().to_vec()),
        Err(why) => Err(profile_store_missing(why)),
    })
    .await
}

/// Saves a profile (new when its id is empty) and returns it with its id. With password mode `remember`,
/// `password` goes to the OS keyring (`None` keeps the stored one); with `askEachTime` any stored one is removed.
#[tauri::command]
pub async fn save_profile(
    app: AppHandle,
    profile: Profile,
    password: Option<Secret>,
) -> Result<Profile, UiError> {
    with_stores(&app, move |stores| {
        let password = password.filter(|p| !p.is_empty());
        let mut guard = stores.profiles();
        let store = guard.as_mut().map_err(|why| profile_store_missing(why))?;
        if let Err(fields) = validate_profile(&profile) {
            return Err(ProfileStoreError::Invalid(fields).into());
        }
        if profile.password_mode == PasswordMode::AskEachTime {
            // Nothing may be stored; an unreachable keyring holds nothing, so it is not asked for.
            return match stores.secrets() {
                Ok(secrets) => Ok(store.save_with_password(profile, None, &*secrets)?),
                Err(e) if e.is_unavailable() => Ok(store.save(profile)?),
                Err(e) => Err(e.into()),
            };
        }
        let secrets = stores.secrets()?;
        Ok(store.save_with_password(profile, password.as_ref(), &*secrets)?)
    })
    .await
}

/// Deletes a profile and its keyring password.
#[tauri::command]
pub async fn delete_profile(app: AppHandle, id: String) -> Result<(), UiError> {
    with_stores(&app, move |stores| {
        let mut guard = stores.profiles();
        let store = guard.as_mut().map_err(|why| profile_store_missing(why))?;
        let ask = store
            .get(&id)
            .is_some_and(|p| p.password_mode == PasswordMode::AskEachTime);
        match stores.secrets() {
            Ok(secrets) => store.delete_with_password(&id, &*secrets)?,
            // Nothing of an ask-each-time profile is in the keyring; others must not leave a password behind.
            Err(e) if ask || e.is_unavailable() => store.delete(&id)?,
            Err(e) => return Err(e.into()),
        };
        Ok(())
    })
    .await
}

/// Connects with a saved profile: its password from the keyring, or `password` when given (ask-each-time). Fails
/// with code `password_required` when neither has one. Applies the profile's DTMF method and records calls under
/// it.
#[tauri::command]
pub async fn connect_profile(
    app: AppHandle,
    phone: State<'_, Phone>,
    id: String,
    password: Option<Secret>,
) -> Result<(), UiError> {
    let (profile, password) = with_stores(&app, move |stores| {
        let guard = stores.profiles();
        let store = guard.as_ref().map_err(|why| profile_store_missing(why))?;
        let profile = store
            .get(&id)
            .cloned()
            .ok_or_else(|| ProfileStoreError::NotFound(id.clone()))?;
        let password = match password.filter(|p| !p.is_empty()) {
            Some(p) => Some(p),
            None if profile.password_mode == PasswordMode::AskEachTime => None,
            None => {
                let secrets = stores.secrets()?;
                store.password(&id, &*secrets)?
            }
        };
        Ok((profile, password))
    })
    .await?;
    let password = password.ok_or_else(|| {
        UiError::new(
            "password_required",
            format!("Enter the password for {}", profile.name),
        )
    })?;
    phone.set_dtmf_method(dtmf_method(profile.dtmf)).await?;
    phone
        .set_codecs(&codec_order(&profile.audio_codecs), "", &[])
        .await?;
    phone
        .set_audio(AudioConfig::from_devices(&profile.devices))
        .await?;
    phone.connect(profile.to_form(password)).await?;
    app.state::<Stores>().set_recording_profile(&profile.id);
    Ok(())
}

/// The profile's audio codec list in the core's codec names: the RTP names `PCMU` and `PCMA` are the core's `ulaw`
/// and `alaw`; others are the same names in lower case.
fn codec_order(codecs: &[String]) -> String {
    codecs
        .iter()
        .map(|c| match c.to_ascii_lowercase().as_str() {
            "pcmu" => "ulaw".to_string(),
            "pcma" => "alaw".to_string(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The profile's own checks, plus: every audio codec is one the core knows.
fn validate_profile(profile: &Profile) -> Result<(), Vec<FieldError>> {
    let mut errors = match profile.validate() {
        Ok(()) => Vec::new(),
        Err(errors) => errors,
    };
    if !errors.iter().any(|e| e.field == "audioCodecs") {
        if let Err(e) = dialtone_sdp::parse_codec_list(&codec_order(&profile.audio_codecs)) {
            errors.push(FieldError {
                field: "audioCodecs",
                message: format!(
                    "Audio codecs: {e} (known: opus, g722, PCMU/ulaw, PCMA/alaw, g729, speex, speex16)"
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn dtmf_method(m: dialtone_core::profile::DtmfMethod) -> DtmfMethod {
    use dialtone_core::profile::DtmfMethod as P;
    match m {
        P::Auto => DtmfMethod::Auto,
        P::Info => DtmfMethod::Info,
        P::Rfc4733 => DtmfMethod::Rfc4733,
    }
}

/// An audio device for the pickers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioDevice {
    id: String,
    name: String,
    /// `input` or `output`.
    kind: &'static str,
    is_default: bool,
}

/// The microphones and speakers the system has now.
#[tauri::command]
pub async fn list_devices() -> Result<Vec<AudioDevice>, UiError> {
    let devices = tauri::async_runtime::spawn_blocking(dialtone_devices::enumerate)
        .await
        .map_err(blocking_failed)?
        .map_err(|e| UiError::new("devices", format!("Audio devices cannot be listed: {e}")))?;
    Ok(devices
        .into_iter()
        .map(|d| AudioDevice {
            id: d.id,
            name: d.name,
            kind: d.kind.as_str(),
            is_default: d.is_default,
        })
        .collect())
}

fn history_error(e: impl std::fmt::Display) -> UiError {
    UiError::new("history", e.to_string())
}

/// Up to `limit` calls of the history, newest first, skipping `offset`.
#[tauri::command]
pub async fn history_list(
    app: AppHandle,
    limit: usize,
    offset: usize,
) -> Result<Vec<CallRecord>, UiError> {
    with_stores(&app, move |stores| {
        let history = stores.history().map_err(history_error)?;
        let history = crate::stores::lock(history);
        history.list(limit.min(500), offset).map_err(history_error)
    })
    .await
}

/// Peers from the history starting with `prefix` (scheme and case ignored), most recent first: dial completion.
#[tauri::command]
pub async fn peer_suggestions(
    app: AppHandle,
    prefix: String,
    limit: usize,
) -> Result<Vec<PeerSuggestion>, UiError> {
    with_stores(&app, move |stores| {
        let history = stores.history().map_err(history_error)?;
        let history = crate::stores::lock(history);
        history
            .peer_suggestions(&prefix, limit.min(50))
            .map_err(history_error)
    })
    .await
}

/// Removes one call from the history.
#[tauri::command]
pub async fn delete_history_entry(app: AppHandle, id: i64) -> Result<bool, UiError> {
    with_stores(&app, move |stores| {
        let history = stores.history().map_err(history_error)?;
        let history = crate::stores::lock(history);
        history.delete(id).map_err(history_error)
    })
    .await
}

// ---- In-call audio controls ---------------------------------------------------------------------------------

/// Mutes (`muted`) or unmutes the microphone of call `id`.
#[tauri::command]
pub async fn mute(phone: State<'_, Phone>, id: u64, muted: bool) -> Result<(), UiError> {
    Ok(phone.mute(id, muted).await?)
}

/// Switches call `id` to another microphone (`None`: the system default); returns the device now in use.
#[tauri::command]
pub async fn switch_mic(
    phone: State<'_, Phone>,
    id: u64,
    device: Option<String>,
) -> Result<String, UiError> {
    Ok(phone.switch_mic(id, SourceChoice::Device(device)).await?)
}

/// Switches call `id` to another speaker (`None`: the system default); returns the device now in use.
#[tauri::command]
pub async fn switch_speaker(
    phone: State<'_, Phone>,
    id: u64,
    device: Option<String>,
) -> Result<String, UiError> {
    Ok(phone.switch_speaker(id, SinkChoice::Device(device)).await?)
}
