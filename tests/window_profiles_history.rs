//! End to end: saved profiles, the OS keyring and the call history in the real `dialtone-app` window (WebKitGTK
//! under Xvfb, driven by WebDriver), with a real gnome-keyring (Secret Service) on the app's private session bus
//! and a sandbox HOME.
//!
//! A damaged `profiles.json` left in the config dir is moved aside with the store's recovery message shown, and the
//! app starts. A profile with a login the SIP standard forbids is refused inline; the fixed profile is saved with a
//! canary password (which is also the Kamailio user's password) and connected from the profiles list, so the
//! password really came back from the keyring. Its microphone and speaker are picked from a private PulseAudio's
//! devices. The app registers with Kamailio, dials a SIPp UAS through it with Enter, shows ESTABLISHED and a running
//! call timer, switches the speaker during the call (the core reports the switch), shows the live statistics, holds
//! (a=sendonly checked by SIPp), resumes (a=sendrecv) and hangs up; the call appears in the history (recorded by
//! the core); the dial field offers the peer from the history; "Call back" from the history reaches a SIPp UAS on
//! the same address again; a SIPp caller through Kamailio gets the incoming-call screen (display name and URI),
//! Answer connects, and the incoming call is in the history too. Afterwards, in a fresh session on the same keyring,
//! `secret-tool` finds the canary under the profile's id, and the canary is in no file of the sandbox HOME (config,
//! data, caches) and not in the app's log. Screenshots of each screen go to `target/screenshots/`.

mod support;

use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

const T: Duration = Duration::from_secs(20);

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => files_under(&entry.path(), out),
            Ok(kind) if kind.is_file() => out.push(entry.path()),
            _ => {}
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `secret-tool lookup service dialtone username <id>` in a new session bus with the sandbox's keyring unlocked.
fn keyring_lookup(sandbox: &Sandbox, profile_id: &str) -> Vec<u8> {
    require_program("secret-tool");
    let mut cmd = Command::new(require_program("dbus-run-session"));
    sandbox.apply(&mut cmd);
    let script = format!(
        "echo -n {SANDBOX_KEYRING_PASSWORD} | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
         || exit 97; exec secret-tool lookup service dialtone username \"$1\""
    );
    let output = cmd
        .args(["--", "sh", "-c", &script, "sh", profile_id])
        .stdin(Stdio::null())
        .output()
        .expect("run secret-tool in a session bus");
    assert!(
        output.status.success(),
        "secret-tool found no password for profile {profile_id}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Waits until `check` holds, polling.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn window_profiles_keyring_and_history() {
    let shots = screenshot_dir();
    let mut sandbox = Sandbox::new();
    // A private PulseAudio with Mic_A/Mic_B and Speaker_A/Speaker_B for the device pickers.
    let pulse = dialtone_devices::PulseServer::start().expect("start a test PulseAudio");
    for (key, value) in pulse.client_env() {
        sandbox.set_env(key, &value);
    }
    // cpal's PulseAudio client wants a cookie file even though the test server accepts anyone.
    std::fs::create_dir_all(sandbox.home().join(".config/pulse")).expect("pulse config dir");
    std::fs::write(sandbox.home().join(".config/pulse/cookie"), [7u8; 256])
        .expect("write a PulseAudio cookie");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let canary = format!("canary{nanos:x}p{}", std::process::id());
    let log = shots.join("tauri-driver-profiles.log");

    let kam = Kamailio::start(KamailioOpts::udp_tcp(&[("alice", canary.as_str())]))
        .expect("start kamailio");
    let sipp_port = free_port();
    let peer = Sipp::uas(
        Scenario::peer("window_uas_hold_resume.xml"),
        SippArgs::new(sipp_port),
    )
    .expect("start the sipp peer");
    let peer_uri = format!("sip:svc@127.0.0.1:{sipp_port}");

    // A damaged profile file from an earlier run: the app must still start and say what it did.
    std::fs::create_dir_all(sandbox.app_config_dir()).expect("create the app config dir");
    std::fs::write(
        sandbox.app_config_dir().join("profiles.json"),
        b"{\"version\": 1, \"profiles\": [ {\"name\": ",
    )
    .expect("write a damaged profiles.json");

    let xvfb = Xvfb::start();
    let profile_id;
    {
        let driver = TauriDriver::start_in(&xvfb.display, &log, &sandbox, SessionKeyring::Unlocked);
        let app = PathBuf::from(env!("CARGO_BIN_EXE_dialtone-app"));
        let s = Session::new(&driver, &app);

        // The damaged file was moved aside with a message; the list starts empty.
        let notice = s.wait_text("#notice", T, |t| !t.is_empty());
        assert!(
            notice.contains("could not be read") && notice.contains("profiles.json.corrupt-1"),
            "{notice}"
        );
        assert!(notice.contains("No usable backup"), "{notice}");
        xvfb.screenshot(&shots.join("09-recovered-profile-file.png"));

        // The keyring is reachable: no warning, passwords are remembered by default.
        wait_until("the profile list to load", || {
            s.text("#profiles-empty").contains("No saved profiles")
        });
        assert_eq!(
            s.property("#keyring-box", "hidden"),
            json!(true),
            "keyring warning shown although gnome-keyring runs: {}",
            s.text("#keyring-note")
        );
        assert_eq!(s.property("#password-mode", "value"), json!("remember"));

        // A login the standard forbids is refused inline, by the core, and nothing is saved.
        s.type_into("#profile-name", "Kamailio test");
        s.type_into(
            "#server-url",
            &format!("127.0.0.1:{}", kam.udp_addr().port()),
        );
        s.type_into("#login", "ali ce");
        s.type_into("#password", &canary);
        s.type_into("#display-name", "Alice Example");
        s.click("#save-profile");
        let errors = s.wait_text("#form-errors", T, |t| !t.is_empty());
        assert!(
            errors.contains("SIP login") && errors.contains("space"),
            "{errors}"
        );
        assert_eq!(
            s.attribute("#login", "aria-invalid").as_deref(),
            Some("true")
        );
        assert!(
            s.text("#profile-list").is_empty(),
            "a bad profile was saved"
        );
        xvfb.screenshot(&shots.join("10-profile-invalid-login.png"));

        // Fixed and saved: the list shows it, the password went to the keyring.
        s.type_into("#login", "alice");
        s.click("#codecs-toggle");
        s.type_into("#audio-codecs", "PCMU, opus");
        // The device pickers list the system's devices; the profile uses Mic_A and Speaker_A.
        s.click("#devices-toggle");
        let options = |css: &str| {
            s.execute(&format!(
                "return [...document.querySelectorAll('{css} option')].map(o => o.textContent).join('|')"
            ), json!([]))
            .as_str()
            .unwrap_or_default()
            .to_string()
        };
        wait_until("the test PulseAudio's devices in the pickers", || {
            options("#dev-speaker").contains("Speaker_A") && options("#dev-mic").contains("Mic_A")
        });
        s.click("#dev-mic option[value='pulseaudio:mic_a']");
        s.click("#dev-speaker option[value='pulseaudio:spk_a']");
        assert_eq!(
            s.property("#dev-speaker", "value"),
            json!("pulseaudio:spk_a")
        );
        s.click("#save-profile");
        s.wait_text("#conn-title", T, |t| t == "Edit profile: Kamailio test");
        let list = s.wait_text("#profile-list", T, |t| t.contains("Kamailio test"));
        assert!(list.contains("password in keyring"), "{list}");
        assert_eq!(s.text("#form-errors"), "");
        assert_eq!(s.attribute("#login", "aria-invalid"), None);
        assert_eq!(
            s.property("#password", "value"),
            json!(""),
            "the password stays in the form after saving"
        );
        s.click("#notice-close");
        assert_eq!(s.property("#notice-box", "hidden"), json!(true));
        s.execute("document.querySelector('main').scrollTop = 0", json!([]));
        xvfb.screenshot(&shots.join("11-profiles.png"));

        // Connect from the list: the password comes from the keyring (Kamailio accepts only the canary).
        s.click("#profile-list .connect-profile");
        let badge = s.wait_text("#reg-status", T, |t| {
            t == "Registered" || t.contains("failed")
        });
        assert_eq!(badge, "Registered", "{}", s.text("#status-line"));
        assert_eq!(s.text("#account-name"), "Kamailio test");

        // Dial with Enter: the call goes through Kamailio to SIPp.
        s.type_into("#callee", &peer_uri);
        s.send_keys("#callee", "\u{E007}");
        s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
        s.wait_text("#call-timer", T, |t| t != "00:00");
        assert_eq!(
            s.attribute("#call-timer", "data-running").as_deref(),
            Some("true")
        );

        s.click("#hold");
        let held = s.wait_text("#call-status", T, |t| t.starts_with("HOLD"));
        assert!(held.contains("you hold the call"), "{held}");
        assert_eq!(s.text("#hold"), "Resume");
        xvfb.screenshot(&shots.join("13-on-hold.png"));
        s.click("#hold");
        s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
        // The speaker switches during the call; the core reports the switch.
        assert_eq!(
            s.property("#call-speaker", "value"),
            json!("pulseaudio:spk_a")
        );
        s.click("#call-speaker option[value='pulseaudio:spk_b']");
        let switched = s.wait_text("#device-status", T, |t| t.contains("Speaker_B"));
        assert!(switched.starts_with("Speaker"), "{switched}");
        // The statistics panel follows the core's `stats` events (50 packets a second of 20 ms audio).
        s.wait_text("#stat-sent", T, |t| {
            t.parse::<u64>().is_ok_and(|n| n >= 200)
        });
        assert_eq!(s.text("#stat-codec"), "ulaw", "SIPp answers PCMU");
        assert!(s.text("#stat-mos").contains('.'), "{}", s.text("#stat-mos"));
        xvfb.screenshot(&shots.join("12-in-call.png"));
        s.click("#hangup");
        s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
        let outcome = peer.wait().expect("sipp peer finished");
        assert!(
            outcome.success(),
            "SIPp did not see INVITE, hold, resume and BYE:\n{outcome}"
        );

        // The core recorded the call; the History screen lists it.
        s.click("#tab-history");
        let history = s.wait_text("#history-list", T, |t| t.contains("svc@127.0.0.1"));
        assert!(history.contains("Call back"), "{history}");
        let rows = s.execute(
            "return document.querySelectorAll('#history-list .call-row').length",
            json!([]),
        );
        assert_eq!(rows, json!(1), "{history}");
        assert_eq!(
            s.attribute("#history-list .call-row", "data-direction")
                .as_deref(),
            Some("outgoing")
        );
        assert_eq!(
            s.attribute("#history-list .call-row", "data-state")
                .as_deref(),
            Some("FINISH")
        );
        xvfb.screenshot(&shots.join("14-history.png"));

        // The dial field completes from the history.
        s.click("#tab-phone");
        s.type_into("#callee", "svc@127");
        let offered = s.wait_text("#callee-suggestions", T, |t| t.contains(&peer_uri));
        assert!(offered.contains(&peer_uri), "{offered}");
        xvfb.screenshot(&shots.join("15-dial-completion.png"));
        s.send_keys("#callee", "\u{E015}"); // ArrowDown highlights the first suggestion
        wait_until("the first suggestion highlighted", || {
            s.attribute("#callee", "aria-activedescendant").as_deref() == Some("suggestion-0")
        });
        s.send_keys("#callee", "\u{E007}"); // Enter takes it into the field
        assert_eq!(s.property("#callee", "value"), json!(peer_uri));

        // Call back from the history reaches SIPp on the same address again.
        let again = Sipp::uas(
            Scenario::peer("uas_answer_200.xml"),
            SippArgs::new(sipp_port),
        )
        .expect("start the second sipp peer");
        s.click("#tab-history");
        s.wait_text("#history-list", T, |t| t.contains("Call back"));
        s.click("#history-list .call-back");
        s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
        s.click("#hangup");
        s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
        let outcome = again.wait().expect("second sipp peer finished");
        assert!(
            outcome.success(),
            "the call back did not reach SIPp:\n{outcome}"
        );
        s.click("#tab-history");
        wait_until("the call back in the history", || {
            s.execute(
                "return document.querySelectorAll('#history-list .call-row').length",
                json!([]),
            ) == json!(2)
        });

        // An incoming call through Kamailio: the incoming-call screen shows who calls; Answer connects.
        let mut args = SippArgs::new(free_port());
        args.remote = Some(kam.udp_addr());
        args.service = Some("alice".into());
        let caller = Sipp::uac(Scenario::peer("uac_call_then_bye.xml"), args)
            .expect("start the sipp caller");
        let who = s.wait_text("#incoming", T, |t| t.contains("SIPp caller"));
        assert!(who.contains("sip:sipp@127.0.0.1"), "{who}");
        assert_eq!(s.property("#answer", "disabled"), json!(false));
        xvfb.screenshot(&shots.join("16-incoming-call.png"));
        s.click("#answer");
        s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
        // SIPp hangs up after 2 s.
        let ended = s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
        assert!(ended.contains("hung up"), "{ended}");
        assert_eq!(s.property("#incoming", "hidden"), json!(true));
        let outcome = caller.wait().expect("sipp caller finished");
        assert!(outcome.success(), "the incoming call failed:\n{outcome}");
        s.click("#tab-history");
        wait_until("the incoming call in the history", || {
            s.execute(
                "return document.querySelectorAll('#history-list .call-row[data-direction=incoming]')\
                 .length",
                json!([]),
            ) == json!(1)
        });
        let history = s.text("#history-list");
        assert!(history.contains("SIPp caller"), "{history}");
        xvfb.screenshot(&shots.join("17-history-with-incoming.png"));

        s.click("#disconnect");
        s.wait_text("#reg-status", T, |t| t == "Not connected");

        // The profile file names the profile; its id is the keyring key.
        let profiles: Value = serde_json::from_slice(
            &std::fs::read(sandbox.app_config_dir().join("profiles.json"))
                .expect("profiles.json in the app's config dir"),
        )
        .expect("profiles.json parses");
        profile_id = profiles["profiles"][0]["id"]
            .as_str()
            .expect("a saved profile id")
            .to_string();
        assert_eq!(profiles["profiles"][0]["passwordMode"], json!("remember"));
        assert_eq!(
            profiles["profiles"][0]["devices"],
            json!({"microphone": "pulseaudio:mic_a", "speaker": "pulseaudio:spk_a", "ringer": null})
        );
        assert_eq!(
            profiles["profiles"][0]["audioCodecs"],
            json!(["PCMU", "opus"])
        );
        // Session, driver and app end here.
    }
    drop(xvfb);

    // The password is in the keyring under the profile id, and nowhere in the sandbox's files or the log.
    assert!(
        keyring_lookup(&sandbox, &profile_id) == canary.as_bytes(),
        "the keyring holds another password for the profile"
    );
    let mut files = Vec::new();
    files_under(sandbox.home(), &mut files);
    for must_exist in [
        sandbox.app_config_dir().join("profiles.json"),
        sandbox.app_config_dir().join("profiles.json.corrupt-1"),
        sandbox.app_data_dir().join("history.sqlite3"),
    ] {
        assert!(
            files.contains(&must_exist),
            "{} missing",
            must_exist.display()
        );
    }
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(sandbox.home().join(".local/share/keyrings"))),
        "gnome-keyring wrote no keyring file"
    );
    for file in files.iter().chain(std::iter::once(&log)) {
        let bytes = std::fs::read(file).unwrap_or_default();
        assert!(
            !contains(&bytes, canary.as_bytes()),
            "the password is in {}",
            file.display()
        );
    }
}
