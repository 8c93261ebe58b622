//! baresip 1.0 (Debian `baresip-core`) as a user of a `dialtone relay` process, registering with digest auth:
//! - baresip calls a Dialtone phone through the relay and a Dialtone phone calls baresip; each side sends its own
//!   tone (baresip 500 Hz with `ausine`, Dialtone 700 Hz with `--tone`) and each recording holds the other's, while
//!   the relay's media session forwarded RTP from both and dropped nothing spoofed;
//! - baresip calls a SIPp registered at the relay that echoes RTP (`-rtp_echo`): baresip hears its own tone back,
//!   through the relay both ways; baresip hangs up after 4 s.

mod cli;
mod relay_support;

use cli::{assert_tone, is_call, is_reg, Cli};
use dialtone_testkit::{free_port, Baresip, BaresipOpts};
use relay_support::{is_event, sipp_callee, RelayProcess};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(25);
/// baresip's tone and ours.
const THEIRS: f64 = 500.0;
const OURS: f64 = 700.0;

fn relay_udp() -> (RelayProcess, SocketAddr) {
    let port = free_port();
    let relay = RelayProcess::start(&["--listen", &format!("udp:127.0.0.1:{port}")]);
    let addr = relay.addr("udp");
    (relay, addr)
}

/// baresip registered at the relay as `user`, sending [`THEIRS`] and recording what it hears.
fn baresip_at(relay: SocketAddr, user: &str, password: &str) -> Baresip {
    let mut opts = BaresipOpts::registered(user, password, relay);
    opts.audio_codecs = Some("PCMU/8000".into());
    opts.tone_hz = Some(THEIRS as u32);
    opts.record = true;
    let mut peer = Baresip::start(opts).expect("start baresip");
    peer.wait_registered(T)
        .expect("baresip registers with the relay (digest)");
    peer
}

fn last_recording(what: &str, peer: &Baresip) -> std::path::PathBuf {
    peer.received_wavs()
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("{what}: baresip recorded nothing:\n{}", peer.log()))
}

/// The relay anchored the call: ~3 s of RTP forwarded from each side, nothing from a stray source.
fn assert_relayed_both_ways(released: &Value) {
    assert_eq!(released["reason"], "ended", "{released}");
    for leg in ["caller", "callee"] {
        let packets = released[leg]["packets"].as_u64().unwrap_or(0);
        assert!(
            packets >= 100,
            "the relay forwarded {packets} packets from the {leg}: {released}"
        );
        assert_eq!(released[leg]["dropped_spoofed"], 0, "{released}");
    }
}

#[test]
fn baresip_calls_a_dialtone_phone_through_the_relay_and_both_hear_the_other() {
    let (mut relay, addr) = relay_udp();
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("bob.wav");
    let account = format!("sip:bob@127.0.0.1:{}", addr.port());
    let mut bob = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--auto-answer",
            "--tone",
            "700",
            "--record",
            record.to_str().expect("utf-8 path"),
            "--hangup-after",
            "4",
            "--timeout",
            "40",
        ],
        "bobpw",
    );
    bob.wait_for("bob REGISTERED", T, is_reg("REGISTERED"));
    let mut alice = baresip_at(addr, "alice", "alicepw");

    alice
        .command("dial", Some(&account))
        .expect("baresip dials bob");
    bob.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    let stats = bob.wait_for("final stats", T, |v| {
        v["event"] == "stats" && v["final"] == true
    });
    assert_eq!(stats["stats"]["codec"], "ulaw", "{stats}");
    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());

    let routed = relay.wait_for("call_routed", T, is_event("call_routed"));
    assert_eq!(routed["caller"], "alice");
    assert_eq!(routed["callee"], "bob");
    let released = relay.wait_for("media_released", T, is_event("media_released"));
    assert_relayed_both_ways(&released);
    assert_tone("what the Dialtone phone heard", &record, THEIRS);
    assert_tone(
        "what baresip heard",
        &last_recording("baresip", &alice),
        OURS,
    );
    assert!(relay.events("auth_failed").is_empty(), "{:#?}", relay.seen);
}

#[test]
fn a_dialtone_phone_calls_baresip_through_the_relay_and_both_hear_the_other() {
    let (mut relay, addr) = relay_udp();
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("alice.wav");
    let bob = baresip_at(addr, "bob", "bobpw");
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let account = format!("sip:alice@127.0.0.1:{}", addr.port());
    let mut alice = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--call",
            "bob",
            "--tone",
            "700",
            "--record",
            record.to_str().expect("utf-8 path"),
            "--hangup-after",
            "4",
            "--timeout",
            "40",
        ],
        "alicepw",
    );
    alice.wait_for("alice REGISTERED", T, is_reg("REGISTERED"));
    alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    let stats = alice.wait_for("final stats", T, |v| {
        v["event"] == "stats" && v["final"] == true
    });
    assert!(
        stats["stats"]["packets_received"].as_u64().unwrap_or(0) > 100,
        "{stats}"
    );
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());

    let routed = relay.wait_for("call_routed", T, is_event("call_routed"));
    assert_eq!(routed["caller"], "alice");
    assert_eq!(routed["callee"], "bob");
    let released = relay.wait_for("media_released", T, is_event("media_released"));
    assert_relayed_both_ways(&released);
    assert_tone("what the Dialtone phone heard", &record, THEIRS);
    assert_tone("what baresip heard", &last_recording("baresip", &bob), OURS);
}

#[test]
fn baresip_calls_a_sipp_at_the_relay_and_hears_its_tone_echoed() {
    let (mut relay, addr) = relay_udp();
    // SIPp stays registered 8 s, answering (its out-of-call scenario waits for our BYE).
    let sipp = sipp_callee(addr, "bob", "bobpw", 8000, true);
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let mut alice = baresip_at(addr, "alice", "alicepw");
    alice
        .command("dial", Some(&format!("sip:bob@127.0.0.1:{}", addr.port())))
        .expect("baresip dials bob");
    alice
        .wait_event("CALL_ESTABLISHED", T, |e| e.kind == "CALL_ESTABLISHED")
        .expect("the SIPp callee answers");
    std::thread::sleep(Duration::from_secs(4));
    alice.command("hangup", None).expect("baresip hangs up");
    alice
        .wait_event("CALL_CLOSED", T, |e| e.kind == "CALL_CLOSED")
        .expect("the call closes");
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");

    let routed = relay.wait_for("call_routed", T, is_event("call_routed"));
    assert_eq!(routed["caller"], "alice");
    assert_eq!(routed["callee"], "bob");
    let released = relay.wait_for("media_released", T, is_event("media_released"));
    assert_relayed_both_ways(&released);
    // SIPp sends back what it receives: baresip's own tone, twice through the relay.
    assert_tone(
        "what baresip heard back",
        &last_recording("baresip", &alice),
        THEIRS,
    );
}
