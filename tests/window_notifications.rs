//! End to end: desktop notifications of the real `dialtone-app` (WebKitGTK under Xvfb, driven by WebDriver) reach a
//! notification server on the app's session bus, and what the user picks there really acts on the call.
//!
//! The server is `tests/notify/fake_server.py` on a private bus the test shares with the app: it records every
//! `Notify`/`CloseNotification` and plays the user's click by emitting `ActionInvoked` (then `NotificationClosed`),
//! exactly the signals a real server sends. The app registers at a real Kamailio; SIPp calls it through Kamailio.
//!
//! - Incoming call: "Incoming call from SIPp caller" with Answer and Decline (and the default click action);
//!   ActionInvoked "answer" answers (the window shows ESTABLISHED, SIPp gets its 200 and finishes its call);
//!   a second call's "decline" refuses it (SIPp sees 603 Decline).
//! - Missed call: SIPp rings and cancels; the incoming-call notification is withdrawn (CloseNotification) and
//!   "Missed call from Bob" appears; its default action (a click on it) calls Bob back: a SIPp UAS on the port in
//!   Bob's URI gets the INVITE through Kamailio.
//! - Dropped registration: a SIPp registrar grants 2 s and forbids the refresh; "Dialtone is no longer registered"
//!   appears with the 403.
//!
//! Screenshots go to `target/screenshots/`.

mod support;

use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use serde_json::Value;
use std::time::Duration;
use support::desktop::*;
use support::*;

const T: Duration = Duration::from_secs(25);

/// Connects the window's account `alice` to `server` (registering) and waits for "Registered".
fn register(s: &Session, server: std::net::SocketAddr, password: &str) {
    s.type_into("#server-url", &format!("127.0.0.1:{}", server.port()));
    s.type_into("#login", "alice");
    s.type_into("#password", password);
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
}

/// SIPp calling alice through Kamailio.
fn caller(kam: &Kamailio, scenario: &str, keys: &[(&str, String)]) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.remote = Some(kam.udp_addr());
    args.service = Some("alice".into());
    args.keys = keys
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Sipp::uac(Scenario::peer(scenario), args).expect("start the calling SIPp")
}

fn has_action(n: &Value, key: &str, label: &str) -> bool {
    actions(n).iter().any(|(k, l)| k == key && l == label)
}

#[test]
fn incoming_call_notification_answers_and_declines() {
    let shots = screenshot_dir();
    let kam = Kamailio::start(KamailioOpts::udp_tcp(&[("alice", "alicepw")])).expect("kamailio");
    let d = Desk::start("notify-answer");
    register(&d.s, kam.udp_addr(), "alicepw");

    // Answer from the notification.
    let sipp = caller(&kam, "uac_call_then_bye.xml", &[]);
    let ringing = d.notes.wait_notification("Incoming call from", T);
    assert_eq!(
        ringing["summary"], "Incoming call from SIPp caller",
        "{ringing}"
    );
    assert!(
        ringing["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("sip:sipp@127.0.0.1")),
        "{ringing}"
    );
    assert!(has_action(&ringing, "answer", "Answer"), "{ringing}");
    assert!(has_action(&ringing, "decline", "Decline"), "{ringing}");
    assert!(
        actions(&ringing).iter().any(|(k, _)| k == "default"),
        "a click on the notification itself must be reported too: {ringing}"
    );
    d.s.wait_text("#call-status", T, |t| t.starts_with("RING"));
    d.xvfb
        .screenshot(&shots.join("08-incoming-call-notified.png"));
    d.notes.invoke(id_of(&ringing), "answer");
    d.s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
    d.xvfb
        .screenshot(&shots.join("09-answered-from-notification.png"));
    let outcome = sipp.wait().expect("the caller finished");
    assert!(
        outcome.success(),
        "the call answered from the notification did not go through:\n{outcome}"
    );
    assert!(outcome.messages.contains("SIP/2.0 200 OK"), "{outcome}");
    d.s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));

    // Decline from the notification.
    let first = id_of(&ringing);
    let sipp = caller(&kam, "uac_call_expect_refusal.xml", &[]);
    let second = wait_log(
        &d.notes.log,
        "a second incoming-call notification",
        T,
        |e| {
            e["method"] == "Notify"
                && e["id"].as_u64().is_some_and(|id| id != first)
                && e["summary"] == "Incoming call from SIPp caller"
        },
    );
    d.notes.invoke(id_of(&second), "decline");
    let outcome = sipp.wait().expect("the caller finished");
    assert!(
        outcome.success(),
        "the declined call was not refused:\n{outcome}"
    );
    assert!(
        outcome.messages.contains("SIP/2.0 603"),
        "Decline must answer 603 Decline:\n{outcome}"
    );
    let ended =
        d.s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
    assert!(ended.contains("603"), "{ended}");
    // Neither call was missed.
    assert!(
        !d.notes.notifications().iter().any(|n| n["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Missed"))),
        "an answered or declined call was reported missed: {:?}",
        d.notes.notifications()
    );
}

#[test]
fn missed_call_notification_calls_back() {
    let shots = screenshot_dir();
    let kam = Kamailio::start(KamailioOpts::udp_tcp(&[("alice", "alicepw")])).expect("kamailio");
    let d = Desk::start("notify-missed");
    register(&d.s, kam.udp_addr(), "alicepw");

    let bob = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start bob's SIPp UAS");
    let bob_port = bob.addr().port();
    let sipp = caller(
        &kam,
        "uac_ring_then_cancel.xml",
        &[("callback_port", bob_port.to_string())],
    );
    let ringing = d.notes.wait_notification("Incoming call from Bob", T);
    let outcome = sipp.wait().expect("the caller finished");
    assert!(
        outcome.success(),
        "the caller could not ring and cancel:\n{outcome}"
    );
    assert!(outcome.messages.contains("SIP/2.0 487"), "{outcome}");
    // The ringing notification goes when the caller gives up...
    d.notes.wait_closed(id_of(&ringing), T);
    // ...and a missed-call one comes.
    let missed = d.notes.wait_notification("Missed call from Bob", T);
    let bob_uri = format!("sip:bob@127.0.0.1:{bob_port}");
    assert!(
        missed["body"]
            .as_str()
            .is_some_and(|b| b.starts_with(&bob_uri)),
        "{missed}"
    );
    assert!(has_action(&missed, "call-back", "Call back"), "{missed}");
    assert!(
        actions(&missed).iter().any(|(k, _)| k == "default"),
        "{missed}"
    );
    d.xvfb.screenshot(&shots.join("10-missed-call.png"));

    // A click on the notification calls back.
    d.notes.invoke(id_of(&missed), "default");
    let deadline = std::time::Instant::now() + T;
    while !bob.messages().contains(&format!("INVITE {bob_uri}")) {
        assert!(
            std::time::Instant::now() < deadline,
            "bob never got the call-back; his trace:\n{}",
            bob.messages()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    d.s.wait_text("#call-status", T, |t| t.starts_with("ESTABLISHED"));
    d.xvfb.screenshot(&shots.join("11-called-back.png"));
    d.s.click("#hangup");
    d.s.wait_text("#call-status", T, |t| t.starts_with("FINISH"));
    let outcome = bob.wait().expect("bob finished");
    assert!(
        outcome.success(),
        "the call-back did not go through:\n{outcome}"
    );
}

#[test]
fn dropped_registration_is_notified() {
    let d = Desk::start("notify-dropped");
    let registrar = Sipp::uas(
        Scenario::peer("uas_register_then_forbid.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start the SIPp registrar");
    register(&d.s, registrar.addr(), "alicepw");
    let lost = d.notes.wait_notification("no longer registered", T);
    assert_eq!(
        lost["summary"], "Dialtone is no longer registered",
        "{lost}"
    );
    let body = lost["body"].as_str().unwrap_or_default();
    assert!(body.contains("403 Forbidden"), "{lost}");
    assert!(body.contains("sip:alice@127.0.0.1"), "{lost}");
    let outcome = registrar.wait().expect("the registrar finished");
    assert!(outcome.success(), "{outcome}");
    // Disconnecting on purpose afterwards is not a drop.
    d.s.click("#disconnect");
    d.s.wait_text("#reg-status", T, |t| t == "Not connected");
    std::thread::sleep(Duration::from_secs(1));
    let drops = d
        .notes
        .notifications()
        .iter()
        .filter(|n| n["summary"] == "Dialtone is no longer registered")
        .count();
    assert_eq!(drops, 1, "{:?}", d.notes.notifications());
}
