//! Edge cases of call setup between the `dialtone` CLI (no registration, calling SIPp directly) and SIPp
//! scenarios: CANCEL before answer, 486 busy, 407 challenge on INVITE, a re-sent 200 answered with ACK, and a peer
//! that never answers (Timer B → FAILED 408).

mod cli;

use cli::{is_call, Cli};
use dialtone_testkit::{digest, free_port, Scenario, Sipp, SippArgs};
use std::time::Duration;

fn direct_call(scenario: &str, extra: &[&str], password: &str) -> (Cli, Sipp) {
    let sipp =
        Sipp::uas(Scenario::peer(scenario), SippArgs::new(free_port())).expect("start sipp uas");
    let port = sipp.addr().port();
    let account = format!("sip:alice@127.0.0.1:{port}");
    let target = format!("sip:svc@127.0.0.1:{port}");
    let mut args = vec!["--account", &account, "--no-register", "--call", &target];
    if !password.is_empty() {
        args.extend(["--password-env", "DIALTONE_TEST_PASSWORD"]);
    }
    args.extend_from_slice(extra);
    let cli = Cli::phone(&args, password);
    (cli, sipp)
}

#[test]
fn cancel_before_answer_ends_the_call() {
    let (mut cli, sipp) = direct_call("uas_ring_then_cancel.xml", &["--cancel-after", "1"], "");
    cli.wait_for("RING", Duration::from_secs(15), is_call("RING"));
    let end = cli.wait_for("FINISH", Duration::from_secs(15), is_call("FINISH"));
    assert_eq!(end["reason"], "cancelled", "{end}");
    assert_eq!(cli.wait_exit(Duration::from_secs(15)), 0);
    let outcome = sipp.wait().expect("sipp finished");
    assert!(
        outcome.success(),
        "SIPp did not see CANCEL / ACK for 487:\n{outcome}"
    );
}

#[test]
fn busy_486_is_reported_as_busy() {
    let (mut cli, sipp) = direct_call("uas_busy_486.xml", &[], "");
    let busy = cli.wait_for("BUSY", Duration::from_secs(15), is_call("BUSY"));
    assert_eq!(busy["code"], 486);
    assert_eq!(busy["reason"], "Busy Here");
    assert_ne!(
        cli.wait_exit(Duration::from_secs(15)),
        0,
        "a busy callee is a failed scripted call"
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(
        outcome.success(),
        "SIPp did not get its ACK for 486:\n{outcome}"
    );
}

#[test]
fn invite_challenged_with_407_is_retried_with_digest() {
    let (mut cli, sipp) = direct_call("uas_challenge_407.xml", &["--hangup-after", "1"], "s3cret");
    cli.wait_for(
        "ESTABLISHED",
        Duration::from_secs(15),
        is_call("ESTABLISHED"),
    );
    cli.wait_for("FINISH", Duration::from_secs(15), is_call("FINISH"));
    assert_eq!(cli.wait_exit(Duration::from_secs(15)), 0);
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
    // SIPp cannot check Proxy-Authorization itself: verify the MD5 response from its trace.
    let creds = outcome
        .messages
        .lines()
        .find_map(|l| l.strip_prefix("Proxy-Authorization:"))
        .unwrap_or_else(|| panic!("no Proxy-Authorization in the retried INVITE:\n{outcome}"));
    assert!(
        digest::verify_md5(creds, "INVITE", "s3cret"),
        "wrong digest response: {creds}"
    );
    assert!(
        !outcome.messages.contains("s3cret"),
        "the password itself went on the wire"
    );
}

#[test]
fn resent_200_is_acked_again() {
    let (mut cli, sipp) = direct_call("uas_resend_200_until_ack.xml", &["--hangup-after", "1"], "");
    cli.wait_for(
        "ESTABLISHED",
        Duration::from_secs(15),
        is_call("ESTABLISHED"),
    );
    cli.wait_for("FINISH", Duration::from_secs(15), is_call("FINISH"));
    assert_eq!(cli.wait_exit(Duration::from_secs(15)), 0);
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}

#[test]
fn peer_that_never_answers_fails_with_timer_b() {
    let (mut cli, sipp) = direct_call("uas_silent.xml", &[], "");
    // RFC 3261 Timer B = 64*T1 = 32 s after the INVITE; SIPp's scenario sends nothing at all.
    let failed = cli.wait_for("FAILED", Duration::from_secs(45), |v| {
        v["event"] == "call" && (v["state"] == "FAILED" || v["state"] == "FINISH")
    });
    assert_eq!(failed["state"], "FAILED", "{failed}");
    assert_eq!(failed["code"], 408, "{failed}");
    assert_ne!(cli.wait_exit(Duration::from_secs(15)), 0);
    drop(sipp);
}

#[test]
fn early_media_183_is_shown_as_ring_media() {
    let (mut cli, sipp) = direct_call("uas_early_media_183.xml", &["--hangup-after", "1"], "");
    let early = cli.wait_for("RING_MEDIA", Duration::from_secs(15), is_call("RING_MEDIA"));
    assert_eq!(early["code"], 183);
    cli.wait_for(
        "ESTABLISHED",
        Duration::from_secs(15),
        is_call("ESTABLISHED"),
    );
    cli.wait_for("FINISH", Duration::from_secs(15), is_call("FINISH"));
    assert_eq!(cli.wait_exit(Duration::from_secs(15)), 0);
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}
