//! A `dialtone phone` that is not registered still answers what reaches it: OPTIONS with its capabilities (200 with
//! Allow/Accept), an unknown extension method with 501, and a BYE for no dialog with 481 — over a raw UDP socket, so
//! nothing of ours is on the other side.

mod cli;

use cli::Cli;
use dialtone_sip_message::Message;
use std::net::UdpSocket;
use std::time::Duration;

fn request(method: &str, target: &str, local: &str, cseq: u32) -> String {
    format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-test{cseq}\r\nMax-Forwards: 70\r\n\
         From: <sip:probe@{local}>;tag=probe{cseq}\r\nTo: <{target}>\r\nCall-ID: probe-{cseq}@test\r\n\
         CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
}

fn ask(sock: &UdpSocket, to: &str, text: &str) -> dialtone_sip_message::Response {
    sock.send_to(text.as_bytes(), to).expect("send");
    let mut buf = [0u8; 4096];
    loop {
        let (n, _) = sock.recv_from(&mut buf).expect("a response within 5 s");
        match Message::parse(&buf[..n]) {
            Ok(Message::Response(r)) if r.status >= 200 => return r,
            Ok(_) => continue,
            Err(e) => panic!("unparseable answer: {e}"),
        }
    }
}

#[test]
fn cli_answers_options_and_unknown_methods() {
    // Not registering: the "server" is a closed port, only our own address matters here.
    let mut cli = Cli::phone(
        &[
            "--account",
            "sip:alice@127.0.0.1:9",
            "--no-register",
            "--stay",
            "20",
        ],
        "",
    );
    let ready = cli.wait_for("listening", Duration::from_secs(10), |v| {
        v["event"] == "listening"
    });
    let addr = ready["addr"].as_str().expect("addr").to_string();
    let target = format!("sip:alice@{addr}");
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let local = sock.local_addr().expect("local").to_string();

    let options = ask(&sock, &addr, &request("OPTIONS", &target, &local, 1));
    assert_eq!(options.status, 200);
    let allow = options.headers.get("Allow").unwrap_or_default().to_string();
    for m in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"] {
        assert!(allow.contains(m), "Allow lacks {m}: {allow}");
    }
    assert!(options
        .headers
        .get("Accept")
        .unwrap_or_default()
        .contains("application/sdp"));

    let unknown = ask(&sock, &addr, &request("FOOBAR", &target, &local, 2));
    assert_eq!(unknown.status, 501, "extension method: {unknown:?}");

    let bye = ask(&sock, &addr, &request("BYE", &target, &local, 3));
    assert_eq!(bye.status, 481, "BYE outside a dialog: {bye:?}");
    assert_eq!(bye.call_id().ok(), Some("probe-3@test"));
}
