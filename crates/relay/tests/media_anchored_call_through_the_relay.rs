//! A proxied call with its media anchored: both parties' SDP points at the relay, RTP flows
//! both ways through it after latching, a spoofed source gets nothing through, and the BYE
//! releases the ports.

mod harness;

use std::net::SocketAddr;
use std::time::Duration;

use dialtone_relay::media::{MediaEvent, ReleaseReason};
use dialtone_relay::RelayEvent;
use dialtone_sdp::SessionDescription;
use dialtone_sip::ua::UaEvent;
use dialtone_sip_message::Method;
use harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn media_target(body: &[u8]) -> SocketAddr {
    let desc = SessionDescription::parse(std::str::from_utf8(body).unwrap()).unwrap();
    let ip = desc.connection.unwrap().ip().unwrap();
    SocketAddr::new(ip, desc.media[0].port)
}

#[test]
fn rtp_flows_through_the_relay_and_stops_at_bye() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    let free = net.relay.media().free_pairs();

    let mark = net.log.len();
    net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    let incoming = net
        .take_ua_events(bob)
        .into_iter()
        .find_map(|e| match e {
            UaEvent::IncomingCall { id, sdp, .. } => Some((id, sdp)),
            _ => None,
        })
        .unwrap();
    // bob is told to send to the relay, not to alice.
    let bob_sends_to = media_target(incoming.1.as_deref().unwrap());
    assert_eq!(bob_sends_to.ip().to_string(), "127.0.0.1");
    assert!(
        (40_000..40_020).contains(&bob_sends_to.port()),
        "{bob_sends_to}"
    );

    net.cmd(bob, |ua, now| {
        ua.answer(now, incoming.0, sdp("127.0.0.1", 7000).into_bytes())
    })
    .unwrap();
    net.advance(Duration::from_millis(50));
    let ok = net.logged(mark, |w| {
        w.to == udp(ALICE)
            && w.response()
                .is_some_and(|r| r.status == 200 && r.cseq().unwrap().method == Method::Invite)
    });
    let alice_sends_to = media_target(&ok[0].response().unwrap().body);
    assert!((40_000..40_020).contains(&alice_sends_to.port()));
    assert_ne!(alice_sends_to, bob_sends_to, "one pair per leg");
    assert_eq!(net.relay.media().free_pairs(), free - 2);

    // RTP both ways.
    let (alice_rtp, bob_rtp) = (addr("127.0.0.1:6000"), addr("127.0.0.1:7000"));
    let now = net.now;
    let to_bob = net
        .relay
        .handle_media_packet(now, alice_sends_to.port(), alice_rtp, &[0x80; 172])
        .expect("alice's RTP forwarded");
    assert_eq!(
        (to_bob.to, to_bob.from_port),
        (bob_rtp, bob_sends_to.port())
    );
    let to_alice = net
        .relay
        .handle_media_packet(now, bob_sends_to.port(), bob_rtp, &[0x80; 172])
        .expect("bob's RTP forwarded");
    assert_eq!(
        (to_alice.to, to_alice.from_port),
        (alice_rtp, alice_sends_to.port())
    );

    // A third party sending to alice's relay port gets nothing through.
    let spoof = addr("127.0.0.1:6666");
    assert_eq!(
        net.relay
            .handle_media_packet(now, alice_sends_to.port(), spoof, &[0x80; 172]),
        None
    );

    // BYE ends the call and releases the ports.
    let call = net
        .take_ua_events(alice)
        .into_iter()
        .find_map(|e| match e {
            UaEvent::Call { id, .. } => Some(id),
            _ => None,
        })
        .unwrap();
    net.take_events();
    net.cmd(alice, |ua, now| ua.hangup(now, call)).unwrap();
    net.advance(Duration::from_millis(50));
    assert_eq!(net.relay.media().free_pairs(), free);
    let released = net.take_events().into_iter().find_map(|e| match e {
        RelayEvent::Media(MediaEvent::Released { reason, stats, .. }) => Some((reason, stats)),
        _ => None,
    });
    let (reason, stats) = released.expect("media released");
    assert_eq!(reason, ReleaseReason::Ended);
    assert_eq!((stats.caller.packets, stats.callee.packets), (1, 1));
    assert_eq!(stats.caller.dropped_spoofed, 1);
    let now = net.now;
    assert_eq!(
        net.relay
            .handle_media_packet(now, alice_sends_to.port(), alice_rtp, &[0x80; 172]),
        None
    );
}

#[test]
fn without_media_ports_sdp_passes_untouched() {
    let mut config = config();
    config.media.ports.clear();
    let mut net = Net::with_config(config);
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    let offer = net
        .take_ua_events(bob)
        .into_iter()
        .find_map(|e| match e {
            UaEvent::IncomingCall { sdp, .. } => sdp,
            _ => None,
        })
        .unwrap();
    assert_eq!(media_target(&offer), addr("127.0.0.1:6000"));
}

#[test]
fn invite_is_refused_503_when_no_media_ports_are_free() {
    let mut config = config();
    config.media.ports.truncate(1); // one pair; a stream needs two
    let mut net = Net::with_config(config);
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    let mark = net.log.len();
    net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    let refused = net.logged(mark, |w| {
        w.to == udp(ALICE) && w.response().is_some_and(|r| r.status == 503)
    });
    assert_eq!(refused.len(), 1);
    assert!(net.logged(mark, |w| w.to == udp(BOB)).is_empty());
    assert_eq!(net.relay.media().free_pairs(), 1, "nothing leaked");
    assert_eq!(net.relay.media().sessions(), 0);
}

#[test]
fn a_call_whose_media_stops_is_released_and_forgotten() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let bob = net.add_ua(BOB, 2);
    net.register(alice, "alice");
    net.register(bob, "bob");
    let free = net.relay.media().free_pairs();
    net.invite(
        alice,
        "alice",
        &format!("sip:bob@{DOMAIN}"),
        Some(&sdp("127.0.0.1", 6000)),
    );
    net.advance(Duration::from_millis(50));
    let id = net
        .take_ua_events(bob)
        .into_iter()
        .find_map(|e| match e {
            UaEvent::IncomingCall { id, .. } => Some(id),
            _ => None,
        })
        .unwrap();
    net.cmd(bob, |ua, now| {
        ua.answer(now, id, sdp("127.0.0.1", 7000).into_bytes())
    })
    .unwrap();
    net.take_events();
    // Both phones vanish without a BYE: no packet for the inactivity timeout (60 s).
    net.advance(Duration::from_secs(61));
    assert_eq!(net.relay.media().free_pairs(), free);
    let events = net.take_events();
    assert!(events.iter().any(|e| matches!(
        e,
        RelayEvent::Media(MediaEvent::Released {
            reason: ReleaseReason::Inactivity,
            ..
        })
    )));
    assert!(events
        .iter()
        .any(|e| matches!(e, RelayEvent::CallEnded { .. })));
}
