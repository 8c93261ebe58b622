//! End to end: the real `dialtone-app` binary in a real WebKitGTK window under Xvfb, driven by WebDriver
//! (tauri-driver + WebKitWebDriver). Asserts the connection form renders with the fields users of the original web
//! Phone know, fills it, presses Connect and sees the UI react to what the core says. Screenshots go to
//! `target/screenshots/`.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn window_shows_phone_form_and_reacts_to_connect() {
    let shots = screenshot_dir();
    let xvfb = Xvfb::start();
    let driver = TauriDriver::start(&xvfb.display, &shots.join("tauri-driver.log"));
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
    s.screenshot(&shots.join("01-connection-form.png"));

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
    s.screenshot(&shots.join("02-login-refused.png"));
}
