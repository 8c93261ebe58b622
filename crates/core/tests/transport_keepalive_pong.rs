//! RFC 5626 §4.4.1 keep-alives: our stream listeners answer a `CRLFCRLF` ping with a `CRLF`
//! pong; our keep-alives on TCP (to ourselves and to a real Kamailio) and on WebSocket (Ping
//! frame) come back as `TransportEvent::Pong`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use dialtone_core::transport::{
    ConnectOptions, Peer, TransportConfig, TransportEvent, TransportKind, Transports,
};
use dialtone_testkit::{Kamailio, KamailioOpts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

async fn pong_from(events: &mut Receiver<TransportEvent>, peer: Peer) {
    loop {
        let event = timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap_or_else(|_| panic!("no pong from {peer}"))
            .expect("transports alive");
        if let TransportEvent::Pong { peer: from } = event {
            assert_eq!(from, peer);
            return;
        }
    }
}

fn loopback() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

async fn server() -> (Transports, Receiver<TransportEvent>) {
    Transports::bind(TransportConfig {
        ws: vec![loopback()],
        ..TransportConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn tcp_listener_answers_crlfcrlf_ping_with_crlf() {
    let (server, _events) = server().await;
    let addr = server.local_addr(TransportKind::Tcp).unwrap();
    let mut raw = TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        raw.write_all(b"\r\n\r\n").await.unwrap();
        let mut pong = [0u8; 2];
        timeout(Duration::from_secs(5), raw.read_exact(&mut pong))
            .await
            .expect("pong in time")
            .unwrap();
        assert_eq!(&pong, b"\r\n");
    }
}

#[tokio::test]
async fn our_tcp_and_ws_keepalives_are_ponged() {
    let (server, _server_events) = server().await;
    let (client, mut events) = Transports::bind(TransportConfig::default()).await.unwrap();
    for kind in [TransportKind::Tcp, TransportKind::Ws] {
        let addr = server.local_addr(kind).unwrap();
        let peer = client
            .connect(kind, addr, &ConnectOptions::default())
            .await
            .unwrap();
        client.send_keepalive(peer).await.unwrap();
        pong_from(&mut events, peer).await;
    }
}

#[tokio::test]
async fn keepalive_needs_an_existing_flow() {
    let (client, _events) = Transports::bind(TransportConfig::default()).await.unwrap();
    let nowhere = Peer::new(TransportKind::Tcp, "127.0.0.1:9".parse().unwrap());
    assert!(client.send_keepalive(nowhere).await.is_err());
}

#[tokio::test]
async fn kamailio_answers_our_tcp_keepalive() {
    let kamailio = Kamailio::start(KamailioOpts::udp_tcp(&[])).expect("real Kamailio must start");
    let (client, mut events) = Transports::bind(TransportConfig::default()).await.unwrap();
    let peer = client
        .connect(
            TransportKind::Tcp,
            kamailio.tcp_addr().unwrap(),
            &ConnectOptions::default(),
        )
        .await
        .unwrap();
    client.send_keepalive(peer).await.unwrap();
    pong_from(&mut events, peer).await;
}
