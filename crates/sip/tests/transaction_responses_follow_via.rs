//! RFC 3261 §18.2.1/§18.2.2 and RFC 3581: the server stamps `received` (and a requested
//! `rport`) on the top Via, and its responses go back to the source address — at the source
//! port when `rport` was asked for, at the sent-by port otherwise.

mod transaction_harness;

use std::time::Instant;

use dialtone_sip::transaction::{InboundError, TransactionLayer};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::Message;
use transaction_harness::*;

/// Receives an OPTIONS with top Via `via` from `source`, answers 200 and returns where the
/// answer went and the request as the TU saw it.
fn answer(
    via: &str,
    source: &str,
) -> (dialtone_sip::transport::Peer, dialtone_sip_message::Request) {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let from = peer(TransportKind::Udp, source);
    layer
        .handle_message(
            start,
            from,
            Message::Request(incoming("OPTIONS", via, "route", 1)),
        )
        .unwrap();
    let id = new_request_id(&drain(&mut layer));
    let request = layer.request(id).unwrap().clone();
    layer
        .send_response(start, id, reply(&request, 200))
        .unwrap();
    let sent = transmits(&drain(&mut layer));
    assert_eq!(sent.len(), 1);
    let Message::Response(response) = wire(sent[0].1.clone()) else {
        panic!("expected a response");
    };
    assert_eq!(
        response.vias().unwrap(),
        request.vias().unwrap(),
        "Vias are echoed"
    );
    (sent[0].0, request)
}

#[test]
fn rport_sends_back_to_the_source_port_and_stamps_both_parameters() {
    let (dest, request) = answer(
        "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKrport;rport",
        "127.0.0.1:40000",
    );
    assert_eq!(dest, peer(TransportKind::Udp, "127.0.0.1:40000"));
    let via = request.top_via().unwrap();
    assert_eq!(via.received(), Some("127.0.0.1"));
    assert_eq!(via.rport(), Some(Some(40000)));
}

#[test]
fn without_rport_the_sent_by_port_is_used_at_the_source_address() {
    let (dest, request) = answer(
        "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKnorport",
        "127.0.0.1:40001",
    );
    assert_eq!(dest, peer(TransportKind::Udp, "127.0.0.1:5062"));
    assert_eq!(request.top_via().unwrap().received(), Some("127.0.0.1"));
    assert_eq!(request.top_via().unwrap().rport(), None);

    let (dest, request) = answer(
        "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKdefport",
        "127.0.0.1:40002",
    );
    assert_eq!(dest, peer(TransportKind::Udp, "127.0.0.1:5060"));
    assert_eq!(
        request.top_via().unwrap().received(),
        None,
        "sent-by is the source"
    );
}

#[test]
fn lower_vias_are_kept_in_order() {
    let (_, request) = answer(
        "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKtop;rport, SIP/2.0/UDP 192.0.2.7:5066;branch=z9hG4bKlower",
        "127.0.0.1:40003",
    );
    let vias = request.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].received(), Some("127.0.0.1"));
    assert_eq!(vias[1].branch(), Some("z9hG4bKlower"));
    assert_eq!(vias[1].received(), None);
}

#[test]
fn a_request_without_via_is_dropped() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let mut request = incoming(
        "OPTIONS",
        "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx",
        "novia",
        1,
    );
    request.headers.remove("Via");
    assert_eq!(
        layer.handle_message(start, remote(TransportKind::Udp), Message::Request(request)),
        Err(InboundError::MissingVia)
    );
    assert!(drain(&mut layer).is_empty());
}
