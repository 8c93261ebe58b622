//! Calls placed and received by the `dialtone` CLI through a real Kamailio (registrar + record-routing proxy with
//! digest auth), with SIPp as the far end: outgoing over UDP and TCP to a SIPp UAS that answers, hangs up with BYE;
//! an incoming call from a SIPp UAC through Kamailio answered automatically and ended by the caller's BYE.

mod cli;

use cli::{is_call, is_reg, Cli};
use dialtone_testkit::{
    free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs, SippTransport,
};
use std::time::Duration;

const USERS: &[(&str, &str)] = &[("alice", "alicepw")];

fn outgoing_call(transport: SippTransport) {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let mut args = SippArgs::new(free_port());
    args.transport = transport;
    let sipp = Sipp::uas(Scenario::peer("uas_answer_200.xml"), args).expect("start sipp uas");
    let t = match transport {
        SippTransport::Udp => "udp",
        SippTransport::Tcp => "tcp",
    };
    let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
    let target = format!("sip:svc@127.0.0.1:{};transport={t}", sipp.addr().port());
    let mut cli = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--transport",
            t,
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
    let states = cli.call_states();
    assert_eq!(
        states.first().map(String::as_str),
        Some("PENDING"),
        "{states:?}"
    );
    assert!(
        states.iter().any(|s| s == "RING"),
        "180 was not shown as RING: {states:?}"
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(
        outcome.success(),
        "SIPp UAS did not see a complete call:\n{outcome}"
    );
    // The INVITE went through Kamailio (Record-Route present) and was authorized after a 407.
    assert!(
        outcome.messages.contains("Record-Route:"),
        "call did not go through the proxy:\n{outcome}"
    );
    assert!(
        outcome.messages.contains("Proxy-Authorization:"),
        "no digest on the INVITE:\n{outcome}"
    );
}

#[test]
fn cli_call_through_kamailio_to_sipp_uas_over_udp() {
    outgoing_call(SippTransport::Udp);
}

#[test]
fn cli_call_through_kamailio_to_sipp_uas_over_tcp() {
    outgoing_call(SippTransport::Tcp);
}

#[test]
fn cli_answers_sipp_uac_call_through_kamailio() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let account = format!("sip:alice@127.0.0.1:{}", kam.udp_addr().port());
    let mut cli = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--auto-answer",
            "--timeout",
            "40",
        ],
        "alicepw",
    );
    cli.wait_for("REGISTERED", Duration::from_secs(20), is_reg("REGISTERED"));
    let mut args = SippArgs::new(free_port());
    args.remote = Some(kam.udp_addr());
    args.service = Some("alice".into());
    let sipp = Sipp::uac(Scenario::peer("uac_call_then_bye.xml"), args).expect("start sipp uac");
    let ring = cli.wait_for("incoming RING", Duration::from_secs(20), is_call("RING"));
    assert_eq!(ring["direction"], "incoming");
    assert!(
        ring["peer"].as_str().unwrap_or("").contains("sipp@"),
        "{ring}"
    );
    cli.wait_for(
        "ESTABLISHED",
        Duration::from_secs(20),
        is_call("ESTABLISHED"),
    );
    let fin = cli.wait_for("FINISH", Duration::from_secs(20), is_call("FINISH"));
    assert_eq!(fin["reason"], "the other party hung up");
    assert_eq!(cli.wait_exit(Duration::from_secs(20)), 0);
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "SIPp UAC call failed:\n{outcome}");
}
