//! End to end: the tray icon of the real `dialtone-app` (WebKitGTK under Xvfb, driven by WebDriver). Its menu is read
//! and clicked over D-Bus (com.canonical.dbusmenu), as a panel does, through `tests/notify/tray_host.py`: a fake
//! StatusNotifierWatcher on the app's private session bus that the app's tray item (libayatana-appindicator)
//! registers with.
//!
//! - The menu has the status line, Show Dialtone, Do not disturb (a check item) and Quit; the status line follows the
//!   registration at a real Kamailio ("Not connected" → "Registered as sip:alice@127.0.0.1").
//! - Do not disturb: checked from the tray, a call from SIPp through Kamailio is refused with 486 Busy Here (the
//!   default setting) straight after 100 Trying — SIPp sees the 486 and no 180 Ringing —, no incoming-call
//!   notification is shown and the window shows the call FINISHed with 486. With the setting switched to 480 in the
//!   window while DND is on, the next call gets 480 Temporarily Unavailable, again without a 180, and
//!   `settings.json` says so. Unchecked, the next call rings again (180 reaches SIPp; it is declined from the
//!   window: 603, and its notification is withdrawn).
//! - Quit ends the app.
//!
//! Screenshots go to `target/screenshots/`.

mod support;

use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::desktop::*;
use support::*;

const T: Duration = Duration::from_secs(25);

fn entry<'a>(menu: &'a [Value], label: &str) -> &'a Value {
    menu.iter()
        .find(|e| e["label"] == label)
        .unwrap_or_else(|| panic!("no tray menu entry {label:?} in {menu:?}"))
}

/// Waits until the tray menu's first entry (the status line) satisfies `pred`.
fn wait_status(tray: &TrayHost, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + T;
    loop {
        let menu = tray.menu();
        let status = menu
            .first()
            .and_then(|e| e["label"].as_str())
            .unwrap_or_default()
            .to_string();
        if pred(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the tray status stayed {status:?}; menu: {menu:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn caller(kam: &Kamailio) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.remote = Some(kam.udp_addr());
    args.service = Some("alice".into());
    Sipp::uac(Scenario::peer("uac_call_expect_refusal.xml"), args).expect("start the calling SIPp")
}

#[test]
fn tray_shows_registration_and_do_not_disturb_refuses_calls() {
    let shots = screenshot_dir();
    let kam = Kamailio::start(KamailioOpts::udp_tcp(&[("alice", "alicepw")])).expect("kamailio");
    let desk = Desk::with_tray("tray");
    let Desk {
        s,
        xvfb,
        bus,
        sandbox,
        notes,
        tray,
        ..
    } = &desk;
    let tray = tray.as_ref().expect("the tray host");

    tray.wait_item(T);
    let menu = tray.menu();
    assert_eq!(
        menu.first().map(|e| e["label"].clone()),
        Some("Not connected".into()),
        "{menu:?}"
    );
    assert_eq!(
        menu[0]["enabled"], false,
        "the status line is not an action: {menu:?}"
    );
    assert_eq!(entry(&menu, "Show Dialtone")["enabled"], true);
    assert_eq!(entry(&menu, "Do not disturb")["toggle"], 0, "{menu:?}");
    assert_eq!(entry(&menu, "Quit")["enabled"], true);

    s.type_into(
        "#server-url",
        &format!("127.0.0.1:{}", kam.udp_addr().port()),
    );
    s.type_into("#login", "alice");
    s.type_into("#password", "alicepw");
    s.click("#connect");
    s.wait_text("#reg-status", T, |t| t == "Registered");
    let status = wait_status(tray, |t| t.starts_with("Registered as"));
    assert_eq!(status, "Registered as sip:alice@127.0.0.1");

    // Do not disturb on: a call is refused with 486 and never rings here.
    let dnd = tray.click("Do not disturb");
    assert_eq!(dnd["toggle"], 1, "{dnd}");
    s.wait_text("#status-line", T, |t| {
        t.contains("Do not disturb: incoming calls are refused (486)")
    });
    let sipp = caller(&kam);
    let outcome = sipp.wait().expect("the caller finished");
    assert!(outcome.success(), "the call was not refused:\n{outcome}");
    assert!(
        outcome.messages.contains("SIP/2.0 486 Busy Here"),
        "do-not-disturb must answer 486:\n{outcome}"
    );
    assert!(
        !outcome.messages.contains("SIP/2.0 200"),
        "a refused call must not be answered:\n{outcome}"
    );
    assert!(
        !outcome.messages.contains("SIP/2.0 180"),
        "do-not-disturb must refuse without ringing first:\n{outcome}"
    );
    let shown = s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
    assert!(shown.contains("486"), "{shown}");
    assert!(
        notes.notifications().is_empty(),
        "a refused call was notified: {:?}",
        notes.notifications()
    );
    xvfb.screenshot(&shots.join("15-do-not-disturb.png"));

    // The setting says 480: applied at once while do-not-disturb is on, and saved.
    s.click("#tab-phone");
    s.click("#os-settings-toggle");
    let picked = s.execute(
        "const sel = document.querySelector('#dnd-refusal'); sel.value = 'unavailable'; \
         sel.dispatchEvent(new Event('change', { bubbles: true })); return sel.value;",
        serde_json::json!([]),
    );
    assert_eq!(picked, serde_json::json!("unavailable"));
    s.wait_text("#status-line", T, |t| {
        t.contains("Do not disturb: incoming calls are refused (480)")
    });
    let saved = std::fs::read_to_string(sandbox.app_config_dir().join("settings.json"))
        .expect("settings.json");
    let saved: Value = serde_json::from_str(&saved).expect("settings.json is JSON");
    assert_eq!(saved["dndRefusal"], "unavailable", "{saved}");
    let sipp = caller(&kam);
    let outcome = sipp.wait().expect("the caller finished");
    assert!(outcome.success(), "the call was not refused:\n{outcome}");
    assert!(
        outcome
            .messages
            .contains("SIP/2.0 480 Temporarily Unavailable"),
        "do-not-disturb set to 480 must answer 480:\n{outcome}"
    );
    assert!(
        !outcome.messages.contains("SIP/2.0 180") && !outcome.messages.contains("SIP/2.0 486"),
        "only 100 and the 480 may answer:\n{outcome}"
    );
    let shown = s.wait_text("#call-status", T, |t| t.contains("480"));
    assert!(shown.starts_with("FINISH"), "{shown}");
    assert!(
        notes.notifications().is_empty(),
        "a refused call was notified: {:?}",
        notes.notifications()
    );
    xvfb.screenshot(&shots.join("15b-do-not-disturb-480.png"));

    // Off again: the next call rings (a notification comes) and the window can decline it.
    let dnd = tray.click("Do not disturb");
    assert_eq!(dnd["toggle"], 0, "{dnd}");
    s.wait_text("#status-line", T, |t| t.contains("Do not disturb is off"));
    let sipp = caller(&kam);
    let ringing = notes.wait_notification("Incoming call from SIPp caller", T);
    s.wait_text("#call-status", T, |t| t.starts_with("RING"));
    s.click("#decline");
    // Declined in the window: its notification is withdrawn.
    notes.wait_closed(id_of(&ringing), T);
    let outcome = sipp.wait().expect("the caller finished");
    assert!(outcome.success(), "{outcome}");
    assert!(outcome.messages.contains("SIP/2.0 603"), "{outcome}");
    assert!(
        outcome.messages.contains("SIP/2.0 180 Ringing"),
        "a call that rings here sends 180:\n{outcome}"
    );

    // Quit ends the app: its single-instance name leaves the bus (it is released when the process exits).
    let instance = "app.dialtone.desktop.SingleInstance";
    assert!(
        bus.has_name(instance),
        "the running app does not own {instance}"
    );
    tray.click_and_leave("Quit");
    let deadline = Instant::now() + T;
    while bus.has_name(instance) {
        assert!(
            Instant::now() < deadline,
            "the app did not quit from the tray"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
