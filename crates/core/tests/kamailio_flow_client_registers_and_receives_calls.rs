//! A client behind a flow it opened (WebSocket with an `.invalid` Contact, RFC 7118 §5; TCP from
//! an ephemeral port) registers at a real Kamailio with digest auth, and a call for it comes
//! back over that same flow (RFC 5626 / RFC 5923 spirit); its answer reaches the caller.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use dialtone_core::transport::{
    ConnectOptions, Peer, TransportConfig, TransportEvent, TransportKind, Transports,
};
use dialtone_sip_message::{Message, Method, Request, Response, Uri};
use dialtone_testkit::digest::md5_credentials;
use dialtone_testkit::{Kamailio, KamailioOpts};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

async fn next_message(events: &mut Receiver<TransportEvent>) -> (Peer, Message) {
    loop {
        let event = timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("a message in time")
            .expect("transports alive");
        if let TransportEvent::Message { peer, message, .. } = event {
            return (peer, *message);
        }
    }
}

fn register(
    registrar: &str,
    via: &str,
    contact: &str,
    cseq: u32,
    authorization: Option<&str>,
) -> Message {
    let mut req = Request::new(Method::Register, Uri::parse(registrar).unwrap());
    req.headers
        .push("Via", format!("{via};branch=z9hG4bK-reg-{cseq};rport"));
    req.headers.push("Max-Forwards", "70");
    req.headers.push("From", "<sip:alice@127.0.0.1>;tag=reg");
    req.headers.push("To", "<sip:alice@127.0.0.1>");
    req.headers.push("Call-ID", format!("reg-{contact}"));
    req.headers.push("CSeq", format!("{cseq} REGISTER"));
    req.headers.push("Contact", format!("<{contact}>"));
    req.headers.push("Expires", "300");
    if let Some(credentials) = authorization {
        req.headers.push("Authorization", credentials);
    }
    Message::Request(req)
}

/// Registers alice over `peer` (401 then 200).
async fn register_alice(
    transports: &Transports,
    events: &mut Receiver<TransportEvent>,
    peer: Peer,
    registrar: &str,
    via: &str,
    contact: &str,
) {
    transports
        .send(peer, &register(registrar, via, contact, 1, None))
        .await
        .unwrap();
    let (_, message) = next_message(events).await;
    let Message::Response(challenge) = message else {
        panic!("expected 401")
    };
    assert_eq!(challenge.status, 401, "{challenge:?}");
    let www = challenge
        .headers
        .get("WWW-Authenticate")
        .expect("WWW-Authenticate");
    let credentials =
        md5_credentials(www, "REGISTER", registrar, "alice", "secret").expect("MD5 challenge");
    transports
        .send(
            peer,
            &register(registrar, via, contact, 2, Some(&credentials)),
        )
        .await
        .unwrap();
    let (_, message) = next_message(events).await;
    let Message::Response(ok) = message else {
        panic!("expected 200")
    };
    assert_eq!(ok.status, 200, "{ok:?}");
}

/// A raw UDP caller INVITEs alice through Kamailio; alice's transports must see the INVITE on
/// `flow`, and her 486 must reach the caller.
async fn call_alice(
    kamailio: &Kamailio,
    transports: &Transports,
    events: &mut Receiver<TransportEvent>,
    flow: Peer,
) {
    let caller = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let me: SocketAddr = caller.local_addr().unwrap();
    let proxy = kamailio.udp_addr();
    let invite = format!(
        "INVITE sip:alice@{proxy} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-call-{port};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:carol@127.0.0.1>;tag=carol\r\nTo: <sip:alice@{proxy}>\r\n\
         Call-ID: call-{port}@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@{me}>\r\nContent-Length: 0\r\n\r\n",
        port = flow.addr.port()
    );
    caller.send_to(invite.as_bytes(), proxy).await.unwrap();

    let (from, message) = next_message(events).await;
    assert_eq!(from, flow, "the INVITE must come over the registered flow");
    let Message::Request(request) = message else {
        panic!("expected the INVITE")
    };
    assert_eq!(request.method, Method::Invite);
    assert!(
        !request.record_routes().unwrap().is_empty(),
        "Kamailio record-routes the INVITE"
    );
    let mut busy = Response::for_request(&request, 486, "Busy Here");
    let to = busy.headers.get("To").unwrap_or_default().to_owned();
    busy.headers.set("To", format!("{to};tag=alice"));
    transports
        .send(from, &Message::Response(busy))
        .await
        .unwrap();

    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (n, _) = tokio::time::timeout_at(deadline, caller.recv_from(&mut buf))
            .await
            .expect("the 486 reaches the caller")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        if text.starts_with("SIP/2.0 486") {
            break;
        }
        assert!(text.starts_with("SIP/2.0 1"), "unexpected: {text}");
    }
}

#[tokio::test]
async fn websocket_client_with_invalid_contact_receives_calls_over_its_flow() {
    let kamailio = Kamailio::start(KamailioOpts::with_free_ports(&[("alice", "secret")]))
        .expect("real Kamailio must start");
    let (transports, mut events) = Transports::bind(TransportConfig {
        udp: Vec::new(),
        tcp: Vec::new(),
        ..TransportConfig::default()
    })
    .await
    .unwrap();
    let ws = kamailio.ws_addr().unwrap();
    let flow = transports
        .connect(TransportKind::Ws, ws, &ConnectOptions::default())
        .await
        .unwrap();
    register_alice(
        &transports,
        &mut events,
        flow,
        &format!("sip:{ws};transport=ws"),
        "SIP/2.0/WS df7jal23ls0d.invalid",
        "sip:alice@df7jal23ls0d.invalid;transport=ws",
    )
    .await;
    call_alice(&kamailio, &transports, &mut events, flow).await;
}

#[tokio::test]
async fn tcp_client_from_ephemeral_port_receives_calls_over_its_connection() {
    let kamailio = Kamailio::start(KamailioOpts::with_free_ports(&[("alice", "secret")]))
        .expect("real Kamailio must start");
    // No TCP listener at all: the only way in is the connection we open.
    let (transports, mut events) = Transports::bind(TransportConfig {
        udp: Vec::new(),
        tcp: Vec::new(),
        ..TransportConfig::default()
    })
    .await
    .unwrap();
    let tcp = kamailio.tcp_addr().unwrap();
    let flow = transports
        .connect(TransportKind::Tcp, tcp, &ConnectOptions::default())
        .await
        .unwrap();
    register_alice(
        &transports,
        &mut events,
        flow,
        &format!("sip:{tcp};transport=tcp"),
        "SIP/2.0/TCP 127.0.0.1:5999",
        "sip:alice@127.0.0.1:5999;transport=tcp",
    )
    .await;
    call_alice(&kamailio, &transports, &mut events, flow).await;
}
