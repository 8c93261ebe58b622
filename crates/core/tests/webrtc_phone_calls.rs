//! A Dialtone CLI phone answers WebRTC-profile offers (`UDP/TLS/RTP/SAVPF`) itself — no relay: headless
//! Chromium running JsSIP registers over ws:// to Kamailio (websocket module, SDP passed through untouched)
//! and calls the phone, registered to the same Kamailio over UDP. The phone's answer carries ICE, DTLS,
//! rtcp-mux and BUNDLE from its own peer connection; its call audio runs behind the bridge.
//!
//! Audio is checked as audio both ways: the browser's fake microphone plays 700 Hz and the phone's
//! `--record` must hold 700 Hz; the phone sends `--tone 500` and the page's WebAudio analyser must hear
//! 500 Hz, with getStats inbound-rtp bytesReceived > 0.
//!
//! The reverse direction: the phone places a call with `--media-profile webrtc` (its own peer connection
//! makes the `UDP/TLS/RTP/SAVPF` offer) and the browser answers; tones are checked the same way.
//!
//! Every test re-runs itself inside a private network namespace with only loopback (`unshare -n`, root).
//! Missing Chromium, node, the npm packages or Kamailio's websocket module fail the test.

mod browser_support;
mod cli;

use browser_support::{heard_tone, in_private_netns, tone_wav, Browser, PhonePage};
use cli::{is_call, is_reg, Cli};
use dialtone_testkit::{free_port, Kamailio, KamailioOpts};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
/// The browser's fake microphone.
const BROWSER_HZ: f64 = 700.0;
/// The Dialtone phone's `--tone`.
const PHONE_HZ: f64 = 500.0;
const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw")];

/// Kamailio on UDP and WS (127.0.0.1), and the JsSIP page pointed at its WS port.
fn kamailio_and_page() -> (Kamailio, PhonePage) {
    let port = free_port();
    let kamailio = Kamailio::start(KamailioOpts {
        udp_port: port,
        // Our WebRTC INVITE (every candidate in its SDP) is over 1300 bytes: RFC 3261 §18.1.1 sends it over TCP.
        tcp_port: Some(port),
        tls_port: None,
        ws_port: Some(free_port()),
        wss_port: None,
        users: USERS,
    })
    .expect("start Kamailio with its websocket module (scripts/setup.sh installs kamailio-websocket-modules)");
    let ws = kamailio.ws_addr().expect("a WS listener");
    // The domain carries Kamailio's port so that `sip:bob@DOMAIN` is "myself" to it.
    let page = PhonePage::serve(&format!("ws://{ws}"), &kamailio.udp_addr().to_string());
    (kamailio, page)
}

/// Bob: a Dialtone phone over UDP that answers, sends 500 Hz and records what it hears.
fn bob(kamailio: &Kamailio, record: &Path, extra: &[&str]) -> Cli {
    let account = format!("sip:bob@{}", kamailio.udp_addr());
    let mut args = vec![
        "--account",
        &account,
        "--password-env",
        "DIALTONE_TEST_PASSWORD",
        "--auto-answer",
        "--tone",
        "500",
        "--record",
        record.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let mut bob = Cli::phone(&args, "bobpw");
    bob.wait_for("bob REGISTERED", T, is_reg("REGISTERED"));
    bob
}

fn alice_calls_bob(page: &PhonePage, wav: &Path, hold_ms: u64) -> Browser {
    let mut browser = Browser::start(serde_json::json!({
        "page": page.url, "user": "alice", "password": "alicepw", "action": "call", "target": "bob",
        "holdMs": hold_ms, "hangup": true, "toneWav": wav,
    }));
    browser.wait_for("registered", T);
    browser
}

/// What the phone's recording holds: the browser's tone, decoded from Opus by the phone's own audio task.
fn assert_phone_heard_the_browser(record: &Path) {
    let heard = dialtone_devices::analysis::analyze_wav(record, Duration::from_secs(1))
        .expect("the phone's recording");
    let dominant = heard.dominant_hz.unwrap_or(0.0);
    assert!(
        (dominant - BROWSER_HZ).abs() <= 15.0 && heard.rms > 0.02,
        "the Dialtone phone should hear the browser's {BROWSER_HZ} Hz: {heard:?}"
    );
    eprintln!("phone heard: {dominant:.1} Hz, rms {:.3}", heard.rms);
}

/// An event of `cli` matching `pred`, seen already or still to come (events may precede the call state
/// that was waited for).
fn seen_or_wait(cli: &mut Cli, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    match cli.seen.iter().find(|v| pred(v)) {
        Some(v) => v.clone(),
        None => cli.wait_for(what, T, pred),
    }
}

fn received_bytes(result: &Value) -> u64 {
    result["stats"]["bytesReceived"].as_u64().unwrap_or(0)
}

#[test]
fn browser_calls_a_dialtone_phone_which_answers_with_webrtc() {
    if !in_private_netns("browser_calls_a_dialtone_phone_which_answers_with_webrtc") {
        return;
    }
    let (kamailio, page) = kamailio_and_page();
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("bob-hears-the-browser.wav");
    let mut bob = bob(&kamailio, &record, &[]);
    let wav = tone_wav(dir.path(), BROWSER_HZ, 30);
    let mut browser = alice_calls_bob(&page, &wav, 6000);

    let established = browser.wait_for("established", T);
    bob.wait_for("bob ESTABLISHED", T, is_call("ESTABLISHED"));
    eprintln!(
        "setup: browser dialled -> established in {} ms",
        established["ms"]
    );
    let media = seen_or_wait(&mut bob, "bob's media", |v| v["event"] == "media");
    // Opus end to end: the bridge forwards the browser's packets to the audio task untouched.
    assert_eq!(media["codec"], "opus/48000", "{media}");
    let stats = bob.wait_for("bob's running stats", T, |v| {
        v["event"] == "stats"
            && v["final"] == false
            && v["stats"]["packets_received"].as_u64() > Some(20)
    });
    eprintln!("phone stats during the call: {}", stats["stats"]);

    let result = browser.wait_for("result", T);
    let received = received_bytes(&result);
    assert!(
        received > 10_000,
        "inbound-rtp bytesReceived {received}: {result}"
    );
    let heard = heard_tone(&result, PHONE_HZ);
    assert!(
        heard >= 6,
        "the page's analyser heard the phone's {PHONE_HZ} Hz in {heard} samples: {result}"
    );
    eprintln!(
        "browser: bytesReceived {received}, bytesSent {}, heard {PHONE_HZ} Hz in {heard} samples",
        result["stats"]["bytesSent"]
    );
    // The browser hung up: BYE over WS through Kamailio, the phone's bridge and audio close.
    bob.wait_for("bob FINISH", T, is_call("FINISH"));
    let last = seen_or_wait(&mut bob, "bob's final stats", |v| {
        v["event"] == "stats" && v["final"] == true
    });
    assert!(
        last["stats"]["packets_sent"].as_u64().unwrap_or(0) > 100,
        "{last}"
    );
    assert_phone_heard_the_browser(&record);
    assert!(
        !bob.seen.iter().any(|v| v["event"] == "error"),
        "the phone reported errors: {:#?}",
        bob.seen
    );
}

#[test]
fn a_dialtone_phone_holds_and_resumes_a_webrtc_call_from_the_browser() {
    if !in_private_netns("a_dialtone_phone_holds_and_resumes_a_webrtc_call_from_the_browser") {
        return;
    }
    let (kamailio, page) = kamailio_and_page();
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("bob-hears-the-browser.wav");
    let mut bob = bob(
        &kamailio,
        &record,
        &["--hold-after", "2", "--resume-after", "2"],
    );
    let wav = tone_wav(dir.path(), BROWSER_HZ, 30);
    let mut browser = alice_calls_bob(&page, &wav, 10_000);
    browser.wait_for("established", T);
    bob.wait_for("bob ESTABLISHED", T, is_call("ESTABLISHED"));
    // Our re-INVITE (sendonly) in the same ICE/DTLS session: the browser answers recvonly.
    let hold = bob.wait_for("bob HOLD", T, is_call("HOLD"));
    eprintln!("hold: {hold}");
    let media = seen_or_wait(&mut bob, "bob's media while holding", |v| {
        v["event"] == "media" && v["direction"] == "sendonly"
    });
    eprintln!("while holding: {media}");
    bob.wait_for("bob ESTABLISHED again", T, is_call("ESTABLISHED"));
    let resumed = bob
        .seen
        .iter()
        .rev()
        .find(|v| v["event"] == "media")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        resumed["direction"], "sendrecv",
        "after resuming: {resumed}"
    );

    let result = browser.wait_for("result", T);
    assert!(received_bytes(&result) > 10_000, "{result}");
    let samples = result["heard"].as_array().cloned().unwrap_or_default();
    // While held the phone sends silence (RFC 3264 sendonly with the microphone off): the page's level drops.
    let quietest = samples
        .iter()
        .filter_map(|s| s["levelDb"].as_f64())
        .fold(f64::INFINITY, f64::min);
    assert!(
        quietest < -40.0,
        "the hold should silence the phone's tone at the browser (quietest {quietest} dB): {result}"
    );
    // After the resume (the last ~3 s of the 10 s the page sampled) the phone's tone is heard again.
    let tail = serde_json::json!({ "heard": samples[samples.len().saturating_sub(6)..].to_vec() });
    let heard_after = heard_tone(&tail, PHONE_HZ);
    assert!(
        heard_after >= 3,
        "after the resume the page should hear {PHONE_HZ} Hz again ({heard_after} of the last 6 samples): {result}"
    );
    bob.wait_for("bob FINISH", T, is_call("FINISH"));
    assert_phone_heard_the_browser(&record);
    let states = bob.call_states();
    eprintln!("bob's call states: {states:?}");
}

#[test]
fn a_dialtone_phone_calls_the_browser_with_a_webrtc_offer() {
    if !in_private_netns("a_dialtone_phone_calls_the_browser_with_a_webrtc_offer") {
        return;
    }
    let (kamailio, page) = kamailio_and_page();
    let dir = tempfile::tempdir().expect("temp dir");
    let wav = tone_wav(dir.path(), BROWSER_HZ, 30);
    let mut browser = Browser::start(serde_json::json!({
        "page": page.url, "user": "bob", "password": "bobpw", "action": "answer",
        "holdMs": 5000, "hangup": false, "toneWav": wav,
    }));
    browser.wait_for("registered", T);

    let record = dir.path().join("alice-hears-the-browser.wav");
    let account = format!("sip:alice@{}", kamailio.udp_addr());
    let target = format!("sip:bob@{}", kamailio.udp_addr());
    let mut alice = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--media-profile",
            "webrtc",
            "--call",
            &target,
            "--hangup-after",
            "7",
            "--tone",
            "500",
            "--record",
            record.to_str().expect("utf-8 path"),
        ],
        "alicepw",
    );
    alice.wait_for("alice ESTABLISHED", T, is_call("ESTABLISHED"));
    browser.wait_for("established", T);
    let media = seen_or_wait(&mut alice, "alice's media", |v| v["event"] == "media");
    assert_eq!(media["codec"], "opus/48000", "{media}");

    let result = browser.wait_for("result", T);
    assert_eq!(
        result["state"]["call"], "ended",
        "the phone hung up: {result}"
    );
    let received = received_bytes(&result);
    assert!(
        received > 10_000,
        "inbound-rtp bytesReceived {received}: {result}"
    );
    let heard = heard_tone(&result, PHONE_HZ);
    assert!(
        heard >= 6,
        "the page's analyser heard the phone's {PHONE_HZ} Hz in {heard} samples: {result}"
    );
    seen_or_wait(&mut alice, "alice FINISH", is_call("FINISH"));
    assert_phone_heard_the_browser(&record);
    assert!(
        !alice.seen.iter().any(|v| v["event"] == "error"),
        "the phone reported errors: {:#?}",
        alice.seen
    );
}

/// The digits of `cli`'s `dtmf` events going `flow` (`sent` or `received`), with their methods.
fn dtmf_digits(cli: &Cli, flow: &str) -> (String, Vec<String>) {
    let events: Vec<&Value> = cli
        .seen
        .iter()
        .filter(|v| v["event"] == "dtmf" && v["flow"] == flow)
        .collect();
    let digits = events
        .iter()
        .filter_map(|v| v["digit"].as_str())
        .collect::<String>();
    let methods = events
        .iter()
        .map(|v| v["method"].as_str().unwrap_or("").to_owned())
        .collect();
    (digits, methods)
}

#[test]
fn dtmf_travels_as_rfc4733_events_in_a_webrtc_call_both_ways() {
    if !in_private_netns("dtmf_travels_as_rfc4733_events_in_a_webrtc_call_both_ways") {
        return;
    }
    let (kamailio, page) = kamailio_and_page();
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("bob-hears-the-browser.wav");
    // Bob sends digits with the default method (auto: RFC 4733 when the call negotiated telephone-events).
    let mut bob = bob(&kamailio, &record, &["--dtmf", "15#", "--dtmf-after", "1"]);
    let wav = tone_wav(dir.path(), BROWSER_HZ, 30);
    let mut browser = Browser::start(serde_json::json!({
        "page": page.url, "user": "alice", "password": "alicepw", "action": "call", "target": "bob",
        "holdMs": 5000, "hangup": true, "toneWav": wav, "dtmf": "15#", "dtmfAtMs": 1500,
    }));
    browser.wait_for("registered", T);
    browser.wait_for("established", T);
    bob.wait_for("bob ESTABLISHED", T, is_call("ESTABLISHED"));
    let media = seen_or_wait(&mut bob, "bob's media", |v| v["event"] == "media");
    // The bridge's plain leg negotiated telephone-event/48000 next to Opus with the audio task.
    assert!(
        media["telephone_event"].is_u64(),
        "telephone-events negotiated on the internal hop: {media}"
    );
    browser.wait_for("dtmf_sent", T);
    // Chromium's RTCDTMFSender events, through ICE/DTLS-SRTP and the bridge, decoded by the audio task.
    for _ in 0..3 {
        bob.wait_for("a digit from the browser", T, |v| {
            v["event"] == "dtmf" && v["flow"] == "received"
        });
    }
    browser.wait_for("result", T);
    bob.wait_for("bob FINISH", T, is_call("FINISH"));
    let (received, methods) = dtmf_digits(&bob, "received");
    assert_eq!(received, "15#", "digits from the browser");
    assert!(
        methods.iter().all(|m| m == "rfc4733"),
        "received as RFC 4733 events, not SIP INFO: {methods:?}"
    );
    let (sent, methods) = dtmf_digits(&bob, "sent");
    assert_eq!(sent, "15#", "bob's own digits");
    assert!(
        methods.iter().all(|m| m == "rfc4733"),
        "sent as RFC 4733 events (auto picks them once negotiated): {methods:?}"
    );
    assert!(
        !bob.seen
            .iter()
            .any(|v| v["event"] == "error" || v["event"] == "dtmf_failed"),
        "the phone reported errors: {:#?}",
        bob.seen
    );
}

/// A Dialtone phone registered with `kamailio` as `user`, with `extra` flags.
fn kamailio_phone(kamailio: &Kamailio, user: &str, password: &str, extra: &[&str]) -> Cli {
    let account = format!("sip:{user}@{}", kamailio.udp_addr());
    let mut args = vec![
        "--account",
        &account,
        "--password-env",
        "DIALTONE_TEST_PASSWORD",
        "--timeout",
        "60",
    ];
    args.extend_from_slice(extra);
    let mut cli = Cli::phone(&args, password);
    cli.wait_for(&format!("{user} REGISTERED"), T, is_reg("REGISTERED"));
    cli
}

/// Attended transfer onto a WebRTC-profile call: alice (`--media-profile webrtc`) calls bob, then consults carol —
/// carol answers that WebRTC offer through her bridge — and REFERs bob to carol with Replaces. Bob's INVITE with
/// Replaces (`bob_flags`: his media profile) takes over carol's call: her old bridge is stopped and the replacing
/// offer gets media of its own. Carol's recording runs on across both dialogs (the same audio task): its last
/// stretch must hold bob's tone, alice sending silence.
fn replaces_takes_over_a_webrtc_call(bob_flags: &[&str]) {
    const BOB_HZ: f64 = 900.0;
    let users: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw"), ("carol", "carolpw")];
    let port = free_port();
    let kamailio = Kamailio::start(KamailioOpts {
        udp_port: port,
        tcp_port: Some(port),
        tls_port: None,
        ws_port: None,
        wss_port: None,
        users,
    })
    .expect("start Kamailio");
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("carol.wav");
    let mut carol = kamailio_phone(
        &kamailio,
        "carol",
        "carolpw",
        &[
            "--auto-answer",
            "--calls",
            "2",
            "--tone",
            "500",
            "--record",
            record.to_str().expect("utf-8 path"),
        ],
    );
    let mut bob_args = vec![
        "--auto-answer",
        "--calls",
        "2",
        "--hangup-after",
        "4",
        "--tone",
        "900",
    ];
    bob_args.extend_from_slice(bob_flags);
    let mut bob = kamailio_phone(&kamailio, "bob", "bobpw", &bob_args);
    let bob_aor = format!("sip:bob@{}", kamailio.udp_addr());
    let carol_aor = format!("sip:carol@{}", kamailio.udp_addr());
    let mut alice = kamailio_phone(
        &kamailio,
        "alice",
        "alicepw",
        &[
            "--media-profile",
            "webrtc",
            "--no-mic",
            "--call",
            &bob_aor,
            "--attended-transfer-to",
            &carol_aor,
            "--transfer-after",
            "0.5",
        ],
    );
    alice.wait_for("transfer 200", T, |v| {
        v["event"] == "transfer" && v["role"] == "transferor" && v["code"] == 200
    });
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());

    let replacing = carol.wait_for("carol's replacing call", T, |v| {
        v["event"] == "call" && v["state"] == "ESTABLISHED" && v["replaces"].is_u64()
    });
    let consult = replacing["replaces"].clone();
    let consult_media = carol
        .seen
        .iter()
        .find(|v| v["event"] == "media" && v["id"] == consult)
        .cloned()
        .expect("the consult call's media");
    eprintln!("carol's consult call (WebRTC from alice): {consult_media}");
    assert_eq!(
        bob.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        bob.stderr()
    );
    assert_eq!(
        carol.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        carol.stderr()
    );
    let media = carol
        .seen
        .iter()
        .rev()
        .find(|v| v["event"] == "media" && v["id"] == replacing["id"])
        .cloned()
        .expect("the replacing call's media");
    eprintln!("carol's replacing call: {media}");
    assert_eq!(media["direction"], "sendrecv", "{media}");
    let last = carol
        .seen
        .iter()
        .find(|v| v["event"] == "stats" && v["final"] == true && v["id"] == replacing["id"])
        .cloned()
        .expect("carol's final stats");
    assert!(
        last["stats"]["packets_received"].as_u64().unwrap_or(0) > 100,
        "{last}"
    );
    // The replaced dialog's silence first, bob's tone in the last seconds.
    let heard = dialtone_devices::analysis::analyze_wav(&record, Duration::from_secs(3))
        .expect("carol's recording");
    eprintln!("carol heard: {heard:?}");
    assert!(
        heard
            .dominant_hz
            .is_some_and(|hz| (hz - BOB_HZ).abs() <= 15.0)
            && heard.rms > 0.02,
        "carol should hear bob's {BOB_HZ} Hz through the replacing call: {heard:?}"
    );
    assert!(
        !carol.seen.iter().any(|v| v["event"] == "error"),
        "carol reported errors: {:#?}",
        carol.seen
    );
}

#[test]
fn a_plain_invite_with_replaces_takes_over_a_webrtc_call() {
    replaces_takes_over_a_webrtc_call(&[]);
}

#[test]
fn a_webrtc_invite_with_replaces_takes_over_a_webrtc_call_with_a_new_bridge() {
    replaces_takes_over_a_webrtc_call(&["--media-profile", "webrtc"]);
}
