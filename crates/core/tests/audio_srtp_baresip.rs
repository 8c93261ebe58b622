//! SDES-SRTP interop with baresip 1.0 (Debian `baresip-core`, its `srtp` module) through Kamailio:
//!
//! * over TLS, baresip with `mediaenc=srtp-mand` (an `RTP/SAVP` offer with `a=crypto`) calls the `dialtone` CLI,
//!   which answers with its own key: each side sends its tone (Dialtone 700 Hz, baresip 900 Hz) and each side's
//!   recording of what it decrypted holds the other's tone; Dialtone's final statistics say SRTP with no
//!   authentication failure;
//! * over plain UDP the same `RTP/SAVP` offer is refused with 488: SDES keys are never accepted over signaling
//!   that does not protect them.

mod audio_support;
mod cli;

use audio_support::{analyze, assert_tone};
use cli::{is_call, is_reg, Cli};
use dialtone_core::tls::Fingerprint;
use dialtone_testkit::{Baresip, BaresipOpts, Kamailio, KamailioOpts};
use serde_json::Value;
use std::time::Duration;

const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw")];
const T: Duration = Duration::from_secs(20);

fn is_final_stats(v: &Value) -> bool {
    v["event"] == "stats" && v["final"] == true
}

#[test]
fn baresip_srtp_mand_over_tls_and_dialtone_hear_each_other() {
    let kam = Kamailio::start(KamailioOpts::with_free_ports(USERS)).expect("start kamailio");
    let tls = kam.tls_addr().expect("tls port");
    let pin = Fingerprint::of(&kam.tls_cert().cert_der).to_string();
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("alice.wav");
    let server = format!("sip:localhost:{};transport=tls", tls.port());
    let mut alice = Cli::phone(
        &[
            "--account",
            "sip:alice@127.0.0.1",
            "--server",
            &server,
            "--transport",
            "tls",
            "--tls-pin",
            &pin,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--auto-answer",
            "--hangup-after",
            "5",
            "--tone",
            "700",
            "--record",
            recording.to_str().expect("utf-8 path"),
            "--codecs",
            "ulaw, alaw, telephone-event",
            "--timeout",
            "60",
        ],
        "alicepw",
    );
    alice.wait_for("REGISTERED", T, is_reg("REGISTERED"));

    let mut opts = BaresipOpts::registered("bob", "bobpw", tls);
    opts.tls_ca = Some(kam.tls_cert_path());
    opts.mediaenc = Some("srtp-mand".to_string());
    opts.tone_hz = Some(900);
    opts.record = true;
    let mut bob = Baresip::start(opts).expect("start baresip");
    bob.wait_registered(T)
        .unwrap_or_else(|e| panic!("baresip registers over TLS: {e}\n{}", bob.log()));
    bob.command(
        "dial",
        Some(&format!("sip:alice@127.0.0.1:{};transport=tls", tls.port())),
    )
    .expect("baresip dials");

    alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    bob.wait_event("baresip established", T, |e| e.kind == "CALL_ESTABLISHED")
        .unwrap_or_else(|e| panic!("{e}\n{}", bob.log()));
    let offer = bob
        .events()
        .iter()
        .any(|e| e.kind == "CALL_REMOTE_SDP" || e.kind == "CALL_ESTABLISHED");
    assert!(offer, "baresip saw our answer");
    let stats = alice.wait_for("final stats", Duration::from_secs(30), is_final_stats);
    alice.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(alice.wait_exit(T), 0, "{:?}", alice.errors);
    bob.wait_event("baresip hung up", T, |e| e.kind == "CALL_CLOSED")
        .unwrap_or_else(|e| panic!("{e}\n{}", bob.log()));

    let s = &stats["stats"];
    assert_eq!(s["srtp"], true, "{stats}");
    // baresip (libre) sends one RTCP APP "PING" in the clear to open the NAT pinhole before its SRTP runs: it
    // is dropped as unauthenticated and counted; every real packet authenticates.
    let failures = s["srtp_auth_failures"].as_u64().unwrap_or(u64::MAX);
    assert!(failures <= 2, "{stats}");
    assert_eq!(s["srtp_replays"], 0, "{stats}");
    assert!(
        s["packets_received"].as_u64().unwrap_or(0) >= 150,
        "{stats}"
    );
    assert!(
        bob.log().contains("SRTP is Enabled"),
        "baresip reports SRTP:\n{}",
        bob.log()
    );
    assert_tone(
        "Dialtone's recording",
        &analyze(&recording, Duration::from_millis(800)),
        900.0,
    );
    let dumps = bob.received_wavs();
    let heard = dumps
        .last()
        .unwrap_or_else(|| panic!("baresip wrote no recording\n{}", bob.log()));
    assert_tone(
        "baresip's decoded audio",
        &analyze(heard, Duration::from_millis(800)),
        700.0,
    );
}

#[test]
fn srtp_offer_over_plain_udp_is_refused_with_488() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
    let mut alice = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--auto-answer",
            "--no-mic",
            "--no-speaker",
            "--timeout",
            "30",
        ],
        "alicepw",
    );
    alice.wait_for("REGISTERED", T, is_reg("REGISTERED"));
    let mut opts = BaresipOpts::registered("bob", "bobpw", kam.udp_addr());
    opts.mediaenc = Some("srtp-mand".to_string());
    let mut bob = Baresip::start(opts).expect("start baresip");
    bob.wait_registered(T).expect("baresip registers");
    bob.command(
        "dial",
        Some(&format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port())),
    )
    .expect("baresip dials");
    let closed = bob
        .wait_event("baresip's call refused", T, |e| e.kind == "CALL_CLOSED")
        .unwrap_or_else(|e| panic!("{e}\n{}", bob.log()));
    assert!(
        closed.raw.contains("488"),
        "refused with 488: {}",
        closed.raw
    );
    assert!(
        !bob.events().iter().any(|e| e.kind == "CALL_ESTABLISHED"),
        "the call must not be established"
    );
}
