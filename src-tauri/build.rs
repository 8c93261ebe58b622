// tauri.conf.json lives at the repository root next to Cargo.toml (where tauri-build looks for it); the capability
// files live under src-tauri/, so point tauri-build there, and declare the app's commands so each gets an
// `allow-<command>` permission that the capability must grant explicitly.
const COMMANDS: &[&str] = &[
    "capabilities",
    "validate_account",
    "connect",
    "disconnect",
    "call",
    "answer",
    "decline",
    "hangup",
    "hold",
    "resume",
    "transfer",
    "attended_transfer",
    "set_dtmf_method",
    "send_dtmf",
    "send_message",
    "set_presence",
    "subscribe_presence",
    "unsubscribe_presence",
    "os_events",
    "set_link_action",
    "app_settings",
    "save_app_settings",
    "app_status",
    "list_profiles",
    "save_profile",
    "delete_profile",
    "connect_profile",
    "list_devices",
    "history_list",
    "peer_suggestions",
    "delete_history_entry",
    "mute",
    "switch_mic",
    "switch_speaker",
    "first_run",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed (see the message above)");
}
