//! rtcp-mux demultiplexing (RFC 5761 §4), SR/RR choice and SDES CNAME in every compound
//! (RFC 3550 §6.1, §6.4), and BYE (§6.6).

mod support;

use std::time::Duration;

use dialtone_media::{parse_compound, Channel, RtcpPacket, RtpEvent, SDES_CNAME};
use support::{LinkProfile, SessionPair};

#[test]
fn muxed_rtcp_is_demultiplexed_and_reports_carry_cname() {
    let mut pair = SessionPair::new(
        21,
        LinkProfile::clean(Duration::from_millis(5)),
        LinkProfile::clean(Duration::from_millis(5)),
        true,
    );
    assert_eq!(pair.a.rtcp_destination(), pair.b_addr);
    for i in 0..600u32 {
        pair.a.send_rtp(pair.now, 0, i * 160, false, &[0xFF; 160]);
        pair.drain();
        pair.advance(Duration::from_millis(20));
    }
    let b = pair.b.stats();
    let a = pair.a.stats();
    assert!(b.rtcp_received >= 1 && a.rtcp_received >= 1);
    assert_eq!(b.malformed_rtp, 0);
    assert_eq!(b.packets_received, 600); // the probation packet is delivered too
                                         // A's reports as B saw them arrive: SRs, since A sends.
    assert!(pair.a.stats().rtcp_sent >= 1);
}

#[test]
fn every_compound_is_sr_or_rr_then_sdes_cname() {
    let mut pair = SessionPair::new(
        22,
        LinkProfile::clean(Duration::from_millis(5)),
        LinkProfile::clean(Duration::from_millis(5)),
        false,
    );
    for i in 0..2250u32 {
        // A sends for 10 s, listens for 25 s, sends again for 10 s.
        if !(500..1750).contains(&i) {
            pair.a.send_rtp(pair.now, 0, i * 160, false, &[0xFF; 160]);
            pair.drain();
        }
        pair.advance(Duration::from_millis(20));
    }
    // §6.4: an SR when A sent RTP since the second previous report, else an RR.
    let mut rtp_in_interval = Vec::new();
    let mut count = 0;
    let mut kinds = Vec::new();
    for (_, channel, bytes) in &pair.a_sent {
        match channel {
            Channel::Rtp => count += 1,
            Channel::Rtcp => {
                let packets = parse_compound(bytes).expect("our own RTCP parses");
                assert!(matches!(
                    packets.get(1),
                    Some(RtcpPacket::SourceDescription(chunks)) if chunks[0].items[0].0 == SDES_CNAME
                ));
                rtp_in_interval.push(count);
                count = 0;
                let n = rtp_in_interval.len();
                let sent_recently = rtp_in_interval[n.saturating_sub(2)..]
                    .iter()
                    .any(|&c| c > 0);
                let is_sr = matches!(packets[0], RtcpPacket::SenderReport(_));
                assert_eq!(is_sr, sent_recently, "report {n}: {rtp_in_interval:?}");
                kinds.push(is_sr);
            }
        }
    }
    assert!(kinds.len() >= 4, "{kinds:?}");
    assert!(kinds.contains(&false) && kinds.contains(&true), "{kinds:?}");
}

#[test]
fn bye_reaches_the_peer_and_silences_the_session() {
    let mut pair = SessionPair::new(
        23,
        LinkProfile::clean(Duration::from_millis(5)),
        LinkProfile::clean(Duration::from_millis(5)),
        true,
    );
    for i in 0..10u32 {
        pair.a.send_rtp(pair.now, 0, i * 160, false, &[0xFF; 160]);
        pair.drain();
        pair.advance(Duration::from_millis(20));
    }
    pair.a.bye(pair.now, Some("hangup"));
    pair.drain();
    pair.advance(Duration::from_millis(50));
    assert!(pair.b_events.iter().any(
        |e| matches!(e, RtpEvent::RemoteBye { reason } if reason.as_deref() == Some("hangup"))
    ));
    assert!(pair.a.is_closed());
    assert_eq!(pair.a.poll_timeout(), None);
    pair.a.send_rtp(pair.now, 0, 0, false, &[0; 160]);
    assert!(pair.a.poll_output().is_none());
}
