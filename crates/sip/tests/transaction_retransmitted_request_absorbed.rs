//! RFC 3261 §17.2.3: a retransmitted request matches its server transaction (same branch,
//! sent-by and method) and never reaches the TU twice; the transaction answers it with its
//! latest response. RFC 6026: retransmitted INVITEs after a 2xx are absorbed, and the ACK for
//! the 2xx (a new branch) reaches the TU through the INVITE's transaction.

mod transaction_harness;

use std::time::{Duration, Instant};

use dialtone_sip::transaction::{
    InboundError, ServerInviteState, TransactionEvent, TransactionLayer, TransactionState,
};
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

const VIA: &str = "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKretrans";

fn caller() -> Peer {
    peer(TransportKind::Udp, "127.0.0.1:5080")
}

fn receive(
    layer: &mut TransactionLayer,
    at: Instant,
    method: &str,
    via: &str,
    cseq: u32,
) -> Vec<dialtone_sip::transaction::TransactionOutput> {
    layer
        .handle_message(
            at,
            caller(),
            Message::Request(incoming(method, via, "retrans", cseq)),
        )
        .unwrap();
    drain(layer)
}

#[test]
fn non_invite_retransmissions_are_absorbed_then_answered_with_the_last_response() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let id = new_request_id(&receive(&mut layer, start, "MESSAGE", VIA, 1));

    // Trying: absorbed silently.
    let out = receive(&mut layer, ms(start, 500), "MESSAGE", VIA, 1);
    assert!(out.is_empty(), "{out:?}");

    // Proceeding: the provisional is resent.
    let request = layer.request(id).unwrap().clone();
    layer
        .send_response(ms(start, 600), id, reply(&request, 100))
        .unwrap();
    drain(&mut layer);
    let out = receive(&mut layer, ms(start, 1500), "MESSAGE", VIA, 1);
    assert_eq!(sent_statuses(&out), vec![100]);
    assert!(events(&out).is_empty());

    // Completed: the final response is resent, for as long as Timer J (64·T1) runs.
    layer
        .send_response(ms(start, 2000), id, reply(&request, 202))
        .unwrap();
    drain(&mut layer);
    let out = receive(&mut layer, ms(start, 3500), "MESSAGE", VIA, 1);
    assert_eq!(sent_statuses(&out), vec![202]);
    assert!(events(&out).is_empty());
    assert_eq!(
        layer.send_response(ms(start, 3600), id, reply(&request, 500)),
        Err(dialtone_sip::transaction::TransactionError::ResponseNotAllowed { id, status: 500 })
    );

    let timeline = run_until(&mut layer, start, start + Duration::from_secs(60));
    assert_eq!(timeline.len(), 1);
    assert_eq!(
        timeline[0].at,
        Duration::from_secs(34),
        "Timer J = 64·T1 after the 202"
    );
    assert!(terminated(&outputs(&timeline), id));

    // After Timer J the same request is new again.
    let out = receive(
        &mut layer,
        start + Duration::from_secs(61),
        "MESSAGE",
        VIA,
        1,
    );
    assert_ne!(new_request_id(&out), id);
}

#[test]
fn same_branch_from_another_sent_by_is_another_transaction() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let first = new_request_id(&receive(&mut layer, start, "OPTIONS", VIA, 1));
    let other_via = "SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKretrans";
    let second = new_request_id(&receive(&mut layer, start, "OPTIONS", other_via, 1));
    assert_ne!(first, second);
    // Same branch, different method: also distinct.
    let third = new_request_id(&receive(&mut layer, start, "INFO", VIA, 2));
    assert_ne!(third, first);
}

#[test]
fn invite_retransmissions_after_the_2xx_are_absorbed_and_the_ack_reaches_the_tu() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let id = new_request_id(&receive(&mut layer, start, "INVITE", VIA, 1));
    let request = layer.request(id).unwrap().clone();
    let ok = reply(&request, 200);
    layer.send_response(ms(start, 100), id, ok.clone()).unwrap();
    assert_eq!(sent_statuses(&drain(&mut layer)), vec![200]);
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ServerInvite(ServerInviteState::Accepted))
    );

    // The INVITE is retransmitted: absorbed, neither answered nor passed up.
    let out = receive(&mut layer, ms(start, 500), "INVITE", VIA, 1);
    assert!(out.is_empty(), "{out:?}");

    // The TU retransmits its 2xx (§13.3.1.4) through the transaction.
    layer.send_response(ms(start, 600), id, ok).unwrap();
    assert_eq!(sent_statuses(&drain(&mut layer)), vec![200]);

    // The ACK for the 2xx carries a new branch; it is matched to the INVITE and passed up.
    let ack_via = "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKackfor2xx";
    let ack = ack_for_2xx(ack_via, "retrans", 1, "remotetag");
    layer
        .handle_message(ms(start, 700), caller(), Message::Request(ack.clone()))
        .unwrap();
    let out = drain(&mut layer);
    let surfaced = events(&out);
    assert!(
        matches!(&surfaced[..], [TransactionEvent::Request { id: ack_id, request, .. }]
            if *ack_id == id && request.method == Method::Ack),
        "{surfaced:?}"
    );
    assert!(transmits(&out).is_empty());

    // An ACK with another To tag is not for this 2xx.
    let stray = ack_for_2xx(ack_via, "retrans", 1, "sometag");
    layer
        .handle_message(ms(start, 800), caller(), Message::Request(stray))
        .unwrap();
    let surfaced = events(&drain(&mut layer));
    assert!(
        matches!(&surfaced[..], [TransactionEvent::StrayAck { .. }]),
        "{surfaced:?}"
    );

    // Timer L ends the Accepted state 64·T1 after the 2xx; later ACKs are stray.
    let timeline = run_until(&mut layer, start, start + Duration::from_secs(60));
    assert_eq!(timeline[0].at, Duration::from_millis(32_100));
    assert!(terminated(&outputs(&timeline), id));
    layer
        .handle_message(
            start + Duration::from_secs(61),
            caller(),
            Message::Request(ack),
        )
        .unwrap();
    let surfaced = events(&drain(&mut layer));
    assert!(
        matches!(&surfaced[..], [TransactionEvent::StrayAck { .. }]),
        "{surfaced:?}"
    );
}

#[test]
fn client_side_response_retransmissions_are_absorbed() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let dest = remote(TransportKind::Udp);
    let options = outgoing(Method::Options, TransportKind::Udp, "z9hG4bKcliretr");
    let id = layer.send_request(start, dest, options.clone()).unwrap();
    drain(&mut layer);
    let ok = reply(&options, 200);
    for at in [100, 200, 300] {
        layer
            .handle_message(ms(start, at), dest, wire(Message::Response(ok.clone())))
            .unwrap();
    }
    assert_eq!(surfaced_statuses(&drain(&mut layer), id), vec![200]);

    // A response for a branch we never used matches nothing.
    let foreign = reply(
        &outgoing(Method::Options, TransportKind::Udp, "z9hG4bKnotours"),
        200,
    );
    assert_eq!(
        layer.handle_message(ms(start, 400), dest, Message::Response(foreign)),
        Err(InboundError::StrayResponse { status: 200 })
    );
    // Nor does a response whose CSeq method differs from the transaction's.
    let mut wrong_method = ok;
    wrong_method.headers.set("CSeq", "7 INFO");
    assert_eq!(
        layer.handle_message(ms(start, 400), dest, Message::Response(wrong_method)),
        Err(InboundError::StrayResponse { status: 200 })
    );
}
