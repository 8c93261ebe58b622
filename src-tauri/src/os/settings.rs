//! The app-wide settings the OS glue acts on, kept by the core's [`SettingsStore`] in `settings.json`: what a
//! click-to-call link does (dial at once or prefill the dial field, read by `deeplink.rs` for every link) and the
//! status do-not-disturb refuses calls with (486 or 480, read by `tray.rs` when the tray switches it on, and applied
//! at once when changed while it is on).
//!
//! [`SettingsStore`]: dialtone_core::profile::SettingsStore

use super::{emit, lock, Os, OsEvent};
use crate::commands::UiError;
use crate::stores::Stores;
use dialtone_core::dial_link::LinkAction;
use dialtone_core::profile::AppSettings;
use dialtone_core::Phone;
use tauri::{AppHandle, Manager, Runtime};

/// The current settings (the defaults where none were saved).
pub fn current<R: Runtime>(app: &AppHandle<R>) -> AppSettings {
    app.try_state::<Stores>()
        .map(|stores| stores.settings())
        .unwrap_or_default()
}

/// Writes `settings` (atomically, on a blocking thread) and applies what changed: a new do-not-disturb status
/// takes effect at once when do-not-disturb is on.
async fn apply(app: &AppHandle, settings: AppSettings) -> Result<AppSettings, UiError> {
    let before = current(app);
    let writer = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let stores = writer.state::<Stores>();
        let mut guard = stores.settings_store();
        let store = guard
            .as_mut()
            .map_err(|why| UiError::new("settings_store", why.clone()))?;
        store
            .save(settings)
            .map_err(|e| UiError::new("settings_store", e.to_string()))
    })
    .await
    .map_err(|e| UiError::new("internal", format!("the settings were not saved: {e}")))??;
    let dnd_on = app.try_state::<Os>().is_some_and(|os| *lock(&os.dnd_on));
    if dnd_on && before.dnd_refusal != settings.dnd_refusal {
        let code = settings.dnd_refusal.code();
        app.state::<Phone>().set_do_not_disturb(Some(code)).await?;
        emit(
            app,
            OsEvent::DoNotDisturb {
                on: true,
                code: Some(code),
            },
        );
    }
    Ok(settings)
}

/// The app-wide settings.
#[tauri::command]
pub fn app_settings(app: AppHandle) -> AppSettings {
    current(&app)
}

/// Saves the app-wide settings; returns them as saved.
#[tauri::command]
pub async fn save_app_settings(
    app: AppHandle,
    settings: AppSettings,
) -> Result<AppSettings, UiError> {
    apply(&app, settings).await
}

/// Sets what click-to-call links do: `dial` (default) or `prefill`; saved like the other settings.
#[tauri::command]
pub async fn set_link_action(app: AppHandle, action: LinkAction) -> Result<AppSettings, UiError> {
    let settings = AppSettings {
        link_action: action,
        ..current(&app)
    };
    apply(&app, settings).await
}
