//! `dialtone relay` as a real process with `dialtone phone` processes around it: two phones register (digest) and
//! call each other through it — one over UDP, one over WebSocket — each sending its own tone (700 / 900 Hz) and
//! recording the other: each recording holds the other's tone, and the relay anchored the call (a media session
//! forwarded RTP from both phones and was released with the call); a phone registers over WSS pinning the fingerprint the relay printed, which
//! survives a restart; a non-loopback listener is refused without `--expose`; SIGTERM stops the relay cleanly.

mod cli;
mod relay_support;

use cli::{assert_tone, is_call, is_reg, Cli};
use dialtone_testkit::free_port;
use relay_support::{is_event, RelayProcess};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[test]
fn two_phones_call_each_other_through_the_relay() {
    let udp = free_port();
    let ws = free_port();
    let mut relay = RelayProcess::start(&[
        "--listen",
        &format!("udp:127.0.0.1:{udp}"),
        "--listen",
        &format!("ws:127.0.0.1:{ws}"),
    ]);
    let started = relay.events("started").remove(0);
    assert_eq!(started["domain"], "127.0.0.1");
    assert_eq!(started["users"], 2);
    assert!(
        started["media_pairs"].as_u64().unwrap_or(0) >= 2,
        "{started}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let (alice_wav, bob_wav) = (dir.path().join("alice.wav"), dir.path().join("bob.wav"));
    // Bob over WebSocket, answering.
    let ws_server = format!("ws://127.0.0.1:{ws}/");
    let mut bob = Cli::phone(
        &[
            "--tone",
            "900",
            "--record",
            bob_wav.to_str().expect("utf-8 path"),
            "--account",
            "sip:bob@127.0.0.1",
            "--server",
            &ws_server,
            "--transport",
            "ws",
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--auto-answer",
        ],
        "bobpw",
    );
    bob.wait_for("bob REGISTERED", T, is_reg("REGISTERED"));
    let reg = relay.wait_for("bob's binding", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    assert!(
        reg["flow"]
            .as_str()
            .unwrap_or("")
            .starts_with("ws:127.0.0.1:"),
        "bob registered over his WebSocket flow: {reg}"
    );

    // Alice over UDP calls bob by user name.
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
            "3",
            "--tone",
            "700",
            "--record",
            alice_wav.to_str().expect("utf-8 path"),
        ],
        "alicepw",
    );
    alice.wait_for("alice REGISTERED", T, is_reg("REGISTERED"));
    alice.wait_for("alice ESTABLISHED", T, is_call("ESTABLISHED"));
    bob.wait_for("bob ESTABLISHED", T, is_call("ESTABLISHED"));
    let end = bob.wait_for("bob FINISH", T, is_call("FINISH"));
    assert_eq!(end["reason"], "the other party hung up", "{end}");
    alice.wait_for("alice FINISH", T, is_call("FINISH"));
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());

    let routed = relay.wait_for("call_routed", T, is_event("call_routed"));
    assert_eq!(routed["caller"], "alice");
    assert_eq!(routed["callee"], "bob");
    assert_eq!(routed["targets"], 1);
    let call_id = routed["call_id"].clone();
    relay.wait_for("call_ended", T, |v| {
        v["event"] == "call_ended" && v["call_id"] == call_id
    });
    // The INVITE's SDP was anchored: a media session existed and was released by the BYE.
    let released = relay.wait_for("media_released", T, is_event("media_released"));
    assert_eq!(released["reason"], "ended", "{released}");
    // About 3 s at 50 packets/s went through the relay from each phone, none from a stray source.
    for leg in ["caller", "callee"] {
        let packets = released[leg]["packets"].as_u64().unwrap_or(0);
        assert!(
            packets >= 100,
            "the relay forwarded {packets} packets from the {leg}: {released}"
        );
        assert_eq!(released[leg]["dropped_spoofed"], 0, "{released}");
    }
    assert_tone("what alice heard", &alice_wav, 900.0);
    assert_tone("what bob heard", &bob_wav, 700.0);
    // Both phones unregistered on exit.
    relay.wait_for("alice unregistered", T, |v| {
        v["event"] == "unregistered" && v["aor"] == "alice"
    });
    relay.wait_for("bob unregistered", T, |v| {
        v["event"] == "unregistered" && v["aor"] == "bob"
    });
    assert!(relay.events("auth_failed").is_empty(), "{:#?}", relay.seen);

    assert_eq!(relay.terminate(), 0, "stderr: {:?}", relay.errors);
    let stopped = relay.wait_for("stopped", T, is_event("stopped"));
    assert_eq!(stopped["reason"], "SIGTERM");
}

#[test]
fn phone_registers_over_wss_pinning_the_printed_fingerprint_which_survives_a_restart() {
    let wss = free_port();
    let listen = format!("wss:127.0.0.1:{wss}");
    let mut relay = RelayProcess::start(&["--listen", &listen]);
    let cert = relay.wait_for("certificate", T, is_event("certificate"));
    assert_eq!(cert["created"], true, "{cert}");
    let pin = cert["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    assert_eq!(pin.len(), 32 * 3 - 1, "AB:CD:... form: {pin}");

    let server = format!("wss://127.0.0.1:{wss}/");
    let mut alice = Cli::phone(
        &[
            "--account",
            "sip:alice@127.0.0.1",
            "--server",
            &server,
            "--transport",
            "wss",
            "--tls-pin",
            &pin,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--stay",
            "1",
        ],
        "alicepw",
    );
    alice.wait_for("REGISTERED over WSS", T, is_reg("REGISTERED"));
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    let reg = relay.wait_for("registered", T, is_event("registered"));
    assert!(
        reg["flow"].as_str().unwrap_or("").starts_with("wss:"),
        "{reg}"
    );

    // Same state directory: the same certificate, loaded rather than generated.
    assert_eq!(relay.terminate(), 0);
    let dir = std::mem::replace(&mut relay.dir, tempfile::tempdir().expect("temp dir"));
    drop(relay);
    let mut again = RelayProcess::start_in(dir, &["--listen", &listen]);
    let cert = again.wait_for("certificate", T, is_event("certificate"));
    assert_eq!(cert["created"], false, "{cert}");
    assert_eq!(cert["fingerprint"].as_str(), Some(pin.as_str()));
}

#[test]
fn non_loopback_listener_is_refused_without_expose() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut relay = RelayProcess::spawn(dir, &["--listen", "udp:192.0.2.1:5060"]);
    assert_eq!(relay.wait_exit(T), 1);
    let stderr = relay.errors.join("\n");
    assert!(
        stderr.contains("refusing to listen on udp:192.0.2.1:5060") && stderr.contains("--expose"),
        "{stderr}"
    );
    assert!(relay.events("started").is_empty());
}
