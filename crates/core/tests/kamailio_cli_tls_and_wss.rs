//! The `dialtone` CLI over TLS and secure WebSocket (RFC 7118) against Kamailio's tls and websocket modules, with a
//! self-signed server certificate: pinned by fingerprint it registers and calls through to a SIPp UAS; with the
//! system's roots it is refused with the real cause ("issuer not trusted") and the fingerprint to pin.

mod cli;

use cli::{is_call, is_reg, Cli};
use dialtone_core::tls::Fingerprint;
use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use std::time::Duration;

const USERS: &[(&str, &str)] = &[("alice", "alicepw")];

fn call_over(transport: &str) {
    let kam = Kamailio::start(KamailioOpts::with_free_ports(USERS)).expect("start kamailio");
    let pin = Fingerprint::of(&kam.tls_cert().cert_der).to_string();
    let server = match transport {
        "tls" => format!(
            "sip:localhost:{};transport=tls",
            kam.tls_addr().expect("tls port").port()
        ),
        _ => format!(
            "wss://localhost:{}/",
            kam.wss_addr().expect("wss port").port()
        ),
    };
    let sipp = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp");
    let target = format!("sip:svc@127.0.0.1:{}", sipp.addr().port());
    let mut cli = Cli::phone(
        &[
            "--account",
            "sip:alice@127.0.0.1",
            "--server",
            &server,
            "--transport",
            transport,
            "--tls-pin",
            &pin,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--call",
            &target,
            "--hangup-after",
            "1",
        ],
        "alicepw",
    );
    cli.wait_for("REGISTERED", Duration::from_secs(20), is_reg("REGISTERED"));
    cli.wait_for(
        "ESTABLISHED",
        Duration::from_secs(20),
        is_call("ESTABLISHED"),
    );
    cli.wait_for("FINISH", Duration::from_secs(20), is_call("FINISH"));
    assert_eq!(cli.wait_exit(Duration::from_secs(20)), 0);
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}

#[test]
fn cli_registers_and_calls_over_tls_with_pinned_certificate() {
    call_over("tls");
}

#[test]
fn cli_registers_and_calls_over_wss_with_pinned_certificate() {
    call_over("wss");
}

#[test]
fn untrusted_tls_server_is_reported_as_such_with_its_fingerprint() {
    let kam = Kamailio::start(KamailioOpts::with_free_ports(USERS)).expect("start kamailio");
    let pin = Fingerprint::of(&kam.tls_cert().cert_der).to_string();
    let server = format!(
        "sip:localhost:{};transport=tls",
        kam.tls_addr().expect("tls port").port()
    );
    let mut cli = Cli::phone(
        &[
            "--account",
            "sip:alice@127.0.0.1",
            "--server",
            &server,
            "--transport",
            "tls",
            "--stay",
            "1",
        ],
        "",
    );
    assert_eq!(cli.wait_exit(Duration::from_secs(20)), 1);
    let stderr = cli.stderr();
    assert!(stderr.contains("not trusted"), "cause not named: {stderr}");
    assert!(
        stderr.contains(&pin),
        "fingerprint to pin not shown: {stderr}"
    );
    assert!(!stderr.to_lowercase().contains("unreachable"), "{stderr}");
}
