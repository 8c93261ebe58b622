//! Dialtone desktop shell: glue between the phone UI (`ui/`) and the core (`dialtone-core`).
//!
//! No protocol logic lives here. Commands (`commands.rs`) take a DTO, call the core once and map errors to
//! `{ code, message }`; `events.rs` is the one place that turns core events into frontend events.

mod commands;
mod events;
mod os;
mod relay_default;
mod stores;

use tauri::Manager;

/// Starts the desktop app and blocks until its window closes.
pub fn run() {
    os::plugins(tauri::Builder::default())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(|app| {
            // The core runs on Tauri's tokio runtime.
            let phone = tauri::async_runtime::block_on(async {
                dialtone_core::Phone::start(Default::default())
            });
            events::forward(app.handle().clone(), phone.subscribe());
            stores::manage(app.handle(), phone.subscribe());
            app.manage(phone.clone());
            os::setup(app.handle(), &phone);
            // No saved profile yet: Dialtone's own relay on loopback, so the app works with no PBX.
            relay_default::start(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::capabilities,
            commands::validate_account,
            commands::connect,
            commands::disconnect,
            commands::call,
            commands::answer,
            commands::decline,
            commands::hangup,
            commands::hold,
            commands::resume,
            commands::transfer,
            commands::attended_transfer,
            commands::set_dtmf_method,
            commands::send_dtmf,
            commands::send_message,
            commands::set_presence,
            commands::subscribe_presence,
            commands::unsubscribe_presence,
            os::os_events,
            os::settings::set_link_action,
            os::settings::app_settings,
            os::settings::save_app_settings,
            commands::app_status,
            commands::list_profiles,
            commands::save_profile,
            commands::delete_profile,
            commands::connect_profile,
            commands::list_devices,
            commands::history_list,
            commands::peer_suggestions,
            commands::delete_history_entry,
            commands::mute,
            commands::switch_mic,
            commands::switch_speaker,
            relay_default::first_run,
        ])
        .run(tauri::generate_context!())
        .expect("the Dialtone window could not be started");
}
