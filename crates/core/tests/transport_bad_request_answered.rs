//! Unparseable requests that can still be answered get the parse error's status (RFC 3261
//! §8.2.6, §21.5.6 505 for another SIP version) back over the transport they came on; garbage
//! is dropped without harming the listener.

use std::net::Ipv4Addr;
use std::time::Duration;

use dialtone_core::transport::{TransportConfig, TransportEvent, TransportKind, Transports};
use dialtone_sip_message::{stream_frame, Frame, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

const BAD_VERSION: &str = "OPTIONS sip:bob@127.0.0.1 SIP/7.0\r\n\
    Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-bad\r\n\
    Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=x\r\nTo: <sip:bob@127.0.0.1>\r\n\
    Call-ID: bad@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

const GOOD: &str = "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n\
    Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-good\r\n\
    Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=x\r\nTo: <sip:bob@127.0.0.1>\r\n\
    Call-ID: good@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

fn status_of(bytes: &[u8]) -> u16 {
    match Message::parse(bytes) {
        Ok(Message::Response(r)) => r.status,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[tokio::test]
async fn udp_bad_version_gets_505_and_garbage_is_ignored() {
    let (server, mut events) = Transports::bind(TransportConfig::default()).await.unwrap();
    let addr = server.local_addr(TransportKind::Udp).unwrap();
    let raw = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();

    raw.send_to(b"\x00\x01\x02 not sip at all", addr)
        .await
        .unwrap();
    raw.send_to(b"\r\n\r\n", addr).await.unwrap();
    raw.send_to(BAD_VERSION.as_bytes(), addr).await.unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = timeout(Duration::from_secs(5), raw.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    assert_eq!(status_of(&buf[..n]), 505);

    // The listener still works and delivers good requests.
    raw.send_to(GOOD.as_bytes(), addr).await.unwrap();
    let event = timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(event, TransportEvent::Message { .. }), "{event:?}");
}

#[tokio::test]
async fn tcp_bad_version_gets_505_on_the_same_connection() {
    let (server, mut events) = Transports::bind(TransportConfig::default()).await.unwrap();
    let addr = server.local_addr(TransportKind::Tcp).unwrap();
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(BAD_VERSION.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let len = loop {
        if let Ok(Frame::Message(len)) = stream_frame(&buf) {
            break len;
        }
        let n = timeout(Duration::from_secs(5), raw.read(&mut chunk))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    };
    assert_eq!(status_of(&buf[..len]), 505);

    // The connection survives and carries the next (good) request.
    raw.write_all(GOOD.as_bytes()).await.unwrap();
    let event = timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    let TransportEvent::Message { message, .. } = event else {
        panic!("expected the good request, got {event:?}")
    };
    assert_eq!(
        message.as_request().unwrap().call_id().unwrap(),
        "good@127.0.0.1"
    );
}
