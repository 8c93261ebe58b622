//! End to end: click-to-call into the running app. The real `dialtone-app` runs (under Xvfb, driven by WebDriver)
//! and is registered at a real Kamailio; launching the app binary again with a link, as the OS link handler does,
//! hands the link to the running instance over the session bus (tauri-plugin-single-instance) and the second process
//! exits at once.
//!
//! - `dialtone-app sip:bob@127.0.0.1:PORT`: the running instance dials; a SIPp UAS on PORT gets the INVITE through
//!   Kamailio and the window shows the call ESTABLISHED.
//! - `dialtone-app tel:+1-800-FLOWERS`: refused with a message in the window ("letters are not digits").
//! - With the setting switched to "prefill", `dialtone-app "tel:+44 (0)20 7946 0958"` puts `tel:+442079460958` in
//!   the dial field (bringing the Phone screen up from the History screen) instead of calling.
//!
//! Screenshots go to `target/screenshots/`.

mod support;

use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::desktop::*;
use support::*;

const T: Duration = Duration::from_secs(25);

/// Launches the app binary a second time with `link`, as the OS link handler would, and waits for it to exit.
/// Same user (HOME) and same session bus as the running app.
fn second_launch(
    bus: &SessionBus,
    sandbox: &Sandbox,
    display: &str,
    link: &str,
) -> (std::process::ExitStatus, Duration) {
    let app = env!("CARGO_BIN_EXE_dialtone-app");
    let started = Instant::now();
    let mut child = app_command(app, sandbox, bus)
        .arg(link)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("launch the app a second time");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return (status, started.elapsed());
        }
        if started.elapsed() > T {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the second launch with {link:?} did not exit within {T:?}: it did not hand over to the running app");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_launch_with_a_link_makes_the_running_app_dial() {
    let shots = screenshot_dir();
    let kam = Kamailio::start(KamailioOpts::udp_tcp(&[("alice", "alicepw")])).expect("kamailio");
    let desk = Desk::start("deeplink");
    let Desk {
        s,
        xvfb,
        bus,
        sandbox,
        ..
    } = &desk;

    // The arguments the automation launch passes are not links (os.js has shown what came before it listened).
    std::thread::sleep(Duration::from_secs(1));
    let line = s.text("#status-line");
    assert!(
        !line.contains("link"),
        "the first launch reported a link: {line}"
    );

    s.type_into(
        "#server-url",
        &format!("127.0.0.1:{}", kam.udp_addr().port()),
    );
    s.type_into("#login", "alice");
    s.type_into("#password", "alicepw");
    s.click("#connect");
    let badge = s.wait_text("#reg-status", T, |t| {
        t == "Registered" || t.contains("failed")
    });
    assert_eq!(
        badge,
        "Registered",
        "status line: {}",
        s.text("#status-line")
    );

    // A link dials.
    let bob = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("bob's SIPp");
    let link = format!("sip:bob@127.0.0.1:{}", bob.addr().port());
    let (status, took) = second_launch(bus, sandbox, &xvfb.display, &link);
    assert!(status.success(), "the second launch failed: {status}");
    eprintln!("second launch handed {link} over and exited in {took:?}");
    let deadline = Instant::now() + T;
    while !bob.messages().contains(&format!("INVITE {link}")) {
        assert!(
            Instant::now() < deadline,
            "bob never got the call; his trace:\n{}",
            bob.messages()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let up = s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
    assert!(up.contains(&link), "{up}");
    assert!(
        s.text("#status-line").contains(&format!("Calling {link}")),
        "{}",
        s.text("#status-line")
    );
    xvfb.screenshot(&shots.join("12-dialled-from-link.png"));
    s.click("#hangup");
    s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
    let outcome = bob.wait().expect("bob finished");
    assert!(
        outcome.success(),
        "the call from the link did not go through:\n{outcome}"
    );

    // A bad link is told, not dialled.
    let (status, _) = second_launch(bus, sandbox, &xvfb.display, "tel:+1-800-FLOWERS");
    assert!(status.success(), "the second launch failed: {status}");
    let told = s.wait_text("#status-line", T, |t| t.contains("Cannot call this link"));
    assert!(told.contains("letters are not digits"), "{told}");
    xvfb.screenshot(&shots.join("13-bad-link.png"));

    // Prefill instead of dialling, per the setting.
    let set = s.execute(
        "return window.__TAURI__.core.invoke('set_link_action', { action: 'prefill' }).then(() => 'set');",
        serde_json::json!([]),
    );
    assert_eq!(
        set,
        serde_json::json!("set"),
        "set_link_action failed: {set}"
    );
    // From another screen: the link brings the Phone screen up.
    s.click("#tab-history");
    assert_eq!(s.property("#view-phone", "hidden"), serde_json::json!(true));
    let (status, _) = second_launch(bus, sandbox, &xvfb.display, "tel:+44 (0)20 7946 0958");
    assert!(status.success(), "the second launch failed: {status}");
    let deadline = Instant::now() + T;
    loop {
        let value = s.property("#callee", "value");
        if value == serde_json::json!("tel:+442079460958") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dial field was not prefilled: {value}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let shown = s.text("#call-status");
    assert!(
        shown.starts_with("FINISH"),
        "a prefilled link must not dial: {shown}"
    );
    assert_eq!(
        s.property("#view-phone", "hidden"),
        serde_json::json!(false),
        "the prefilled dial field is not on screen"
    );
    xvfb.screenshot(&shots.join("14-link-prefilled.png"));
}
