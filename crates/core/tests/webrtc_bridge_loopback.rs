//! The WebRTC-to-RTP bridge on real sockets, without a browser: a webrtc-rs peer connection
//! plays the browser (Opus over ICE/DTLS-SRTP, BUNDLE, rtcp-mux), a plain UDP socket plays a
//! G.711 phone. A 700 Hz tone sent as Opus by the "browser" must come out of the bridge as PCMU
//! at 8 kHz; a 500 Hz tone sent as PCMU by the "phone" must reach the "browser" as Opus. A phone
//! answering Opus gets the browser's packets forwarded untouched. Descriptions carry host
//! candidates on 127.0.0.1 only (no mDNS names) and a BUNDLE group.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_core::webrtc::{
    BridgeEvent, BridgePlan, MediaBridge, PeerEvent, PlainLeg, WebRtcPeer,
};
use dialtone_media::{create_codec, RtpPacket};
use dialtone_sdp::CodecName;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use webrtc::media_stream::track_remote::TrackRemoteEvent;

const T: Duration = Duration::from_secs(10);

fn tone(rate: u32, freq: f64, start: usize, n: usize) -> Vec<i16> {
    (start..start + n)
        .map(|i| {
            (9000.0 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as i16
        })
        .collect()
}

/// Goertzel power of `freq` relative to the signal's energy (1.0 for a pure tone).
fn tone_share(pcm: &[i16], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in pcm {
        let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let energy: f64 = pcm.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    2.0 * power / (pcm.len() as f64 * energy.max(1.0))
}

fn check_description(sdp: &str) {
    assert!(sdp.contains("a=group:BUNDLE"), "BUNDLE group: {sdp}");
    assert!(sdp.contains("UDP/TLS/RTP/SAVPF"), "{sdp}");
    assert!(sdp.contains("a=rtcp-mux"), "{sdp}");
    assert!(sdp.contains("a=fingerprint:"), "DTLS fingerprint: {sdp}");
    let candidates: Vec<&str> = sdp
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .collect();
    assert!(
        !candidates.is_empty(),
        "candidates in the description: {sdp}"
    );
    for c in &candidates {
        assert!(
            c.contains(" 127.0.0.1 ") && c.contains(" typ host"),
            "host candidate on 127.0.0.1 only: {c}"
        );
        assert!(!c.contains(".local"), "no mDNS name: {c}");
    }
}

/// An answer from a phone at `phone` choosing `codec` line `m`.
fn phone_answer(phone: SocketAddr, m: &str, rtpmap: &str) -> String {
    format!(
        "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP {m}\r\n{rtpmap}a=sendrecv\r\n",
        phone.port()
    )
}

struct Call {
    browser: WebRtcPeer,
    browser_events: mpsc::UnboundedReceiver<PeerEvent>,
    bridge: MediaBridge,
    bridge_events: mpsc::UnboundedReceiver<BridgeEvent>,
    phone: UdpSocket,
    bridge_plain: SocketAddr,
    setup: Duration,
}

/// Sets up browser ↔ bridge ↔ phone with the phone answering `m`/`rtpmap`.
async fn call(m: &str, rtpmap: &str) -> Call {
    let ip = "127.0.0.1".parse().unwrap();
    let started = Instant::now();
    let (browser, mut browser_events) = WebRtcPeer::new(ip, 0x0b0b_0b0b)
        .await
        .expect("browser peer");
    let offer = browser.offer().await.expect("browser offer");
    check_description(&offer);

    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut plain = PlainLeg::bind(ip, 77).await.unwrap();
    let bridge_plain = plain.local_addr().unwrap();
    let (plain_offer, pending) = plain.create_offer().unwrap();
    assert!(plain_offer.contains(" RTP/AVP "), "{plain_offer}");
    let answer = phone_answer(phone.local_addr().unwrap(), m, rtpmap);
    let media = plain
        .accept_answer(pending, answer.as_bytes())
        .expect("phone answer");

    let (peer, peer_events) = WebRtcPeer::new(ip, 0x0c0c_0c0c).await.expect("bridge peer");
    let webrtc_answer = peer.answer(&offer).await.expect("bridge answer");
    check_description(&webrtc_answer);
    browser
        .accept_answer(&webrtc_answer)
        .await
        .expect("browser applies the answer");
    let format = peer.format().await.unwrap();
    assert_eq!(format.codec, CodecName::Opus);

    let (tx, mut bridge_events) = mpsc::unbounded_channel();
    let plan = BridgePlan {
        plain: media,
        webrtc: format,
        start: ((100, 1000), (200, 2000)),
    };
    let bridge = MediaBridge::start(peer, peer_events, plain.into_sockets(), plan, tx).unwrap();
    let connected = tokio::time::timeout(T, bridge_events.recv())
        .await
        .expect("bridge connects in time");
    assert_eq!(connected, Some(BridgeEvent::Connected));
    // The browser side connects too.
    tokio::time::timeout(T, async {
        while let Some(e) = browser_events.recv().await {
            if matches!(e, PeerEvent::State(s) if s.to_string() == "connected") {
                return;
            }
        }
    })
    .await
    .expect("browser connects");
    Call {
        browser,
        browser_events,
        bridge,
        bridge_events,
        phone,
        bridge_plain,
        setup: started.elapsed(),
    }
}

/// Sends `count` 20 ms packets of `freq` Hz in `codec` from the browser, paced in real time.
async fn browser_sends(browser: &WebRtcPeer, codec: CodecName, pt: u8, freq: f64, count: usize) {
    let mut enc = create_codec(codec, None).unwrap();
    let rate = enc.sample_rate();
    let frame = rate as usize / 50;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for i in 0..count {
        tick.tick().await;
        let mut payload = Vec::new();
        enc.encode(&tone(rate, freq, i * frame, frame), &mut payload)
            .unwrap();
        let packet = RtpPacket {
            payload_type: pt,
            sequence: i as u16,
            timestamp: (i * frame) as u32,
            payload,
            ..RtpPacket::default()
        };
        browser.send(&packet).await.expect("browser sends");
    }
}

/// Receives RTP on the phone socket for `window`; returns the packets.
async fn phone_receives(phone: &UdpSocket, window: Duration) -> Vec<(SocketAddr, RtpPacket)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 2048];
    let end = tokio::time::Instant::now() + window;
    while let Ok(Ok((n, from))) = tokio::time::timeout_at(end, phone.recv_from(&mut buf)).await {
        if let Ok(p) = RtpPacket::parse(&buf[..n]) {
            out.push((from, p));
        }
    }
    out
}

fn decode(codec: CodecName, packets: &[RtpPacket]) -> Vec<i16> {
    let mut dec = create_codec(codec, None).unwrap();
    let mut pcm = Vec::new();
    for p in packets {
        dec.decode(&p.payload, &mut pcm).unwrap();
    }
    pcm
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_from_the_browser_reaches_a_pcmu_phone_and_pcmu_comes_back_as_opus() {
    let mut c = call("0", "a=rtpmap:0 PCMU/8000\r\n").await;
    eprintln!("setup (offer to ICE+DTLS connected): {:?}", c.setup);
    assert!(c.bridge.is_transcoding());

    // Browser → phone: Opus 700 Hz → PCMU.
    let (_, received) = tokio::join!(
        browser_sends(&c.browser, CodecName::Opus, 111, 700.0, 100),
        phone_receives(&c.phone, Duration::from_millis(2600)),
    );
    assert!(
        received.len() >= 90,
        "{} PCMU packets reached the phone",
        received.len()
    );
    let from = received[0].0;
    assert_eq!(
        from, c.bridge_plain,
        "RTP comes from the port in the bridge's SDP"
    );
    let packets: Vec<RtpPacket> = received.into_iter().map(|(_, p)| p).collect();
    assert!(packets
        .iter()
        .all(|p| p.payload_type == 0 && p.payload.len() == 160));
    assert!(packets
        .windows(2)
        .all(|w| w[1].sequence == w[0].sequence.wrapping_add(1)));
    let pcm = decode(CodecName::Ulaw, &packets);
    let share = tone_share(&pcm[1600..], 8000, 700.0);
    assert!(share > 0.7, "the phone hears 700 Hz (share {share:.2})");

    // Phone → browser: PCMU 500 Hz → Opus. The phone sends from its own socket (latched); the
    // browser's track appears with the first packet.
    let sender = async {
        let mut enc = create_codec(CodecName::Ulaw, None).unwrap();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0..100usize {
            tick.tick().await;
            let mut payload = Vec::new();
            enc.encode(&tone(8000, 500.0, i * 160, 160), &mut payload)
                .unwrap();
            let p = RtpPacket {
                payload_type: 0,
                sequence: 5000 + i as u16,
                timestamp: 80_000 + (i * 160) as u32,
                ssrc: 42,
                payload,
                ..RtpPacket::default()
            };
            c.phone
                .send_to(&p.to_bytes(), c.bridge_plain)
                .await
                .unwrap();
        }
    };
    let events = &mut c.browser_events;
    let receiver = async move {
        let end = tokio::time::Instant::now() + Duration::from_millis(2800);
        let track = loop {
            match tokio::time::timeout_at(end, events.recv()).await {
                Ok(Some(PeerEvent::Track(t))) => break t,
                Ok(Some(_)) => continue,
                _ => panic!("the browser got no track from the bridge"),
            }
        };
        let mut got = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(end, track.poll()).await {
            if let TrackRemoteEvent::OnRtpPacket(p) = event {
                got.push(dialtone_core::webrtc::to_rtp_packet(&p));
            }
        }
        got
    };
    let ((), got) = tokio::join!(sender, receiver);
    assert!(
        got.len() >= 85,
        "{} Opus packets reached the browser",
        got.len()
    );
    assert!(got.iter().all(|p| p.payload_type == 111));
    let pcm = decode(CodecName::Opus, &got);
    let share = tone_share(&pcm[9600..], 48_000, 500.0);
    assert!(share > 0.7, "the browser hears 500 Hz (share {share:.2})");

    // A spoofed packet from another port is dropped, not forwarded.
    let spoofer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let p = RtpPacket {
        payload_type: 0,
        sequence: 1,
        timestamp: 1,
        ssrc: 7,
        payload: vec![0xff; 160],
        ..RtpPacket::default()
    };
    spoofer
        .send_to(&p.to_bytes(), c.bridge_plain)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stats = c.bridge.stats();
    assert_eq!(stats.dropped_spoofed, 1, "{stats:?}");
    assert!(
        stats.from_webrtc_packets >= 95 && stats.to_plain_packets >= 90,
        "{stats:?}"
    );
    assert!(
        stats.from_plain_packets >= 95 && stats.to_webrtc_packets >= 90,
        "{stats:?}"
    );

    let final_stats = c.bridge.stop().await;
    assert!(final_stats.to_webrtc_packets >= stats.to_webrtc_packets);
    c.browser.close().await;
    assert!(
        c.bridge_events.try_recv().is_err(),
        "a stopped bridge reports no failure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_answering_opus_gets_the_browsers_packets_untouched() {
    let c = call("96", "a=rtpmap:96 opus/48000/2\r\n").await;
    assert!(!c.bridge.is_transcoding());
    let sent_payload = {
        let mut enc = create_codec(CodecName::Opus, None).unwrap();
        let mut payload = Vec::new();
        enc.encode(&tone(48_000, 700.0, 0, 960), &mut payload)
            .unwrap();
        payload
    };
    let (_, received) = tokio::join!(
        async {
            for i in 0..20u16 {
                let p = RtpPacket {
                    payload_type: 111,
                    sequence: i,
                    timestamp: u32::from(i) * 960,
                    payload: sent_payload.clone(),
                    ..RtpPacket::default()
                };
                c.browser.send(&p).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        },
        phone_receives(&c.phone, Duration::from_millis(1200)),
    );
    assert!(received.len() >= 18, "{} packets", received.len());
    for (_, p) in &received {
        assert_eq!(p.payload_type, 96, "payload type remapped to the phone's");
        assert_eq!(p.payload, sent_payload, "Opus payload forwarded as is");
    }
    let ts: Vec<u32> = received.iter().map(|(_, p)| p.timestamp).collect();
    assert!(ts.windows(2).all(|w| w[1].wrapping_sub(w[0]) % 960 == 0));
    c.bridge.stop().await;
    c.browser.close().await;
}
