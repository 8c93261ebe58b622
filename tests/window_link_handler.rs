//! End to end through the real OS path: the running `dialtone-app` (WebKitGTK under Xvfb, driven by WebDriver, with a
//! temporary HOME and XDG directories) registers itself as the desktop's handler of `sip:`, `sips:`, `tel:` and
//! `callto:` links, and `xdg-open LINK` (xdg-utils, generic desktop) then starts `dialtone-app LINK`, which hands the
//! link to the running instance over the session bus.
//!
//! - After start-up, `xdg-mime query default x-scheme-handler/<scheme>` names `dialtone-links.desktop` for every
//!   scheme, and that desktop file (under `$XDG_DATA_HOME/applications`) runs this very binary with `%u`. Nothing
//!   of this lands in the real HOME of whoever runs the test.
//! - The "Clicking a link" setting (Phone screen, `#link-action`) set to "prefill" is saved to `settings.json`;
//!   `xdg-open 'sip:bob@127.0.0.1:PORT?Subject=hi'` then puts the normalized `sip:bob@127.0.0.1:PORT` in the dial
//!   field and bob (a SIPp UAS) receives no INVITE.
//! - Set back to "dial", the same `xdg-open` makes the running app call: bob receives the INVITE (through a real
//!   Kamailio) and the call is established.
//!
//! Screenshots go to `target/screenshots/`.

mod support;

use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::desktop::*;
use support::*;

const T: Duration = Duration::from_secs(25);

/// The desktop file the app writes under `$XDG_DATA_HOME/applications`.
const DESKTOP_FILE: &str = "dialtone-links.desktop";

/// A command with the sandbox's HOME/XDG dirs, the app's session bus and display, on a desktop xdg-utils takes for
/// "generic" (no desktop environment), where a failed lookup cannot fall back to opening a browser.
fn desktop_command(program: &str, sandbox: &Sandbox, bus: &SessionBus, display: &str) -> Command {
    let mut cmd = app_command(require_program(program), sandbox, bus);
    cmd.env("DISPLAY", display)
        .env("BROWSER", "/bin/false")
        .env_remove("XDG_CURRENT_DESKTOP")
        .env_remove("DESKTOP_SESSION")
        .env_remove("KDE_FULL_SESSION")
        .env_remove("GNOME_DESKTOP_SESSION_ID");
    cmd
}

fn default_handler(sandbox: &Sandbox, bus: &SessionBus, display: &str, scheme: &str) -> String {
    let out = desktop_command("xdg-mime", sandbox, bus, display)
        .args(["query", "default", &format!("x-scheme-handler/{scheme}")])
        .stderr(Stdio::null())
        .output()
        .expect("run xdg-mime");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `xdg-open link`, as a click in a browser or mail client does; waits for it to finish.
fn xdg_open(sandbox: &Sandbox, bus: &SessionBus, display: &str, link: &str) {
    let started = Instant::now();
    let mut child = desktop_command("xdg-open", sandbox, bus, display)
        .arg(link)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xdg-open");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            assert!(status.success(), "xdg-open {link} failed ({status}): {err}");
            eprintln!("xdg-open {link} returned in {:?}", started.elapsed());
            return;
        }
        if started.elapsed() > T {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "xdg-open {link} did not return within {T:?}: the launched app did not hand over"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Picks `value` in the `<select>` `css` as the user does (the change event included).
fn choose(s: &Session, css: &str, value: &str) {
    s.click("#os-settings-toggle");
    let picked = s.execute(
        "const sel = document.querySelector(arguments[0]); sel.focus(); sel.value = arguments[1]; \
         sel.dispatchEvent(new Event('change', { bubbles: true })); return sel.value;",
        serde_json::json!([css, value]),
    );
    assert_eq!(
        picked,
        serde_json::json!(value),
        "{css} has no option {value}"
    );
}

/// Waits until `settings.json` in the sandbox's config dir has `key` = `value`.
fn wait_saved(sandbox: &Sandbox, key: &str, value: &str) {
    let path = sandbox.app_config_dir().join("settings.json");
    let deadline = Instant::now() + T;
    loop {
        let saved: Option<serde_json::Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        if saved.as_ref().is_some_and(|v| v[key] == value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never had {key} = {value}: {saved:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What registering a link handler touches in a HOME: the handler's desktop file and the default-app list.
fn handler_files(
    home: &std::path::Path,
) -> Vec<(std::path::PathBuf, Option<std::time::SystemTime>)> {
    [
        home.join(".local/share/applications").join(DESKTOP_FILE),
        home.join(".config/mimeapps.list"),
        home.join(".local/share/applications/mimeapps.list"),
    ]
    .into_iter()
    .map(|p| {
        let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
        (p, modified)
    })
    .collect()
}

#[test]
fn the_app_registers_as_the_link_handler_and_xdg_open_dials_or_prefills_per_the_setting() {
    // The real HOME of whoever runs the tests must not be touched.
    let real_home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let before = real_home.as_deref().map(handler_files);
    let shots = screenshot_dir();
    let kam = Kamailio::start(KamailioOpts::udp_tcp(&[("alice", "alicepw")])).expect("kamailio");
    let desk = Desk::start("linkhandler");
    let Desk {
        s,
        xvfb,
        bus,
        sandbox,
        ..
    } = &desk;

    // Registered for every scheme, in the sandbox's XDG dirs, pointing at this binary.
    for scheme in ["sip", "sips", "tel", "callto"] {
        let deadline = Instant::now() + T;
        loop {
            let handler = default_handler(sandbox, bus, &xvfb.display, scheme);
            if handler == DESKTOP_FILE {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "x-scheme-handler/{scheme} is handled by {handler:?}, not {DESKTOP_FILE}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let entry_path = sandbox
        .home()
        .join(".local/share/applications")
        .join(DESKTOP_FILE);
    let entry = std::fs::read_to_string(&entry_path).expect("the handler's desktop file");
    let exec = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .unwrap_or_default();
    assert_eq!(
        exec,
        format!("{} %u", env!("CARGO_BIN_EXE_dialtone-app")),
        "the desktop file must run this binary:\n{entry}"
    );
    let mimes = entry
        .lines()
        .find_map(|l| l.strip_prefix("MimeType="))
        .unwrap_or_default();
    for scheme in ["sip", "sips", "tel", "callto"] {
        assert!(
            mimes.contains(&format!("x-scheme-handler/{scheme};")),
            "{scheme} missing from MimeType={mimes}"
        );
    }

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
    assert_eq!(badge, "Registered", "{}", s.text("#status-line"));

    let mut args = SippArgs::new(free_port());
    args.timeout = Duration::from_secs(120);
    let bob = Sipp::uas(Scenario::peer("uas_answer_200.xml"), args).expect("bob's SIPp");
    let target = format!("sip:bob@127.0.0.1:{}", bob.addr().port());
    let link = format!("{target}?Subject=hi");

    // Prefill: the dial field gets the link without its headers; nothing is sent.
    s.click("#tab-phone");
    choose(s, "#link-action", "prefill");
    wait_saved(sandbox, "linkAction", "prefill");
    s.wait_text("#os-settings-status", T, |t| t == "Saved.");
    s.click("#tab-history");
    xdg_open(sandbox, bus, &xvfb.display, &link);
    let deadline = Instant::now() + T;
    loop {
        let value = s.property("#callee", "value");
        if value == serde_json::json!(target) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dial field was not prefilled with {target}: {value}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        s.property("#view-phone", "hidden"),
        serde_json::json!(false),
        "the prefilled dial field is not on screen"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !bob.messages().contains("INVITE sip:"),
        "a prefilled link must not dial; bob got:\n{}",
        bob.messages()
    );
    assert!(
        !s.text("#call-status").starts_with("CALLING"),
        "{}",
        s.text("#call-status")
    );
    xvfb.screenshot(&shots.join("16-xdg-open-prefilled.png"));

    // Dial: the same link through xdg-open makes the running app call bob.
    s.type_into("#callee", "");
    choose(s, "#link-action", "dial");
    wait_saved(sandbox, "linkAction", "dial");
    xdg_open(sandbox, bus, &xvfb.display, &link);
    let deadline = Instant::now() + T;
    while !bob.messages().contains(&format!("INVITE {target} SIP/2.0")) {
        assert!(
            Instant::now() < deadline,
            "bob never got the call; his trace:\n{}",
            bob.messages()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !bob.messages().contains("Subject: hi"),
        "headers from a link must not reach the INVITE:\n{}",
        bob.messages()
    );
    let up = s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
    assert!(up.contains(&target), "{up}");
    xvfb.screenshot(&shots.join("17-xdg-open-dialled.png"));
    s.click("#hangup");
    s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
    let outcome = bob.wait().expect("bob finished");
    assert!(
        outcome.success(),
        "the call from the link failed:\n{outcome}"
    );
    assert_eq!(
        real_home.as_deref().map(handler_files),
        before,
        "the test registered a link handler in the real HOME"
    );
}
