//! The registrar (RFC 3261 §10.3) behind digest authentication: challenge, MD5 and SHA-256
//! answers, stale nonces, nonce-count replays, Expires handling, unregistration, expiry and
//! flows.

mod harness;

use std::time::Duration;

use dialtone_relay::{LocationStore, RelayEvent, UnregisterReason};
use dialtone_sip::auth::Challenge;
use dialtone_sip::transport::TransportKind;
use dialtone_sip::ua::RegistrationState;
use dialtone_sip_message::Response;
use harness::*;

const ALICE: &str = "127.0.0.1:5070";

/// A raw REGISTER for `user` from `ALICE`, with `extra` header lines.
fn register_text(user: &str, call_id: &str, cseq: u32, extra: &str) -> String {
    request_text(
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        user,
        ALICE,
        call_id,
        cseq,
        extra,
    )
}

/// Sends a REGISTER and returns the one response.
fn exchange(net: &mut Net, node: usize, text: &str) -> Response {
    net.send_text(node, text);
    only_response(net.take_inbox(node))
}

/// Registers `user` from a raw node through the challenge; returns the 200 and the 401.
fn raw_register(
    net: &mut Net,
    node: usize,
    user: &str,
    call_id: &str,
    extra: &str,
) -> (Response, Response) {
    let challenge = exchange(net, node, &register_text(user, call_id, 1, extra));
    assert_eq!(challenge.status, 401);
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        user,
        &format!("{user}-pw"),
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        1,
    );
    let extra = format!("{extra}Authorization: {auth}\r\n");
    let ok = exchange(net, node, &register_text(user, call_id, 2, &extra));
    (ok, challenge)
}

#[test]
fn user_agent_registers_after_a_digest_challenge() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let reg = net.register(alice, "alice");
    let state = net.ua(alice).registration_state(reg).cloned();
    assert_eq!(
        state,
        Some(RegistrationState::Registered { expires: 600 }),
        "{:?}",
        net.take_ua_events(alice)
    );
    let statuses: Vec<u16> = net
        .log
        .iter()
        .filter_map(|w| w.response().map(|r| r.status))
        .collect();
    assert_eq!(statuses, [401, 200]);
    let challenge = net.log[1].response().unwrap();
    let offered: Vec<String> = challenge
        .headers
        .get_all("WWW-Authenticate")
        .map(|v| Challenge::parse(v).unwrap().algorithm.to_string())
        .collect();
    // MD5 alone by default: baresip 1.x fails on any challenge it cannot answer.
    assert_eq!(offered, ["MD5"]);
    let binding = net.relay.location().bindings("alice", net.now);
    assert_eq!(binding.len(), 1);
    assert_eq!(binding[0].flow, udp(ALICE));
    assert!(net.take_events().iter().any(|e| matches!(e,
        RelayEvent::Registered { aor, expires: 600, .. } if aor == "alice")));
}

#[test]
fn rfc8760_client_picks_sha256_when_both_are_offered() {
    let mut config = config();
    config.digest_algorithms = vec![
        dialtone_sip::auth::Algorithm::Md5,
        dialtone_sip::auth::Algorithm::Sha256,
    ];
    let mut net = Net::with_config(config);
    let alice = net.add_ua(ALICE, 1);
    net.register(alice, "alice");
    let challenge = net.log[1].response().unwrap();
    let offered: Vec<String> = challenge
        .headers
        .get_all("WWW-Authenticate")
        .map(|v| Challenge::parse(v).unwrap().algorithm.to_string())
        .collect();
    assert_eq!(offered, ["MD5", "SHA-256"], "MD5 first for JsSIP/SIP.js");
    // An RFC 8760 client (Dialtone's own) answers with the stronger one.
    let answered = net.log[2].request().unwrap();
    assert!(answered
        .headers
        .get("Authorization")
        .unwrap()
        .contains("algorithm=SHA-256"));
    assert_eq!(net.log[3].response().map(|r| r.status), Some(200));
}

#[test]
fn md5_and_sha256_answers_both_verify() {
    for (index, algorithm) in ["MD5", "SHA-256"].into_iter().enumerate() {
        let mut config = config();
        config.digest_algorithms = vec![
            dialtone_sip::auth::Algorithm::Md5,
            dialtone_sip::auth::Algorithm::Sha256,
        ];
        let mut net = Net::with_config(config);
        let node = net.add_raw(udp(ALICE));
        let challenge = exchange(&mut net, node, &register_text("alice", "a1", 1, ""));
        let value = challenge
            .headers
            .get_all("WWW-Authenticate")
            .nth(index)
            .unwrap();
        assert!(value.contains(&format!("algorithm={algorithm}")), "{value}");
        let mut only = Response::new(401, "Unauthorized");
        only.headers.push("WWW-Authenticate", value);
        let auth = answer_challenge(
            &only,
            "WWW-Authenticate",
            "alice",
            "alice-pw",
            "REGISTER",
            &format!("sip:{DOMAIN}"),
            1,
        );
        assert!(auth.contains(&format!("algorithm={algorithm}")));
        let extra = format!("Authorization: {auth}\r\n");
        let ok = exchange(&mut net, node, &register_text("alice", "a1", 2, &extra));
        assert_eq!(ok.status, 200, "{algorithm}");
    }
}

#[test]
fn ok_lists_every_current_contact_with_its_expiry() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    let (ok, _) = raw_register(&mut net, node, "alice", "c1", "Expires: 300\r\n");
    assert_eq!(ok.status, 200);
    let contacts = ok.contacts().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].param("expires"), Some(Some("300")));

    // A second device of alice (another Call-ID, another contact).
    net.advance(Duration::from_secs(100));
    let extra = "Expires: 3600\r\nContact: <sip:alice@127.0.0.1:5099>\r\n";
    let (ok, _) = raw_register(&mut net, node, "alice", "c2", extra);
    let contacts = ok.contacts().unwrap();
    assert_eq!(contacts.len(), 2, "{ok:?}");
    let expiries: Vec<Option<&str>> = contacts
        .iter()
        .map(|c| c.param("expires").flatten())
        .collect();
    assert!(expiries.contains(&Some("200")), "{expiries:?}");
    assert!(expiries.contains(&Some("3600")), "{expiries:?}");
}

#[test]
fn lifetimes_below_the_minimum_get_423_and_above_the_maximum_are_cut() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    let (brief, _) = raw_register(&mut net, node, "alice", "e1", "Expires: 30\r\n");
    assert_eq!(brief.status, 423);
    assert_eq!(brief.headers.get("Min-Expires"), Some("60"));
    assert!(net.relay.location().bindings("alice", net.now).is_empty());

    let (ok, _) = raw_register(&mut net, node, "alice", "e2", "Expires: 999999\r\n");
    assert_eq!(ok.status, 200);
    let contacts = ok.contacts().unwrap();
    assert_eq!(contacts[0].param("expires"), Some(Some("3600")));
}

#[test]
fn expires_zero_and_wildcard_unregister() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    raw_register(&mut net, node, "alice", "u1", "");
    raw_register(
        &mut net,
        node,
        "alice",
        "u2",
        "Contact: <sip:alice@127.0.0.1:5099>\r\n",
    );
    assert_eq!(net.relay.location().bindings("alice", net.now).len(), 2);

    // Expires: 0 on the first contact only (the request's own Contact line).
    let (ok, _) = raw_register(&mut net, node, "alice", "u1b", "Expires: 0\r\n");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.contacts().unwrap().len(), 1);

    // `*` without Expires: 0 is refused; with it, everything goes.
    let text = register_text("alice", "u3", 1, "")
        .replace(&format!("Contact: <sip:alice@{ALICE}>"), "Contact: *");
    let challenge = exchange(&mut net, node, &text);
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        1,
    );
    let bad = text
        .replace("CSeq: 1 ", "CSeq: 2 ")
        .replace("u31;", "u32;")
        .replace(
            "Content-Length",
            &format!("Authorization: {auth}\r\nContent-Length"),
        );
    assert_eq!(exchange(&mut net, node, &bad).status, 400);
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        2,
    );
    let good = text
        .replace("CSeq: 1 ", "CSeq: 3 ")
        .replace("u31;", "u33;")
        .replace(
            "Content-Length",
            &format!("Expires: 0\r\nAuthorization: {auth}\r\nContent-Length"),
        );
    let ok = exchange(&mut net, node, &good);
    assert_eq!(ok.status, 200);
    assert!(ok.headers.get("Contact").is_none());
    assert!(net.relay.location().bindings("alice", net.now).is_empty());
    let reasons: Vec<UnregisterReason> = net
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            RelayEvent::Unregistered { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, [UnregisterReason::Request; 2]);
}

#[test]
fn bindings_lapse_when_not_refreshed() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    raw_register(&mut net, node, "alice", "x1", "Expires: 120\r\n");
    net.advance(Duration::from_secs(119));
    assert_eq!(net.relay.location().bindings("alice", net.now).len(), 1);
    net.take_events();
    net.advance(Duration::from_secs(2));
    assert!(net.relay.location().bindings("alice", net.now).is_empty());
    assert!(
        net.take_events().iter().any(|e| matches!(e,
        RelayEvent::Unregistered { reason: UnregisterReason::Expired, aor, .. } if aor == "alice"))
    );
}

#[test]
fn reused_nonce_count_and_expired_nonce_are_answered_stale() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    let (ok, challenge) = raw_register(&mut net, node, "alice", "s1", "");
    assert_eq!(ok.status, 200);

    // The same nonce and nc again (a replay), in a new transaction.
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        1,
    );
    let replay = register_text("alice", "s1", 3, &format!("Authorization: {auth}\r\n"));
    let stale = exchange(&mut net, node, &replay);
    assert_eq!(stale.status, 401);
    assert!(stale
        .headers
        .get_all("WWW-Authenticate")
        .all(|v| Challenge::parse(v).unwrap().stale));

    // The next nc is fine while the nonce is fresh ...
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        2,
    );
    let next = register_text("alice", "s1", 4, &format!("Authorization: {auth}\r\n"));
    assert_eq!(exchange(&mut net, node, &next).status, 200);

    // ... and stale once it is older than the nonce lifetime (300 s).
    net.advance(Duration::from_secs(301));
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        3,
    );
    let late = register_text("alice", "s1", 5, &format!("Authorization: {auth}\r\n"));
    let stale = exchange(&mut net, node, &late);
    assert_eq!(stale.status, 401);
    assert!(
        Challenge::parse(stale.headers.get("WWW-Authenticate").unwrap())
            .unwrap()
            .stale
    );
    // Stale answers are not failures: nothing is counted against the source.
    assert!(!net
        .take_events()
        .iter()
        .any(|e| matches!(e, RelayEvent::AuthFailed { .. })));
}

#[test]
fn out_of_order_cseq_for_a_binding_is_refused() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    let (_, challenge) = raw_register(&mut net, node, "alice", "o1", "");
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        2,
    );
    // CSeq 2 was used by the accepted REGISTER; CSeq 1 is older (new branch so it is a new
    // transaction).
    let old = register_text("alice", "o1", 1, &format!("Authorization: {auth}\r\n"))
        .replace("z9hG4bKo11", "z9hG4bKo1-old");
    assert_eq!(exchange(&mut net, node, &old).status, 400);
}

#[test]
fn registering_another_users_address_is_forbidden() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    // alice's credentials, bob's address-of-record in To.
    let text = register_text("alice", "f1", 1, "").replace(
        &format!("To: <sip:alice@{DOMAIN}>"),
        &format!("To: <sip:bob@{DOMAIN}>"),
    );
    let challenge = exchange(&mut net, node, &text);
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        1,
    );
    let text = text
        .replace("CSeq: 1 ", "CSeq: 2 ")
        .replace("f11;", "f12;")
        .replace(
            "Content-Length",
            &format!("Authorization: {auth}\r\nContent-Length"),
        );
    assert_eq!(exchange(&mut net, node, &text).status, 403);
    assert!(net.relay.location().bindings("bob", net.now).is_empty());
}

#[test]
fn websocket_contacts_are_bound_to_their_flow_and_end_with_it() {
    let mut net = Net::new();
    let browser = net.add_raw(ws("127.0.0.1:40123"));
    let text = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKws1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:carol@{DOMAIN}>;tag=w\r\nTo: <sip:carol@{DOMAIN}>\r\n\
         Call-ID: ws-reg\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:k2v8s0@df7jal23ls0d.invalid;transport=ws>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n\
         Expires: 600\r\nContent-Length: 0\r\n\r\n"
    );
    let challenge = exchange(&mut net, browser, &text);
    assert_eq!(challenge.status, 401);
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        "carol",
        "carol-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        1,
    );
    let text = text
        .replace("CSeq: 1 ", "CSeq: 2 ")
        .replace("z9hG4bKws1", "z9hG4bKws2")
        .replace(
            "Content-Length",
            &format!("Authorization: {auth}\r\nContent-Length"),
        );
    let ok = exchange(&mut net, browser, &text);
    assert_eq!(ok.status, 200);
    let bindings = net.relay.location().bindings("carol", net.now);
    assert_eq!(bindings[0].flow.transport, TransportKind::Ws);
    assert_eq!(bindings[0].flow, ws("127.0.0.1:40123"));

    let now = net.now;
    net.relay.handle_flow_closed(now, ws("127.0.0.1:40123"));
    net.deliver();
    assert!(net.relay.location().bindings("carol", net.now).is_empty());
    assert!(net.take_events().iter().any(|e| matches!(
        e,
        RelayEvent::Unregistered {
            reason: UnregisterReason::FlowClosed,
            ..
        }
    )));
}

#[test]
fn register_for_an_outside_domain_is_refused_unchallenged() {
    let mut net = Net::new();
    let node = net.add_raw(udp(ALICE));
    let text = register_text("alice", "d1", 1, "").replace(
        &format!("REGISTER sip:{DOMAIN}"),
        "REGISTER sip:example.com",
    );
    let response = exchange(&mut net, node, &text);
    assert_eq!(
        (response.status, response.reason.as_str()),
        (403, "Relaying denied")
    );
}

#[test]
fn challenge_order_and_algorithms_are_configurable() {
    let mut config = config();
    config.digest_algorithms = vec![dialtone_sip::auth::Algorithm::Sha256];
    let mut net = Net::with_config(config);
    let node = net.add_raw(udp(ALICE));
    let challenge = exchange(&mut net, node, &register_text("alice", "k1", 1, ""));
    let offered: Vec<&str> = challenge.headers.get_all("WWW-Authenticate").collect();
    assert_eq!(offered.len(), 1);
    assert!(offered[0].contains("algorithm=SHA-256"));
    // An MD5 answer is refused when MD5 is not offered.
    let md5 = offered[0].replace("algorithm=SHA-256", "algorithm=MD5");
    let mut only = Response::new(401, "Unauthorized");
    only.headers.push("WWW-Authenticate", md5);
    let auth = answer_challenge(
        &only,
        "WWW-Authenticate",
        "alice",
        "alice-pw",
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        1,
    );
    let extra = format!("Authorization: {auth}\r\n");
    let refused = exchange(&mut net, node, &register_text("alice", "k1", 2, &extra));
    assert_eq!(refused.status, 401);
}
