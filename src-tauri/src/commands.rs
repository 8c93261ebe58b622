//! Tauri commands: each takes a DTO, calls the core once, and maps errors to `{ code, message }`.

use dialtone_core::{AccountForm, FieldError, Phone, PhoneError};
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

/// What the core can do in this build, so the UI enables only real controls.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    version: &'static str,
}

#[tauri::command]
pub fn capabilities() -> Capabilities {
    Capabilities {
        version: env!("CARGO_PKG_VERSION"),
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
pub async fn disconnect(phone: State<'_, Phone>) -> Result<(), UiError> {
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
