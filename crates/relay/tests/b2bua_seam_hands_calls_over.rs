//! The B2BUA seam: a selector hands a call to the runtime, which answers leg A and drives
//! leg B through the relay's transactions; everything for the claimed Call-IDs comes back
//! as B2BUA events.

mod harness;

use std::time::Duration;

use dialtone_relay::b2bua::{B2buaEvent, BridgeWebRtc, CallMode, CallSetup, ModeSelector};
use dialtone_relay::RelayEvent;
use dialtone_sip::transport::TransportKind;
use dialtone_sip::ua::{CallState, UaEvent};
use dialtone_sip_message::{Method, Request, Response};
use harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn b2bua_events(net: &mut Net) -> Vec<B2buaEvent> {
    net.take_events()
        .into_iter()
        .filter_map(|e| match e {
            RelayEvent::B2bua(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn a_handed_over_call_is_driven_by_the_runtime() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    net.relay
        .set_mode_selector(|_: &CallSetup<'_>| CallMode::B2bua);
    net.take_events();

    let call = net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    let events = b2bua_events(&mut net);
    let Some(B2buaEvent::Call {
        server,
        request,
        caller,
        callee,
        targets,
        ..
    }) = events.into_iter().next()
    else {
        panic!("the call is handed over");
    };
    assert_eq!((caller.as_str(), callee.as_str()), ("alice", "bob"));
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].flow, udp(BOB));
    assert!(
        net.logged(0, |w| w.to == udp(BOB)
            && w.request().is_some_and(|r| r.method == Method::Invite))
            .is_empty(),
        "nothing forwarded by the proxy"
    );

    // Leg B: the runtime's own INVITE to bob, through the relay's transactions.
    let mut leg_b = Request::new(Method::Invite, targets[0].contact.uri.clone());
    let via = net.relay.new_via(TransportKind::Udp).unwrap();
    leg_b.headers.push("Via", via);
    leg_b.headers.push("Max-Forwards", "70");
    leg_b
        .headers
        .push("From", format!("<sip:alice@{DOMAIN}>;tag=b2b"));
    leg_b.headers.push("To", format!("<sip:bob@{DOMAIN}>"));
    leg_b.headers.push("Call-ID", "leg-b");
    leg_b.headers.push("CSeq", "1 INVITE");
    leg_b.headers.push("Contact", "<sip:b2bua@127.0.0.1:5060>");
    net.relay.claim_call_id("leg-b");
    let now = net.now;
    let client = net.relay.send_request(now, udp(BOB), leg_b).unwrap();
    net.deliver();
    assert!(net
        .take_ua_events(bob)
        .iter()
        .any(|e| matches!(e, UaEvent::IncomingCall { .. })));
    let responses: Vec<u16> = b2bua_events(&mut net)
        .into_iter()
        .filter_map(|e| match e {
            B2buaEvent::Response {
                client: c,
                response,
            } if c == client => Some(response.status),
            _ => None,
        })
        .collect();
    assert!(responses.contains(&180), "{responses:?}");

    // Leg A: the runtime rejects alice's call.
    let mut busy = Response::for_request(&request, 486, "Busy Here");
    busy.headers
        .set("To", format!("<sip:bob@{DOMAIN}>;tag=legA"));
    let now = net.now;
    net.relay.respond(now, server, busy).unwrap();
    net.advance(Duration::from_millis(50));
    let states: Vec<CallState> = net
        .take_ua_events(alice)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Call { id, state } if id == call => Some(state),
            _ => None,
        })
        .collect();
    assert!(
        states.contains(&CallState::Busy { code: 486 }),
        "{states:?}"
    );
    // alice's ACK for the 486 is absorbed by the transaction; nothing stray reaches the B2BUA.
    assert!(!b2bua_events(&mut net)
        .iter()
        .any(|e| matches!(e, B2buaEvent::Ack { .. })));
}

#[test]
fn cancel_for_a_handed_over_call_goes_to_the_b2bua() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    net.relay
        .set_mode_selector(|_: &CallSetup<'_>| CallMode::B2bua);
    let call = net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    let Some(B2buaEvent::Call {
        server, request, ..
    }) = b2bua_events(&mut net).into_iter().next()
    else {
        panic!("handed over");
    };
    // The runtime rings leg A so that a CANCEL can follow.
    let mut ringing = Response::for_request(&request, 180, "Ringing");
    ringing
        .headers
        .set("To", format!("<sip:bob@{DOMAIN}>;tag=legA"));
    let now = net.now;
    net.relay.respond(now, server, ringing).unwrap();
    net.advance(Duration::from_millis(50));
    net.cmd(alice, |ua, now| ua.hangup(now, call)).unwrap();
    let events = b2bua_events(&mut net);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, B2buaEvent::Cancel { invite: Some(id), .. } if *id == server)),
        "{events:?}"
    );
}

#[test]
fn bridge_selector_picks_the_b2bua_only_across_webrtc_and_plain_rtp() {
    use dialtone_relay::Binding;
    use std::time::Instant;
    let binding = |transport| Binding {
        contact: dialtone_sip_message::NameAddr::new(uri("sip:x@127.0.0.1")),
        flow: dialtone_sip::transport::Peer::new(transport, addr("127.0.0.1:1")),
        expires_at: Instant::now(),
        call_id: "c".into(),
        cseq: 1,
    };
    let webrtc = b"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n".as_slice();
    let plain = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n".as_slice();
    let mut selector = BridgeWebRtc;
    let mut mode = |offer: &[u8], target: TransportKind| {
        let targets = [binding(target)];
        selector.select(&CallSetup {
            call_id: "c",
            caller: "a",
            caller_flow: udp("127.0.0.1:2"),
            callee: "b",
            targets: &targets,
            offer: Some(offer),
        })
    };
    assert_eq!(mode(webrtc, TransportKind::Udp), CallMode::B2bua);
    assert_eq!(mode(plain, TransportKind::Ws), CallMode::B2bua);
    assert_eq!(mode(webrtc, TransportKind::Wss), CallMode::Proxy);
    assert_eq!(mode(plain, TransportKind::Tcp), CallMode::Proxy);
}
