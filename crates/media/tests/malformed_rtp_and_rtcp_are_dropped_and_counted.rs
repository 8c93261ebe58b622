//! Malformed RTP/RTCP from the network is dropped and counted, never a panic: known
//! bad shapes, then seeded random and mutated datagrams through the parsers and a
//! session.

mod support;

use std::time::{Duration, Instant};

use dialtone_media::{
    parse_compound, Random, ReceiverReport, RtcpPacket, RtpPacket, RtpSession, RtpSessionConfig,
    Xorshift,
};
use support::session_pair::addr;

fn session(mux: bool) -> RtpSession {
    let mut config = RtpSessionConfig::new(8000, addr("192.0.2.2:5000"));
    config.rtcp_mux = mux;
    RtpSession::new(Instant::now(), config, &mut Xorshift::new(1))
}

#[test]
fn known_bad_shapes_are_counted() {
    let mut s = session(false);
    let now = Instant::now();
    let from = addr("192.0.2.2:5000");
    let bad_rtp: [&[u8]; 5] = [
        &[],
        &[0x80, 0, 0],
        &[0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], // version 1
        &[0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], // 15 CSRCs missing
        &[0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 9], // padding 9 > payload
    ];
    for bytes in bad_rtp {
        s.handle_rtp(now, from, bytes);
    }
    let from_rtcp = addr("192.0.2.2:5001");
    let bad_rtcp: [&[u8]; 4] = [
        &[0x80],
        &[0x80, 202, 0, 0],             // compound starting with SDES
        &[0x80, 201, 0, 5, 0, 0],       // length beyond the datagram
        &[0x81, 201, 0, 1, 0, 0, 0, 1], // one report block announced, none present
    ];
    for bytes in bad_rtcp {
        s.handle_rtcp(now, from_rtcp, bytes);
    }
    let stats = s.stats();
    assert_eq!(stats.malformed_rtp, 5);
    assert_eq!(stats.malformed_rtcp, 4);
    assert_eq!(stats.packets_received, 0);
}

#[test]
fn random_and_mutated_datagrams_never_panic() {
    let mut rng = Xorshift::new(0x5EED);
    let now = Instant::now();
    let from = addr("192.0.2.2:5000");
    let mut seeds: Vec<Vec<u8>> = vec![
        RtpPacket {
            payload_type: 8,
            sequence: 7,
            ssrc: 42,
            csrcs: vec![1],
            payload: vec![0xD5; 40],
            ..RtpPacket::default()
        }
        .to_bytes(),
        {
            let mut out = Vec::new();
            dialtone_media::write_compound(
                &[
                    RtcpPacket::ReceiverReport(ReceiverReport {
                        ssrc: 42,
                        reports: vec![Default::default()],
                    }),
                    RtcpPacket::SourceDescription(vec![dialtone_media::SdesChunk {
                        ssrc: 42,
                        items: vec![(1, b"x@y".to_vec())],
                    }]),
                    RtcpPacket::Bye(dialtone_media::Bye {
                        sources: vec![42],
                        reason: Some("bye".into()),
                    }),
                ],
                &mut out,
            );
            out
        },
    ];
    for mux in [true, false] {
        let mut s = session(mux);
        for i in 0..20_000u64 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let len = (rng.next_u64() % 80) as usize;
                (0..len).map(|_| rng.next_u64() as u8).collect()
            } else {
                let mut b = seeds[(i as usize / 2) % seeds.len()].clone();
                for _ in 0..1 + rng.next_u64() % 4 {
                    if b.is_empty() {
                        break;
                    }
                    let at = (rng.next_u64() as usize) % b.len();
                    b[at] ^= 1 << (rng.next_u64() % 8);
                }
                if rng.next_u64().is_multiple_of(4) {
                    let cut = (rng.next_u64() as usize) % (b.len() + 1);
                    b.truncate(cut);
                }
                b
            };
            let _ = RtpPacket::parse(&bytes);
            let _ = parse_compound(&bytes);
            let t = now + Duration::from_millis(i);
            s.handle_rtp(t, from, &bytes);
            s.handle_rtcp(t, addr("192.0.2.2:5001"), &bytes);
            s.handle_timeout(t);
            while s.poll_output().is_some() {}
        }
        let stats = s.stats();
        assert!(stats.malformed_rtp > 1000, "{stats:?}");
        assert!(stats.malformed_rtcp > 1000, "{stats:?}");
    }
    seeds.clear();
}
