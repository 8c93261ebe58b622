//! SIPp and the `dialtone` CLI phone as users of a `dialtone relay` process: SIPp registers (XML scenario with
//! `[authentication]`, answering the relay's 401 and 407) and calls a Dialtone phone; a Dialtone phone calls a SIPp
//! registered at the relay. With SIPp's `-rtp_echo` as the callee and a test socket as the caller's media, RTP
//! flows caller → relay → callee → relay → caller on real sockets, the relay's counters show packets from both
//! sides, and packets spoofed from another port after latching are dropped, not forwarded.

mod cli;
mod relay_support;

use cli::{is_call, is_reg, Cli};
use dialtone_testkit::{free_port, Scenario, Sipp, SippArgs};
use relay_support::{is_event, sipp_callee, RelayProcess};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);

fn relay_udp() -> (RelayProcess, SocketAddr) {
    let port = free_port();
    let relay = RelayProcess::start(&["--listen", &format!("udp:127.0.0.1:{port}")]);
    let addr = relay.addr("udp");
    (relay, addr)
}

/// SIPp registering as `user` (one run), then calling `callee` through the relay from the same port (a second
/// run), holding the call `hold_ms`. Returns the running caller.
fn sipp_caller(relay: SocketAddr, user: &str, password: &str, callee: &str, hold_ms: u32) -> Sipp {
    let port = free_port();
    let mut args = SippArgs::new(port);
    args.remote = Some(relay);
    args.auth = Some((user.into(), password.into()));
    args.keys.push(("user".into(), user.into()));
    args.timeout = Duration::from_secs(30);
    let mut register = args.clone();
    register.extra = vec!["-d".into(), "0".into()];
    let registered = Sipp::uac(Scenario::peer("relay_uas_register.xml"), register)
        .expect("start sipp registration")
        .wait()
        .expect("sipp registration finished");
    assert!(registered.success(), "SIPp did not register:\n{registered}");
    args.service = Some(callee.into());
    args.extra = vec![
        "-d".into(),
        hold_ms.to_string(),
        "-auth_uri".into(),
        format!("{callee}@{relay}"),
    ];
    Sipp::uac(Scenario::peer("relay_uac_call.xml"), args).expect("start sipp caller")
}

#[test]
fn sipp_registers_with_digest_and_calls_a_dialtone_phone() {
    let (mut relay, addr) = relay_udp();
    let account = format!("sip:bob@127.0.0.1:{}", addr.port());
    let mut bob = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--auto-answer",
        ],
        "bobpw",
    );
    bob.wait_for("bob REGISTERED", T, is_reg("REGISTERED"));

    let sipp = sipp_caller(addr, "alice", "alicepw", "bob", 1500);
    bob.wait_for("RING", T, is_call("RING"));
    bob.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    let end = bob.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(end["reason"], "the other party hung up", "{end}");
    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");

    let reg = relay.wait_for("alice registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "alice"
    });
    assert!(
        reg["flow"]
            .as_str()
            .unwrap_or("")
            .starts_with("udp:127.0.0.1:"),
        "{reg}"
    );
    let routed = relay.wait_for("call_routed", T, is_event("call_routed"));
    assert_eq!(routed["caller"], "alice");
    assert_eq!(routed["callee"], "bob");
    relay.wait_for("call_ended", T, is_event("call_ended"));
    // The INVITE SIPp saw forwarded was challenged first, and the relay's Record-Route kept it on the path.
    assert!(outcome.messages.contains("SIP/2.0 407"), "{outcome}");
    assert!(
        outcome.messages.contains("Proxy-Authorization:"),
        "{outcome}"
    );
    assert!(relay.events("auth_failed").is_empty(), "{:#?}", relay.seen);
}

#[test]
fn dialtone_phone_calls_a_sipp_registered_at_the_relay() {
    let (mut relay, addr) = relay_udp();
    let sipp = sipp_callee(addr, "bob", "bobpw", 8000, false);
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let account = format!("sip:alice@127.0.0.1:{}", addr.port());
    let mut alice = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--call",
            "bob",
            "--hangup-after",
            "1",
        ],
        "alicepw",
    );
    alice.wait_for("ESTABLISHED", T, is_call("ESTABLISHED"));
    alice.wait_for("FINISH", T, is_call("FINISH"));
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    relay.wait_for("call_ended", T, is_event("call_ended"));
    let outcome = sipp.wait().expect("sipp finished");
    assert!(outcome.success(), "{outcome}");
    // SIPp got the INVITE and the BYE through the relay, and its SDP was anchored at the relay's media ports.
    let started = relay.events("started").remove(0);
    let media_ip = started["media_ip"].as_str().unwrap_or_default().to_string();
    let invite = outcome
        .messages
        .split("INVITE sip:")
        .nth(1)
        .unwrap_or_else(|| panic!("SIPp saw no INVITE:\n{outcome}"));
    assert!(invite.contains(&format!("c=IN IP4 {media_ip}")), "{invite}");
    assert!(outcome.messages.contains("BYE sip:"), "{outcome}");
}

/// The relay's port in the `m=audio` line of the 200 OK (to the INVITE) that SIPp received.
fn answered_media_port(messages: &str) -> Option<u16> {
    messages
        .split("----------")
        .filter(|block| block.contains("SIP/2.0 200") && block.contains(" INVITE"))
        .filter_map(|block| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix("m=audio "))
                .and_then(|rest| rest.split(' ').next())
                .and_then(|p| p.parse().ok())
        })
        .last()
}

#[test]
fn rtp_is_relayed_both_ways_and_spoofed_packets_are_dropped() {
    let (mut relay, addr) = relay_udp();
    let _callee = sipp_callee(addr, "bob", "bobpw", 15000, true);
    relay.wait_for("bob registered", T, |v| {
        v["event"] == "registered" && v["aor"] == "bob"
    });
    let caller = sipp_caller(addr, "alice", "alicepw", "bob", 4000);
    let deadline = Instant::now() + T;
    let relay_port = loop {
        if let Some(port) = answered_media_port(&caller.messages()) {
            break port;
        }
        assert!(
            Instant::now() < deadline,
            "no 200 OK with SDP in SIPp's trace:\n{}",
            caller.messages()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let media_ip = addr.ip();
    let relay_media = SocketAddr::new(media_ip, relay_port);

    // The caller's media: the first source to send to the caller-facing port is latched.
    let media = UdpSocket::bind("127.0.0.1:0").expect("bind media socket");
    media
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let spoofer = UdpSocket::bind("127.0.0.1:0").expect("bind spoofer");
    spoofer
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut echoed = 0;
    let mut buf = [0u8; 2048];
    for seq in 0u16..20 {
        media
            .send_to(&rtp(seq, b"caller"), relay_media)
            .expect("send rtp");
        if let Ok((n, from)) = media.recv_from(&mut buf) {
            assert_eq!(
                from, relay_media,
                "the echo comes back from the relay's port"
            );
            assert_eq!(&buf[12..n], b"caller", "{:?}", &buf[..n]);
            echoed += 1;
        }
    }
    assert!(
        echoed >= 15,
        "only {echoed} of 20 packets came back through SIPp's echo"
    );

    // Spoofed packets from another port: neither forwarded to the callee (no echo reaches anyone) nor
    // answered; the genuine stream keeps flowing.
    for seq in 0u16..10 {
        spoofer
            .send_to(&rtp(seq, b"SPOOF!"), relay_media)
            .expect("send spoof");
    }
    assert!(
        spoofer.recv_from(&mut buf).is_err(),
        "the spoofer got something back"
    );
    let mut after = 0;
    for seq in 20u16..30 {
        media
            .send_to(&rtp(seq, b"caller"), relay_media)
            .expect("send rtp");
        while let Ok((n, _)) = media.recv_from(&mut buf) {
            assert_ne!(&buf[12..n], b"SPOOF!", "a spoofed packet was forwarded");
            if &buf[12..n] == b"caller" {
                after += 1;
                break;
            }
        }
    }
    assert!(
        after >= 8,
        "the genuine stream stopped after the spoofing: {after}"
    );

    let outcome = caller.wait().expect("sipp caller finished");
    assert!(outcome.success(), "{outcome}");
    let released = relay.wait_for("media_released", T, is_event("media_released"));
    eprintln!("{released}");
    let sent = released["caller"]["packets"].as_u64().unwrap_or(0);
    let echoed_back = released["callee"]["packets"].as_u64().unwrap_or(0);
    assert!(sent >= 30, "caller → callee packets: {released}");
    assert!(echoed_back >= 20, "callee → caller packets: {released}");
    assert_eq!(released["caller"]["dropped_spoofed"], 10, "{released}");
    let latched = relay.events("media_latched");
    let me = media.local_addr().expect("addr").to_string();
    assert!(
        latched
            .iter()
            .any(|v| v["side"] == "caller" && v["source"] == me.as_str()),
        "the caller side latched onto the test socket {me}: {latched:#?}"
    );
}

/// A minimal RTP packet (RFC 3550 §5.1): version 2, PCMU, sequence `seq`, then `payload`.
fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x80, 0x00];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}
