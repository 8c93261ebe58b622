//! The relay's WebRTC B2BUA on the wire, without a browser: a webrtc-rs peer connection behind a
//! hand-written SIP-over-UDP client plays the browser (its offer is a real `UDP/TLS/RTP/SAVPF`
//! offer, so the relay hands the call to the bridge), SIPp plays the plain-RTP phones.
//!
//! * A WebRTC caller reaches a SIPp echo (PCMU): 180 then 200 come back with a WebRTC answer
//!   (BUNDLE, host candidate on 127.0.0.1), ICE/DTLS connect, a 700 Hz Opus tone comes back
//!   through PCMU and the echo, and the caller's BYE reaches SIPp.
//! * A busy callee's 486 reaches the WebRTC caller.
//! * A CANCEL while ringing is answered 200 and 487 and is passed on to the callee as a CANCEL.
//! * A plain phone calling a browser binding (`+sip.ice`) with only G.722 gets 488, and with no
//!   offer at all gets 488, before the browser is ever rung.

mod relay_support;

use std::net::SocketAddr;
use std::time::Duration;

use dialtone_core::webrtc::{to_rtp_packet, PeerEvent, WebRtcPeer};
use dialtone_media::{create_codec, RtpPacket};
use dialtone_sdp::CodecName;
use dialtone_testkit::{digest, free_port, Scenario, Sipp, SippArgs};
use relay_support::{is_event, RelayProcess};
use tokio::net::UdpSocket;
use webrtc::media_stream::track_remote::TrackRemoteEvent;

const T: Duration = Duration::from_secs(20);

/// The status code of a response, if `text` is one.
fn status(text: &str) -> Option<u16> {
    text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// The first value of header `name` (long form, case-insensitive).
fn header(text: &str, name: &str) -> Option<String> {
    text.split("\r\n\r\n")
        .next()?
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
}

fn body(text: &str) -> &str {
    text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
}

/// A SIP-over-UDP user agent written out by hand.
struct Ua {
    socket: UdpSocket,
    relay: SocketAddr,
    user: &'static str,
    password: &'static str,
    n: u32,
}

/// One INVITE transaction of ours.
struct Invite {
    call_id: String,
    branch: String,
    from_tag: String,
    cseq: u32,
    uri: String,
}

impl Ua {
    async fn new(user: &'static str, password: &'static str, relay: SocketAddr) -> Ua {
        Ua {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            relay,
            user,
            password,
            n: 0,
        }
    }

    fn local(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    fn fresh(&mut self) -> u32 {
        self.n += 1;
        self.n
    }

    async fn send(&self, text: &str) {
        self.socket
            .send_to(text.as_bytes(), self.relay)
            .await
            .unwrap();
    }

    /// The next message within `timeout`, answering requests the relay sends us with 200.
    async fn next(&self, timeout: Duration) -> Option<String> {
        let mut buf = vec![0u8; 65536];
        let (n, _) = tokio::time::timeout(timeout, self.socket.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if status(&text).is_none() && !text.starts_with("ACK ") {
            // A request (BYE, ...): 200 with its headers copied.
            let mut ok = String::from("SIP/2.0 200 OK\r\n");
            for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
                for line in text.split("\r\n\r\n").next().unwrap_or("").lines() {
                    if line
                        .split(':')
                        .next()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
                    {
                        ok.push_str(line);
                        ok.push_str("\r\n");
                    }
                }
            }
            ok.push_str("Content-Length: 0\r\n\r\n");
            self.send(&ok).await;
        }
        Some(text)
    }

    /// The next response with a status in `wanted`, skipping others.
    async fn response(&self, wanted: impl Fn(u16) -> bool) -> String {
        loop {
            let text = self.next(T).await.expect("a response in time");
            if status(&text).is_some_and(&wanted) {
                return text;
            }
        }
    }

    async fn register(&mut self, contact_params: &str) {
        let call_id = format!("reg-{}-{}", self.user, self.local().port());
        let uri = format!("sip:{}", self.relay.ip());
        let mut auth = String::new();
        for cseq in 1..=2 {
            let n = self.fresh();
            let text = format!(
                "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKr{n};rport\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=r{n}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
                 Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{local}>{contact_params}\r\n\
                 {auth}Expires: 300\r\nContent-Length: 0\r\n\r\n",
                local = self.local(),
                user = self.user,
            );
            self.send(&text).await;
            let reply = self.response(|s| s >= 200).await;
            if status(&reply) == Some(200) {
                return;
            }
            let challenge = reply
                .split("\r\n")
                .filter_map(|l| l.strip_prefix("WWW-Authenticate: "))
                .find(|c| digest::param(c, "algorithm").is_none_or(|a| a == "MD5"))
                .expect("an MD5 challenge");
            let creds =
                digest::md5_credentials(challenge, "REGISTER", &uri, self.user, self.password)
                    .expect("credentials");
            auth = format!("Authorization: {creds}\r\n");
        }
        panic!("{} did not register", self.user);
    }

    fn invite_text(&self, inv: &Invite, sdp: Option<&str>, auth: &str) -> String {
        let (ctype, sdp) = match sdp {
            Some(s) => ("Content-Type: application/sdp\r\n", s),
            None => ("", ""),
        };
        format!(
            "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@127.0.0.1>;tag={tag}\r\nTo: <{uri}>\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} INVITE\r\nContact: <sip:{user}@{local}>\r\n{auth}{ctype}Content-Length: {len}\r\n\r\n{sdp}",
            uri = inv.uri,
            local = self.local(),
            branch = inv.branch,
            user = self.user,
            tag = inv.from_tag,
            call_id = inv.call_id,
            cseq = inv.cseq,
            len = sdp.len(),
        )
    }

    /// Sends an INVITE to `callee`, answering the relay's 407; returns once the authenticated
    /// INVITE is out.
    async fn invite(&mut self, callee: &str, sdp: Option<&str>) -> Invite {
        let n = self.fresh();
        let mut inv = Invite {
            call_id: format!("webrtc-call-{n}-{}", self.local().port()),
            branch: format!("z9hG4bKi{n}a"),
            from_tag: format!("f{n}"),
            cseq: 1,
            uri: format!("sip:{callee}@127.0.0.1"),
        };
        self.send(&self.invite_text(&inv, sdp, "")).await;
        let challenge = self.response(|s| s >= 200).await;
        assert_eq!(status(&challenge), Some(407), "{challenge}");
        self.ack_non_2xx(&inv, &challenge).await;
        let proxy_auth = challenge
            .split("\r\n")
            .filter_map(|l| l.strip_prefix("Proxy-Authenticate: "))
            .find(|c| digest::param(c, "algorithm").is_none_or(|a| a == "MD5"))
            .expect("an MD5 challenge")
            .to_string();
        let creds =
            digest::md5_credentials(&proxy_auth, "INVITE", &inv.uri, self.user, self.password)
                .expect("credentials");
        inv.cseq = 2;
        inv.branch = format!("z9hG4bKi{n}b");
        let auth = format!("Proxy-Authorization: {creds}\r\n");
        self.send(&self.invite_text(&inv, sdp, &auth)).await;
        inv
    }

    /// ACK for a non-2xx final response (same branch, RFC 3261 §17.1.1.3).
    async fn ack_non_2xx(&self, inv: &Invite, response: &str) {
        let to = header(response, "To").unwrap();
        let text = format!(
            "ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@127.0.0.1>;tag={tag}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} ACK\r\n\
             Content-Length: 0\r\n\r\n",
            uri = inv.uri,
            local = self.local(),
            branch = inv.branch,
            user = self.user,
            tag = inv.from_tag,
            call_id = inv.call_id,
            cseq = inv.cseq,
        );
        self.send(&text).await;
    }

    /// An in-dialog request after a 2xx (`ACK` or `BYE`), sent to the 2xx's Contact.
    async fn in_dialog(&mut self, method: &str, inv: &Invite, ok: &str) {
        let to = header(ok, "To").unwrap();
        let contact = header(ok, "Contact").unwrap();
        let target = contact
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_string();
        let cseq = if method == "ACK" {
            inv.cseq
        } else {
            inv.cseq + 1
        };
        let n = self.fresh();
        let text = format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKd{n};rport\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@127.0.0.1>;tag={tag}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
             Content-Length: 0\r\n\r\n",
            local = self.local(),
            user = self.user,
            tag = inv.from_tag,
            call_id = inv.call_id,
        );
        self.send(&text).await;
    }

    async fn cancel(&self, inv: &Invite) {
        let text = format!(
            "CANCEL {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@127.0.0.1>;tag={tag}\r\nTo: <{uri}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} CANCEL\r\n\
             Content-Length: 0\r\n\r\n",
            uri = inv.uri,
            local = self.local(),
            branch = inv.branch,
            user = self.user,
            tag = inv.from_tag,
            call_id = inv.call_id,
            cseq = inv.cseq,
        );
        self.send(&text).await;
    }
}

/// SIPp registered at the relay as bob, answering calls with the out-of-call scenario `ooc`.
fn sipp_bob(relay: SocketAddr, ooc: std::path::PathBuf, echo: bool) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.remote = Some(relay);
    args.auth = Some(("bob".into(), "bobpw".into()));
    args.keys.push(("user".into(), "bob".into()));
    args.timeout = Duration::from_secs(30);
    args.extra = vec![
        "-oocsf".into(),
        ooc.display().to_string(),
        "-d".into(),
        "15000".into(),
    ];
    if echo {
        args.extra.push("-rtp_echo".into());
    }
    Sipp::uac(Scenario::peer("relay_uas_register.xml"), args).expect("start sipp")
}

fn peer_scenario(name: &str) -> std::path::PathBuf {
    dialtone_testkit::peers_dir().join("sipp").join(name)
}

fn relay() -> (RelayProcess, SocketAddr) {
    let relay = RelayProcess::start(&["--listen", &format!("udp:127.0.0.1:{}", free_port())]);
    let addr = relay.addr("udp");
    (relay, addr)
}

/// Goertzel power of `freq` relative to the signal's energy.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webrtc_caller_hears_its_tone_back_from_a_pcmu_echo_and_its_bye_reaches_the_phone() {
    let (mut relay, addr) = relay();
    let sipp = sipp_bob(addr, peer_scenario("relay_uas_answer_ooc.xml"), true);
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });

    let (peer, mut events) = WebRtcPeer::new("127.0.0.1".parse().unwrap(), 4242)
        .await
        .unwrap();
    let offer = peer.offer().await.unwrap();
    let mut alice = Ua::new("alice", "alicepw", addr).await;
    let inv = alice.invite("bob", Some(&offer)).await;
    let ringing = alice
        .response(|s| (101..200).contains(&s) || s >= 200)
        .await;
    assert_eq!(status(&ringing), Some(180), "{ringing}");
    let ok = alice.response(|s| s >= 200).await;
    assert_eq!(status(&ok), Some(200), "{ok}");
    alice.in_dialog("ACK", &inv, &ok).await;
    let answer = body(&ok);
    assert!(answer.contains("a=group:BUNDLE"), "{answer}");
    assert!(answer.contains("UDP/TLS/RTP/SAVPF"), "{answer}");
    assert!(
        answer
            .lines()
            .filter(|l| l.starts_with("a=candidate:"))
            .all(|l| l.contains(" 127.0.0.1 ")),
        "{answer}"
    );
    peer.accept_answer(answer).await.unwrap();

    // Send 700 Hz as Opus for 2 s; what comes back went Opus -> PCMU -> echo -> PCMU -> Opus.
    let sender = async {
        let mut enc = create_codec(CodecName::Opus, None).unwrap();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0..100usize {
            tick.tick().await;
            let pcm: Vec<i16> = (i * 960..(i + 1) * 960)
                .map(|k| {
                    (9000.0 * (2.0 * std::f64::consts::PI * 700.0 * k as f64 / 48_000.0).sin())
                        as i16
                })
                .collect();
            let mut payload = Vec::new();
            enc.encode(&pcm, &mut payload).unwrap();
            let p = RtpPacket {
                payload_type: 111,
                sequence: i as u16,
                timestamp: (i * 960) as u32,
                payload,
                ..RtpPacket::default()
            };
            let _ = peer.send(&p).await;
        }
    };
    let receiver = async {
        let end = tokio::time::Instant::now() + Duration::from_secs(4);
        let track = loop {
            match tokio::time::timeout_at(end, events.recv()).await {
                Ok(Some(PeerEvent::Track(t))) => break t,
                Ok(Some(_)) => continue,
                _ => panic!("no audio came back"),
            }
        };
        let mut got = Vec::new();
        while let Ok(Some(e)) = tokio::time::timeout_at(end, track.poll()).await {
            if let TrackRemoteEvent::OnRtpPacket(p) = e {
                got.push(to_rtp_packet(&p));
            }
        }
        got
    };
    let ((), got) = tokio::join!(sender, receiver);
    assert!(got.len() >= 80, "{} packets came back", got.len());
    let mut dec = create_codec(CodecName::Opus, None).unwrap();
    let mut pcm = Vec::new();
    for p in &got {
        dec.decode(&p.payload, &mut pcm).unwrap();
    }
    let share = tone_share(&pcm[pcm.len() / 4..], 48_000, 700.0);
    assert!(share > 0.6, "the echoed tone is 700 Hz (share {share:.2})");

    alice.in_dialog("BYE", &inv, &ok).await;
    let bye_ok = alice.response(|s| s >= 200).await;
    assert_eq!(status(&bye_ok), Some(200), "{bye_ok}");
    let up = relay.wait_for("bridge_established", T, is_event("bridge_established"));
    assert_eq!(up["transcoding"], true, "{up}");
    let ended = relay.wait_for("bridge_ended", T, is_event("bridge_ended"));
    assert_eq!(ended["reason"], "hung up by the caller", "{ended}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = sipp.messages();
    assert!(
        messages.contains("BYE sip:"),
        "SIPp got the BYE:\n{messages}"
    );
    peer.close().await;
    let _ = sipp.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_phones_486_reaches_the_webrtc_caller() {
    let (mut relay, addr) = relay();
    let busy = sipp_bob(addr, peer_scenario("uas_busy_486.xml"), false);
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let (peer, _events) = WebRtcPeer::new("127.0.0.1".parse().unwrap(), 1)
        .await
        .unwrap();
    let offer = peer.offer().await.unwrap();
    let mut alice = Ua::new("alice", "alicepw", addr).await;

    let inv = alice.invite("bob", Some(&offer)).await;
    let busy_here = alice.response(|s| s >= 200).await;
    assert_eq!(status(&busy_here), Some(486), "{busy_here}");
    alice.ack_non_2xx(&inv, &busy_here).await;
    let failed = relay.wait_for("bridge_failed", T, is_event("bridge_failed"));
    assert_eq!(failed["status"], 486, "{failed}");
    peer.close().await;
    let _ = busy.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_while_ringing_gets_487_and_reaches_the_phone() {
    let (mut relay, addr) = relay();
    let ringer = sipp_bob(addr, peer_scenario("uas_ring_then_cancel.xml"), false);
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let (peer, _events) = WebRtcPeer::new("127.0.0.1".parse().unwrap(), 2)
        .await
        .unwrap();
    let offer = peer.offer().await.unwrap();
    let mut alice = Ua::new("alice", "alicepw", addr).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inv = alice.invite("bob", Some(&offer)).await;
    let ringing = alice.response(|s| s > 100).await;
    assert_eq!(status(&ringing), Some(180), "{ringing}");
    alice.cancel(&inv).await;
    let mut statuses = Vec::new();
    while !statuses.contains(&487) {
        let r = alice.response(|s| s >= 200).await;
        statuses.push(status(&r).unwrap());
        if status(&r) == Some(487) {
            alice.ack_non_2xx(&inv, &r).await;
        }
    }
    assert!(
        statuses.contains(&200),
        "the CANCEL got its 200: {statuses:?}"
    );
    let failed = relay.wait_for("bridge_failed 487", T, |v| {
        v["event"] == "bridge_failed" && v["status"] == 487
    });
    assert_eq!(failed["reason"], "cancelled by the caller");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = ringer.messages();
    assert!(
        messages.contains("CANCEL sip:"),
        "the phone got a CANCEL:\n{messages}"
    );
    peer.close().await;
    let _ = ringer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_offers_the_bridge_cannot_serve_get_488_before_the_browser_rings() {
    let (mut relay, addr) = relay();
    // A "browser" binding: its Contact carries +sip.ice (RFC 5768), as JsSIP's does.
    let mut browser = Ua::new("bob", "bobpw", addr).await;
    browser.register(";+sip.ice").await;
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let mut alice = Ua::new("alice", "alicepw", addr).await;

    let g722 = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                m=audio 40000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n";
    let inv = alice.invite("bob", Some(g722)).await;
    let refused = alice.response(|s| s >= 200).await;
    assert_eq!(status(&refused), Some(488), "{refused}");
    alice.ack_non_2xx(&inv, &refused).await;
    let handed = relay.wait_for("bridge_call", T, is_event("bridge_call"));
    assert_eq!(handed["direction"], "phone_to_browser");

    let inv = alice.invite("bob", None).await;
    let refused = alice.response(|s| s >= 200).await;
    assert_eq!(status(&refused), Some(488), "offerless: {refused}");
    alice.ack_non_2xx(&inv, &refused).await;

    // The browser was never rung.
    assert!(
        browser.next(Duration::from_millis(500)).await.is_none(),
        "no INVITE reached the browser"
    );
}
