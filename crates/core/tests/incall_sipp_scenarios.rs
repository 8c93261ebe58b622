//! In-call features of the `dialtone` CLI against scripted SIPp peers (`tests/peers/sipp/incall_*.xml`), straight
//! over UDP on loopback without registering:
//! - session timers (RFC 4028): a 422 with Min-SE retried at once with the larger interval; a peer refreshing by
//!   UPDATE answered with the interval; our own refresh by UPDATE when the peer allows it and makes us refresher;
//! - a peer's re-INVITEs with a changed SDP (new port, hold, resume) answered through the negotiator;
//! - a REFER received: the new call placed to a second SIPp, its progress sent in NOTIFY sipfrag;
//! - DTMF by INFO sent (`--dtmf`, method `auto` falling back to INFO without telephone-event) and checked by the
//!   peer, DTMF by INFO received, and the clear refusal of RFC 4733 while there is no audio path;
//! - PUBLISH of our presence to a presence server, and its removal on exit.

mod cli;

use cli::{is_call, Cli};
use dialtone_testkit::{free_port, Scenario, Sipp, SippArgs};
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// A phone that does not register; its account "server" is `server` (a SIPp port or a closed one).
fn phone(server: u16, extra: &[&str]) -> Cli {
    let account = format!("sip:alice@127.0.0.1:{server}");
    let mut args = vec!["--account", &account, "--no-register", "--timeout", "90"];
    args.extend_from_slice(extra);
    Cli::phone(&args, "")
}

/// Waits for the phone's listening address.
fn listening(cli: &mut Cli) -> std::net::SocketAddr {
    let ready = cli.wait_for("listening", T, |v| v["event"] == "listening");
    ready["addr"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("listening address")
}

fn is_event(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == kind
}

/// A SIPp UAC calling `service` at our phone.
fn uac(scenario: &str, phone: std::net::SocketAddr, keys: &[(&str, String)], timeout: u64) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.remote = Some(phone);
    args.service = Some("alice".into());
    args.timeout = Duration::from_secs(timeout);
    args.keys = keys
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    Sipp::uac(Scenario::peer(scenario), args).expect("start sipp uac")
}

/// The SIP messages of a SIPp trace that start with `first_line_start`, in order.
fn messages_starting<'a>(trace: &'a str, first_line_start: &str) -> Vec<&'a str> {
    trace
        .split("----------------------------------------------- ")
        .filter_map(|block| {
            let start = block.find(first_line_start)?;
            Some(&block[start..])
        })
        .collect()
}

#[test]
fn session_interval_too_small_422_is_retried_with_min_se() {
    let sipp = Sipp::uas(
        Scenario::peer("incall_uas_422_min_se.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp uas");
    let port = sipp.addr().port();
    let mut cli = phone(
        port,
        &[
            "--call",
            &format!("sip:svc@127.0.0.1:{port}"),
            "--hangup-after",
            "1",
        ],
    );
    cli.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    assert!(
        !cli.call_states().iter().any(|s| s == "FAILED"),
        "the 422 must not surface as a failure: {:?}",
        cli.call_states()
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
    let invites = messages_starting(&outcome.messages, "INVITE sip:");
    assert_eq!(invites.len(), 2, "one INVITE, one retry:\n{outcome}");
    assert!(
        invites[0].contains("Session-Expires: 1800"),
        "{}",
        invites[0]
    );
    assert!(
        invites[1].contains("Session-Expires: 1900"),
        "{}",
        invites[1]
    );
    assert!(invites[1].contains("Min-SE: 1900"), "{}", invites[1]);
}

#[test]
fn peer_refreshing_by_update_keeps_the_call() {
    let mut cli = phone(9, &["--auto-answer"]);
    let addr = listening(&mut cli);
    let newport = free_port();
    let sipp = uac(
        "incall_uac_update_refresh.xml",
        addr,
        &[("newport", newport.to_string())],
        30,
    );
    cli.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    let fin = cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(fin["reason"], "the other party hung up", "{fin}");
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    // The UPDATE carrying an offer moved our media to the new port (RFC 3311).
    let last_media = cli
        .seen
        .iter()
        .rev()
        .find(|v| v["event"] == "media")
        .cloned()
        .expect("media events");
    assert_eq!(
        last_media["remote"],
        format!("127.0.0.1:{newport}").as_str(),
        "{last_media}"
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
    let update_oks = messages_starting(&outcome.messages, "SIP/2.0 200 OK")
        .iter()
        .filter(|m| {
            m.lines()
                .any(|l| l.starts_with("CSeq:") && l.trim_end().ends_with(" UPDATE"))
        })
        .count();
    assert_eq!(update_oks, 3, "every UPDATE answered 200:\n{outcome}");
}

#[test]
fn we_refresh_by_update_when_the_peer_makes_us_refresher() {
    // The UAS grants 90 s with refresher=uac and allows UPDATE: we refresh at half the interval (RFC 4028 §10).
    let sipp = Sipp::uas(Scenario::peer("incall_uas_timer_refresher_uac.xml"), {
        let mut args = SippArgs::new(free_port());
        args.timeout = Duration::from_secs(80);
        args
    })
    .expect("start sipp uas");
    let port = sipp.addr().port();
    let mut cli = phone(
        port,
        &[
            "--call",
            &format!("sip:svc@127.0.0.1:{port}"),
            "--hangup-after",
            "50",
            // SIPp sends no RTP: without this our 30 s RTP inactivity timeout would end the call first.
            "--no-inactivity-timeout",
        ],
    );
    cli.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    cli.wait_for("FINISH", Duration::from_secs(70), is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
    let updates = messages_starting(&outcome.messages, "UPDATE sip:");
    assert_eq!(updates.len(), 1, "one refresh in 50 s:\n{outcome}");
    assert!(
        !updates[0].contains("application/sdp"),
        "a refresh by UPDATE carries no offer: {}",
        updates[0]
    );
}

#[test]
fn peer_reinvite_with_changed_sdp_is_answered() {
    let mut cli = phone(9, &["--auto-answer"]);
    let addr = listening(&mut cli);
    let newport = free_port();
    let sipp = uac(
        "incall_uac_reinvite_changed_sdp.xml",
        addr,
        &[("newport", newport.to_string())],
        30,
    );
    cli.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    let hold = cli.wait_for("HOLD", T, is_call("HOLD"));
    assert_eq!(hold["held"], "remote", "{hold}");
    cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());

    // The new port and directions reached the media object.
    let media: Vec<&Value> = cli.seen.iter().filter(|v| v["event"] == "media").collect();
    let last = media.last().expect("media events");
    assert_eq!(
        last["remote"],
        format!("127.0.0.1:{newport}").as_str(),
        "{media:#?}"
    );
    let directions: Vec<&str> = media
        .iter()
        .filter_map(|v| v["direction"].as_str())
        .collect();
    assert_eq!(
        directions,
        ["sendrecv", "recvonly", "sendrecv"],
        "{media:#?}"
    );
    let states = cli.call_states();
    let held_at = states.iter().position(|s| s == "HOLD").expect("HOLD");
    assert!(
        states[held_at..].iter().any(|s| s == "ESTABLISHED"),
        "{states:?}"
    );

    // Our three answers, read in SIPp's trace: same o= session, version one higher each time (RFC 3264 §8).
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
    let answers: Vec<(String, u64)> = messages_starting(&outcome.messages, "SIP/2.0 200 OK")
        .iter()
        .filter(|m| m.contains("INVITE") && m.contains("application/sdp"))
        .filter_map(|m| {
            let o = m.lines().find(|l| l.starts_with("o="))?;
            let fields: Vec<&str> = o.split_whitespace().collect();
            Some((fields.get(1)?.to_string(), fields.get(2)?.parse().ok()?))
        })
        .collect();
    assert_eq!(answers.len(), 3, "{outcome}");
    assert!(
        answers.iter().all(|(id, _)| *id == answers[0].0),
        "{answers:?}"
    );
    assert_eq!(answers[1].1, answers[0].1 + 1, "{answers:?}");
    assert_eq!(answers[2].1, answers[1].1 + 1, "{answers:?}");
}

#[test]
fn refer_received_places_the_new_call_and_notifies() {
    let target = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start the transfer target");
    let mut cli = phone(9, &["--auto-answer", "--calls", "2", "--hangup-after", "3"]);
    let addr = listening(&mut cli);
    let transferor = uac(
        "incall_uac_refer.xml",
        addr,
        &[("target_port", target.addr().port().to_string())],
        30,
    );
    let asked = cli.wait_for("transfer_requested", T, is_event("transfer_requested"));
    assert_eq!(
        asked["target"],
        format!("sip:svc@127.0.0.1:{}", target.addr().port()).as_str()
    );
    assert!(
        asked["referred_by"]
            .as_str()
            .unwrap_or("")
            .starts_with("sip:sipp@"),
        "{asked}"
    );
    let new_call = asked["new_call"].clone();
    cli.wait_for("the new call answered", T, |v| {
        v["event"] == "call" && v["state"] == "ESTABLISHED" && v["id"] == new_call
    });
    assert_eq!(
        cli.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        cli.stderr()
    );
    let reported: Vec<u64> = cli
        .seen
        .iter()
        .filter(|v| v["event"] == "transfer" && v["role"] == "transferee")
        .filter_map(|v| v["code"].as_u64())
        .collect();
    assert_eq!(reported.last(), Some(&200), "{reported:?}");

    let outcome = transferor.wait().expect("transferor finished");
    assert!(outcome.success(), "{outcome}");
    let notifies = messages_starting(&outcome.messages, "NOTIFY sip:");
    assert!(notifies.len() >= 2, "{outcome}");
    assert!(
        notifies[0].contains("SIP/2.0 100 Trying"),
        "{}",
        notifies[0]
    );
    let last = notifies[notifies.len() - 1];
    assert!(last.contains("SIP/2.0 200 OK"), "{last}");
    assert!(last.contains("Subscription-State: terminated"), "{last}");
    let outcome = target.wait().expect("target finished");
    assert!(
        outcome.success(),
        "the new call was not complete:\n{outcome}"
    );
}

#[test]
fn dtmf_by_info_auto_falls_back_and_peer_checks_the_bodies() {
    let sipp = Sipp::uas(
        Scenario::peer("incall_uas_info_dtmf.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp uas");
    let port = sipp.addr().port();
    let mut cli = phone(
        port,
        &[
            "--call",
            &format!("sip:svc@127.0.0.1:{port}"),
            "--dtmf",
            "123#",
            "--dtmf-method",
            "auto",
            "--dtmf-after",
            "0.3",
            "--hangup-after",
            "2.5",
        ],
    );
    cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    let sent: String = cli
        .seen
        .iter()
        .filter(|v| v["event"] == "dtmf" && v["flow"] == "sent")
        .map(|v| {
            assert_eq!(v["method"], "info", "{v}");
            v["digit"].as_str().unwrap_or("?").to_string()
        })
        .collect();
    assert_eq!(sent, "123#");
    assert!(
        !cli.seen.iter().any(|v| v["event"] == "dtmf_failed"),
        "{:#?}",
        cli.seen
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}

#[test]
fn dtmf_by_info_is_received() {
    let mut cli = phone(9, &["--auto-answer"]);
    let addr = listening(&mut cli);
    let sipp = uac("incall_uac_sends_info_dtmf.xml", addr, &[], 30);
    cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    let got: Vec<(String, Option<u64>)> = cli
        .seen
        .iter()
        .filter(|v| v["event"] == "dtmf" && v["flow"] == "received")
        .map(|v| {
            (
                v["digit"].as_str().unwrap_or("?").to_string(),
                v["duration_ms"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("7".to_string(), Some(250)),
            ("#".to_string(), Some(100)),
            ("*".to_string(), None)
        ]
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}

#[test]
fn auto_dtmf_goes_out_as_rfc4733_events_when_negotiated_and_no_info_is_sent() {
    let sipp = Sipp::uas(
        Scenario::peer("incall_uas_answer_telephone_event.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp uas");
    let port = sipp.addr().port();
    let mut cli = phone(
        port,
        &[
            "--call",
            &format!("sip:svc@127.0.0.1:{port}"),
            "--dtmf",
            "5",
            "--dtmf-method",
            "auto",
            "--dtmf-after",
            "0.2",
            "--hangup-after",
            "1",
        ],
    );
    let media = cli.wait_for("media", T, is_event("media"));
    assert_eq!(media["telephone_event"], 101, "{media}");
    let sent = cli.wait_for("dtmf sent", T, is_event("dtmf"));
    assert_eq!(sent["method"], "rfc4733", "{sent}");
    assert_eq!(sent["flow"], "sent", "{sent}");
    cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "no INFO may have gone out:\n{outcome}");
}

#[test]
fn rfc4733_without_telephone_event_is_refused() {
    let sipp = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp uas");
    let port = sipp.addr().port();
    let mut cli = phone(
        port,
        &[
            "--call",
            &format!("sip:svc@127.0.0.1:{port}"),
            "--dtmf",
            "5",
            "--dtmf-method",
            "rfc4733",
            "--dtmf-after",
            "0.2",
            "--hangup-after",
            "1",
        ],
    );
    let err = cli.wait_for("error", T, is_event("error"));
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .contains("did not negotiate RFC 4733"),
        "{err}"
    );
    assert_eq!(cli.wait_exit(T), 1);
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}

#[test]
fn presence_is_published_and_removed_on_exit() {
    let sipp = Sipp::uas(
        Scenario::peer("incall_uas_presence_server.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp presence server");
    let port = sipp.addr().port();
    let mut cli = phone(port, &["--publish", "closed:Out to lunch", "--stay", "1"]);
    let published = cli.wait_for("PUBLISHED", T, |v| {
        v["event"] == "publication" && v["state"] == "PUBLISHED"
    });
    assert_eq!(published["expires"], 120, "{published}");
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    assert!(
        cli.seen
            .iter()
            .any(|v| v["event"] == "publication" && v["state"] == "REMOVED"),
        "{:#?}",
        cli.seen
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}

#[test]
fn refused_hold_leaves_the_call_as_it_was() {
    let newport = free_port();
    let mut args = SippArgs::new(free_port());
    args.keys = vec![("newport".into(), newport.to_string())];
    let sipp =
        Sipp::uas(Scenario::peer("incall_uas_refuses_hold.xml"), args).expect("start sipp uas");
    let port = sipp.addr().port();
    let mut cli = phone(
        port,
        &[
            "--call",
            &format!("sip:svc@127.0.0.1:{port}"),
            "--hold-after",
            "0.3",
            "--hangup-after",
            "3",
        ],
    );
    let refused = cli.wait_for("refusal", T, is_event("error"));
    assert_eq!(refused["code"], 488, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or("")
            .contains("refused to put the call on hold"),
        "{refused}"
    );
    cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    assert!(
        !cli.call_states().iter().any(|s| s == "HOLD"),
        "{:?}",
        cli.call_states()
    );
    // The peer's later re-INVITE was answered from the session in force (sendrecv), at its new port.
    let last_media = cli
        .seen
        .iter()
        .rev()
        .find(|v| v["event"] == "media")
        .cloned()
        .expect("media events");
    assert_eq!(last_media["direction"], "sendrecv", "{last_media}");
    assert_eq!(
        last_media["remote"],
        format!("127.0.0.1:{newport}").as_str(),
        "{last_media}"
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
}

#[test]
fn hold_after_glare_is_offered_again_on_the_new_session() {
    let newport = free_port();
    let mut args = SippArgs::new(free_port());
    args.keys = vec![("newport".into(), newport.to_string())];
    let sipp = Sipp::uas(Scenario::peer("incall_uas_glare_491.xml"), args).expect("start sipp uas");
    let port = sipp.addr().port();
    let mut cli = phone(
        port,
        &[
            "--call",
            &format!("sip:svc@127.0.0.1:{port}"),
            "--hold-after",
            "0.3",
            "--hangup-after",
            "8",
        ],
    );
    let hold = cli.wait_for("HOLD after the back-off", T, is_call("HOLD"));
    assert_eq!(hold["held"], "local", "{hold}");
    cli.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(cli.wait_exit(T), 0, "{}", cli.stderr());
    let last_media = cli
        .seen
        .iter()
        .rev()
        .find(|v| v["event"] == "media")
        .cloned()
        .expect("media events");
    assert_eq!(last_media["direction"], "sendonly", "{last_media}");
    assert_eq!(
        last_media["remote"],
        format!("127.0.0.1:{newport}").as_str(),
        "the peer's move survives our later hold: {last_media}"
    );
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
    // Our offers in order: initial, the hold refused with 491, the hold made again. The last one is newer than our
    // answer to the peer's re-INVITE (RFC 3264 §8: one more each time our description changes).
    let ours: Vec<u64> = outcome
        .messages
        .split("----------------------------------------------- ")
        .filter(|m| m.contains("application/sdp") && m.contains("o=- "))
        .filter_map(|m| {
            let o = m.lines().find(|l| l.starts_with("o=- "))?;
            o.split_whitespace().nth(2)?.parse().ok()
        })
        .collect();
    assert_eq!(ours.len(), 4, "offer, hold, answer, hold again: {ours:?}");
    assert!(
        ours.windows(2).all(|w| w[1] == w[0] + 1),
        "each of our descriptions is one newer: {ours:?}"
    );
}
