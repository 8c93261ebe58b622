//! A connection that dies is reported as `TransportEvent::FlowClosed` (so a registration can
//! re-register, RFC 5626 §4.4), is forgotten, and the next send opens a new connection.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use dialtone_core::transport::{
    ConnectOptions, Peer, TransportConfig, TransportEvent, TransportKind, Transports,
};
use dialtone_sip_message::{Message, Method, Request, Uri};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

async fn flow_closed(events: &mut Receiver<TransportEvent>) -> (Peer, SocketAddr) {
    loop {
        let event = timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("FlowClosed in time")
            .expect("transports alive");
        if let TransportEvent::FlowClosed { peer, local, .. } = event {
            return (peer, local);
        }
    }
}

fn ping(to: SocketAddr) -> Message {
    let mut req = Request::new(Method::Options, Uri::parse(&format!("sip:{to}")).unwrap());
    req.headers
        .push("Via", "SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-death");
    req.headers.push("From", "<sip:a@127.0.0.1>;tag=d");
    req.headers.push("To", format!("<sip:{to}>"));
    req.headers.push("Call-ID", "death@127.0.0.1");
    req.headers.push("CSeq", "1 OPTIONS");
    req.headers.push("Max-Forwards", "70");
    Message::Request(req)
}

#[tokio::test]
async fn server_closing_our_connection_is_reported_and_we_reconnect() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let server = listener.local_addr().unwrap();
    let (client, mut events) = Transports::bind(TransportConfig::default()).await.unwrap();
    let peer = Peer::new(TransportKind::Tcp, server);

    client.send(peer, &ping(server)).await.unwrap();
    let (accepted, client_addr) = listener.accept().await.unwrap();
    drop(accepted); // the server hangs up

    let (closed, local) = flow_closed(&mut events).await;
    assert_eq!(closed, peer);
    assert_eq!(local, client_addr);
    assert!(!client.has_flow(peer));

    // The next send opens a fresh connection.
    client.send(peer, &ping(server)).await.unwrap();
    let (mut again, _) = timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("a new connection")
        .unwrap();
    let mut buf = [0u8; 16];
    let n = again.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"OPTIONS"));
}

#[tokio::test]
async fn client_hanging_up_on_our_listener_is_reported() {
    let (server, mut events) = Transports::bind(TransportConfig::default()).await.unwrap();
    let (client, _client_events) = Transports::bind(TransportConfig::default()).await.unwrap();
    let addr = server.local_addr(TransportKind::Tcp).unwrap();
    let to_server = client
        .connect(TransportKind::Tcp, addr, &ConnectOptions::default())
        .await
        .unwrap();
    client.send(to_server, &ping(addr)).await.unwrap();
    // Wait until the server has the request, then learn the client's flow from it.
    let client_peer = loop {
        let event = timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .unwrap();
        if let TransportEvent::Message { peer, .. } = event {
            break peer;
        }
    };
    assert!(server.has_flow(client_peer));
    client.close(to_server);
    let (closed, local) = flow_closed(&mut events).await;
    assert_eq!(closed, client_peer);
    assert_eq!(local, addr);
    assert!(!server.has_flow(client_peer));
}
