//! The relay's safety rules on real sockets, against a `dialtone relay` process: an INVITE without (or with wrong)
//! credentials is refused with 407 and never reaches the callee; an unknown user and a wrong password get the same
//! answer; a burst of failed REGISTERs from 127.0.0.2 bans that address (silently dropped from then on, even with
//! the right password) while a `dialtone phone` bound to 127.0.0.3 still registers. (Spoofed RTP after latching:
//! `relay_sipp.rs`.)

mod cli;
mod relay_support;

use cli::{is_reg, Cli};
use dialtone_testkit::{digest, free_port};
use relay_support::{is_event, RawSip, RelayProcess, Reply};
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn relay_udp() -> (RelayProcess, SocketAddr) {
    let port = free_port();
    let relay = RelayProcess::start(&["--listen", &format!("udp:127.0.0.1:{port}")]);
    let addr = relay.addr("udp");
    (relay, addr)
}

fn invite(raw: &mut RawSip, branch: &str, auth: Option<&str>) -> String {
    let local = raw.local();
    let relay = raw.relay;
    let body = format!(
        "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\n",
        local.port() + 2
    );
    let auth = auth
        .map(|a| format!("Proxy-Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "INVITE sip:bob@{relay} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=raw-caller\r\n\
         To: <sip:bob@{relay}>\r\n\
         Call-ID: raw-invite-{}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@{local}>\r\n\
         {auth}Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        local.port(),
        body.len()
    )
}

fn ack_for(raw: &RawSip, invite: &str, reply: &Reply) -> String {
    let line = |name: &str| {
        invite
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    let to = reply.headers("To").remove(0);
    format!(
        "ACK sip:bob@{} SIP/2.0\r\n{}\r\nMax-Forwards: 70\r\n{}\r\nTo: {to}\r\n{}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        raw.relay,
        line("Via:"),
        line("From:"),
        line("Call-ID:")
    )
}

#[test]
fn unauthenticated_invite_is_refused_and_never_reaches_the_callee() {
    let (mut relay, addr) = relay_udp();
    let account = format!("sip:bob@127.0.0.1:{}", addr.port());
    // Bob stays registered without answering: an INVITE reaching him would show as RING.
    let mut bob = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--stay",
            "3",
        ],
        "bobpw",
    );
    bob.wait_for("bob REGISTERED", T, is_reg("REGISTERED"));

    let mut raw = RawSip::new("127.0.0.1", addr);
    let first = invite(&mut raw, "z9hG4bKnoauth1", None);
    let refused = raw.exchange(&first, T).expect("an answer to the INVITE");
    assert_eq!(refused.status, 407, "{}", refused.text);
    assert!(
        !refused.headers("Proxy-Authenticate").is_empty(),
        "{}",
        refused.text
    );
    let ack = ack_for(&raw, &first, &refused);
    raw.socket.send_to(ack.as_bytes(), addr).expect("send ACK");

    // Credentials with the wrong password: refused the same way, and counted as a failure.
    let challenge = refused
        .headers("Proxy-Authenticate")
        .into_iter()
        .find(|h| digest::param(h, "algorithm").is_none_or(|a| a == "MD5"))
        .expect("MD5 challenge");
    let uri = format!("sip:bob@{addr}");
    let creds = digest::md5_credentials(&challenge, "INVITE", &uri, "alice", "not-her-password")
        .expect("credentials");
    let second = invite(&mut raw, "z9hG4bKnoauth2", Some(&creds));
    let refused = raw.exchange(&second, T).expect("an answer to the INVITE");
    assert_eq!(refused.status, 407, "{}", refused.text);
    let ack = ack_for(&raw, &second, &refused);
    raw.socket.send_to(ack.as_bytes(), addr).expect("send ACK");
    relay.wait_for("auth_failed", T, is_event("auth_failed"));

    assert_eq!(bob.wait_exit(T), 0, "{}", bob.stderr());
    assert!(
        bob.call_states().is_empty(),
        "the refused INVITE reached bob: {:?}",
        bob.call_states()
    );
    relay.settle(Duration::from_millis(300));
    assert!(relay.events("call_routed").is_empty(), "{:#?}", relay.seen);
}

/// The parts of a challenge that must not tell an unknown user from a wrong password: status line, header names in
/// order, and the challenges without their nonces.
fn shape(reply: &Reply) -> (String, Vec<String>, Vec<String>) {
    let status_line = reply.text.lines().next().unwrap_or_default().to_string();
    let challenges = reply
        .headers("WWW-Authenticate")
        .iter()
        .map(|h| {
            let nonce = digest::param(h, "nonce").unwrap_or_default();
            h.replace(&nonce, "NONCE")
        })
        .collect();
    (status_line, reply.header_names(), challenges)
}

#[test]
fn unknown_user_and_wrong_password_get_the_same_answer() {
    let (mut relay, addr) = relay_udp();
    let mut raw = RawSip::new("127.0.0.1", addr);
    let unknown = raw
        .register("mallory", "guess")
        .expect("an answer for mallory");
    let wrong = raw.register("alice", "guess").expect("an answer for alice");
    assert_eq!(unknown.status, 401, "{}", unknown.text);
    assert_eq!(
        shape(&unknown),
        shape(&wrong),
        "\n{}\n{}",
        unknown.text,
        wrong.text
    );
    // The same nonce is never handed out twice.
    let nonce = |r: &Reply| digest::param(&r.headers("WWW-Authenticate")[0], "nonce");
    assert_ne!(nonce(&unknown), nonce(&wrong));
    // Both were failures, named as claimed; and the right password does get in (the comparison above could tell).
    relay.wait_for("mallory failed", T, |v| {
        v["event"] == "auth_failed" && v["username"] == "mallory"
    });
    relay.wait_for("alice failed", T, |v| {
        v["event"] == "auth_failed" && v["username"] == "alice"
    });
    let good = raw.register("alice", "alicepw").expect("an answer");
    assert_eq!(good.status, 200, "{}", good.text);
}

#[test]
fn failed_registers_ban_the_source_while_another_address_still_registers() {
    let (mut relay, addr) = relay_udp();
    let mut attacker = RawSip::new("127.0.0.2", addr);
    for attempt in 0..10 {
        let reply = attacker
            .register("alice", &format!("guess{attempt}"))
            .unwrap_or_else(|| panic!("attempt {attempt} was not answered"));
        assert_eq!(reply.status, 401, "{}", reply.text);
    }
    let banned = relay.wait_for("banned", T, is_event("banned"));
    assert_eq!(banned["source"], "127.0.0.2", "{banned}");
    let seconds = banned["seconds"].as_u64().unwrap_or(0);
    assert!((590..=600).contains(&seconds), "banned for {seconds} s");

    // From now on 127.0.0.2 gets nothing at all, even with the right password.
    let call_id = "after-ban";
    let text = attacker.register_text("alice", call_id, 1, None);
    assert!(
        attacker
            .exchange(&text, Duration::from_millis(1500))
            .is_none(),
        "a banned source was answered"
    );

    // Another address is unaffected: a dialtone phone bound to 127.0.0.3 registers.
    let account = format!("sip:alice@127.0.0.1:{}", addr.port());
    let mut alice = Cli::phone(
        &[
            "--account",
            &account,
            "--password-env",
            "DIALTONE_TEST_PASSWORD",
            "--bind",
            "127.0.0.3",
            "--stay",
            "0.5",
        ],
        "alicepw",
    );
    alice.wait_for("REGISTERED from 127.0.0.3", T, is_reg("REGISTERED"));
    assert_eq!(alice.wait_exit(T), 0, "{}", alice.stderr());
    let reg = relay.wait_for("registered", T, is_event("registered"));
    assert!(
        reg["flow"]
            .as_str()
            .unwrap_or("")
            .starts_with("udp:127.0.0.3:"),
        "{reg}"
    );
    assert_eq!(relay.events("banned").len(), 1, "{:#?}", relay.seen);
}
