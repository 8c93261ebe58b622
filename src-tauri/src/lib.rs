//! Dialtone desktop shell: glue between the phone UI (`ui/`) and the core (`dialtone-core`).
//!
//! No protocol logic lives here. Commands (`commands.rs`) take a DTO, call the core once and map errors to
//! `{ code, message }`; `events.rs` is the one place that turns core events into frontend events.

mod commands;
mod events;
mod relay_default;

use tauri::Manager;

/// Starts the desktop app and blocks until its window closes.
pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            // The core runs on Tauri's tokio runtime.
            let phone = tauri::async_runtime::block_on(async {
                dialtone_core::Phone::start(Default::default())
            });
            events::forward(app.handle().clone(), phone.subscribe());
            app.manage(phone);
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
            relay_default::first_run,
        ])
        .run(tauri::generate_context!())
        .expect("the Dialtone window could not be started");
}
