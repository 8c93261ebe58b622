//! The `dialtone` CLI registers with a real Kamailio (digest auth, 401 challenge), stays registered, and
//! unregisters when it exits; a wrong password ends with a clean failure carrying the SIP code.

mod cli;

use cli::{is_reg, Cli};
use dialtone_testkit::{Kamailio, KamailioOpts};
use std::time::Duration;

const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw")];

fn register_over(transport: &str) {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
    let mut cli = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--transport",
            transport,
            "--stay",
            "1",
        ],
        "alicepw",
    );
    let ok = cli.wait_for("REGISTERED", Duration::from_secs(20), is_reg("REGISTERED"));
    assert_eq!(ok["code"], 200);
    assert!(
        ok["expires"].as_u64().unwrap_or(0) > 0,
        "no granted expiry: {ok}"
    );
    assert_eq!(cli.wait_exit(Duration::from_secs(20)), 0);
    // The registrar confirmed the Expires: 0 REGISTER (no "disconnected before the registrar confirmed" reason).
    let unreg = cli.seen.iter().find(|v| is_reg("UNREGISTERED")(v)).cloned();
    let unreg = unreg.unwrap_or_else(|| panic!("no UNREGISTERED after exit: {:#?}", cli.seen));
    assert!(
        unreg.get("reason").is_none(),
        "unregister was not confirmed: {unreg}"
    );
    // One REGISTERING, not one per challenge round.
    assert_eq!(
        cli.seen.iter().filter(|v| is_reg("REGISTERING")(v)).count(),
        1,
        "{:#?}",
        cli.seen
    );
}

#[test]
fn kamailio_register_and_unregister_over_udp() {
    register_over("udp");
}

#[test]
fn kamailio_register_and_unregister_over_tcp() {
    register_over("tcp");
}

#[test]
fn kamailio_wrong_password_fails_cleanly_without_looping() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
    let mut cli = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--stay",
            "1",
        ],
        "wrong",
    );
    let failed = cli.wait_for("FAILED", Duration::from_secs(20), is_reg("FAILED"));
    let code = failed["code"].as_u64().unwrap_or(0);
    assert!(code == 401 || code == 403, "expected 401/403, got {failed}");
    assert_eq!(
        cli.wait_exit(Duration::from_secs(10)),
        1,
        "a failed registration must exit non-zero"
    );
}

/// RFC 5626 spirit: a registration over TCP is bound to its connection; when the connection dies (killed with
/// `ss -K`, as a NAT timeout or a server restart would), the phone registers again over a new one by itself.
#[test]
fn kamailio_reregisters_when_the_tcp_flow_dies() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let port = kam.udp_addr().port();
    let account = format!("sip:alice@127.0.0.1:{port}");
    let mut cli = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--transport",
            "tcp",
            "--stay",
            "30",
        ],
        "alicepw",
    );
    cli.wait_for("REGISTERED", Duration::from_secs(20), is_reg("REGISTERED"));
    let ss = dialtone_testkit::require_binary("ss", "iproute2").expect("ss");
    // Only this test's Kamailio listens on this port: the filter cannot touch anybody else's connections.
    let status = std::process::Command::new(ss)
        .args([
            "-K",
            "-t",
            "dst",
            "127.0.0.1",
            "dport",
            "=",
            &port.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run ss -K");
    assert!(status.success(), "ss -K failed");
    let before = cli.seen.len();
    cli.wait_for("REGISTERED again", Duration::from_secs(20), |v| {
        v["event"] == "registration" && v["state"] == "REGISTERED"
    });
    assert!(cli.seen.len() > before);
}

/// With an outbound proxy, every request goes to the proxy with a Route header naming it (loose routing).
#[test]
fn kamailio_register_through_outbound_proxy() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let port = kam.udp_addr().port();
    let account = format!("sip:alice@127.0.0.1:{port}");
    let outbound = format!("sip:127.0.0.1:{port};lr");
    let mut cli = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--outbound",
            &outbound,
            "--stay",
            "1",
        ],
        "alicepw",
    );
    cli.wait_for("REGISTERED", Duration::from_secs(20), is_reg("REGISTERED"));
    assert_eq!(cli.wait_exit(Duration::from_secs(20)), 0);
}
