//! First run: when no profile was ever saved (no `profiles.json` nor its backup, see [`crate::stores::Stores`]),
//! the app starts Dialtone's own relay on
//! loopback ([`dialtone_core::relay::EmbeddedRelay`]: two demo accounts in `<app data dir>/relay/users.toml`, SIP on
//! UDP/TCP and WebSocket, the browser phone page) so it is a working phone in its first minute with no PBX. The UI
//! asks for it with the `first_run` command (`ui/first-run.js`): `null` when a profile exists, else what to show and
//! the account to pre-fill the connection form with.

use std::path::PathBuf;
use std::sync::Mutex;

use dialtone_core::relay::{EmbeddedRelay, EmbeddedRelayInfo};
use serde::Serialize;
use tauri::{Manager, State};
use tokio::sync::watch;

/// One demo account as the UI shows it. The password is sent to the UI on purpose: it is a generated local account
/// the user needs to type into a second phone.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstRunAccount {
    user: String,
    password: String,
    aor: String,
}

/// What the first-run panel shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstRunInfo {
    /// `127.0.0.1:5060`: the server for the connection form and for other phones (UDP and TCP).
    sip_server: String,
    /// The accounts' SIP domain.
    domain: String,
    /// SIP over WebSocket.
    ws_url: String,
    /// The browser phone page.
    page_url: String,
    /// The first is pre-filled in the form; the others are for a second phone or the browser.
    accounts: Vec<FirstRunAccount>,
    /// Where the accounts are kept.
    users_file: String,
}

impl From<&EmbeddedRelayInfo> for FirstRunInfo {
    fn from(info: &EmbeddedRelayInfo) -> FirstRunInfo {
        FirstRunInfo {
            sip_server: info.sip.to_string(),
            domain: info.domain.clone(),
            ws_url: info.ws_url.clone(),
            page_url: info.page_url.clone(),
            accounts: info
                .accounts
                .iter()
                .map(|a| FirstRunAccount {
                    user: a.user.clone(),
                    password: a.password.expose().to_owned(),
                    aor: a.aor.clone(),
                })
                .collect(),
            users_file: info.users_file.display().to_string(),
        }
    }
}

/// Where the first-run check stands.
#[derive(Debug, Clone)]
enum Status {
    Checking,
    NotFirstRun,
    Ready(FirstRunInfo),
    Failed(String),
}

/// Managed state: the check's outcome and the running relay (kept for the app's lifetime).
pub struct FirstRun {
    status: watch::Receiver<Status>,
    /// Holds the relay, which stops when dropped, for the app's lifetime.
    _relay: std::sync::Arc<Mutex<Option<EmbeddedRelay>>>,
}

/// Error shape of the `first_run` command (the UI's `{ code, message }`).
#[derive(Debug, Serialize)]
pub struct FirstRunError {
    code: &'static str,
    message: String,
}

/// On a first run (decided by the stores, which must be managed already) starts the embedded relay in the
/// background; registers [`FirstRun`].
pub fn start(app: &tauri::App) {
    let first_run = app
        .try_state::<crate::stores::Stores>()
        .is_some_and(|stores| stores.first_run());
    let data_dir = app.path().app_data_dir();
    let (tx, rx) = watch::channel(Status::Checking);
    let relay = std::sync::Arc::new(Mutex::new(None));
    app.manage(FirstRun {
        status: rx,
        _relay: relay.clone(),
    });
    if !first_run {
        let _ = tx.send(Status::NotFirstRun);
        return;
    }
    let data_dir = match data_dir {
        Ok(data) => data,
        Err(e) => {
            let _ = tx.send(Status::Failed(format!("no app data directory: {e}")));
            return;
        }
    };
    tauri::async_runtime::spawn(async move {
        let status = start_relay(data_dir.join("relay"), &relay).await;
        let _ = tx.send(status);
    });
}

async fn start_relay(relay_dir: PathBuf, slot: &Mutex<Option<EmbeddedRelay>>) -> Status {
    match EmbeddedRelay::start_default(&relay_dir).await {
        Ok(relay) => {
            let info = FirstRunInfo::from(relay.info());
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(relay);
            }
            Status::Ready(info)
        }
        Err(e) => Status::Failed(format!("Dialtone's relay could not start: {e}")),
    }
}

/// The first-run relay for the UI: `null` when the app has a saved profile (no relay started), else the relay's
/// address, accounts and page once it runs.
#[tauri::command]
pub async fn first_run(state: State<'_, FirstRun>) -> Result<Option<FirstRunInfo>, FirstRunError> {
    let mut status = state.status.clone();
    let settled = status
        .wait_for(|s| !matches!(s, Status::Checking))
        .await
        .map(|s| s.clone())
        .unwrap_or_else(|_| Status::Failed("the first-run check stopped".into()));
    match settled {
        Status::Ready(info) => Ok(Some(info)),
        Status::NotFirstRun | Status::Checking => Ok(None),
        Status::Failed(message) => Err(FirstRunError {
            code: "first_run_failed",
            message,
        }),
    }
}
