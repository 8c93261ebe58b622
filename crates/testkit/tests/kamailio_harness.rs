//! The Kamailio helper starts the real Debian package on every transport and stops it by PID.

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use dialtone_testkit::{Kamailio, KamailioOpts};

fn request(
    method: &str,
    to_addr: std::net::SocketAddr,
    local: std::net::SocketAddr,
    user: &str,
    extra: &str,
) -> String {
    format!(
        "{method} sip:{to_addr} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-harness-{method};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@127.0.0.1>;tag=harness\r\n\
         To: <sip:{user}@127.0.0.1>\r\n\
         Call-ID: harness-{method}@127.0.0.1\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:{user}@{local}>\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn kamailio_starts_on_all_transports_and_challenges_register() {
    let kamailio = Kamailio::start(KamailioOpts::with_free_ports(&[("alice", "secret")]))
        .expect("kamailio must start");
    let pid = kamailio.pid();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());

    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let local = socket.local_addr().unwrap();
    let register = request(
        "REGISTER",
        kamailio.udp_addr(),
        local,
        "alice",
        "Expires: 60\r\n",
    );
    socket
        .send_to(register.as_bytes(), kamailio.udp_addr())
        .unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("an answer to REGISTER");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(
        answer.starts_with("SIP/2.0 401"),
        "expected a digest challenge, got:\n{answer}\n{}",
        kamailio.log()
    );
    assert!(answer.contains("WWW-Authenticate: Digest"), "{answer}");

    drop(kamailio);
    std::thread::sleep(Duration::from_millis(100));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty(),
        "kamailio {pid} still exists after drop: {stat}"
    );
}
