//! baresip 1.0 (Debian `baresip-core`) as the far end of `dialtone` CLI calls: hold and resume both ways (our
//! re-INVITEs and baresip's, through Kamailio with baresip registered), DTMF by SIP INFO read back from baresip's
//! `CALL_DTMF_START` events, and baresip transferring us (its REFER: we place the new call to a SIPp UAS).

mod cli;

use cli::{is_call, is_reg, Cli};
use dialtone_testkit::{
    free_port, Baresip, BaresipOpts, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs,
};
use std::time::Duration;

const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw")];
const T: Duration = Duration::from_secs(20);

/// An unregistered phone whose account "server" is a closed port; calls go straight to their target.
fn direct_phone(extra: &[&str]) -> Cli {
    let mut args = vec![
        "--account",
        "sip:alice@127.0.0.1:9",
        "--no-register",
        "--timeout",
        "60",
    ];
    args.extend_from_slice(extra);
    Cli::phone(&args, "")
}

#[test]
fn hold_and_resume_both_ways_with_baresip_through_kamailio() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let mut bob = Baresip::start(BaresipOpts::registered("bob", "bobpw", kam.udp_addr()))
        .expect("start baresip");
    bob.wait_registered(T)
        .expect("baresip registers with kamailio");
    let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
    let mut alice = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--call",
            &bob.uri(),
            "--hold-after",
            "0.5",
            "--resume-after",
            "1",
            "--hangup-after",
            "8",
            "--timeout",
            "40",
        ],
        "alicepw",
    );
    alice.wait_for("REGISTERED", T, is_reg("REGISTERED"));
    let est = alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    let id = est["id"].clone();
    bob.wait_event("baresip answered", T, |e| e.kind == "CALL_ESTABLISHED")
        .expect("baresip answers");

    // Our hold: baresip answers the sendonly offer with recvonly.
    let hold = alice.wait_for("HOLD (local)", T, is_call("HOLD"));
    assert_eq!(hold["held"], "local", "{hold}");
    alice.wait_for("resumed", T, |v| {
        v["event"] == "call" && v["state"] == "ESTABLISHED" && v["id"] == id
    });
    // baresip saw the INVITE, the hold and the resume offers (its events may trail ours a little).
    let deadline = std::time::Instant::now() + T;
    loop {
        let offers = bob
            .events()
            .iter()
            .filter(|e| e.kind == "CALL_REMOTE_SDP" && e.param.as_deref() == Some("offer"))
            .count();
        if offers >= 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "baresip saw {offers} offers, not 3"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // baresip's hold: it re-INVITEs us; we answer through the negotiator and show who holds.
    bob.command("hold", None).expect("baresip holds");
    let held = alice.wait_for("HOLD (remote)", T, is_call("HOLD"));
    assert_eq!(held["held"], "remote", "{held}");
    bob.command("resume", None).expect("baresip resumes");
    alice.wait_for("resumed by baresip", T, |v| {
        v["event"] == "call" && v["state"] == "ESTABLISHED" && v["id"] == id
    });
    alice.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    let directions: Vec<&str> = alice
        .seen
        .iter()
        .filter(|v| v["event"] == "media")
        .filter_map(|v| v["direction"].as_str())
        .collect();
    assert_eq!(
        directions,
        ["sendrecv", "sendonly", "sendrecv", "recvonly", "sendrecv"],
        "{:#?}",
        alice.seen
    );
    bob.wait_event("baresip call closed", T, |e| e.kind == "CALL_CLOSED")
        .expect("our BYE reaches baresip");
}

#[test]
fn info_dtmf_reaches_baresip() {
    let mut bob = Baresip::start(BaresipOpts::direct("bob")).expect("start baresip");
    let mut alice = direct_phone(&[
        "--call",
        &bob.uri(),
        "--dtmf",
        "159#*",
        "--dtmf-method",
        "info",
        "--dtmf-after",
        "0.3",
        "--hangup-after",
        "3",
    ]);
    alice.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    let mut digits = String::new();
    for _ in 0..5 {
        let e = bob
            .wait_event("DTMF", T, |e| e.kind == "CALL_DTMF_START")
            .expect("baresip reports each digit");
        digits.push_str(e.param.as_deref().unwrap_or("?"));
    }
    assert_eq!(digits, "159#*");
    assert!(
        !alice.seen.iter().any(|v| v["event"] == "dtmf_failed"),
        "{:#?}",
        alice.seen
    );
}

#[test]
fn baresip_transfers_us_to_a_sipp_uas() {
    let mut bob = Baresip::start(BaresipOpts::direct("bob")).expect("start baresip");
    let target = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start the transfer target");
    let third = format!("sip:svc@127.0.0.1:{}", target.addr().port());
    let mut alice = direct_phone(&["--call", &bob.uri(), "--hangup-after", "4"]);
    alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    bob.wait_event("baresip answered", T, |e| e.kind == "CALL_ESTABLISHED")
        .expect("baresip answers");
    bob.command("transfer", Some(&third))
        .expect("baresip transfers");
    let asked = alice.wait_for("transfer_requested", T, |v| {
        v["event"] == "transfer_requested"
    });
    assert_eq!(asked["target"], third.as_str(), "{asked}");
    let new_call = asked["new_call"].clone();
    alice.wait_for("new call answered", T, |v| {
        v["event"] == "call" && v["state"] == "ESTABLISHED" && v["id"] == new_call
    });
    assert_eq!(
        alice.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        alice.stderr()
    );
    let original_end = alice
        .seen
        .iter()
        .find(|v| v["event"] == "call" && v["state"] == "FINISH" && v["id"] == asked["id"])
        .cloned()
        .expect("the transferred call ended");
    assert_eq!(original_end["reason"], "the other party hung up");
    let outcome = target.wait().expect("target finished");
    assert!(
        outcome.success(),
        "the new call was not complete:\n{outcome}"
    );
}
