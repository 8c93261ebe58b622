//! Our transports talk to a real Kamailio (Debian package): OPTIONS to the proxy itself is
//! answered over UDP, TCP, TLS and WSS, and an oversized request meant for UDP reaches Kamailio
//! over TCP and is answered there (RFC 3261 §18.1.1). Fails if kamailio is not installed.

use std::net::SocketAddr;
use std::time::Duration;

use dialtone_core::tls::{client_config, Fingerprint, TlsTrust};
use dialtone_core::transport::{
    ConnectOptions, Peer, TransportConfig, TransportEvent, TransportKind, Transports,
};
use dialtone_sip_message::{Message, Method, Request, Response, Uri};
use dialtone_testkit::{Kamailio, KamailioOpts};
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

fn options(uri: &str, via: &str, tag: &str, body_len: usize) -> Message {
    let mut req = Request::new(Method::Options, Uri::parse(uri).unwrap());
    req.headers
        .push("Via", format!("{via};branch=z9hG4bK-{tag};rport"));
    req.headers.push("Max-Forwards", "70");
    req.headers
        .push("From", format!("<sip:probe@127.0.0.1>;tag={tag}"));
    req.headers.push("To", format!("<{uri}>"));
    req.headers.push("Call-ID", format!("{tag}@127.0.0.1"));
    req.headers.push("CSeq", "1 OPTIONS");
    if body_len > 0 {
        req.headers.push("Content-Type", "text/plain");
        req.body = vec![b'k'; body_len];
    }
    Message::Request(req)
}

/// Waits for the response to the request with Call-ID `tag@127.0.0.1`.
async fn response(events: &mut Receiver<TransportEvent>, tag: &str) -> (Peer, Response) {
    let call_id = format!("{tag}@127.0.0.1");
    loop {
        let event = timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap_or_else(|_| panic!("no response for {tag}"))
            .expect("transports alive");
        if let TransportEvent::Message { peer, message, .. } = event {
            if let Message::Response(r) = *message {
                if r.call_id().ok() == Some(call_id.as_str()) {
                    return (peer, r);
                }
            }
        }
    }
}

fn kamailio() -> Kamailio {
    Kamailio::start(KamailioOpts::with_free_ports(&[("alice", "secret")]))
        .expect("real Kamailio must start (install the kamailio packages)")
}

async fn transports() -> (Transports, Receiver<TransportEvent>) {
    Transports::bind(TransportConfig::default()).await.unwrap()
}

#[tokio::test]
async fn options_over_udp_and_tcp_get_200() {
    let kamailio = kamailio();
    let (transports, mut events) = transports().await;
    let udp_local = transports.local_addr(TransportKind::Udp).unwrap();

    let udp = kamailio.udp_addr();
    let msg = options(
        &format!("sip:{udp}"),
        &format!("SIP/2.0/UDP {udp_local}"),
        "opt-udp",
        0,
    );
    transports
        .send(Peer::new(TransportKind::Udp, udp), &msg)
        .await
        .unwrap();
    let (peer, resp) = response(&mut events, "opt-udp").await;
    assert_eq!(peer, Peer::new(TransportKind::Udp, udp));
    assert_eq!(resp.status, 200, "{resp:?}");

    let tcp = kamailio.tcp_addr().unwrap();
    let tcp_local = transports.local_addr(TransportKind::Tcp).unwrap();
    let msg = options(
        &format!("sip:{tcp};transport=tcp"),
        &format!("SIP/2.0/TCP {tcp_local}"),
        "opt-tcp",
        0,
    );
    let tcp_peer = Peer::new(TransportKind::Tcp, tcp);
    transports.send(tcp_peer, &msg).await.unwrap();
    let (peer, resp) = response(&mut events, "opt-tcp").await;
    assert_eq!(
        peer, tcp_peer,
        "the response comes back over our connection"
    );
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(transports.has_flow(tcp_peer));
}

#[tokio::test]
async fn large_options_meant_for_udp_is_answered_over_tcp() {
    // UDP and TCP on one port, as the RFC 3261 §18.1.1 rule assumes.
    let kamailio = Kamailio::start(KamailioOpts::udp_tcp(&[])).expect("real Kamailio must start");
    let (transports, mut events) = transports().await;
    let local = transports.local_addr(TransportKind::Udp).unwrap();
    let server = kamailio.udp_addr();

    let msg = options(
        &format!("sip:{server}"),
        &format!("SIP/2.0/UDP {local}"),
        "opt-big",
        1600,
    );
    let used = transports
        .send(Peer::new(TransportKind::Udp, server), &msg)
        .await
        .unwrap();
    assert_eq!(used, Peer::new(TransportKind::Tcp, server));
    let (peer, resp) = response(&mut events, "opt-big").await;
    assert_eq!(peer, Peer::new(TransportKind::Tcp, server));
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.top_via().unwrap().transport, "TCP");
}

#[tokio::test]
async fn options_over_tls_and_wss_with_pinned_certificate_get_200() {
    let kamailio = kamailio();
    let (transports, mut events) = transports().await;
    let pin = Fingerprint::of(&kamailio.tls_cert().cert_der).to_string();
    let connect = ConnectOptions {
        server_name: Some("localhost".into()),
        tls: Some(client_config(&TlsTrust::PinnedSha256(pin)).unwrap()),
        ws_path: None,
    };

    let cases: [(TransportKind, SocketAddr, &str); 2] = [
        (TransportKind::Tls, kamailio.tls_addr().unwrap(), "tls"),
        (TransportKind::Wss, kamailio.wss_addr().unwrap(), "wss"),
    ];
    for (kind, addr, name) in cases {
        let peer = transports.connect(kind, addr, &connect).await.unwrap();
        let tag = format!("opt-{name}");
        let msg = options(
            &format!("sip:{addr};transport={name}"),
            &format!("SIP/2.0/{kind} client.invalid"),
            &tag,
            0,
        );
        transports.send(peer, &msg).await.unwrap();
        let (from, resp) = response(&mut events, &tag).await;
        assert_eq!(from, peer);
        assert_eq!(resp.status, 200, "{kind}: {resp:?}\n{}", kamailio.log());
    }
}

#[tokio::test]
async fn tls_to_kamailio_with_os_roots_names_the_fingerprint() {
    let kamailio = kamailio();
    let config = TransportConfig {
        client_tls: Some(client_config(&TlsTrust::OsRoots).unwrap()),
        ..TransportConfig::default()
    };
    let (transports, _events) = Transports::bind(config).await.unwrap();
    let addr = kamailio.tls_addr().unwrap();
    let err = transports
        .connect(TransportKind::Tls, addr, &ConnectOptions::default())
        .await
        .expect_err("self-signed Kamailio certificate is not trusted by the OS");
    let fingerprint = Fingerprint::of(&kamailio.tls_cert().cert_der).to_string();
    let text = err.to_string();
    assert!(text.contains("certificate issuer not trusted"), "{text}");
    assert!(text.contains(&fingerprint), "{text}");
}
