//! RFC 3261 §18.1.1: a request over 1300 bytes bound for UDP goes over TCP to the same address
//! with its top Via saying TCP; small requests stay on UDP; if TCP is refused the large request
//! goes over UDP after all. The far end here is a real TCP listener and UDP socket.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use dialtone_core::transport::{Peer, TransportConfig, TransportKind, Transports, UDP_MTU_LIMIT};
use dialtone_sip_message::{Message, Method, Request, Uri};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, UdpSocket};
use tokio::time::timeout;

fn options(to: SocketAddr, via_from: SocketAddr, body_len: usize) -> Message {
    let mut req = Request::new(Method::Options, Uri::parse(&format!("sip:{to}")).unwrap());
    req.headers.push(
        "Via",
        format!("SIP/2.0/UDP {via_from};branch=z9hG4bK-mtu-{body_len};rport"),
    );
    req.headers.push("Max-Forwards", "70");
    req.headers.push("From", "<sip:alice@127.0.0.1>;tag=mtu");
    req.headers.push("To", format!("<sip:{to}>"));
    req.headers
        .push("Call-ID", format!("mtu-{body_len}@127.0.0.1"));
    req.headers.push("CSeq", "1 OPTIONS");
    req.headers.push("Content-Type", "text/plain");
    req.body = vec![b'a'; body_len];
    Message::Request(req)
}

async fn client() -> Transports {
    let (transports, _events) = Transports::bind(TransportConfig::default()).await.unwrap();
    transports
}

/// Reads one framed request from the first connection accepted on `listener`.
async fn read_one_tcp_message(listener: &TcpListener) -> Vec<u8> {
    let (mut stream, _) = timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("a TCP connection")
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(dialtone_sip_message::Frame::Message(len)) =
            dialtone_sip_message::stream_frame(&buf)
        {
            buf.truncate(len);
            return buf;
        }
        let n = timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("message bytes")
            .unwrap();
        assert!(n > 0, "connection closed before a whole message");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn large_udp_request_is_sent_over_tcp_with_tcp_via() {
    let transports = client().await;
    let local = transports.local_addr(TransportKind::Udp).unwrap();
    // The far end listens on the same port for UDP and TCP, like a SIP server.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let server = listener.local_addr().unwrap();
    let udp = UdpSocket::bind(server).await.unwrap();

    let message = options(server, local, 1500);
    assert!(message.to_bytes().len() > UDP_MTU_LIMIT);
    let used = transports
        .send(Peer::new(TransportKind::Udp, server), &message)
        .await
        .unwrap();
    assert_eq!(used, Peer::new(TransportKind::Tcp, server));

    let received = read_one_tcp_message(&listener).await;
    let Ok(Message::Request(req)) = Message::parse(&received) else {
        panic!("not a request: {}", String::from_utf8_lossy(&received));
    };
    let via = req.top_via().unwrap();
    assert_eq!(via.transport, "TCP");
    assert_eq!(via.branch(), Some("z9hG4bK-mtu-1500"));
    assert_eq!(req.body.len(), 1500);
    let mut buf = [0u8; 2048];
    assert!(
        timeout(Duration::from_millis(300), udp.recv_from(&mut buf))
            .await
            .is_err(),
        "nothing may arrive over UDP"
    );
}

#[tokio::test]
async fn small_udp_request_stays_on_udp() {
    let transports = client().await;
    let local = transports.local_addr(TransportKind::Udp).unwrap();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let server = listener.local_addr().unwrap();
    let udp = UdpSocket::bind(server).await.unwrap();

    let message = options(server, local, 100);
    assert!(message.to_bytes().len() <= UDP_MTU_LIMIT);
    let used = transports
        .send(Peer::new(TransportKind::Udp, server), &message)
        .await
        .unwrap();
    assert_eq!(used.transport, TransportKind::Udp);
    let mut buf = [0u8; 2048];
    let (n, from) = timeout(Duration::from_secs(5), udp.recv_from(&mut buf))
        .await
        .expect("datagram")
        .unwrap();
    assert_eq!(from, local);
    let Ok(Message::Request(req)) = Message::parse(&buf[..n]) else {
        panic!("not a request")
    };
    assert_eq!(req.top_via().unwrap().transport, "UDP");
    assert!(
        timeout(Duration::from_millis(200), listener.accept())
            .await
            .is_err(),
        "no TCP connection for a small request"
    );
}

#[tokio::test]
async fn large_request_falls_back_to_udp_when_tcp_is_refused() {
    let transports = client().await;
    let local = transports.local_addr(TransportKind::Udp).unwrap();
    // Only UDP on this port: the TCP connection attempt is reset (refused).
    let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let server = udp.local_addr().unwrap();

    let message = options(server, local, 1500);
    let used = transports
        .send(Peer::new(TransportKind::Udp, server), &message)
        .await
        .unwrap();
    assert_eq!(used.transport, TransportKind::Udp);
    let mut buf = [0u8; 4096];
    let (n, _) = timeout(Duration::from_secs(5), udp.recv_from(&mut buf))
        .await
        .expect("datagram")
        .unwrap();
    let Ok(Message::Request(req)) = Message::parse(&buf[..n]) else {
        panic!("not a request")
    };
    assert_eq!(
        req.top_via().unwrap().transport,
        "UDP",
        "Via untouched on the UDP fallback"
    );
    assert_eq!(req.body.len(), 1500);
}
