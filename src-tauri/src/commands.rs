//! Tauri commands: each takes a DTO, calls the core once, and maps errors to `{ code, message }`.

use dialtone_core::{AccountForm, DtmfMethod, FieldError, Phone, PhoneError, PresenceStatus};
use serde::Serialize;
use tauri::State;

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
/// work (`hold`, `transfer`, `dtmf`, `message`, `presence`); `mute` and RFC 4733 DTMF wait for the audio path.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    version: &'static str,
    features: Vec<&'static str>,
}

#[tauri::command]
pub fn capabilities() -> Capabilities {
    Capabilities {
        version: env!("CARGO_PKG_VERSION"),
        features: vec!["hold", "transfer", "dtmf", "message", "presence"],
    }
}

#[tauri::command]
pub fn validate_account(account: AccountForm) -> Vec<FieldError> {
    match account.validate() {
        Ok(_) => Vec::new(),
        Err(fields) => fields,
    }
}

#[tauri::command]
pub async fn connect(phone: State<'_, Phone>, account: AccountForm) -> Result<(), UiError> {
    Ok(phone.connect(account).await?)
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
