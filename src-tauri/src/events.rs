//! The one place that maps core events to frontend events: every [`dialtone_core::PhoneEvent`] becomes a `phone`
//! event whose payload is the same JSON the CLI prints.

use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast;

/// Forwards core events to the UI until the core stops.
pub fn forward(app: AppHandle, mut events: broadcast::Receiver<dialtone_core::PhoneEvent>) {
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let _ = app.emit("phone", &event);
                }
                // A slow UI missed some events; the next state event carries the current state.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
