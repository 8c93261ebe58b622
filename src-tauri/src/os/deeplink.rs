//! Click-to-call: Dialtone is the handler of `sip:`, `sips:`, `tel:` and `callto:` links (tauri-plugin-deep-link's
//! `desktop.schemes` in tauri.conf.json, which the bundles turn into `x-scheme-handler/...` MIME types; on Linux
//! the running app also registers itself at start, see `link_handler.rs`), and only one instance runs
//! (tauri-plugin-single-instance, over D-Bus on Linux): the OS starts `dialtone-app LINK`, that process hands its
//! arguments to the running one and exits, and the running one dials or prefills per the setting (`settings.rs`).
//!
//! The arguments are read with [`dialtone_core::dial_link::from_args`] rather than taken from the deep-link plugin's
//! parsed URLs: that plugin drops, without a word, whatever its URL parser or its scheme filter does not accept,
//! while a link that cannot be called must be told to the user.

use super::{emit, show_window, OsEvent};
use dialtone_core::dial_link::{self, DialLink, LinkAction};
use dialtone_core::{Phone, PhoneError};
use tauri::{AppHandle, Manager, Runtime};

/// A second launch handed over its command line: bring the window up and act on its links.
pub fn on_second_instance<R: Runtime>(app: &AppHandle<R>, argv: Vec<String>) {
    show_window(app);
    handle_args(app, argv);
}

/// Acts on every link among `argv` (the program first, as `std::env::args()` gives it).
pub fn handle_args<R: Runtime>(app: &AppHandle<R>, argv: Vec<String>) {
    for link in dial_link::from_args(&argv) {
        match link {
            Ok(link) => open(app, link),
            Err(e) => emit(
                app,
                OsEvent::Notice {
                    message: format!("Cannot call this link: {e}"),
                },
            ),
        }
    }
}

/// Dials `link`, or prefills it, per the setting; one that cannot be dialled yet (not connected) is prefilled.
fn open<R: Runtime>(app: &AppHandle<R>, link: DialLink) {
    let target = link.call_target();
    let note = link
        .extension()
        .map(|ext| format!("Extension {ext}: key it in on the keypad once the call is answered."));
    let action = super::settings::current(app).link_action;
    let Some(phone) = app.try_state::<Phone>().map(|p| p.inner().clone()) else {
        emit(app, OsEvent::Prefill { target, note });
        return;
    };
    if action == LinkAction::Prefill {
        emit(app, OsEvent::Prefill { target, note });
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match phone.call(&target).await {
            Ok(call) => emit(&app, OsEvent::LinkDialed { target, call, note }),
            Err(PhoneError::NotConnected) => emit(
                &app,
                OsEvent::Prefill {
                    target,
                    note: Some("Connect an account, then press Call.".into()),
                },
            ),
            Err(e) => {
                emit(
                    &app,
                    OsEvent::Notice {
                        message: format!("Could not call {target}: {e}"),
                    },
                );
                emit(&app, OsEvent::Prefill { target, note });
            }
        }
    });
}
