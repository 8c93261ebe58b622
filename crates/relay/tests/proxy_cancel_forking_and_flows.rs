//! CANCEL forwarding (RFC 3261 §16.10), parallel forking with CANCEL of the other branches on
//! answer (§16.7), WebSocket callees reached over their flow with transport-specific
//! Record-Route entries (RFC 7118, RFC 5658), and Timer C (§16.8).

mod harness;

use std::time::Duration;

use dialtone_relay::RelayEvent;
use dialtone_sip::ua::{CallState, UaEvent};
use dialtone_sip_message::Method;
use harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const BOB2: &str = "127.0.0.1:5081";
const CAROL_WS: &str = "127.0.0.1:40123";
const CAROL_CONTACT: &str = "<sip:k2v8s0@df7jal23ls0d.invalid;transport=ws>";

fn incoming(net: &mut Net, node: usize) -> Option<dialtone_sip::ua::CallId> {
    net.take_ua_events(node).into_iter().find_map(|e| match e {
        UaEvent::IncomingCall { id, .. } => Some(id),
        _ => None,
    })
}

fn failed_code(net: &mut Net, node: usize) -> Option<u16> {
    net.take_ua_events(node).into_iter().find_map(|e| match e {
        UaEvent::Call {
            state: CallState::Failed { code, .. },
            ..
        } => Some(code),
        _ => None,
    })
}

#[test]
fn cancel_reaches_the_callee_and_its_487_reaches_the_caller() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    let free = net.relay.media().free_pairs();
    let call = net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    assert!(incoming(&mut net, bob).is_some(), "bob rings");
    assert_eq!(net.relay.media().free_pairs(), free - 2, "media anchored");

    let mark = net.log.len();
    net.cmd(alice, |ua, now| ua.hangup(now, call)).unwrap();
    net.advance(Duration::from_millis(50));
    let cancels = net.logged(mark, |w| {
        w.request().is_some_and(|r| r.method == Method::Cancel)
    });
    let hops: Vec<_> = cancels.iter().map(|w| (w.from.addr, w.to.addr)).collect();
    assert_eq!(
        hops,
        [(addr(ALICE), addr(RELAY_UDP)), (addr(RELAY_UDP), addr(BOB))]
    );
    let terminated = net.logged(mark, |w| {
        w.to == udp(ALICE) && w.response().is_some_and(|r| r.status == 487)
    });
    assert_eq!(terminated.len(), 1, "the callee's 487 went to alice");
    assert_eq!(net.relay.media().free_pairs(), free, "media released");
    assert!(net
        .take_events()
        .iter()
        .any(|e| matches!(e, RelayEvent::CallEnded { .. })));
}

#[test]
fn invite_forks_to_every_contact_and_the_answer_cancels_the_others() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    let bob2 = net.add_ua(BOB2, 3);
    net.register(alice, "alice");
    net.register(bob, "bob");
    net.register(bob2, "bob");
    net.take_events();
    net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    assert!(net
        .take_events()
        .iter()
        .any(|e| matches!(e, RelayEvent::CallRouted { targets: 2, .. })));
    let first = incoming(&mut net, bob).expect("first device rings");
    assert!(incoming(&mut net, bob2).is_some(), "second device rings");

    let mark = net.log.len();
    net.cmd(bob, |ua, now| {
        ua.answer(now, first, sdp("127.0.0.1", 7000).into_bytes())
    })
    .unwrap();
    net.advance(Duration::from_millis(50));
    let cancels = net.logged(mark, |w| {
        w.to == udp(BOB2) && w.request().is_some_and(|r| r.method == Method::Cancel)
    });
    assert_eq!(cancels.len(), 1, "the other device is cancelled");
    let oks = net.logged(mark, |w| {
        w.to == udp(ALICE)
            && w.response()
                .is_some_and(|r| r.status == 200 && r.cseq().unwrap().method == Method::Invite)
    });
    assert_eq!(oks.len(), 1, "one 200 reaches alice");
    let no_487 = net.logged(mark, |w| {
        w.to == udp(ALICE) && w.response().is_some_and(|r| r.status == 487)
    });
    assert!(
        no_487.is_empty(),
        "the cancelled branch's 487 stays at the relay"
    );
}

#[test]
fn websocket_callee_is_reached_over_its_flow_and_its_bye_finds_the_caller() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    net.register(alice, "alice");
    let carol = net.add_raw(ws(CAROL_WS));
    raw_register(
        &mut net,
        carol,
        "carol",
        "SIP/2.0/WS df7jal23ls0d.invalid",
        CAROL_CONTACT,
    );

    let call = net.invite(
        alice,
        "alice",
        &format!("sip:carol@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    let inbox = net.take_inbox(carol);
    let invites = requests(&inbox, "INVITE");
    assert_eq!(
        invites.len(),
        1,
        "the INVITE went over carol's WebSocket flow"
    );
    let invite = &invites[0];
    assert_eq!(invite.uri.host, "df7jal23ls0d.invalid");
    let rr = invite.record_routes().unwrap();
    assert_eq!(rr[0].uri.transport(), Some("ws"), "top entry faces carol");
    assert_eq!(rr[0].uri.port, Some(8080));
    assert_eq!(rr[1].uri.transport(), Some("udp"), "second faces alice");
    assert_eq!(rr[1].uri.port, Some(5060));
    let top_via = invite.top_via().unwrap();
    assert_eq!(top_via.transport, "WS");

    // carol answers.
    let answer = respond_to(
        invite,
        200,
        "OK",
        "carol-tag",
        CAROL_CONTACT,
        Some(&sdp("127.0.0.1", 7100)),
    );
    net.send(carol, answer);
    net.advance(Duration::from_millis(50));
    let acks = requests(&net.take_inbox(carol), "ACK");
    assert_eq!(acks.len(), 1, "alice's ACK came over the flow");
    assert!(acks[0].routes().unwrap().is_empty());

    // carol hangs up: her route set is the Record-Route list as received.
    let alice_contact = format!("sip:alice@{ALICE}");
    let routes: Vec<String> = rr.iter().map(ToString::to_string).collect();
    let bye = format!(
        "BYE {alice_contact} SIP/2.0\r\n\
         Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKbye1\r\n\
         Max-Forwards: 70\r\nRoute: {}\r\nRoute: {}\r\n\
         From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
        routes[0],
        routes[1],
        invite
            .to()
            .unwrap()
            .to_string()
            .replace('>', ">;tag=carol-tag"),
        invite.from().unwrap(),
        invite.call_id().unwrap(),
    );
    let mark = net.log.len();
    net.send_text(carol, &bye);
    net.advance(Duration::from_millis(50));
    let at_alice = net.logged(mark, |w| {
        w.to == udp(ALICE) && w.request().is_some_and(|r| r.method == Method::Bye)
    });
    assert_eq!(at_alice.len(), 1, "BYE reached alice over UDP");
    let ok = only_response(net.take_inbox(carol));
    assert_eq!(ok.status, 200);
    assert!(net
        .ua(alice)
        .call_state(call)
        .is_none_or(|s| matches!(s, CallState::Finished { .. })));
}

#[test]
fn timer_c_cancels_a_branch_ringing_too_long_then_gives_up_with_408() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    net.register(alice, "alice");
    let carol = net.add_raw(ws(CAROL_WS));
    raw_register(
        &mut net,
        carol,
        "carol",
        "SIP/2.0/WS df7jal23ls0d.invalid",
        CAROL_CONTACT,
    );
    net.invite(
        alice,
        "alice",
        &format!("sip:carol@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    let invite = requests(&net.take_inbox(carol), "INVITE").remove(0);
    net.send(
        carol,
        respond_to(&invite, 180, "Ringing", "carol-tag", CAROL_CONTACT, None),
    );
    net.take_ua_events(alice);

    // Ringing, and carol then goes silent.
    net.advance(Duration::from_secs(179));
    assert!(requests(&net.take_inbox(carol), "CANCEL").is_empty());
    net.advance(Duration::from_secs(2));
    assert_eq!(
        requests(&net.take_inbox(carol), "CANCEL").len(),
        1,
        "Timer C cancelled the branch"
    );
    assert_eq!(
        failed_code(&mut net, alice),
        None,
        "carol may still answer the CANCEL"
    );
    net.advance(Duration::from_secs(33));
    assert_eq!(failed_code(&mut net, alice), Some(408));
}

#[test]
fn in_dialog_requests_follow_the_callers_flow_not_its_private_contact() {
    let mut net = Net::new();
    let bob = net.add_ua(BOB, 2);
    net.register(bob, "bob");
    // alice is behind NAT: she sends from 127.0.0.1:5095 but writes a private Contact.
    let natted = "127.0.0.1:5095";
    let alice = net.add_raw(udp(natted));
    let target = format!("sip:bob@{DOMAIN}");
    let offer = sdp("192.168.1.50", 6000);
    let invite = |cseq: u32, extra: &str| {
        request_text("INVITE", &target, "alice", natted, "nat1", cseq, extra)
            .replace(
                &format!("Contact: <sip:alice@{natted}>"),
                "Contact: <sip:alice@192.168.1.50:5060>",
            )
            .replace(
                "Content-Length: 0\r\n\r\n",
                &format!(
                    "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
                    offer.len()
                ),
            )
    };
    net.send_text(alice, &invite(1, ""));
    let challenge = only_response(net.take_inbox(alice));
    let auth = answer_challenge(
        &challenge,
        "Proxy-Authenticate",
        "alice",
        "alice-pw",
        "INVITE",
        &target,
        1,
    );
    net.send_text(
        alice,
        &invite(2, &format!("Proxy-Authorization: {auth}\r\n")),
    );
    let id = incoming(&mut net, bob).expect("bob rings");
    net.cmd(bob, |ua, now| {
        ua.answer(now, id, sdp("127.0.0.1", 7000).into_bytes())
    })
    .unwrap();
    let ok = net
        .take_inbox(alice)
        .into_iter()
        .filter_map(|m| m.as_response().cloned())
        .find(|r| r.status == 200)
        .expect("200 reaches alice's flow");

    // alice ACKs along her route set (the Record-Route list reversed).
    let mut routes = ok.record_routes().unwrap();
    routes.reverse();
    let bob_contact = &ok.contacts().unwrap()[0].uri;
    let ack = format!(
        "ACK {bob_contact} SIP/2.0\r\nVia: SIP/2.0/UDP {natted};branch=z9hG4bKnatack\r\n\
         Max-Forwards: 70\r\nRoute: {}\r\nRoute: {}\r\nFrom: {}\r\nTo: {}\r\n\
         Call-ID: nat1\r\nCSeq: 2 ACK\r\nContent-Length: 0\r\n\r\n",
        routes[0],
        routes[1],
        ok.from().unwrap(),
        ok.to().unwrap()
    );
    net.send_text(alice, &ack);

    // bob hangs up: the BYE's Request-URI is alice's private contact, but it must go to the
    // flow she called from.
    let mark = net.log.len();
    net.cmd(bob, |ua, now| ua.hangup(now, id)).unwrap();
    let byes = net.logged(mark, |w| {
        w.from.addr == addr(RELAY_UDP) && w.request().is_some_and(|r| r.method == Method::Bye)
    });
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].to, udp(natted));
    assert_eq!(byes[0].request().unwrap().uri.host, "192.168.1.50");
    assert_eq!(requests(&net.take_inbox(alice), "BYE").len(), 1);
}
