//! Headless Chromium and the relay's browser phone page: the page (JsSIP, served by `dialtone relay
//! --http`) registers over ws:// and calls through the relay's WebRTC-to-RTP bridge — to a Dialtone CLI
//! phone, from a Dialtone CLI phone, and to/from SIPp with `-rtp_echo` so the browser hears its own tone
//! back through the bridge (transcoded Opus → PCMU → Opus, or Opus forwarded untouched).
//!
//! What each test proves (the Dialtone CLI phone does not send or record audio yet):
//! * browser ↔ Dialtone phone: the call is established both ways through the bridge (ICE + DTLS-SRTP
//!   with Chromium), the browser sends audio (bytesSent), the bridge transcodes it to PCMU and the RTP
//!   *arrives at the phone's RTP port* (a kernel nftables counter on that port in the test's network
//!   namespace). The browser receives nothing from the phone: the phone sends nothing yet.
//! * browser ↔ SIPp echo: the browser's 700 Hz tone goes out as Opus, comes back through the bridge and
//!   is heard by the page's WebAudio analyser; getStats inbound-rtp bytesReceived > 0.
//!
//! Every test re-runs itself inside a private network namespace with only loopback (`unshare -n`, root),
//! so Chromium, the relay and the phones can reach nothing but 127.0.0.1. Missing Chromium, node or the
//! npm packages fail the test with an install hint.

mod browser_support;
mod cli;
mod relay_support;

use browser_support::{browser_dir, heard_tone, in_private_netns, tone_wav, Browser};
use cli::{is_call, is_reg, Cli};
use dialtone_testkit::{free_port, Scenario, Sipp, SippArgs};
use relay_support::{is_event, RelayProcess};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
/// The tone the browser's fake microphone plays.
const TONE_HZ: f64 = 700.0;

/// The relay with UDP and WS listeners and the page on HTTP.
fn relay() -> (RelayProcess, u16, String) {
    let udp = free_port();
    let ws = free_port();
    let http = free_port();
    let mut relay = RelayProcess::start(&[
        "--listen",
        &format!("udp:127.0.0.1:{udp}"),
        "--listen",
        &format!("ws:127.0.0.1:{ws}"),
        "--http",
        &format!("127.0.0.1:{http}"),
    ]);
    let page = relay.wait_for("page", T, is_event("page"));
    let url = page["url"].as_str().expect("page url").to_string();
    (relay, udp, url)
}

/// A kernel counter of UDP datagrams delivered to `port` (nftables, in the test's namespace).
struct UdpCounter {
    port: u16,
}

impl UdpCounter {
    fn new(port: u16) -> UdpCounter {
        let nft = |args: &str| {
            let status = Command::new("sh")
                .args(["-c", &format!("nft {args}")])
                .status()
                .expect("run nft");
            assert!(status.success(), "nft {args}");
        };
        nft("add table inet dialtone_test");
        nft("'add chain inet dialtone_test input { type filter hook input priority 0; policy accept; }'");
        nft(&format!(
            "add rule inet dialtone_test input udp dport {port} counter"
        ));
        UdpCounter { port }
    }

    /// Datagrams counted so far.
    fn packets(&self) -> u64 {
        let out = Command::new("nft")
            .args(["list", "chain", "inet", "dialtone_test", "input"])
            .output()
            .expect("run nft");
        let text = String::from_utf8_lossy(&out.stdout);
        let rule = text
            .lines()
            .find(|l| l.contains(&format!("dport {}", self.port)))
            .unwrap_or_else(|| panic!("no counter rule in {text}"));
        rule.split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no packet count in {rule}"))
    }
}

fn bridge_event(relay: &mut RelayProcess, name: &'static str) -> Value {
    relay.wait_for(name, T, is_event(name))
}

fn plain_port(established: &Value) -> u16 {
    established["plain_remote"]
        .as_str()
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .unwrap_or_else(|| panic!("no plain_remote in {established}"))
}

#[test]
fn browser_calls_a_dialtone_phone_through_the_bridge() {
    if !in_private_netns("browser_calls_a_dialtone_phone_through_the_bridge") {
        return;
    }
    let (mut relay, udp, page) = relay();
    let account = format!("sip:bob@127.0.0.1:{udp}");
    let bob_rec = relay.dir.path().join("bob-hears-the-browser.wav");
    let mut bob = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--auto-answer",
            // G.711 only, so the bridge must transcode Opus.
            "--codecs",
            "ulaw,alaw,telephone-event",
            "--no-mic",
            "--record",
            bob_rec.to_str().expect("utf-8 path"),
        ],
        "bobpw",
    );
    bob.wait_for("bob REGISTERED", T, is_reg("REGISTERED"));

    let wav = tone_wav(relay.dir.path(), TONE_HZ, 30);
    let mut browser = Browser::start(serde_json::json!({
        "page": page, "user": "alice", "password": "alicepw", "action": "call", "target": "bob",
        "holdMs": 5000, "hangup": true, "toneWav": wav,
    }));
    browser.wait_for("registered", T);
    let reg = relay.wait_for("alice's binding", T, |v| {
        v["event"] == "registered" && v["aor"] == "alice"
    });
    assert!(
        reg["flow"].as_str().unwrap_or("").starts_with("ws:"),
        "{reg}"
    );

    let handed = bridge_event(&mut relay, "bridge_call");
    assert_eq!(handed["direction"], "browser_to_phone", "{handed}");
    let established = browser.wait_for("established", T);
    bob.wait_for("bob ESTABLISHED", T, is_call("ESTABLISHED"));
    let up = bridge_event(&mut relay, "bridge_established");
    eprintln!(
        "setup: browser saw {} ms from dialling; relay: INVITE -> established (ICE+DTLS) {} ms",
        established["ms"], up["setup_ms"]
    );
    assert_eq!(up["webrtc_codec"], "opus", "{up}");
    assert_eq!(
        up["plain_codec"], "ulaw",
        "the Dialtone phone offers G.711 only: {up}"
    );
    assert_eq!(up["transcoding"], true, "{up}");
    let counter = UdpCounter::new(plain_port(&up));

    let result = browser.wait_for("result", T);
    assert!(
        result["stats"]["bytesSent"].as_u64().unwrap_or(0) > 0,
        "{result}"
    );
    bob.wait_for("bob FINISH", T, is_call("FINISH"));
    // What the Dialtone phone played is the browser's tone, transcoded from Opus: checked as audio.
    let heard =
        dialtone_devices::analysis::analyze_wav(&bob_rec, std::time::Duration::from_secs(1))
            .expect("bob's recording");
    let dominant = heard.dominant_hz.unwrap_or(0.0);
    assert!(
        (dominant - TONE_HZ).abs() <= 15.0 && heard.rms > 0.02,
        "the Dialtone phone should hear the browser's {TONE_HZ} Hz: {heard:?}"
    );
    let ended = bridge_event(&mut relay, "bridge_ended");
    let stats = &ended["stats"];
    assert!(
        stats["from_webrtc_packets"].as_u64().unwrap_or(0) > 100,
        "{ended}"
    );
    assert!(
        stats["to_plain_packets"].as_u64().unwrap_or(0) > 100,
        "{ended}"
    );
    let arrived = counter.packets();
    assert!(
        arrived > 100,
        "RTP datagrams delivered to the phone's port: {arrived}"
    );
    eprintln!("RTP delivered to the Dialtone phone's port after established: {arrived} datagrams");
}

#[test]
fn a_dialtone_phone_calls_the_browser_through_the_bridge() {
    if !in_private_netns("a_dialtone_phone_calls_the_browser_through_the_bridge") {
        return;
    }
    let (mut relay, udp, page) = relay();
    let wav = tone_wav(relay.dir.path(), TONE_HZ, 30);
    let mut browser = Browser::start(serde_json::json!({
        "page": page, "user": "bob", "password": "bobpw", "action": "answer",
        "holdMs": 4000, "hangup": false, "toneWav": wav,
    }));
    browser.wait_for("registered", T);
    relay.wait_for("bob's binding", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });

    let account = format!("sip:alice@127.0.0.1:{udp}");
    let mut alice = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--call",
            "bob",
            "--hangup-after",
            "6",
            "--codecs",
            "ulaw,alaw,telephone-event",
            "--tone",
            "700",
        ],
        "alicepw",
    );
    alice.wait_for("alice ESTABLISHED", T, is_call("ESTABLISHED"));
    let handed = bridge_event(&mut relay, "bridge_call");
    assert_eq!(handed["direction"], "phone_to_browser", "{handed}");
    browser.wait_for("established", T);
    let up = bridge_event(&mut relay, "bridge_established");
    eprintln!(
        "setup: relay INVITE -> established (ICE+DTLS) {} ms",
        up["setup_ms"]
    );
    assert_eq!(up["transcoding"], true, "{up}");
    let counter = UdpCounter::new(plain_port(&up));

    alice.wait_for("alice FINISH", T, is_call("FINISH"));
    let result = browser.wait_for("result", T);
    assert_eq!(result["state"]["call"], "ended", "{result}");
    assert!(
        result["stats"]["bytesSent"].as_u64().unwrap_or(0) > 0,
        "{result}"
    );
    let ended = bridge_event(&mut relay, "bridge_ended");
    assert!(
        ended["stats"]["to_plain_packets"].as_u64().unwrap_or(0) > 100,
        "{ended}"
    );
    let arrived = counter.packets();
    assert!(
        arrived > 100,
        "RTP datagrams delivered to the phone's port: {arrived}"
    );
}

/// SIPp registered as bob, answering with `ooc` and echoing RTP.
fn sipp_echo_callee(relay: std::net::SocketAddr, ooc: PathBuf) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.remote = Some(relay);
    args.auth = Some(("bob".into(), "bobpw".into()));
    args.keys.push(("user".into(), "bob".into()));
    args.timeout = Duration::from_secs(40);
    args.extra = vec![
        "-oocsf".into(),
        ooc.display().to_string(),
        "-d".into(),
        "20000".into(),
        "-rtp_echo".into(),
    ];
    Sipp::uac(Scenario::peer("relay_uas_register.xml"), args).expect("start sipp")
}

fn browser_hears_itself(ooc: PathBuf, plain_codec: &str, transcoding: bool) {
    let (mut relay, _, page) = relay();
    let udp = relay.addr("udp");
    let _sipp = sipp_echo_callee(udp, ooc);
    relay.wait_for("sipp's binding", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let wav = tone_wav(relay.dir.path(), TONE_HZ, 30);
    let mut browser = Browser::start(serde_json::json!({
        "page": page, "user": "alice", "password": "alicepw", "action": "call", "target": "bob",
        "holdMs": 6000, "hangup": true, "toneWav": wav,
    }));
    browser.wait_for("established", T);
    let up = bridge_event(&mut relay, "bridge_established");
    eprintln!(
        "setup: relay INVITE -> established (ICE+DTLS) {} ms",
        up["setup_ms"]
    );
    assert_eq!(up["plain_codec"], plain_codec, "{up}");
    assert_eq!(up["transcoding"], transcoding, "{up}");
    let result = browser.wait_for("result", T);
    let received = result["stats"]["bytesReceived"].as_u64().unwrap_or(0);
    assert!(
        received > 10_000,
        "inbound-rtp bytesReceived {received}: {result}"
    );
    let heard = heard_tone(&result, TONE_HZ);
    assert!(
        heard >= 6,
        "the page's analyser heard {TONE_HZ} Hz in {heard} of the samples: {result}"
    );
    let ended = bridge_event(&mut relay, "bridge_ended");
    assert!(
        ended["stats"]["to_webrtc_packets"].as_u64().unwrap_or(0) > 100,
        "{ended}"
    );
}

#[test]
fn browser_hears_its_tone_back_through_a_pcmu_echo_transcoded() {
    if !in_private_netns("browser_hears_its_tone_back_through_a_pcmu_echo_transcoded") {
        return;
    }
    let ooc = dialtone_testkit::peers_dir()
        .join("sipp")
        .join("relay_uas_answer_ooc.xml");
    browser_hears_itself(ooc, "ulaw", true);
}

#[test]
fn browser_hears_its_tone_back_through_an_opus_echo_forwarded() {
    if !in_private_netns("browser_hears_its_tone_back_through_an_opus_echo_forwarded") {
        return;
    }
    let ooc = browser_dir().join("sipp").join("uas_answer_opus_ooc.xml");
    browser_hears_itself(ooc, "opus", false);
}

#[test]
fn sipp_calls_the_browser_which_hears_its_tone_echoed() {
    if !in_private_netns("sipp_calls_the_browser_which_hears_its_tone_echoed") {
        return;
    }
    let (mut relay, _, page) = relay();
    let udp = relay.addr("udp");
    let wav = tone_wav(relay.dir.path(), TONE_HZ, 30);
    let mut browser = Browser::start(serde_json::json!({
        "page": page, "user": "bob", "password": "bobpw", "action": "answer",
        "holdMs": 5000, "hangup": false, "toneWav": wav,
    }));
    browser.wait_for("registered", T);
    relay.wait_for("bob's binding", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });

    // SIPp as alice: register, then call bob from the same port, echoing RTP, BYE after 7 s.
    let port = free_port();
    let mut args = SippArgs::new(port);
    args.remote = Some(udp);
    args.auth = Some(("alice".into(), "alicepw".into()));
    args.keys.push(("user".into(), "alice".into()));
    args.timeout = Duration::from_secs(40);
    let mut register = args.clone();
    register.extra = vec!["-d".into(), "0".into()];
    let registered = Sipp::uac(Scenario::peer("relay_uas_register.xml"), register)
        .expect("start sipp registration")
        .wait()
        .expect("sipp registration finished");
    assert!(registered.success(), "SIPp did not register:\n{registered}");
    args.service = Some("bob".into());
    args.extra = vec![
        "-d".into(),
        "7000".into(),
        "-auth_uri".into(),
        format!("bob@{udp}"),
        "-rtp_echo".into(),
    ];
    let caller = Sipp::uac(Scenario::peer("relay_uac_call.xml"), args).expect("start sipp caller");

    browser.wait_for("established", T);
    let handed = bridge_event(&mut relay, "bridge_call");
    assert_eq!(handed["direction"], "phone_to_browser", "{handed}");
    let up = bridge_event(&mut relay, "bridge_established");
    eprintln!(
        "setup: relay INVITE -> established (ICE+DTLS) {} ms",
        up["setup_ms"]
    );
    assert_eq!(up["plain_codec"], "ulaw", "{up}");
    let result = browser.wait_for("result", T);
    let received = result["stats"]["bytesReceived"].as_u64().unwrap_or(0);
    assert!(
        received > 10_000,
        "inbound-rtp bytesReceived {received}: {result}"
    );
    let heard = heard_tone(&result, TONE_HZ);
    assert!(
        heard >= 5,
        "the page heard {TONE_HZ} Hz in {heard} samples: {result}"
    );
    let done = caller.wait().expect("sipp caller finished");
    assert!(done.success(), "SIPp caller:\n{done}");
}
