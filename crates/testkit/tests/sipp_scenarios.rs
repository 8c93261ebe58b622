//! Every SIPp scenario in tests/peers/sipp behaves as its comment says, checked with a raw UDP
//! caller written here (directly, and through the test Kamailio for Record-Route and CANCEL).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use dialtone_testkit::{digest, free_port, Kamailio, KamailioOpts, Scenario, Sipp, SippArgs};
use md5::{Digest, Md5};

/// A bare-bones SIP caller over UDP.
struct Caller {
    socket: UdpSocket,
    /// Where requests go (SIPp or the proxy).
    next_hop: SocketAddr,
    /// Request-URI of the INVITE.
    target: String,
    call_id: String,
}

impl Caller {
    fn new(next_hop: SocketAddr, target: String, call_id: &str) -> Caller {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Caller {
            socket,
            next_hop,
            target,
            call_id: call_id.to_owned(),
        }
    }

    fn local(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    fn send(&self, text: &str) {
        self.socket.send_to(text.as_bytes(), self.next_hop).unwrap();
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        method: &str,
        uri: &str,
        branch: &str,
        cseq: u32,
        to_tag: Option<&str>,
        extra: &str,
        body: &str,
    ) -> String {
        let local = self.local();
        let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        let cseq_method = method;
        format!(
            "{method} {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch={branch};rport\r\n\
             {extra}\
             Max-Forwards: 70\r\n\
             From: <sip:carol@127.0.0.1>;tag=caller\r\n\
             To: <{target}>{to_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} {cseq_method}\r\n\
             Contact: <sip:carol@{local}>\r\n\
             Content-Length: {len}\r\n\r\n{body}",
            target = self.target,
            call_id = self.call_id,
            len = body.len(),
        )
    }

    fn invite(&self, branch: &str, cseq: u32, extra: &str) {
        let sdp = "v=0\r\no=carol 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
        let extra = format!("{extra}Content-Type: application/sdp\r\n");
        self.send(&self.request("INVITE", &self.target, branch, cseq, None, &extra, sdp));
    }

    /// Next message, or None after `wait`.
    fn recv(&self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 8192];
        while Instant::now() < deadline {
            if let Ok((n, _)) = self.socket.recv_from(&mut buf) {
                return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        None
    }

    /// Next response with this status, skipping others (e.g. 100, retransmissions).
    fn expect(&self, status: u16, cseq_method: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Some(msg) = self.recv(Duration::from_millis(500)) {
                if status_of(&msg) == Some(status)
                    && header(&msg, "CSeq").is_some_and(|c| c.ends_with(cseq_method))
                {
                    return msg;
                }
                seen.push(msg);
            }
        }
        panic!(
            "no {status} for {cseq_method}; got instead:\n{}",
            seen.join("\n----\n")
        );
    }
}

fn status_of(msg: &str) -> Option<u16> {
    msg.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// Every value of header `name`, in order.
fn headers(msg: &str, name: &str) -> Vec<String> {
    msg.split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
        .collect()
}

fn header(msg: &str, name: &str) -> Option<String> {
    headers(msg, name).into_iter().next()
}

fn to_tag(msg: &str) -> String {
    let to = header(msg, "To").expect("To");
    to.split(";tag=")
        .nth(1)
        .expect("To tag")
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned()
}

fn uas(scenario: &str) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.timeout = Duration::from_secs(20);
    Sipp::uas(Scenario::peer(scenario), args).expect("sipp must start (install sip-tester)")
}

fn assert_success(sipp: Sipp) {
    let outcome = sipp.wait().expect("sipp ends");
    assert!(outcome.success(), "{outcome}");
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn param(challenge: &str, name: &str) -> Option<String> {
    challenge.split([',', ' ']).find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        k.eq_ignore_ascii_case(name)
            .then(|| v.trim_matches('"').to_owned())
    })
}

#[test]
fn answer_200_copies_record_route_and_completes() {
    let sipp = uas("uas_answer_200.xml");
    let caller = Caller::new(sipp.addr(), format!("sip:service@{}", sipp.addr()), "a200");
    caller.invite("z9hG4bK-a1", 1, "Record-Route: <sip:127.0.0.1:9;lr>\r\n");
    let ok = caller.expect(200, "INVITE");
    assert_eq!(
        headers(&ok, "Record-Route"),
        vec!["<sip:127.0.0.1:9;lr>".to_owned()]
    );
    assert!(ok.contains("m=audio"), "{ok}");
    let tag = to_tag(&ok);
    let target = caller.target.clone();
    caller.send(&caller.request("ACK", &target, "z9hG4bK-a2", 1, Some(&tag), "", ""));
    caller.send(&caller.request("BYE", &target, "z9hG4bK-a3", 2, Some(&tag), "", ""));
    caller.expect(200, "BYE");
    assert_success(sipp);
}

#[test]
fn busy_486_is_acked() {
    let sipp = uas("uas_busy_486.xml");
    let caller = Caller::new(sipp.addr(), format!("sip:service@{}", sipp.addr()), "b486");
    caller.invite("z9hG4bK-b1", 1, "");
    let busy = caller.expect(486, "INVITE");
    let target = caller.target.clone();
    // The ACK for a non-2xx reuses the INVITE's branch.
    caller.send(&caller.request(
        "ACK",
        &target,
        "z9hG4bK-b1",
        1,
        Some(&to_tag(&busy)),
        "",
        "",
    ));
    assert_success(sipp);
}

#[test]
fn ring_then_cancel_answers_200_and_487_with_the_invites_vias() {
    let sipp = uas("uas_ring_then_cancel.xml");
    let caller = Caller::new(sipp.addr(), format!("sip:service@{}", sipp.addr()), "c487");
    // A second Via, as if a proxy had forwarded the INVITE; the CANCEL carries only the top one.
    caller.invite(
        "z9hG4bK-c1",
        7,
        "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-below\r\n",
    );
    caller.expect(180, "INVITE");
    let target = caller.target.clone();
    caller.send(&caller.request("CANCEL", &target, "z9hG4bK-c1", 7, None, "", ""));
    caller.expect(200, "CANCEL");
    let terminated = caller.expect(487, "INVITE");
    assert_eq!(header(&terminated, "CSeq").as_deref(), Some("7 INVITE"));
    let vias = headers(&terminated, "Via").join(",");
    assert!(
        vias.contains("z9hG4bK-c1") && vias.contains("z9hG4bK-below"),
        "{terminated}"
    );
    caller.send(&caller.request(
        "ACK",
        &target,
        "z9hG4bK-c1",
        7,
        Some(&to_tag(&terminated)),
        "",
        "",
    ));
    assert_success(sipp);
}

#[test]
fn no_answer_sends_only_100() {
    let sipp = uas("uas_no_answer.xml");
    let caller = Caller::new(sipp.addr(), format!("sip:service@{}", sipp.addr()), "n100");
    caller.invite("z9hG4bK-n1", 1, "");
    caller.expect(100, "INVITE");
    let deadline = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < deadline {
        if let Some(msg) = caller.recv(Duration::from_millis(200)) {
            assert_eq!(
                status_of(&msg),
                Some(100),
                "only 100 Trying may come: {msg}"
            );
        }
    }
    assert!(sipp.stop().is_some());
}

#[test]
fn resend_200_until_ack_stops_after_ack() {
    let sipp = uas("uas_resend_200_until_ack.xml");
    let caller = Caller::new(sipp.addr(), format!("sip:service@{}", sipp.addr()), "r200");
    caller.invite("z9hG4bK-r1", 1, "");
    let first = caller.expect(200, "INVITE");
    let mut copies = 1;
    let deadline = Instant::now() + Duration::from_millis(1700);
    while Instant::now() < deadline {
        if caller
            .recv(Duration::from_millis(100))
            .is_some_and(|m| status_of(&m) == Some(200))
        {
            copies += 1;
        }
    }
    assert!(
        copies >= 2,
        "the 200 must be retransmitted while unacknowledged ({copies})"
    );
    let tag = to_tag(&first);
    let target = caller.target.clone();
    caller.send(&caller.request("ACK", &target, "z9hG4bK-r2", 1, Some(&tag), "", ""));
    // Let a retransmission already in flight land, then expect silence.
    std::thread::sleep(Duration::from_millis(100));
    while caller.recv(Duration::from_millis(50)).is_some() {}
    assert!(
        caller.recv(Duration::from_millis(2500)).is_none(),
        "no 200 after the ACK"
    );
    caller.send(&caller.request("BYE", &target, "z9hG4bK-r3", 2, Some(&tag), "", ""));
    caller.expect(200, "BYE");
    assert_success(sipp);
}

fn challenge_round(password: &str) -> (Sipp, Caller, String) {
    let sipp = uas("uas_challenge_407.xml");
    let caller = Caller::new(sipp.addr(), format!("sip:service@{}", sipp.addr()), "p407");
    caller.invite("z9hG4bK-p1", 1, "");
    let challenge_msg = caller.expect(407, "INVITE");
    let target = caller.target.clone();
    caller.send(&caller.request(
        "ACK",
        &target,
        "z9hG4bK-p1",
        1,
        Some(&to_tag(&challenge_msg)),
        "",
        "",
    ));
    let challenge = header(&challenge_msg, "Proxy-Authenticate").expect("Proxy-Authenticate");
    assert!(challenge.starts_with("Digest "), "{challenge}");
    let realm = param(&challenge, "realm").expect("realm");
    let nonce = param(&challenge, "nonce").expect("nonce");
    assert_eq!(param(&challenge, "algorithm").as_deref(), Some("MD5"));
    let (cnonce, nc) = ("0a4f113b", "00000001");
    let ha1 = md5_hex(&format!("carol:{realm}:{password}"));
    let ha2 = md5_hex(&format!("INVITE:{target}"));
    let response = md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
    let authorization = format!(
        "Proxy-Authorization: Digest username=\"carol\", realm=\"{realm}\", nonce=\"{nonce}\", \
         uri=\"{target}\", response=\"{response}\", algorithm=MD5, cnonce=\"{cnonce}\", qop=auth, nc={nc}\r\n"
    );
    caller.invite("z9hG4bK-p2", 2, &authorization);
    let ok = caller.expect(200, "INVITE");
    let tag = to_tag(&ok);
    caller.send(&caller.request("ACK", &target, "z9hG4bK-p3", 2, Some(&tag), "", ""));
    caller.send(&caller.request("BYE", &target, "z9hG4bK-p4", 3, Some(&tag), "", ""));
    caller.expect(200, "BYE");
    (sipp, caller, target)
}

/// The Proxy-Authorization value SIPp received, from its message trace.
fn traced_credentials(messages: &str) -> String {
    messages
        .lines()
        .find_map(|line| line.strip_prefix("Proxy-Authorization:"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no Proxy-Authorization in the trace:\n{messages}"))
}

#[test]
fn challenge_407_then_answers_and_the_trace_proves_the_md5_response() {
    let (sipp, _caller, _target) = challenge_round("s3cret");
    let outcome = sipp.wait().expect("sipp ends");
    assert!(outcome.success(), "{outcome}");
    let credentials = traced_credentials(&outcome.messages);
    assert!(
        digest::verify_md5(&credentials, "INVITE", "s3cret"),
        "{credentials}"
    );
    assert!(!digest::verify_md5(&credentials, "INVITE", "wrong"));
}

#[test]
fn challenge_407_trace_exposes_a_wrong_password() {
    let (sipp, _caller, _target) = challenge_round("wrong");
    let outcome = sipp.wait().expect("sipp ends");
    let credentials = traced_credentials(&outcome.messages);
    assert!(
        !digest::verify_md5(&credentials, "INVITE", "s3cret"),
        "{credentials}"
    );
}

#[test]
fn through_kamailio_record_route_and_cancel_work() {
    let kamailio =
        Kamailio::start(KamailioOpts::udp_tcp(&[("alice", "secret")])).expect("kamailio starts");

    // 1. Answered call: the proxy's Record-Route reaches us in the 200, ACK/BYE follow it.
    let sipp = uas("uas_answer_200.xml");
    let caller = Caller::new(
        kamailio.udp_addr(),
        format!("sip:service@{}", sipp.addr()),
        "k200",
    );
    caller.invite("z9hG4bK-k1", 1, "");
    let ok = caller.expect(200, "INVITE");
    let route = header(&ok, "Record-Route").unwrap_or_else(|| panic!("no Record-Route:\n{ok}"));
    assert!(route.contains(&kamailio.udp_addr().to_string()), "{route}");
    let contact = header(&ok, "Contact").expect("Contact");
    let remote_target = contact
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or("")
        .to_owned();
    let tag = to_tag(&ok);
    let route_hdr = format!("Route: {route}\r\n");
    caller.send(&caller.request(
        "ACK",
        &remote_target,
        "z9hG4bK-k2",
        1,
        Some(&tag),
        &route_hdr,
        "",
    ));
    // Kamailio's workers may reorder back-to-back datagrams: let the ACK land first.
    std::thread::sleep(Duration::from_millis(300));
    caller.send(&caller.request(
        "BYE",
        &remote_target,
        "z9hG4bK-k3",
        2,
        Some(&tag),
        &route_hdr,
        "",
    ));
    caller.expect(200, "BYE");
    assert_success(sipp);

    // 2. Cancelled call: Kamailio's CANCEL has one Via, the 487 must still reach us.
    let sipp = uas("uas_ring_then_cancel.xml");
    let caller = Caller::new(
        kamailio.udp_addr(),
        format!("sip:service@{}", sipp.addr()),
        "k487",
    );
    caller.invite("z9hG4bK-k4", 1, "");
    caller.expect(180, "INVITE");
    let target = caller.target.clone();
    caller.send(&caller.request("CANCEL", &target, "z9hG4bK-k4", 1, None, "", ""));
    caller.expect(200, "CANCEL");
    let terminated = caller.expect(487, "INVITE");
    caller.send(&caller.request(
        "ACK",
        &target,
        "z9hG4bK-k4",
        1,
        Some(&to_tag(&terminated)),
        "",
        "",
    ));
    assert_success(sipp);
}
