//! ProfileStore: round trip, validation on save, damaged-file recovery, and passwords kept out of the file.

use dialtone_core::account::Transport;
use dialtone_core::keyring::{MemorySecretStore, SecretStore, SecretStoreError};
use dialtone_core::profile::{
    DeviceChoice, DtmfMethod, PasswordMode, Profile, ProfileStore, ProfileStoreError, RestoredFrom,
};
use dialtone_core::Secret;
use std::fs;
use std::path::Path;

fn profile(name: &str) -> Profile {
    Profile {
        name: name.into(),
        server_url: "wss://pbx.example.com:8089/ws".into(),
        login: "alice".into(),
        auth_name: "alice@example.com".into(),
        domain: "example.com".into(),
        outbound_proxy: "sip:proxy.example.com;transport=tcp".into(),
        port: Some(8089),
        transport: Transport::Wss,
        register_required: true,
        display_name: "Alice \"A\" Ünal".into(),
        tls_ca_file: String::new(),
        tls_pin: "AB:".repeat(31) + "AB",
        audio_codecs: vec!["opus".into(), "G722".into(), "PCMU".into()],
        video_codecs: vec!["VP8".into()],
        dtmf: DtmfMethod::Info,
        devices: DeviceChoice {
            microphone: Some("alsa:hw:1,0".into()),
            speaker: None,
            ringer: Some("pulse:speakers".into()),
        },
        password_mode: PasswordMode::Remember,
        ..Profile::default()
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_no_file_contains(dir: &Path, needle: &str) {
    for name in files_in(dir) {
        let bytes = fs::read(dir.join(&name)).expect("read file");
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{name} contains the password"
        );
    }
}

#[test]
fn profile_round_trips_through_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path()).expect("open");
    assert!(store.list().is_empty());
    let work = store.save(profile("Work")).expect("save work");
    assert!(!work.id.is_empty(), "an id is assigned");
    let mut home = profile("Home");
    home.login = "bob".into();
    home.transport = Transport::Udp;
    home.tls_pin = String::new();
    let home = store.save(home).expect("save home");
    assert_ne!(work.id, home.id);

    let reopened = ProfileStore::open(dir.path()).expect("reopen");
    assert!(reopened.recovery().is_none());
    assert_eq!(reopened.list(), [work.clone(), home.clone()]);

    // Replace by id keeps the order; delete removes.
    let mut store = reopened;
    let mut renamed = work.clone();
    renamed.name = "Office".into();
    store.save(renamed.clone()).expect("rename");
    assert_eq!(store.delete(&home.id).expect("delete").name, "Home");
    assert!(matches!(
        store.delete(&home.id),
        Err(ProfileStoreError::NotFound(_))
    ));
    let reopened = ProfileStore::open(dir.path()).expect("reopen again");
    assert_eq!(reopened.list(), [renamed]);
    assert_eq!(files_in(dir.path()), ["profiles.json", "profiles.json.bak"]);

    // The JSON uses the form's field names.
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(store.path()).expect("read")).expect("file parses");
    assert_eq!(json["version"], 1);
    let p = &json["profiles"][0];
    assert_eq!(p["serverUrl"], "wss://pbx.example.com:8089/ws");
    assert_eq!(p["dtmf"], "info");
    assert_eq!(p["devices"]["ringer"], "pulse:speakers");
    assert!(p.get("password").is_none());
}

#[test]
fn login_with_a_space_is_refused_on_save_naming_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path()).expect("open");
    let mut p = profile("Work");
    p.login = "ali ce".into();
    let Err(ProfileStoreError::Invalid(errors)) = store.save(p) else {
        panic!("a login with a space must be refused");
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "login");
    assert!(
        errors[0].message.contains("SIP login") && errors[0].message.contains("space"),
        "{}",
        errors[0].message
    );
    assert!(store.list().is_empty());
    assert!(files_in(dir.path()).is_empty(), "nothing written");
}

#[test]
fn corrupt_file_is_moved_aside_and_the_backup_restored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path()).expect("open");
    let first = store.save(profile("First")).expect("save first");
    let second = store.save(profile("Second")).expect("save second");
    // The backup holds the state before the last save.
    let path = store.path();
    drop(store);
    fs::write(&path, b"{\"version\": 1, \"profiles\": [ {\"name\": \"Tru")
        .expect("damage the file");

    let mut store = ProfileStore::open(dir.path()).expect("a damaged file must not stop the app");
    assert_eq!(store.list(), std::slice::from_ref(&first));
    let recovery = store.take_recovery().expect("recovery reported");
    assert_eq!(recovery.restored_from, RestoredFrom::Backup { profiles: 1 });
    let ProfileStoreError::Corrupt {
        moved_to, detail, ..
    } = &recovery.error
    else {
        panic!("unexpected error {:?}", recovery.error);
    };
    assert_eq!(moved_to, &dir.path().join("profiles.json.corrupt-1"));
    assert!(detail.contains("line 1"), "{detail}");
    let message = recovery.to_string();
    assert!(message.contains("profiles.json.corrupt-1"), "{message}");
    assert!(
        message.contains("1 profile was restored from the last good backup"),
        "{message}"
    );
    assert_eq!(
        fs::read(moved_to).expect("kept"),
        b"{\"version\": 1, \"profiles\": [ {\"name\": \"Tru"
    );
    // The restored state is on disk again and the store works.
    store.save(second.clone()).expect("save after recovery");
    let reopened = ProfileStore::open(dir.path()).expect("reopen");
    assert!(reopened.recovery().is_none());
    assert_eq!(reopened.list(), [first, second]);
}

#[test]
fn corrupt_file_without_backup_starts_empty_and_numbers_the_moved_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("profiles.json"), b"\xff\xfe not json").expect("write garbage");
    fs::write(dir.path().join("profiles.json.corrupt-1"), b"an older one").expect("write older");
    let mut store = ProfileStore::open(dir.path()).expect("open");
    assert!(store.list().is_empty());
    let recovery = store.take_recovery().expect("recovery reported");
    assert_eq!(recovery.restored_from, RestoredFrom::Empty);
    assert!(
        recovery
            .to_string()
            .contains("starting with no saved profiles"),
        "{recovery}"
    );
    assert!(dir.path().join("profiles.json.corrupt-2").exists());
    assert_eq!(
        fs::read(dir.path().join("profiles.json.corrupt-1")).expect("old"),
        b"an older one"
    );
    store.save(profile("New")).expect("save");
    assert_eq!(
        ProfileStore::open(dir.path()).expect("reopen").list().len(),
        1
    );
}

#[test]
fn file_from_a_newer_version_is_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = b"{\"version\": 7, \"profiles\": {\"shape\": \"unknown\"}}";
    fs::write(dir.path().join("profiles.json"), text).expect("write");
    let err = ProfileStore::open(dir.path()).expect_err("newer format refused");
    assert!(
        matches!(err, ProfileStoreError::NewerFormat { found: 7, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer Dialtone"), "{err}");
    assert_eq!(
        fs::read(dir.path().join("profiles.json")).expect("read"),
        text
    );
}

#[test]
fn remembered_password_goes_to_the_secret_store_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = MemorySecretStore::new();
    let mut store = ProfileStore::open(dir.path()).expect("open");
    let canary = "canary-Passw0rd-7f3a";
    let saved = store
        .save_with_password(profile("Work"), Some(&Secret::new(canary)), &secrets)
        .expect("save");
    assert_eq!(
        secrets
            .get(&saved.id)
            .expect("get")
            .map(|s| s.expose().to_string())
            .as_deref(),
        Some(canary)
    );
    assert_no_file_contains(dir.path(), canary);
    assert!(!format!("{saved:?} {store:?} {secrets:?}").contains(canary));

    // Editing without retyping keeps the stored password.
    let mut edited = saved.clone();
    edited.name = "Office".into();
    store
        .save_with_password(edited, None, &secrets)
        .expect("edit");
    let reopened = ProfileStore::open(dir.path()).expect("reopen");
    let password = reopened
        .password(&saved.id, &secrets)
        .expect("password")
        .expect("stored");
    assert_eq!(password.expose(), canary);

    // Switching to "ask each time" removes it from the keyring.
    let mut ask = reopened.get(&saved.id).expect("present").clone();
    ask.password_mode = PasswordMode::AskEachTime;
    let mut store = reopened;
    store
        .save_with_password(ask, Some(&Secret::new(canary)), &secrets)
        .expect("save ask");
    assert!(secrets.is_empty());
    assert_eq!(store.password(&saved.id, &secrets).expect("lookup"), None);
    assert_no_file_contains(dir.path(), canary);
}

#[test]
fn unreachable_keyring_saves_nothing_and_ask_each_time_still_works() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = MemorySecretStore::new();
    secrets.set_failure(Some(SecretStoreError::NoSessionBus {
        detail: "no DBUS_SESSION_BUS_ADDRESS".into(),
    }));
    let mut store = ProfileStore::open(dir.path()).expect("open");
    let err = store
        .save_with_password(profile("Work"), Some(&Secret::new("pw")), &secrets)
        .expect_err("keyring failure reported");
    assert!(
        matches!(
            err,
            ProfileStoreError::Keyring(SecretStoreError::NoSessionBus { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ask each time"), "{err}");
    assert!(store.list().is_empty());
    assert!(files_in(dir.path()).is_empty());

    let mut ask = profile("Work");
    ask.password_mode = PasswordMode::AskEachTime;
    let saved = store
        .save_with_password(ask, Some(&Secret::new("pw")), &secrets)
        .expect("ask mode saves");
    assert_eq!(store.password(&saved.id, &secrets).expect("lookup"), None);
}

#[test]
fn locked_keyring_keeps_profile_and_password_on_delete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = MemorySecretStore::new();
    let mut store = ProfileStore::open(dir.path()).expect("open");
    let saved = store
        .save_with_password(profile("Work"), Some(&Secret::new("pw")), &secrets)
        .expect("save");
    secrets.set_failure(Some(SecretStoreError::Locked {
        detail: "prompt dismissed".into(),
    }));
    let err = store
        .delete_with_password(&saved.id, &secrets)
        .expect_err("locked");
    assert!(
        matches!(
            err,
            ProfileStoreError::Keyring(SecretStoreError::Locked { .. })
        ),
        "{err:?}"
    );
    assert_eq!(store.list().len(), 1);
    secrets.set_failure(None);
    store
        .delete_with_password(&saved.id, &secrets)
        .expect("delete");
    assert!(store.list().is_empty());
    assert!(secrets.is_empty());
}

#[test]
fn bad_ids_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = ProfileStore::open(dir.path()).expect("open");
    let mut p = profile("Work");
    p.id = "../etc".into();
    let Err(ProfileStoreError::Invalid(errors)) = store.save(p) else {
        panic!("bad id accepted")
    };
    assert_eq!(errors[0].field, "id");
}

#[test]
fn a_file_from_before_do_not_disturb_moved_to_the_app_settings_still_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(
        dir.path().join("profiles.json"),
        r#"{"version":1,"profiles":[{"id":"p1a","name":"Old","serverUrl":"pbx.example.com","login":"alice","doNotDisturb":"busy"}]}"#,
    )
    .expect("write");
    let store = ProfileStore::open(dir.path()).expect("open");
    assert!(store.recovery().is_none(), "{:?}", store.recovery());
    assert_eq!(store.list().len(), 1);
    assert_eq!(store.list()[0].name, "Old");
}
