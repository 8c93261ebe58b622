//! Desktop notifications through tauri-plugin-notification (on Linux: `org.freedesktop.Notifications` on the session
//! bus, whose `ActionInvoked` signals the plugin hands to [`init`]'s handler).
//!
//! - Incoming call: "Incoming call from NAME" with **Answer** and **Decline**, which call `Phone::answer`/`decline`;
//!   a click on the notification itself brings the window to the front (where a server shows no buttons, that is how
//!   the user gets to the call). It is withdrawn once the call is answered or over.
//! - Missed call: a click (or **Call back**) calls the caller back with `Phone::call`.
//! - Dropped registration: a click brings the window to the front.

use super::{emit, lock, show_window, OsEvent};
use dialtone_core::alerts::Alert;
use dialtone_core::Phone;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::{Action, ActionPerformed, ActionType, NotificationExt};

/// Action type of incoming-call notifications.
const INCOMING: &str = "incoming-call";
/// Action type of missed-call notifications.
const MISSED: &str = "missed-call";
/// Action ids, as the notification server reports them.
const ANSWER: &str = "answer";
const DECLINE: &str = "decline";
const CALL_BACK: &str = "call-back";
/// What the plugin reports for a click on the notification itself.
const TAP: &str = "tap";

/// What a shown notification is about.
#[derive(Clone, Debug)]
enum Shown {
    Incoming { call: u64 },
    Missed { peer: String },
    Registration,
}

/// The notifications shown, by the id given to the plugin.
struct Notifications {
    shown: Mutex<HashMap<i32, Shown>>,
    next: AtomicI32,
}

/// Registers the action types and the handler that carries actions out on `phone`.
pub fn init<R: Runtime>(app: &AppHandle<R>, phone: Phone) {
    app.manage(Notifications {
        shown: Mutex::new(HashMap::new()),
        next: AtomicI32::new(1),
    });
    let notification = app.notification();
    let types = vec![
        ActionType::builder(INCOMING)
            .actions(vec![
                Action::builder(ANSWER, "Answer").foreground(true).build(),
                Action::builder(DECLINE, "Decline")
                    .destructive(true)
                    .build(),
            ])
            .build(),
        ActionType::builder(MISSED)
            .actions(vec![Action::builder(CALL_BACK, "Call back")
                .foreground(true)
                .build()])
            .build(),
    ];
    if let Err(e) = notification.register_action_types(types) {
        eprintln!("dialtone: notification actions unavailable: {e}");
    }
    let handle = app.clone();
    let registered = notification.on_action(move |performed| on_action(&handle, &phone, performed));
    if let Err(e) = registered {
        eprintln!("dialtone: notification actions unavailable: {e}");
    }
}

/// Shows (or withdraws) the notification for `alert`.
pub fn show<R: Runtime>(app: &AppHandle<R>, alert: &Alert) {
    let Some(state) = app.try_state::<Notifications>() else {
        return;
    };
    let (shown, action_type) = match alert {
        Alert::CallOver { call } => {
            let ids: Vec<i32> = lock(&state.shown)
                .iter()
                .filter(|(_, s)| matches!(s, Shown::Incoming { call: c } if c == call))
                .map(|(id, _)| *id)
                .collect();
            lock(&state.shown).retain(|id, _| !ids.contains(id));
            if !ids.is_empty() {
                let _ = app.notification().remove_active(ids);
            }
            return;
        }
        Alert::IncomingCall { call, .. } => (Shown::Incoming { call: *call }, Some(INCOMING)),
        Alert::MissedCall { caller, .. } => (
            Shown::Missed {
                peer: caller.uri.clone(),
            },
            Some(MISSED),
        ),
        Alert::RegistrationLost { .. } => (Shown::Registration, None),
    };
    let id = state.next.fetch_add(1, Ordering::Relaxed);
    lock(&state.shown).insert(id, shown);
    let mut builder = app
        .notification()
        .builder()
        .id(id)
        .title(alert.title())
        .body(alert.body());
    if let Some(action_type) = action_type {
        builder = builder.action_type_id(action_type);
    }
    if let Err(e) = builder.show() {
        lock(&state.shown).remove(&id);
        emit(
            app,
            OsEvent::Notice {
                message: format!("Could not show a notification: {e}"),
            },
        );
    }
}

/// Carries out what the user picked on one of our notifications.
fn on_action<R: Runtime>(app: &AppHandle<R>, phone: &Phone, performed: &ActionPerformed) {
    let Some(state) = app.try_state::<Notifications>() else {
        return;
    };
    let Some(id) = performed.notification().map(|n| n.id()) else {
        return;
    };
    let Some(shown) = lock(&state.shown).get(&id).cloned() else {
        return;
    };
    let action = performed.action_id();
    match shown {
        Shown::Incoming { call } => match action {
            ANSWER => {
                show_window(app);
                run(app, phone, "answer the call", move |p| async move {
                    p.answer(call).await
                });
            }
            DECLINE => run(app, phone, "decline the call", move |p| async move {
                p.decline(call).await
            }),
            _ => show_window(app),
        },
        Shown::Missed { peer } if action == TAP || action == CALL_BACK => {
            lock(&state.shown).remove(&id);
            show_window(app);
            run(app, phone, "call back", move |p| async move {
                p.call(&peer).await.map(|_| ())
            });
        }
        Shown::Missed { .. } | Shown::Registration => show_window(app),
    }
}

/// Runs a phone command in the background; a failure is told to the window.
fn run<R, F, Fut>(app: &AppHandle<R>, phone: &Phone, what: &'static str, f: F)
where
    R: Runtime,
    F: FnOnce(Phone) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), dialtone_core::PhoneError>> + Send,
{
    let (app, phone) = (app.clone(), phone.clone());
    tauri::async_runtime::spawn(async move {
        if let Err(e) = f(phone).await {
            emit(
                &app,
                OsEvent::Notice {
                    message: format!("Could not {what}: {e}"),
                },
            );
        }
    });
}
