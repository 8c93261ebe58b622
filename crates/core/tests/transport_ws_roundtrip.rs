//! SIP over WebSocket (RFC 7118): our WS/WSS client and our WS/WSS server exchange a request
//! and its response over one connection (the server answers over the accepted connection);
//! the server refuses clients that do not offer subprotocol `sip`; and our WS client gets an
//! answer to OPTIONS from a real Kamailio's WS port.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use dialtone_core::tls::{client_config, server_config, Fingerprint, TlsTrust};
use dialtone_core::transport::{
    ConnectOptions, Peer, TransportConfig, TransportEvent, TransportKind, Transports,
};
use dialtone_sip_message::{Message, Method, Request, Response, Uri};
use dialtone_testkit::certs::TestCert;
use dialtone_testkit::{Kamailio, KamailioOpts};
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

fn options(uri: &str, via: &str, tag: &str) -> Request {
    let mut req = Request::new(Method::Options, Uri::parse(uri).unwrap());
    req.headers
        .push("Via", format!("{via};branch=z9hG4bK-{tag};rport"));
    req.headers.push("Max-Forwards", "70");
    req.headers
        .push("From", format!("<sip:alice@example.invalid>;tag={tag}"));
    req.headers.push("To", format!("<{uri}>"));
    req.headers
        .push("Call-ID", format!("{tag}@example.invalid"));
    req.headers.push("CSeq", "1 OPTIONS");
    req
}

async fn next_message(events: &mut Receiver<TransportEvent>) -> (Peer, Message, SocketAddr) {
    loop {
        let event = timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event in time")
            .expect("transports alive");
        if let TransportEvent::Message {
            peer,
            message,
            local,
        } = event
        {
            return (peer, *message, local);
        }
    }
}

fn loopback() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

/// A server with WS and WSS listeners (self-signed certificate) and a client pinned to it.
async fn pair() -> (
    Transports,
    Receiver<TransportEvent>,
    Transports,
    Receiver<TransportEvent>,
    ConnectOptions,
) {
    let cert = TestCert::self_signed(&["localhost"]).unwrap();
    let server_cfg = TransportConfig {
        udp: Vec::new(),
        tcp: Vec::new(),
        ws: vec![loopback()],
        wss: vec![loopback()],
        server_tls: Some(server_config(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap()),
        ..TransportConfig::default()
    };
    let (server, server_events) = Transports::bind(server_cfg).await.unwrap();
    let client_cfg = TransportConfig {
        udp: Vec::new(),
        tcp: Vec::new(),
        ..TransportConfig::default()
    };
    let (client, client_events) = Transports::bind(client_cfg).await.unwrap();
    let pin = Fingerprint::of(&cert.cert_der).to_string();
    let options = ConnectOptions {
        server_name: Some("localhost".into()),
        tls: Some(client_config(&TlsTrust::PinnedSha256(pin)).unwrap()),
        ws_path: Some("/sip".into()),
    };
    (server, server_events, client, client_events, options)
}

#[tokio::test]
async fn ws_and_wss_request_and_response_round_trip() {
    let (server, mut server_events, client, mut client_events, connect) = pair().await;
    for kind in [TransportKind::Ws, TransportKind::Wss] {
        let server_addr = server.local_addr(kind).unwrap();
        let tag = format!("rt-{kind}");
        let to_server = client.connect(kind, server_addr, &connect).await.unwrap();
        let request = options(
            &format!(
                "sip:{server_addr};transport={}",
                kind.via_name().to_lowercase()
            ),
            &format!("SIP/2.0/{kind} df7jal23ls0d.invalid"),
            &tag,
        );
        client
            .send(to_server, &Message::Request(request))
            .await
            .unwrap();

        // The server sees the request from the client's connection, Via stamped.
        let (from_client, message, local) = next_message(&mut server_events).await;
        assert_eq!(from_client.transport, kind);
        assert_eq!(local, server_addr);
        let Message::Request(received) = message else {
            panic!("expected a request")
        };
        let via = received.top_via().unwrap();
        assert_eq!(via.received(), Some("127.0.0.1"));
        assert_eq!(via.rport(), Some(Some(from_client.addr.port())));

        // The server answers over the connection the request came on.
        let mut response = Response::for_request(&received, 200, "OK");
        response.headers.push("Server", "dialtone-test");
        assert!(server.has_flow(from_client));
        server
            .send(from_client, &Message::Response(response))
            .await
            .unwrap();
        let (from_server, message, _) = next_message(&mut client_events).await;
        assert_eq!(from_server, to_server);
        let Message::Response(answer) = message else {
            panic!("expected a response")
        };
        assert_eq!(answer.status, 200);
        assert_eq!(answer.call_id().unwrap(), format!("{tag}@example.invalid"));
    }
}

#[tokio::test]
async fn ws_server_refuses_clients_without_sip_subprotocol() {
    let (server, _server_events, _client, _client_events, _connect) = pair().await;
    let addr = server.local_addr(TransportKind::Ws).unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let result = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp).await;
    let err = result.expect_err("a handshake without subprotocol sip must fail");
    assert!(err.to_string().contains("400"), "{err}");
}

#[tokio::test]
async fn ws_client_gets_options_answer_from_kamailio() {
    let kamailio =
        Kamailio::start(KamailioOpts::with_free_ports(&[])).expect("real Kamailio must start");
    let (client, mut events) = Transports::bind(TransportConfig {
        udp: Vec::new(),
        tcp: Vec::new(),
        ..TransportConfig::default()
    })
    .await
    .unwrap();
    let ws = kamailio.ws_addr().unwrap();
    let peer = client
        .connect(TransportKind::Ws, ws, &ConnectOptions::default())
        .await
        .unwrap();
    let request = options(
        &format!("sip:{ws};transport=ws"),
        "SIP/2.0/WS df7jal23ls0d.invalid",
        "kam-ws",
    );
    client.send(peer, &Message::Request(request)).await.unwrap();
    let (from, message, _) = next_message(&mut events).await;
    assert_eq!(from, peer);
    let Message::Response(answer) = message else {
        panic!("expected a response")
    };
    assert_eq!(answer.status, 200, "{answer:?}\n{}", kamailio.log());
    assert_eq!(answer.call_id().unwrap(), "kam-ws@example.invalid");
}
