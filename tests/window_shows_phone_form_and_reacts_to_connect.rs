//! End to end: the real `dialtone-app` binary in a real WebKitGTK window under Xvfb, driven by WebDriver
//! (tauri-driver + WebKitWebDriver). Asserts the connection form renders with the fields users of the original web
//! Phone know, fills it, presses Connect and sees the UI react to what the core says: a login the standard forbids is
//! refused inline; a good account registers with a real Kamailio (digest auth) and the badge shows it; a call to a
//! SIPp phone through Kamailio reaches ESTABLISHED and ends with Hangup. The session bus has no Secret Service: the
//! form says so, a profile that would remember its password is refused with that message, "Don't remember, ask
//! each time" saves it without the password, and connecting it from the list asks for the password and registers.
//! Screenshots go to `target/screenshots/`.

mod support;

use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use std::time::Duration;
use support::*;

#[test]
fn window_shows_phone_form_and_reacts_to_connect() {
    let shots = screenshot_dir();
    let xvfb = Xvfb::start();
    // A session bus where nothing provides the Secret Service (no keyring running or startable).
    let sandbox = Sandbox::new();
    let driver = TauriDriver::start_in(
        &xvfb.display,
        &shots.join("tauri-driver.log"),
        &sandbox,
        SessionKeyring::Absent,
    );
    let app = std::path::PathBuf::from(env!("CARGO_BIN_EXE_dialtone-app"));
    let s = Session::new(&driver, &app);

    // The connection form with every field of the original web Phone, and the call area.
    for css in [
        "#server-url",
        "#login",
        "#auth-name",
        "#password",
        "#domain",
        "#outbound-proxy",
        "#port",
        "#transport",
        "#register-required",
        "#display-name",
        "#connect",
        "#disconnect",
        "#callee",
        "#call",
        "#answer",
        "#decline",
        "#hangup",
        "#hold",
        "#transfer",
        "#mute",
        "#keypad button[data-dtmf='5']",
        "#status-line",
    ] {
        assert!(s.exists(css), "the window lacks {css}");
    }
    assert_eq!(s.text("#connect"), "Connect");
    // Nothing is connected yet: call controls are disabled, not fake.
    for css in ["#call", "#answer", "#hangup", "#hold", "#transfer", "#mute"] {
        assert_eq!(
            s.property(css, "disabled"),
            serde_json::json!(true),
            "{css} should start disabled"
        );
    }
    // This session bus has no Secret Service: the form says so and offers "ask each time" (no silent fallback).
    let keyring = s.wait_text("#keyring-note", Duration::from_secs(15), |t| !t.is_empty());
    assert!(
        keyring.contains("No system keyring") && keyring.contains("ask each time"),
        "{keyring}"
    );
    assert_eq!(s.text("#ask-each-time"), "Don't remember, ask each time");
    xvfb.screenshot(&shots.join("01-connection-form.png"));

    // A login the standard forbids is refused by the core when Connect is pressed, naming the field.
    s.type_into("#server-url", "127.0.0.1");
    s.type_into("#login", "ali ce");
    s.type_into("#password", "not-a-real-password");
    s.type_into("#display-name", "Alice Example");
    s.click("#connect");
    let errors = s.wait_text("#form-errors", Duration::from_secs(15), |t| !t.is_empty());
    assert!(
        errors.contains("SIP login") && errors.contains("space"),
        "unexpected form error: {errors}"
    );
    assert_eq!(
        s.attribute("#login", "aria-invalid").as_deref(),
        Some("true")
    );
    let status = s.text("#status-line");
    assert!(
        status.contains("correct"),
        "status line did not react: {status}"
    );
    xvfb.screenshot(&shots.join("02-login-refused.png"));

    // A good account against a real registrar: the badge and status line follow the core's events.
    let kam =
        Kamailio::start(KamailioOpts::udp_tcp(&[("alice", "alicepw")])).expect("start kamailio");
    let sipp = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp");
    s.type_into(
        "#server-url",
        &format!("127.0.0.1:{}", kam.udp_addr().port()),
    );
    s.type_into("#login", "alice");
    s.type_into("#password", "alicepw");
    s.click("#connect");
    let badge = s.wait_text("#reg-status", Duration::from_secs(20), |t| {
        t == "Registered" || t.contains("failed")
    });
    assert_eq!(
        badge,
        "Registered",
        "status line: {}",
        s.text("#status-line")
    );
    assert_eq!(
        s.attribute("#login", "aria-invalid"),
        None,
        "the fixed login is still marked invalid"
    );
    assert_eq!(
        s.property("#call", "disabled"),
        serde_json::json!(false),
        "Call stays disabled once registered"
    );
    xvfb.screenshot(&shots.join("03-registered.png"));

    // A call through Kamailio to SIPp: ESTABLISHED shown, Hangup ends it.
    s.type_into(
        "#callee",
        &format!("sip:svc@127.0.0.1:{}", sipp.addr().port()),
    );
    s.click("#call");
    s.wait_text("#call-status", Duration::from_secs(20), |t| {
        t.starts_with("ESTABLISHED")
    });
    assert_eq!(s.property("#hangup", "disabled"), serde_json::json!(false));
    xvfb.screenshot(&shots.join("04-in-call.png"));
    s.click("#hangup");
    s.wait_text("#call-status", Duration::from_secs(20), |t| {
        t.starts_with("FINISH")
    });
    let outcome = sipp.wait().expect("sipp finished");
    assert!(
        outcome.success(),
        "SIPp did not see INVITE/ACK/BYE:\n{outcome}"
    );
    s.click("#disconnect");
    s.wait_text("#reg-status", Duration::from_secs(20), |t| {
        t == "Not connected"
    });

    // Without a keyring, remembering the password is refused with the keyring's message and nothing is saved;
    // "Don't remember, ask each time" saves the profile without it, and connecting asks for it.
    let t = Duration::from_secs(20);
    s.click("#tab-accounts");
    s.type_into("#profile-name", "Ask me");
    s.type_into("#password", "alicepw");
    s.click("#save-profile");
    let refused = s.wait_text("#status-line", t, |t| t.contains("keyring"));
    assert!(refused.contains("ask each time"), "{refused}");
    assert!(
        s.text("#keyring-note").contains("No system keyring"),
        "{}",
        s.text("#keyring-note")
    );
    assert!(
        s.text("#profile-list").is_empty(),
        "saved without a keyring"
    );
    s.click("#ask-each-time");
    let list = s.wait_text("#profile-list", t, |t| t.contains("Ask me"));
    assert!(list.contains("password asked each time"), "{list}");
    assert_eq!(
        s.property("#keyring-box", "hidden"),
        serde_json::json!(true)
    );
    let saved = std::fs::read_to_string(sandbox.app_config_dir().join("profiles.json"))
        .expect("profiles.json written");
    assert!(
        saved.contains("askEachTime") && !saved.contains("alicepw"),
        "{saved}"
    );
    xvfb.screenshot(&shots.join("08-ask-each-time.png"));
    s.click("#profile-list .connect-profile");
    s.wait_text("#password-dialog-title", t, |t| {
        t.contains("Password for Ask me")
    });
    s.type_into("#password-dialog-input", "alicepw");
    s.click("#password-dialog-ok");
    s.wait_text("#reg-status", t, |t| t == "Registered");
    assert_eq!(s.text("#account-name"), "Ask me");
    s.click("#disconnect");
    s.wait_text("#reg-status", t, |t| t == "Not connected");
}
