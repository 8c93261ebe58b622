//! RFC 3261 §17.1.4 and §17.2.4: when the transport cannot deliver, the transaction informs
//! the TU and terminates. Only transactions talking to the failed peer are affected.

mod transaction_harness;

use std::time::Instant;

use dialtone_sip::transaction::{TransactionError, TransactionEvent, TransactionLayer};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

#[test]
fn a_failed_peer_fails_its_transactions_only() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let broken = remote(TransportKind::Tcp);
    let fine = peer(TransportKind::Tcp, "127.0.0.1:6000");
    let a = layer
        .send_request(
            start,
            broken,
            outgoing(Method::Invite, TransportKind::Tcp, "z9hG4bKte1"),
        )
        .unwrap();
    let b = layer
        .send_request(
            start,
            fine,
            outgoing(Method::Options, TransportKind::Tcp, "z9hG4bKte2"),
        )
        .unwrap();
    drain(&mut layer);

    layer.handle_transport_error(ms(start, 5), broken);
    let surfaced = events(&drain(&mut layer));
    assert!(
        matches!(
            &surfaced[..],
            [TransactionEvent::TransportError { id: e }, TransactionEvent::Terminated { id: t }]
                if *e == a && *t == a
        ),
        "{surfaced:?}"
    );
    assert_eq!(layer.state(a), None);
    assert!(layer.state(b).is_some());
    assert_eq!(
        layer.cancel(ms(start, 6), a),
        Err(TransactionError::UnknownTransaction(a))
    );
}

#[test]
fn the_tu_cannot_misuse_transactions() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let dest = remote(TransportKind::Udp);
    let ack = outgoing(Method::Ack, TransportKind::Udp, "z9hG4bKmisuse0");
    assert_eq!(
        layer.send_request(start, dest, ack.clone()),
        Err(TransactionError::AckIsNotATransaction)
    );
    // ...but it can go out statelessly.
    layer.send_stateless(dest, Message::Request(ack.clone()));
    assert_eq!(sent_request(&drain(&mut layer)), ack);

    let mut no_cookie = outgoing(Method::Options, TransportKind::Udp, "oldstyle");
    assert_eq!(
        layer.send_request(start, dest, no_cookie.clone()),
        Err(TransactionError::MissingBranch)
    );
    no_cookie.headers.remove("Via");
    assert_eq!(
        layer.send_request(start, dest, no_cookie),
        Err(TransactionError::MissingVia)
    );

    let options = outgoing(Method::Options, TransportKind::Udp, "z9hG4bKmisuse1");
    let id = layer.send_request(start, dest, options.clone()).unwrap();
    assert_eq!(
        layer.send_request(start, dest, options.clone()),
        Err(TransactionError::DuplicateBranch)
    );
    assert_eq!(
        layer.send_response(start, id, reply(&options, 200)),
        Err(TransactionError::NotAServerTransaction(id))
    );
    assert_eq!(
        layer.send_response(start, id, dialtone_sip_message::Response::new(99, "Odd")),
        Err(TransactionError::InvalidStatus(99))
    );
    assert_eq!(
        layer.cancel(start, id),
        Err(TransactionError::NotCancellable(id))
    );
}
