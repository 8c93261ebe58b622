//! End to end: the in-call controls of the real `dialtone-app` window (WebKitGTK under Xvfb, driven by WebDriver),
//! against scripted SIPp peers that check every request the clicks send. Connected without registering, the window
//! calls a SIPp UAS; the digit 5 typed during the call goes to the keypad (INFO `Signal=5`); Mute toggles (Unmute,
//! aria-pressed); Hold (`a=sendonly`, the status shows HOLD and the button turns to Resume), Resume (`a=sendrecv`);
//! on the Chat screen a message goes in the call (MESSAGE), and a second SIPp answers for carol's presence: Watch
//! shows her "away — Busy"; back on the Phone screen the call is transferred blind (REFER to carol; the peer's
//! NOTIFY 200 ends the call as transferred). Screenshots go to `target/screenshots/`.

mod support;

use dialtone_testkit::{free_port, Scenario, Sipp, SippArgs};
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(20);

/// Waits until SIPp's trace contains `needle` (what the last click should have sent).
fn wait_trace(sipp: &Sipp, needle: &str) {
    let deadline = Instant::now() + T;
    while !sipp.messages().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "SIPp never saw {needle:?}; trace:\n{}",
            sipp.messages()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn window_in_call_controls_reach_the_peer() {
    let shots = screenshot_dir();
    let xvfb = Xvfb::start();
    let driver = TauriDriver::start(&xvfb.display, &shots.join("tauri-driver-incall.log"));
    let app = std::path::PathBuf::from(env!("CARGO_BIN_EXE_dialtone-app"));
    let s = Session::new(&driver, &app);

    let peer = Sipp::uas(
        Scenario::peer("incall_uas_window_controls.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start the sipp peer");
    let carol = Sipp::uas(
        Scenario::peer("incall_uas_presence_agent.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start the sipp presence agent");

    // Connect without registering: calls and requests go straight to their target.
    s.type_into("#server-url", &format!("127.0.0.1:{}", peer.addr().port()));
    s.type_into("#login", "alice");
    s.click("#register-required");
    s.click("#connect");
    s.wait_text("#status-line", T, |t| t.contains("without registering"));
    for css in [
        "#hold",
        "#transfer",
        "#consult",
        "#complete-transfer",
        "#mute",
    ] {
        assert_eq!(
            s.property(css, "disabled"),
            serde_json::json!(true),
            "{css} is enabled without a call"
        );
    }

    s.type_into(
        "#callee",
        &format!("sip:svc@127.0.0.1:{}", peer.addr().port()),
    );
    s.click("#call");
    s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
    assert_eq!(s.property("#hold", "disabled"), serde_json::json!(false));
    // Mute is real now (the core mutes the call's microphone): it toggles and says so.
    assert_eq!(s.property("#mute", "disabled"), serde_json::json!(false));
    s.click("#mute");
    s.wait_text("#mute", T, |t| t == "Unmute");
    assert_eq!(
        s.attribute("#mute", "aria-pressed").as_deref(),
        Some("true")
    );
    s.click("#mute");
    s.wait_text("#mute", T, |t| t == "Mute");

    // The digit key goes to the keypad during a call (focus on a button, not in a text field).
    s.send_keys("#hold", "5");
    wait_trace(&peer, "Signal=5");
    s.wait_text("#dtmf-status", T, |t| t.contains("Sent DTMF 5"));

    s.click("#hold");
    let held = s.wait_text("#call-status", T, |t| t.starts_with("HOLD"));
    assert!(held.contains("you hold the call"), "{held}");
    assert_eq!(s.text("#hold"), "Resume");
    xvfb.screenshot(&shots.join("05-on-hold.png"));
    s.click("#hold");
    s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
    assert_eq!(s.text("#hold"), "Hold");

    // Messages and presence are on the Chat screen.
    s.click("#tab-chat");
    s.type_into("#message-text", "hello from the window");
    s.click("#send-message");
    s.wait_text("#message-log", T, |t| t.contains("hello from the window ✓"));

    s.type_into(
        "#watch-target",
        &format!("sip:carol@127.0.0.1:{}", carol.addr().port()),
    );
    s.click("#watch");
    let watched = s.wait_text("#presence-list", T, |t| t.contains("away"));
    assert!(watched.contains("Busy"), "{watched}");
    xvfb.screenshot(&shots.join("06-message-and-presence.png"));

    // Back on the Phone screen, the transfer controls fold out.
    s.click("#tab-phone");
    s.click("#transfer-toggle");
    s.type_into("#transfer-target", "sip:carol@127.0.0.1:5999");
    s.click("#transfer");
    let ended = s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
    assert!(ended.contains("transferred"), "{ended}");
    let transfer = s.text("#transfer-status");
    assert!(transfer.contains("200 OK"), "{transfer}");
    xvfb.screenshot(&shots.join("07-transferred.png"));

    let outcome = peer.wait().expect("sipp peer finished");
    assert!(
        outcome.success(),
        "the peer did not see every request:\n{outcome}"
    );

    s.click("#disconnect");
    let outcome = carol.wait().expect("sipp presence agent finished");
    assert!(
        outcome.success(),
        "the presence agent did not see the subscription through:\n{outcome}"
    );
}
