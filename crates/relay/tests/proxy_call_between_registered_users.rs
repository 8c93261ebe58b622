//! Calls between registered users through the proxy (RFC 3261 §16): 407 for the caller, the
//! INVITE record-routed to the callee's contact, the ACK and the BYE routed back through the
//! relay, 404/480 for unknown and unregistered callees, Max-Forwards, MESSAGE.

mod harness;

use std::time::Duration;

use dialtone_relay::RelayEvent;
use dialtone_sip::ua::{CallState, EndReason, UaEvent};
use dialtone_sip_message::Method;
use harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn call_states(net: &mut Net, node: usize) -> Vec<CallState> {
    net.take_ua_events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Call { state, .. } => Some(state),
            _ => None,
        })
        .collect()
}

/// Two registered user agents.
fn two_phones() -> (Net, usize, usize) {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    net.take_ua_events(alice);
    net.take_ua_events(bob);
    net.take_events();
    (net, alice, bob)
}

#[test]
fn call_is_record_routed_and_the_bye_comes_back_through_the_relay() {
    let (mut net, alice, bob) = two_phones();
    let mark = net.log.len();
    let call = net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));

    // alice was challenged once (407), then the INVITE reached bob.
    let challenges = net.logged(mark, |w| w.response().is_some_and(|r| r.status == 407));
    assert_eq!(challenges.len(), 1);
    assert_eq!(challenges[0].to, udp(ALICE));
    let at_bob = net.logged(mark, |w| {
        w.to == udp(BOB) && w.request().is_some_and(|r| r.method == Method::Invite)
    });
    assert_eq!(at_bob.len(), 1, "one INVITE reaches bob");
    let invite = at_bob[0].request().unwrap();
    assert_eq!(
        invite.uri,
        uri(&format!("sip:bob@{BOB}")),
        "R-URI = bob's contact"
    );
    let rr = invite.record_routes().unwrap();
    assert_eq!(rr.len(), 2, "double Record-Route: {rr:?}");
    for entry in &rr {
        assert_eq!(entry.uri.host, "127.0.0.1");
        assert_eq!(entry.uri.port, Some(5060));
        assert_eq!(entry.uri.param("lr"), Some(None));
        assert!(entry.uri.user.is_some(), "flow token in the user part");
    }
    let vias = invite.vias().unwrap();
    assert_eq!(vias.len(), 2, "relay's Via on top of alice's");
    assert_eq!(vias[0].host, "127.0.0.1");
    assert_eq!(vias[0].port, Some(5060));
    assert!(
        invite.headers.get("Proxy-Authorization").is_none(),
        "credentials consumed"
    );
    assert_eq!(invite.max_forwards().unwrap(), Some(69));
    assert!(net.take_events().iter().any(
        |e| matches!(e, RelayEvent::CallRouted { caller, callee, targets: 1, .. }
            if caller == "alice" && callee == "bob")
    ));

    // bob rings and answers.
    let incoming = net
        .take_ua_events(bob)
        .into_iter()
        .find_map(|e| match e {
            UaEvent::IncomingCall { id, .. } => Some(id),
            _ => None,
        })
        .expect("bob's phone rings");
    net.cmd(bob, |ua, now| {
        ua.answer(now, incoming, sdp("127.0.0.1", 7000).into_bytes())
    })
    .unwrap();
    net.advance(Duration::from_millis(50));
    let states = call_states(&mut net, alice);
    assert!(
        states
            .iter()
            .any(|s| matches!(s, CallState::Established { .. })),
        "{states:?}"
    );
    // The ACK went alice → relay → bob.
    let acks = net.logged(mark, |w| {
        w.request().is_some_and(|r| r.method == Method::Ack)
    });
    let hops: Vec<_> = acks.iter().map(|w| (w.from.addr, w.to.addr)).collect();
    assert!(hops.contains(&(addr(ALICE), addr(RELAY_UDP))), "{hops:?}");
    assert!(hops.contains(&(addr(RELAY_UDP), addr(BOB))), "{hops:?}");

    // bob hangs up: the BYE goes bob → relay → alice, and the 200 back.
    let mark = net.log.len();
    net.cmd(bob, |ua, now| ua.hangup(now, incoming)).unwrap();
    net.advance(Duration::from_millis(50));
    let byes = net.logged(mark, |w| {
        w.request().is_some_and(|r| r.method == Method::Bye)
    });
    let hops: Vec<_> = byes.iter().map(|w| (w.from.addr, w.to.addr)).collect();
    assert_eq!(
        hops,
        [(addr(BOB), addr(RELAY_UDP)), (addr(RELAY_UDP), addr(ALICE))]
    );
    let bye_at_alice = byes[1].request().unwrap();
    assert!(
        bye_at_alice.routes().unwrap().is_empty(),
        "our Routes popped"
    );
    let states = call_states(&mut net, alice);
    assert!(
        states.iter().any(|s| matches!(
            s,
            CallState::Finished {
                reason: EndReason::RemoteHangup
            }
        )),
        "{states:?}"
    );
    let states = call_states(&mut net, bob);
    assert!(
        states
            .iter()
            .any(|s| matches!(s, CallState::Finished { .. })),
        "{states:?}"
    );
    assert!(net
        .take_events()
        .iter()
        .any(|e| matches!(e, RelayEvent::CallEnded { .. })));
    assert!(net
        .ua(alice)
        .call_state(call)
        .is_none_or(|s| matches!(s, CallState::Finished { .. })));
}

#[test]
fn unknown_callee_gets_404_and_unregistered_callee_480_at_once() {
    let (mut net, alice, _) = two_phones();
    for (target, code) in [("nobody", 404), ("carol", 480)] {
        let start = net.now;
        net.invite(
            alice,
            "alice",
            &format!("sip:{target}@{DOMAIN}"),
            Some(&sdp("127.0.0.1", 6000)),
        );
        // No time passes: the answer is immediate, not a timeout.
        assert_eq!(net.now, start);
        let states = call_states(&mut net, alice);
        assert!(
            states
                .iter()
                .any(|s| matches!(s, CallState::Failed { code: c, .. } if *c == code)),
            "{target}: {states:?}"
        );
    }
    // No INVITE ever left the relay.
    assert!(net
        .logged(0, |w| w.from.addr == addr(RELAY_UDP)
            && w.request().is_some_and(|r| r.method == Method::Invite))
        .is_empty());
}

#[test]
fn unauthenticated_invite_is_challenged_and_never_forwarded() {
    let (mut net, _, _) = two_phones();
    let mallory = net.add_raw(udp("127.0.0.1:5090"));
    let mark = net.log.len();
    let text = request_text(
        "INVITE",
        &format!("sip:bob@{DOMAIN}"),
        "alice",
        "127.0.0.1:5090",
        "evil1",
        1,
        "",
    );
    net.send_text(mallory, &text);
    let response = only_response(net.take_inbox(mallory));
    assert_eq!(response.status, 407);
    assert!(response.headers.get("Proxy-Authenticate").is_some());

    // A wrong password for alice is refused the same way.
    let auth = answer_challenge(
        &response,
        "Proxy-Authenticate",
        "alice",
        "guess",
        "INVITE",
        &format!("sip:bob@{DOMAIN}"),
        1,
    );
    let text = request_text(
        "INVITE",
        &format!("sip:bob@{DOMAIN}"),
        "alice",
        "127.0.0.1:5090",
        "evil1",
        2,
        &format!("Proxy-Authorization: {auth}\r\n"),
    );
    net.send_text(mallory, &text);
    net.advance(Duration::from_secs(1));
    let responses: Vec<u16> = net
        .take_inbox(mallory)
        .into_iter()
        .filter_map(|m| m.as_response().map(|r| r.status))
        .collect();
    // The raw client never ACKs, so the 407 is retransmitted (Timer G): only 407s.
    assert!(
        !responses.is_empty() && responses.iter().all(|&s| s == 407),
        "{responses:?}"
    );
    assert!(
        net.logged(mark, |w| w.to == udp(BOB)).is_empty(),
        "nothing reached bob"
    );
}

#[test]
fn caller_must_be_the_authenticated_user() {
    let (mut net, _, _) = two_phones();
    let node = net.add_raw(udp("127.0.0.1:5090"));
    // Credentials of alice, From of carol.
    let target = format!("sip:bob@{DOMAIN}");
    let text = request_text("MESSAGE", &target, "carol", "127.0.0.1:5090", "m1", 1, "");
    net.send_text(node, &text);
    let challenge = only_response(net.take_inbox(node));
    let auth = answer_challenge(
        &challenge,
        "Proxy-Authenticate",
        "alice",
        "alice-pw",
        "MESSAGE",
        &target,
        1,
    );
    let extra = format!("Proxy-Authorization: {auth}\r\n");
    let text = request_text(
        "MESSAGE",
        &target,
        "carol",
        "127.0.0.1:5090",
        "m1",
        2,
        &extra,
    );
    net.send_text(node, &text);
    let response = only_response(net.take_inbox(node));
    assert_eq!(response.status, 403);
}

#[test]
fn message_between_users_is_forwarded_and_answered() {
    let (mut net, _, bob) = two_phones();
    let node = net.add_raw(udp("127.0.0.1:5090"));
    let target = format!("sip:bob@{DOMAIN}");
    let text = request_text("MESSAGE", &target, "alice", "127.0.0.1:5090", "im1", 1, "");
    net.send_text(node, &text);
    let challenge = only_response(net.take_inbox(node));
    let auth = answer_challenge(
        &challenge,
        "Proxy-Authenticate",
        "alice",
        "alice-pw",
        "MESSAGE",
        &target,
        1,
    );
    let extra = format!("Proxy-Authorization: {auth}\r\n");
    let text = request_text(
        "MESSAGE",
        &target,
        "alice",
        "127.0.0.1:5090",
        "im1",
        2,
        &extra,
    );
    let mark = net.log.len();
    net.send_text(node, &text);
    // bob's UA takes the MESSAGE (RFC 3428): its 200 comes back through the relay.
    let at_bob = net.logged(mark, |w| w.to == net.peer(bob));
    assert!(at_bob
        .iter()
        .any(|w| w.request().is_some_and(|r| r.method == Method::Message)));
    let response = only_response(net.take_inbox(node));
    assert_eq!(response.status, 200);
    assert_eq!(response.vias().unwrap().len(), 1, "relay's Via removed");
}

#[test]
fn max_forwards_zero_gets_483() {
    let (mut net, _, _) = two_phones();
    let node = net.add_raw(udp("127.0.0.1:5090"));
    let text = request_text(
        "INVITE",
        &format!("sip:bob@{DOMAIN}"),
        "alice",
        "127.0.0.1:5090",
        "mf0",
        1,
        "",
    )
    .replace("Max-Forwards: 70", "Max-Forwards: 0");
    net.send_text(node, &text);
    assert_eq!(only_response(net.take_inbox(node)).status, 483);
}

#[test]
fn options_to_the_relay_itself_is_answered() {
    let mut net = Net::new();
    let node = net.add_raw(udp("127.0.0.1:5090"));
    let text = request_text(
        "OPTIONS",
        "sip:127.0.0.1:5060",
        "alice",
        "127.0.0.1:5090",
        "o1",
        1,
        "",
    );
    net.send_text(node, &text);
    let response = only_response(net.take_inbox(node));
    assert_eq!(response.status, 200);
    assert!(response.headers.get("Allow").unwrap().contains("INVITE"));
}

#[test]
fn in_dialog_request_not_routed_through_the_relay_is_refused() {
    let mut net = Net::new();
    let node = net.add_raw(udp("127.0.0.1:5090"));
    // A BYE with a To tag aimed at some other host, sent to the relay: not ours to carry.
    let text = request_text(
        "BYE",
        "sip:victim@192.0.2.1:5060",
        "alice",
        "127.0.0.1:5090",
        "b1",
        1,
        "",
    )
    .replace(
        "To: <sip:victim@192.0.2.1:5060>",
        "To: <sip:victim@192.0.2.1>;tag=x",
    );
    net.send_text(node, &text);
    assert_eq!(only_response(net.take_inbox(node)).status, 403);
    // With a forged Record-Route token it is no better.
    let text = text.replace("z9hG4bKb11", "z9hG4bKb12").replace(
        "Content-Length",
        "Route: <sip:00ff@127.0.0.1:5060;lr>\r\nContent-Length",
    );
    net.send_text(node, &text);
    assert_eq!(only_response(net.take_inbox(node)).status, 481);
    assert!(net.log.iter().all(|w| w.to.addr != addr("192.0.2.1:5060")));
}

#[test]
fn proxy_require_of_an_unknown_extension_gets_420() {
    let mut net = Net::new();
    let node = net.add_raw(udp("127.0.0.1:5090"));
    let text = request_text(
        "INVITE",
        &format!("sip:bob@{DOMAIN}"),
        "alice",
        "127.0.0.1:5090",
        "pr1",
        1,
        "Proxy-Require: foo, bar\r\n",
    );
    net.send_text(node, &text);
    let response = only_response(net.take_inbox(node));
    assert_eq!(response.status, 420);
    assert_eq!(response.headers.get("Unsupported"), Some("foo, bar"));
}
