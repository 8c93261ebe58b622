//! OS integration, glue only: desktop notifications with working actions (`notify.rs`), the tray icon with the
//! registration status and do-not-disturb (`tray.rs`), and click-to-call links handed to the one running instance
//! (`deeplink.rs`).
//!
//! The decisions live in the core: which events deserve a notification in [`dialtone_core::alerts`], how a link reads
//! in [`dialtone_core::dial_link`]. Here they are only wired to the Tauri plugins. What the window should learn (a
//! link to prefill, a link that cannot be called, an action that failed) goes out as the frontend event `os`.

pub mod deeplink;
#[cfg(target_os = "linux")]
pub mod link_handler;
pub mod notify;
pub mod settings;
pub mod tray;

use dialtone_core::alerts::AlertTracker;
use dialtone_core::{Phone, PhoneEvent};
use serde::Serialize;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::broadcast;

/// The frontend event `os`: what the OS glue tells the window.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OsEvent {
    /// Put `target` in the dial field (a link under the "prefill" setting, or one that could not be dialled yet).
    Prefill {
        /// The call target, as the dial field takes it.
        target: String,
        /// Why it was not dialled, or what else to know (an extension to key in).
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A link was dialled: the call's events follow on the `phone` event.
    LinkDialed {
        /// What was called.
        target: String,
        /// The call handle.
        call: u64,
        /// Anything else to know (an extension to key in once answered).
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Something the user should read: a link that cannot be called, a notification action or tray action that
    /// did not work out.
    Notice {
        /// Plain words.
        message: String,
    },
    /// Do-not-disturb was switched from the tray.
    DoNotDisturb {
        /// On or off.
        on: bool,
        /// The status incoming calls are refused with while on.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
    },
}

/// What the OS glue shares (managed state).
pub struct Os {
    alerts: Mutex<AlertTracker>,
    /// Whether do-not-disturb is on (switched from the tray; not kept across runs).
    dnd_on: Mutex<bool>,
    /// Events raised before the window asked for them (a link on the first launch's command line).
    queued: Mutex<Option<Vec<OsEvent>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Os {
    fn new() -> Os {
        Os {
            alerts: Mutex::new(AlertTracker::new()),
            dnd_on: Mutex::new(false),
            queued: Mutex::new(Some(Vec::new())),
        }
    }

    /// The user disconnects or quits: the unregistration that follows is not a dropped registration.
    pub fn expect_unregister(&self) {
        lock(&self.alerts).expect_unregister();
    }
}

/// Adds the OS plugins. The single-instance plugin comes first, so a second launch hands its arguments over and exits
/// before anything else starts.
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            deeplink::on_second_instance(app, argv)
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
}

/// Starts the OS glue: notifications, tray, and the links this first instance was launched with.
pub fn setup<R: Runtime>(app: &AppHandle<R>, phone: &Phone) {
    app.manage(Os::new());
    notify::init(app, phone.clone());
    let tray = match tray::Tray::new(app, phone.clone()) {
        Ok(tray) => Some(tray),
        Err(e) => {
            // No tray on this desktop (no appindicator library, no status area): the window still works.
            eprintln!("dialtone: no tray icon: {e}");
            None
        }
    };
    watch(app.clone(), phone.subscribe(), tray);
    deeplink::handle_args(app, std::env::args().collect());
    #[cfg(target_os = "linux")]
    link_handler::register(app);
}

/// Feeds every core event to the alert tracker and the tray.
fn watch<R: Runtime>(
    app: AppHandle<R>,
    mut events: broadcast::Receiver<PhoneEvent>,
    tray: Option<tray::Tray<R>>,
) {
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            if let (
                Some(tray),
                PhoneEvent::Registration {
                    state,
                    aor,
                    code,
                    reason,
                    ..
                },
            ) = (&tray, &event)
            {
                tray.show_registration(*state, aor, *code, reason.as_deref());
            }
            let alerts = match app.try_state::<Os>() {
                Some(os) => lock(&os.alerts).on_event(&event),
                None => Vec::new(),
            };
            for alert in alerts {
                notify::show(&app, &alert);
            }
        }
    });
}

/// Tells the window (or queues for it until it asks, see [`os_events`]).
pub fn emit<R: Runtime>(app: &AppHandle<R>, event: OsEvent) {
    let Some(os) = app.try_state::<Os>() else {
        // Not set up yet (a second launch that came in before our setup ran): nobody to tell but the window.
        let _ = app.emit("os", &event);
        return;
    };
    let mut queued = lock(&os.queued);
    match queued.as_mut() {
        Some(queue) => queue.push(event),
        None => {
            drop(queued);
            let _ = app.emit("os", &event);
        }
    }
}

/// Brings the main window to the front.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The window is listening: returns what happened before, and sends the rest as `os` events.
#[tauri::command]
pub fn os_events(os: tauri::State<'_, Os>) -> Vec<OsEvent> {
    lock(&os.queued).take().unwrap_or_default()
}
