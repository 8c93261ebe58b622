//! Two (or three) `dialtone` CLI phones registered with a real Kamailio (registrar + record-routing proxy with
//! digest auth): hold and resume by re-INVITE, blind transfer to a third party (a SIPp UAS), attended transfer (a
//! consult call, then REFER with Replaces), MESSAGE both ways, and presence by a direct SUBSCRIBE through the proxy
//! (the test Kamailio has no presence module, so each phone serves its own status: RFC 3856 §4 lets a UA be its
//! own presence agent).

mod cli;

use cli::{is_call, is_reg, Cli};
use dialtone_testkit::{free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use serde_json::Value;
use std::time::Duration;

const USERS: &[(&str, &str)] = &[("alice", "alicepw"), ("bob", "bobpw"), ("carol", "carolpw")];
const T: Duration = Duration::from_secs(20);

/// Starts a phone registered as `user` with Kamailio, plus `extra` flags; waits until it is registered.
fn phone(kam: &Kamailio, user: &str, extra: &[&str]) -> Cli {
    let account = format!("sip:{user}@127.0.0.1:{}", kam.udp_addr().port());
    let password = USERS
        .iter()
        .find(|(u, _)| *u == user)
        .map(|(_, p)| *p)
        .unwrap_or_default();
    let mut args = vec![
        "--account",
        &account,
        "--password-env",
        "DIALTONE_TEST_PASSWORD",
        "--timeout",
        "60",
    ];
    args.extend_from_slice(extra);
    let mut cli = Cli::phone(&args, password);
    cli.wait_for(&format!("{user} REGISTERED"), T, is_reg("REGISTERED"));
    cli
}

fn aor(kam: &Kamailio, user: &str) -> String {
    format!("sip:{user}@127.0.0.1:{}", kam.udp_addr().port())
}

fn is_event(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == kind
}

/// The `call` events of call `id`, as (state, held) pairs.
fn states_of(cli: &Cli, id: &Value) -> Vec<(String, Option<String>)> {
    cli.seen
        .iter()
        .filter(|v| v["event"] == "call" && &v["id"] == id)
        .map(|v| {
            (
                v["state"].as_str().unwrap_or("").to_string(),
                v["held"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn hold_then_resume(states: &[(String, Option<String>)], held: &str) -> bool {
    let hold = states
        .iter()
        .position(|(s, h)| s == "HOLD" && h.as_deref() == Some(held));
    let resumed = hold.and_then(|i| states[i..].iter().position(|(s, _)| s == "ESTABLISHED"));
    resumed.is_some()
}

#[test]
fn hold_and_resume_between_two_phones() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let mut bob = phone(&kam, "bob", &["--auto-answer"]);
    let mut alice = phone(
        &kam,
        "alice",
        &[
            "--call",
            &aor(&kam, "bob"),
            "--hold-after",
            "0.5",
            "--resume-after",
            "1",
            "--hangup-after",
            "4",
        ],
    );
    let est = alice.wait_for("alice ESTABLISHED", T, is_call("ESTABLISHED"));
    let id = est["id"].clone();
    alice.wait_for("alice FINISH", T, is_call("FINISH"));
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    let alice_states = states_of(&alice, &id);
    assert!(
        hold_then_resume(&alice_states, "local"),
        "alice: HOLD (held local) then ESTABLISHED: {alice_states:?}"
    );
    // Our hold offer was answered recvonly, so we only send; after resume both ways again.
    assert_eq!(
        media_directions(&alice),
        ["sendrecv", "sendonly", "sendrecv"],
        "{:#?}",
        alice.seen
    );

    bob.wait_for("bob FINISH", T, is_call("FINISH"));
    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());
    let bob_id = bob
        .seen
        .iter()
        .find(|v| v["event"] == "call")
        .map(|v| v["id"].clone())
        .unwrap_or_default();
    let bob_states = states_of(&bob, &bob_id);
    assert!(
        hold_then_resume(&bob_states, "remote"),
        "bob: HOLD (held remote) then ESTABLISHED: {bob_states:?}"
    );
    assert_eq!(
        media_directions(&bob),
        ["sendrecv", "recvonly", "sendrecv"],
        "{:#?}",
        bob.seen
    );
}

/// The `direction` of every `media` event, in order.
fn media_directions(cli: &Cli) -> Vec<String> {
    cli.seen
        .iter()
        .filter(|v| v["event"] == "media")
        .filter_map(|v| v["direction"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn blind_transfer_to_a_sipp_uas() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let sipp = Sipp::uas(
        Scenario::peer("uas_answer_200.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start sipp uas");
    let third = format!("sip:svc@127.0.0.1:{}", sipp.addr().port());
    let mut bob = phone(
        &kam,
        "bob",
        &["--auto-answer", "--calls", "2", "--hangup-after", "4"],
    );
    let mut alice = phone(
        &kam,
        "alice",
        &[
            "--call",
            &aor(&kam, "bob"),
            "--transfer-to",
            &third,
            "--transfer-after",
            "0.5",
        ],
    );
    alice.wait_for("alice ESTABLISHED", T, is_call("ESTABLISHED"));
    let done = alice.wait_for("transfer 200", T, |v| {
        v["event"] == "transfer" && v["role"] == "transferor" && v["code"] == 200
    });
    assert_eq!(done["reason"], "OK");
    let fin = alice.wait_for("alice FINISH", T, is_call("FINISH"));
    assert_eq!(fin["reason"], "transferred", "{fin}");
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());

    let asked = bob.wait_for("bob transfer_requested", T, is_event("transfer_requested"));
    assert_eq!(asked["target"], third.as_str(), "{asked}");
    let new_call = asked["new_call"].clone();
    assert!(new_call.is_u64(), "{asked}");
    bob.wait_for("bob's new call answered", T, |v| {
        v["event"] == "call" && v["state"] == "ESTABLISHED" && v["id"] == new_call
    });
    bob.wait_for("bob reported 200", T, |v| {
        v["event"] == "transfer" && v["role"] == "transferee" && v["code"] == 200
    });
    assert_eq!(
        bob.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        bob.stderr()
    );
    let original_end = bob
        .seen
        .iter()
        .find(|v| v["event"] == "call" && v["state"] == "FINISH" && v["id"] == asked["id"])
        .cloned()
        .expect("bob's original call ended");
    assert_eq!(original_end["reason"], "the other party hung up");

    let outcome = sipp.wait().expect("sipp finished");
    assert!(
        outcome.success(),
        "the third party did not get a complete call:\n{outcome}"
    );
    assert!(
        outcome.messages.contains("Record-Route:"),
        "the transferred call did not go through the proxy:\n{outcome}"
    );
}

#[test]
fn attended_transfer_replaces_the_consult_call() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let mut carol = phone(&kam, "carol", &["--auto-answer", "--calls", "2"]);
    let mut bob = phone(
        &kam,
        "bob",
        &["--auto-answer", "--calls", "2", "--hangup-after", "3"],
    );
    let mut alice = phone(
        &kam,
        "alice",
        &[
            "--call",
            &aor(&kam, "bob"),
            "--attended-transfer-to",
            &aor(&kam, "carol"),
            "--transfer-after",
            "0.5",
        ],
    );
    alice.wait_for("alice ESTABLISHED", T, is_call("ESTABLISHED"));
    alice.wait_for("transfer 200", T, |v| {
        v["event"] == "transfer" && v["role"] == "transferor" && v["code"] == 200
    });
    assert_eq!(
        alice.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        alice.stderr()
    );
    let ends: Vec<&Value> = alice
        .seen
        .iter()
        .filter(|v| v["event"] == "call" && v["state"] == "FINISH")
        .collect();
    assert_eq!(ends.len(), 2, "both of alice's calls end: {ends:#?}");
    assert!(
        ends.iter().any(|v| v["reason"] == "transferred"),
        "{ends:#?}"
    );
    assert!(
        ends.iter()
            .any(|v| v["reason"] == "the other party hung up"),
        "carol hangs up the consult call once replaced: {ends:#?}"
    );

    let asked = bob.wait_for("bob transfer_requested", T, is_event("transfer_requested"));
    assert!(
        asked["target"].as_str().unwrap_or("").contains("Replaces="),
        "{asked}"
    );
    assert_eq!(
        bob.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        bob.stderr()
    );

    // Carol: the consult call from alice, then bob's call replacing it.
    let replacing = carol.wait_for("carol's replacing call", T, |v| {
        v["event"] == "call" && v["state"] == "ESTABLISHED" && v["replaces"].is_u64()
    });
    let consult = replacing["replaces"].clone();
    assert!(
        replacing["peer"].as_str().unwrap_or("").contains("bob@"),
        "{replacing}"
    );
    assert_eq!(
        carol.wait_exit(Duration::from_secs(30)),
        0,
        "{}",
        carol.stderr()
    );
    let consult_end = carol
        .seen
        .iter()
        .find(|v| v["event"] == "call" && v["state"] == "FINISH" && v["id"] == consult)
        .cloned()
        .expect("the consult call ended");
    assert_eq!(
        consult_end["reason"], "replaced by another call",
        "{consult_end}"
    );
}

#[test]
fn message_both_ways_through_the_proxy() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let alice_aor = aor(&kam, "alice");
    let mut bob = phone(
        &kam,
        "bob",
        &[
            "--stay",
            "6",
            "--message-to",
            &alice_aor,
            "--message",
            "Hi Alice — straight back",
            "--message-after",
            "3",
        ],
    );
    let mut alice = phone(
        &kam,
        "alice",
        &[
            "--stay",
            "5",
            "--message-to",
            &aor(&kam, "bob"),
            "--message",
            "Grüße, Bob ☎",
        ],
    );
    let sent = alice.wait_for("alice message_result", T, is_event("message_result"));
    assert_eq!(sent["code"], 200, "{sent}");
    let got = bob.wait_for("bob message", T, is_event("message"));
    assert_eq!(got["body"], "Grüße, Bob ☎");
    assert!(
        got["from"].as_str().unwrap_or("").contains("alice@"),
        "{got}"
    );
    assert!(got["call"].is_null(), "{got}");
    let back = alice.wait_for("alice message", T, is_event("message"));
    assert_eq!(back["body"], "Hi Alice — straight back");
    let sent_back = bob.wait_for("bob message_result", T, is_event("message_result"));
    assert_eq!(sent_back["code"], 200, "{sent_back}");
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());
}

#[test]
fn message_inside_a_call() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let mut bob = phone(&kam, "bob", &["--auto-answer"]);
    let mut alice = phone(
        &kam,
        "alice",
        &[
            "--call",
            &aor(&kam, "bob"),
            "--message",
            "said during the call",
            "--message-after",
            "0.3",
            "--hangup-after",
            "2",
        ],
    );
    let sent = alice.wait_for("alice message_result", T, is_event("message_result"));
    assert_eq!(sent["code"], 200, "{sent}");
    let got = bob.wait_for("bob message", T, is_event("message"));
    assert_eq!(got["body"], "said during the call");
    assert!(
        got["call"].is_u64(),
        "an in-dialog MESSAGE names its call: {got}"
    );
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());
}

#[test]
fn presence_by_direct_subscribe_through_the_proxy() {
    let kam = Kamailio::start(KamailioOpts::udp_tcp(USERS)).expect("start kamailio");
    let mut alice = phone(
        &kam,
        "alice",
        &["--stay", "8", "--presence", "closed:In a meeting"],
    );
    let mut bob = phone(
        &kam,
        "bob",
        &["--stay", "3", "--subscribe", &aor(&kam, "alice")],
    );
    let active = bob.wait_for("bob subscription ACTIVE", T, |v| {
        v["event"] == "subscription" && v["state"] == "ACTIVE"
    });
    let seen = bob.wait_for("bob presence", T, is_event("presence"));
    assert_eq!(seen["status"], "closed", "{seen}");
    assert_eq!(seen["note"], "In a meeting", "{seen}");
    assert_eq!(seen["subscription"], active["id"]);
    // (The un-SUBSCRIBE on exit is proven on simulated time in crates/sip/tests/ua_presence_between_two_phones.rs;
    // here the process may exit before the NOTIFY "terminated" crosses a loaded machine.)
    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
}
