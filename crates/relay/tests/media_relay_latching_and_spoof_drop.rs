//! The media relay table on simulated time: SDP rewriting, latching after the offer/answer,
//! dropping packets from other sources (no RTP bleed), forwarding both ways with counters,
//! release on demand and on inactivity, and port exhaustion.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_relay::media::{
    Component, Forward, MediaConfig, MediaError, MediaEvent, MediaRelay, MediaSessionId, PortPair,
    ReleaseReason, Side,
};
use dialtone_sdp::SessionDescription;

const RELAY_IP: &str = "203.0.113.1";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn relay(pairs: usize) -> MediaRelay {
    let ports = (0..pairs)
        .map(|i| PortPair::consecutive(40_000 + 2 * i as u16).unwrap())
        .collect();
    MediaRelay::new(MediaConfig::new(RELAY_IP.parse().unwrap(), ports))
}

fn offer(ip: &str, port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
}

/// The port the rewritten SDP asks the other side to send to.
fn port_in(sdp: &str) -> u16 {
    SessionDescription::parse(sdp).unwrap().media[0].port
}

/// A session with caller at 192.0.2.10:5004 and callee at 198.51.100.20:6004, offer/answer
/// done; returns (relay, start, port facing the caller, port facing the callee).
fn call() -> (MediaRelay, Instant, MediaSessionId, u16, u16) {
    let start = Instant::now();
    let mut relay = relay(4);
    let session = relay.create_session(start);
    let to_callee = relay
        .rewrite_sdp(start, session, Side::Caller, &offer("192.0.2.10", 5004))
        .unwrap();
    let to_caller = relay
        .rewrite_sdp(start, session, Side::Callee, &offer("198.51.100.20", 6004))
        .unwrap();
    let facing_callee = port_in(&to_callee);
    let facing_caller = port_in(&to_caller);
    (relay, start, session, facing_caller, facing_callee)
}

#[test]
fn sdp_is_rewritten_to_the_relay_for_the_receiving_side() {
    let start = Instant::now();
    let mut relay = relay(4);
    let session = relay.create_session(start);
    let sdp = "v=0\r\no=- 7 7 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n\
               a=ice-ufrag:abcd\r\n\
               m=audio 5004 RTP/AVP 0\r\na=rtcp:5005 IN IP4 192.0.2.10\r\n\
               a=candidate:1 1 UDP 2130706431 192.0.2.10 5004 typ host\r\na=sendrecv\r\n\
               m=video 0 RTP/AVP 96\r\n\
               m=application 9 UDP/TLS/RTP/SAVPF 111\r\n";
    let out = relay
        .rewrite_sdp(start, session, Side::Caller, sdp)
        .unwrap();
    let desc = SessionDescription::parse(&out).unwrap();
    assert_eq!(desc.connection.as_ref().unwrap().address, RELAY_IP);
    // The caller's SDP goes to the callee, who must send to the pair facing the callee:
    // the second pair allocated (the first faces the caller).
    assert_eq!(desc.media[0].port, 40_002);
    assert_eq!(
        desc.media[0].attribute("rtcp"),
        Some("40003 IN IP4 203.0.113.1")
    );
    assert!(
        !out.contains("candidate") && !out.contains("ice-ufrag"),
        "{out}"
    );
    assert!(out.contains("a=sendrecv"), "other attributes kept");
    assert_eq!(desc.origin.address, "192.0.2.10", "o= left alone");
    // A rejected stream stays rejected; a stream we cannot relay keeps its own address.
    assert_eq!(desc.media[1].port, 0);
    assert_eq!(desc.media[2].port, 9);
    assert_eq!(desc.media[2].connections[0].address, "192.0.2.10");
    assert_eq!(relay.free_pairs(), 2, "one stream relayed: two pairs");
}

#[test]
fn nothing_is_forwarded_before_the_answer() {
    let start = Instant::now();
    let mut relay = relay(2);
    let session = relay.create_session(start);
    let to_callee = relay
        .rewrite_sdp(start, session, Side::Caller, &offer("192.0.2.10", 5004))
        .unwrap();
    let callee_port = port_in(&to_callee);
    let early = relay.handle_packet(start, callee_port, addr("198.51.100.20:6004"), &[0; 172]);
    assert_eq!(early, None);
    assert_eq!(relay.stats(session).unwrap().callee.dropped_early, 1);
}

#[test]
fn both_sides_latch_and_packets_flow_both_ways() {
    let (mut relay, start, session, facing_caller, facing_callee) = call();
    let t = start + Duration::from_millis(20);

    // The caller sends to the port facing it; the packet leaves from the port facing the
    // callee, to the callee's SDP address.
    let forward = relay.handle_packet(t, facing_caller, addr("192.0.2.10:5004"), &[1; 172]);
    assert_eq!(
        forward,
        Some(Forward {
            from_port: facing_callee,
            to: addr("198.51.100.20:6004"),
            bytes: 172
        })
    );
    // The callee sends from another port than its SDP says (NAT): it latches there, and
    // return traffic follows the latched address.
    let nat = addr("198.51.100.20:61000");
    let back = relay
        .handle_packet(t, facing_callee, nat, &[2; 160])
        .unwrap();
    assert_eq!(back.to, addr("192.0.2.10:5004"));
    assert_eq!(back.from_port, facing_caller);
    let again = relay
        .handle_packet(t, facing_caller, addr("192.0.2.10:5004"), &[1; 172])
        .unwrap();
    assert_eq!(
        again.to, nat,
        "symmetric RTP: sent where the callee sends from"
    );

    let stats = relay.stats(session).unwrap();
    assert_eq!((stats.caller.packets, stats.caller.bytes), (2, 344));
    assert_eq!((stats.callee.packets, stats.callee.bytes), (1, 160));
    let latched: Vec<(Side, SocketAddr)> = std::iter::from_fn(|| relay.poll_event())
        .filter_map(|e| match e {
            MediaEvent::Latched { side, source, .. } => Some((side, source)),
            _ => None,
        })
        .collect();
    assert_eq!(
        latched,
        [(Side::Caller, addr("192.0.2.10:5004")), (Side::Callee, nat)]
    );
}

#[test]
fn after_latching_packets_from_other_sources_are_dropped() {
    let (mut relay, start, session, facing_caller, _) = call();
    let real = addr("192.0.2.10:5004");
    assert!(relay
        .handle_packet(start, facing_caller, real, &[0; 100])
        .is_some());
    for spoofer in ["192.0.2.10:5006", "192.0.2.99:5004", "10.0.0.1:40000"] {
        let verdict = relay.handle_packet(start, facing_caller, addr(spoofer), &[0; 100]);
        assert_eq!(verdict, None, "{spoofer} must not be forwarded");
    }
    assert!(relay
        .handle_packet(start, facing_caller, real, &[0; 100])
        .is_some());
    let stats = relay.stats(session).unwrap();
    assert_eq!(stats.caller.dropped_spoofed, 3);
    assert_eq!(stats.caller.packets, 2);
}

#[test]
fn rtcp_ports_latch_and_forward_separately() {
    let (mut relay, start, _, facing_caller, facing_callee) = call();
    let rtcp = relay
        .handle_packet(start, facing_caller + 1, addr("192.0.2.10:5005"), &[0; 60])
        .unwrap();
    assert_eq!(rtcp.from_port, facing_callee + 1);
    assert_eq!(rtcp.to, addr("198.51.100.20:6005"), "RTCP at RTP port + 1");
    let events: Vec<MediaEvent> = std::iter::from_fn(|| relay.poll_event()).collect();
    assert!(events.iter().any(|e| matches!(
        e,
        MediaEvent::Latched {
            component: Component::Rtcp,
            ..
        }
    )));
}

#[test]
fn a_new_address_in_a_reoffer_unlatches_that_side() {
    let (mut relay, start, session, facing_caller, facing_callee) = call();
    let old = addr("192.0.2.10:5004");
    relay
        .handle_packet(start, facing_caller, old, &[0; 10])
        .unwrap();
    // The caller moved to another network and re-offers.
    let reoffer = relay
        .rewrite_sdp(start, session, Side::Caller, &offer("192.0.2.77", 7004))
        .unwrap();
    assert_eq!(port_in(&reoffer), facing_callee, "same relay ports");
    let moved = addr("192.0.2.77:7004");
    assert!(relay
        .handle_packet(start, facing_caller, moved, &[0; 10])
        .is_some());
    assert_eq!(
        relay.handle_packet(start, facing_caller, old, &[0; 10]),
        None
    );
}

#[test]
fn release_returns_the_ports_and_stops_forwarding() {
    let (mut relay, start, session, facing_caller, _) = call();
    assert_eq!(relay.free_pairs(), 2);
    relay.handle_packet(start, facing_caller, addr("192.0.2.10:5004"), &[0; 10]);
    let stats = relay.release(session).unwrap();
    assert_eq!(stats.caller.packets, 1);
    assert_eq!(relay.free_pairs(), 4);
    assert_eq!(
        relay.handle_packet(start, facing_caller, addr("192.0.2.10:5004"), &[0; 10]),
        None
    );
    assert!(std::iter::from_fn(|| relay.poll_event()).any(|e| matches!(
        e,
        MediaEvent::Released {
            reason: ReleaseReason::Ended,
            ..
        }
    )));
}

#[test]
fn silent_sessions_are_released_after_the_inactivity_timeout() {
    let (mut relay, start, session, facing_caller, _) = call();
    let t = start + Duration::from_secs(30);
    relay.handle_packet(t, facing_caller, addr("192.0.2.10:5004"), &[0; 10]);
    assert_eq!(relay.poll_timeout(), Some(t + Duration::from_secs(60)));
    relay.handle_timeout(t + Duration::from_secs(59));
    assert!(relay.contains(session));
    relay.handle_timeout(t + Duration::from_secs(60));
    assert!(!relay.contains(session));
    assert!(std::iter::from_fn(|| relay.poll_event()).any(|e| matches!(
        e,
        MediaEvent::Released {
            reason: ReleaseReason::Inactivity,
            ..
        }
    )));
}

#[test]
fn sessions_whose_answer_never_comes_are_released_after_the_setup_timeout() {
    let start = Instant::now();
    let mut relay = relay(2);
    let session = relay.create_session(start);
    relay
        .rewrite_sdp(start, session, Side::Caller, &offer("192.0.2.10", 5004))
        .unwrap();
    relay.handle_timeout(start + Duration::from_secs(179));
    assert!(relay.contains(session));
    relay.handle_timeout(start + Duration::from_secs(180));
    assert!(!relay.contains(session));
    assert_eq!(relay.free_pairs(), 2);
}

#[test]
fn running_out_of_ports_is_an_error_not_a_panic() {
    let start = Instant::now();
    let mut relay = relay(3);
    let first = relay.create_session(start);
    relay
        .rewrite_sdp(start, first, Side::Caller, &offer("192.0.2.10", 5004))
        .unwrap();
    let second = relay.create_session(start);
    let result = relay.rewrite_sdp(start, second, Side::Caller, &offer("192.0.2.11", 5004));
    assert_eq!(result, Err(MediaError::NoPorts));
    assert!(
        PortPair::consecutive(40_001).is_none(),
        "RTP ports are even"
    );
}

#[test]
fn packets_on_unknown_ports_are_ignored() {
    let (mut relay, start, _, _, _) = call();
    assert_eq!(
        relay.handle_packet(start, 50_000, addr("192.0.2.10:5004"), &[0; 10]),
        None
    );
}
