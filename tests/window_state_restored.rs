//! End to end: the main window's position and size are remembered between runs (tauri-plugin-window-state, its
//! `.window-state.json` in the app's config directory) and so are the app settings (`settings.json`).
//!
//! The real `dialtone-app` runs under Xvfb (no window manager: no decorations, so the rectangle comes back exactly
//! up to a few pixels), with a temporary HOME and XDG directories, driven by WebDriver. The window is moved and
//! resized with WebDriver's "Set Window Rect" and a setting is changed in the window; the app is then quit the way a
//! user does it (the tray's **Quit**, through the fake StatusNotifierWatcher on the app's session bus), and started
//! again with the same directories: the window comes up at the same rectangle, and the setting holds its value.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::desktop::*;
use support::*;

const T: Duration = Duration::from_secs(25);
/// Allowance for window decorations and rounding, in pixels.
const SLACK: i64 = 4;
/// Where the window is put: inside the 900x720 Xvfb screen, above the window's minimum size (640x560).
const RECT: (i64, i64, i64, i64) = (37, 23, 700, 600);

fn num(rect: &Value, key: &str) -> i64 {
    rect[key]
        .as_f64()
        .map(|v| v.round() as i64)
        .unwrap_or_else(|| panic!("no {key} in the window rect {rect}"))
}

fn close_to(rect: &Value) -> bool {
    let (x, y, w, h) = RECT;
    (num(rect, "x") - x).abs() <= SLACK
        && (num(rect, "y") - y).abs() <= SLACK
        && (num(rect, "width") - w).abs() <= SLACK
        && (num(rect, "height") - h).abs() <= SLACK
}

#[test]
fn window_rect_and_settings_survive_a_restart() {
    let shots = screenshot_dir();
    let scratch = Scratch::new("winstate");
    let xvfb = Xvfb::start();
    let bus = SessionBus::start();
    let tray = TrayHost::start(&bus, scratch.0.join("tray.jsonl"));
    let _notes = NotificationServer::start(&bus, scratch.0.join("notifications.jsonl"));
    let sandbox = Sandbox::new();
    let app = std::path::PathBuf::from(env!("CARGO_BIN_EXE_dialtone-app"));
    let instance = "app.dialtone.desktop.SingleInstance";

    {
        let driver = TauriDriver::start_on_bus(
            &xvfb.display,
            &shots.join("tauri-driver-winstate-1.log"),
            &bus,
            &sandbox,
        );
        let s = Session::new(&driver, &app);
        s.find("#tab-phone");
        let first = s.window_rect();
        eprintln!("first start: window at {first}");
        assert!(
            !close_to(&first),
            "the window already starts at {first}: the test would prove nothing"
        );
        let set = s.set_window_rect(RECT.0, RECT.1, RECT.2, RECT.3);
        let deadline = Instant::now() + T;
        while !close_to(&s.window_rect()) {
            assert!(
                Instant::now() < deadline,
                "the window did not take {RECT:?}: set gave {set}, now {}",
                s.window_rect()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // A setting changed in the window.
        s.click("#tab-phone");
        s.click("#os-settings-toggle");
        let picked = s.execute(
            "const sel = document.querySelector('#link-action'); sel.value = 'prefill'; \
             sel.dispatchEvent(new Event('change', { bubbles: true })); return sel.value;",
            serde_json::json!([]),
        );
        assert_eq!(picked, serde_json::json!("prefill"));
        s.wait_text("#os-settings-status", T, |t| t == "Saved.");
        xvfb.screenshot(&shots.join("18-window-moved.png"));

        // Quit as a user does: the tray's Quit (the app exits, saving the window state).
        tray.wait_item(T);
        assert!(bus.has_name(instance), "the app does not own {instance}");
        tray.click_and_leave("Quit");
        let deadline = Instant::now() + T;
        while bus.has_name(instance) {
            assert!(Instant::now() < deadline, "the app did not quit");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let state_file = sandbox.app_config_dir().join(".window-state.json");
    let saved = std::fs::read_to_string(&state_file)
        .unwrap_or_else(|e| panic!("no window state in {}: {e}", state_file.display()));
    eprintln!("saved window state: {saved}");

    // Second run, same directories.
    let driver = TauriDriver::start_on_bus(
        &xvfb.display,
        &shots.join("tauri-driver-winstate-2.log"),
        &bus,
        &sandbox,
    );
    let s = Session::new(&driver, &app);
    s.find("#tab-phone");
    let deadline = Instant::now() + T;
    loop {
        let rect = s.window_rect();
        if close_to(&rect) {
            eprintln!("second start: window at {rect}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the window came back at {rect}, not {RECT:?} (saved: {saved})"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let deadline = Instant::now() + T;
    while s.property("#link-action", "value") != serde_json::json!("prefill") {
        assert!(
            Instant::now() < deadline,
            "the link setting was not kept: {}",
            s.property("#link-action", "value")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    xvfb.screenshot(&shots.join("19-window-restored.png"));
}
