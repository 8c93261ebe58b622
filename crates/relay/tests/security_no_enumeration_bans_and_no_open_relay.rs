//! Safe by default: an unknown user and a wrong password get the same answer; a burst of
//! failures bans the source (others unaffected, the ban ends); outside domains are refused
//! before any authentication (no open relay) unless configured; WebSocket origins are checked
//! against an allow-list.

mod harness;

use std::time::Duration;

use dialtone_relay::{BannedAction, ForwardDomain, OriginPolicy, RelayEvent};
use dialtone_sip::auth::Challenge;
use dialtone_sip_message::Response;
use harness::*;

const MALLORY: &str = "127.0.0.1:5090";
const GOOD: &str = "127.0.0.2:5070";

/// Sends a REGISTER for `user` answered with `password` to a fresh challenge; returns the
/// final answer.
fn register_with(
    net: &mut Net,
    node: usize,
    user: &str,
    password: &str,
    call_id: &str,
) -> Response {
    let via = net.peer(node).addr.to_string();
    let target = format!("sip:{DOMAIN}");
    net.send_text(
        node,
        &request_text("REGISTER", &target, user, &via, call_id, 1, ""),
    );
    let challenge = only_response(net.take_inbox(node));
    assert_eq!(challenge.status, 401);
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        user,
        password,
        "REGISTER",
        &target,
        1,
    );
    let extra = format!("Authorization: {auth}\r\n");
    net.send_text(
        node,
        &request_text("REGISTER", &target, user, &via, call_id, 2, &extra),
    );
    let mut inbox = net.take_inbox(node);
    assert!(inbox.len() <= 1, "{inbox:?}");
    match inbox.pop() {
        Some(message) => message.as_response().expect("a response").clone(),
        None => Response::new(0, "no answer"),
    }
}

/// The shape of a response: status, reason, header names in order, and the challenge
/// parameters without their (random) values.
fn shape(response: &Response) -> (u16, String, Vec<String>, Vec<String>) {
    let names = response.headers.iter().map(|(n, _)| n.to_owned()).collect();
    let challenges = response
        .headers
        .get_all("WWW-Authenticate")
        .chain(response.headers.get_all("Proxy-Authenticate"))
        .map(|v| {
            let c = Challenge::parse(v).unwrap();
            format!(
                "realm={} algorithm={} qop={:?} stale={} nonce-len={} opaque={:?}",
                c.realm,
                c.algorithm,
                c.qop,
                c.stale,
                c.nonce.len(),
                c.opaque
            )
        })
        .collect();
    (response.status, response.reason.clone(), names, challenges)
}

#[test]
fn unknown_user_and_wrong_password_get_the_same_answer() {
    let mut net = Net::new();
    let node = net.add_raw(udp(MALLORY));
    let wrong_password = register_with(&mut net, node, "alice", "not-her-password", "w1");
    let unknown_user = register_with(&mut net, node, "zed", "anything", "w2");
    assert_eq!(wrong_password.status, 401);
    assert_eq!(shape(&wrong_password), shape(&unknown_user));
    // Neither is marked stale: a stale answer would tell that the digest was right.
    assert!(!shape(&unknown_user)
        .3
        .iter()
        .any(|c| c.contains("stale=true")));
    // Both count as failures.
    let failures = net
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, RelayEvent::AuthFailed { .. }))
        .count();
    assert_eq!(failures, 2);
}

#[test]
fn unknown_and_known_callers_are_challenged_alike_by_the_proxy() {
    let mut net = Net::new();
    let node = net.add_raw(udp(MALLORY));
    let target = format!("sip:bob@{DOMAIN}");
    let mut answers = Vec::new();
    for (user, password, call_id) in [("alice", "wrong", "p1"), ("zed", "x", "p2")] {
        net.send_text(
            node,
            &request_text("INVITE", &target, user, MALLORY, call_id, 1, ""),
        );
        let challenge = only_response(net.take_inbox(node));
        let auth = answer_challenge(
            &challenge,
            "Proxy-Authenticate",
            user,
            password,
            "INVITE",
            &target,
            1,
        );
        let extra = format!("Proxy-Authorization: {auth}\r\n");
        net.send_text(
            node,
            &request_text("INVITE", &target, user, MALLORY, call_id, 2, &extra),
        );
        answers.push(only_response(net.take_inbox(node)));
    }
    assert_eq!(answers[0].status, 407);
    assert_eq!(shape(&answers[0]), shape(&answers[1]));
}

#[test]
fn a_burst_of_failures_bans_the_source_and_a_good_client_elsewhere_still_registers() {
    let mut net = Net::new();
    let mallory = net.add_raw(udp(MALLORY));
    let good = net.add_raw(udp(GOOD));
    for i in 0..9 {
        let answer = register_with(&mut net, mallory, "alice", "guess", &format!("g{i}"));
        assert_eq!(answer.status, 401, "failure {i} is answered");
        net.advance(Duration::from_secs(5));
    }
    assert!(
        !net.relay.is_banned(addr(MALLORY).ip(), net.now),
        "9 failures: no ban"
    );
    let tenth = register_with(&mut net, mallory, "alice", "guess", "g9");
    assert_eq!(tenth.status, 401);
    let bans: Vec<_> = net
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            RelayEvent::SourceBanned { source, until } => Some((source, until)),
            _ => None,
        })
        .collect();
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].0, addr(MALLORY).ip());
    assert_eq!(bans[0].1, net.now + Duration::from_secs(600));

    // Banned: even the right password gets no answer at all (dropped unread).
    let target = format!("sip:{DOMAIN}");
    net.send_text(
        mallory,
        &request_text("REGISTER", &target, "alice", MALLORY, "g10", 1, ""),
    );
    assert!(net.take_inbox(mallory).is_empty());

    // Another source registers normally.
    let ok = register_with(&mut net, good, "alice", "alice-pw", "good1");
    assert_eq!(ok.status, 200);

    // The ban ends after ten minutes.
    net.advance(Duration::from_secs(601));
    let ok = register_with(&mut net, mallory, "bob", "bob-pw", "later");
    assert_eq!(ok.status, 200);
}

#[test]
fn failures_spread_over_more_than_a_minute_do_not_ban() {
    let mut net = Net::new();
    let mallory = net.add_raw(udp(MALLORY));
    for i in 0..15 {
        register_with(&mut net, mallory, "alice", "guess", &format!("s{i}"));
        net.advance(Duration::from_secs(7));
    }
    assert!(!net.relay.is_banned(addr(MALLORY).ip(), net.now));
}

#[test]
fn banned_sources_can_be_answered_403_when_configured() {
    let mut config = config();
    config.banned_action = BannedAction::Forbidden;
    config.ban.max_failures = 2;
    let mut net = Net::with_config(config);
    let mallory = net.add_raw(udp(MALLORY));
    register_with(&mut net, mallory, "alice", "guess", "f1");
    register_with(&mut net, mallory, "alice", "guess", "f2");
    let target = format!("sip:{DOMAIN}");
    net.send_text(
        mallory,
        &request_text("REGISTER", &target, "alice", MALLORY, "f3", 1, ""),
    );
    assert_eq!(only_response(net.take_inbox(mallory)).status, 403);
}

#[test]
fn outside_domains_are_refused_before_authentication() {
    let mut net = Net::new();
    let node = net.add_raw(udp(MALLORY));
    // Request-URI elsewhere.
    let text = request_text(
        "INVITE",
        "sip:someone@example.com",
        "alice",
        MALLORY,
        "r1",
        1,
        "",
    );
    net.send_text(node, &text);
    let response = only_response(net.take_inbox(node));
    assert_eq!(
        (response.status, response.reason.as_str()),
        (403, "Relaying denied")
    );
    assert!(response.headers.get("Proxy-Authenticate").is_none());

    // Request-URI ours, but a Route elsewhere after ours.
    let text = request_text(
        "MESSAGE",
        &format!("sip:bob@{DOMAIN}"),
        "alice",
        MALLORY,
        "r2",
        1,
        "Route: <sip:127.0.0.1:5060;lr>, <sip:198.51.100.1;lr>\r\n",
    );
    net.send_text(node, &text);
    let response = only_response(net.take_inbox(node));
    assert_eq!(response.status, 403);
    assert!(net
        .log
        .iter()
        .all(|w| w.to.addr.ip() != "198.51.100.1".parse::<std::net::IpAddr>().unwrap()));
}

#[test]
fn configured_outside_domains_are_forwarded_for_authenticated_users() {
    let mut config = config();
    let trunk = udp("127.0.0.9:5060");
    config.forward_domains.push(ForwardDomain {
        domain: "pbx.example".into(),
        next_hop: trunk,
    });
    let mut net = Net::with_config(config);
    let alice = net.add_raw(udp("127.0.0.1:5070"));
    let pbx = net.add_raw(trunk);
    let target = "sip:100@pbx.example";
    net.send_text(
        alice,
        &request_text("MESSAGE", target, "alice", "127.0.0.1:5070", "t1", 1, ""),
    );
    let challenge = only_response(net.take_inbox(alice));
    assert_eq!(challenge.status, 407, "authenticated first");
    let auth = answer_challenge(
        &challenge,
        "Proxy-Authenticate",
        "alice",
        "alice-pw",
        "MESSAGE",
        target,
        1,
    );
    let extra = format!("Proxy-Authorization: {auth}\r\n");
    net.send_text(
        alice,
        &request_text(
            "MESSAGE",
            target,
            "alice",
            "127.0.0.1:5070",
            "t1",
            2,
            &extra,
        ),
    );
    let at_pbx = requests(&net.take_inbox(pbx), "MESSAGE");
    assert_eq!(at_pbx.len(), 1);
    assert_eq!(at_pbx[0].uri, uri(target), "Request-URI kept");
}

#[test]
fn websocket_origins_are_checked_against_the_allow_list() {
    let policy = OriginPolicy::new(["http://127.0.0.1:8080", "https://Phone.Example"]).unwrap();
    assert!(policy.allows(Some("http://127.0.0.1:8080")));
    assert!(policy.allows(Some("HTTP://127.0.0.1:8080")));
    assert!(
        policy.allows(Some("https://phone.example:443")),
        "default port"
    );
    assert!(!policy.allows(Some("http://127.0.0.1:8081")));
    assert!(
        !policy.allows(Some("https://127.0.0.1:8080")),
        "scheme matters"
    );
    assert!(!policy.allows(Some("http://evil.example")));
    assert!(!policy.allows(Some("http://127.0.0.1:8080.evil.example")));
    assert!(!policy.allows(Some("null")));
    assert!(!policy.allows(Some("")));
    // Non-browser clients send no Origin; allowed unless required.
    assert!(policy.allows(None));
    assert!(!policy.clone().require_origin().allows(None));
    assert!(OriginPolicy::new(["*"]).is_err(), "no wildcard");
    assert!(OriginPolicy::new(["http://host/path"]).is_err());
}
