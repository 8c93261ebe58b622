//! RFC 3261 §9: CANCEL is a non-INVITE transaction of its own, sharing the INVITE's branch.
//! A client must not send it before a provisional response (§9.1), and a final response can
//! cross it on the wire: the INVITE's 200 still reaches the TU, a cancelled INVITE ends with
//! 487. On the server side the CANCEL is linked to the INVITE it cancels (§9.2).

mod transaction_harness;

use std::time::Instant;

use dialtone_sip::transaction::{
    ClientInviteState, ServerInviteState, TransactionError, TransactionEvent, TransactionLayer,
    TransactionState,
};
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip_message::{Message, Method, Request};
use transaction_harness::*;

fn dest() -> Peer {
    remote(TransportKind::Udp)
}

/// Sends an INVITE at `start` and drains its first transmission.
fn calling(
    start: Instant,
    branch: &str,
) -> (
    TransactionLayer,
    Request,
    dialtone_sip::transaction::TransactionId,
) {
    let mut layer = TransactionLayer::default();
    let invite = outgoing(Method::Invite, TransportKind::Udp, branch);
    let id = layer.send_request(start, dest(), invite.clone()).unwrap();
    drain(&mut layer);
    (layer, invite, id)
}

fn respond(layer: &mut TransactionLayer, at: Instant, request: &Request, status: u16) {
    layer
        .handle_message(at, dest(), wire(Message::Response(reply(request, status))))
        .unwrap();
}

#[test]
fn cancel_before_a_provisional_waits_for_it_then_the_invite_ends_with_487() {
    let start = Instant::now();
    let (mut layer, invite, invite_id) = calling(start, "z9hG4bKcancel1");

    let cancel_id = layer.cancel(ms(start, 100), invite_id).unwrap();
    assert!(
        drain(&mut layer).is_empty(),
        "no CANCEL before a provisional (§9.1)"
    );
    assert_eq!(
        layer.state(cancel_id),
        Some(TransactionState::CancelAwaitingProvisional)
    );
    // The INVITE keeps retransmitting meanwhile; the held CANCEL does not.
    let waiting = run_until(&mut layer, start, ms(start, 1000));
    assert_eq!(transmits(&outputs(&waiting)).len(), 1);
    assert!(
        matches!(&transmits(&outputs(&waiting))[0].1, Message::Request(r) if r.method == Method::Invite)
    );

    respond(&mut layer, ms(start, 1200), &invite, 180);
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, invite_id), vec![180]);
    let cancel = sent_request(&out);
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(cancel.uri, invite.uri);
    assert_eq!(cancel.vias().unwrap(), vec![invite.top_via().unwrap()]);
    assert_eq!(cancel.cseq().unwrap().seq, invite.cseq().unwrap().seq);
    assert_eq!(cancel.cseq().unwrap().method, Method::Cancel);
    assert_eq!(cancel.call_id().unwrap(), invite.call_id().unwrap());
    assert_eq!(cancel.from().unwrap(), invite.from().unwrap());
    assert_eq!(cancel.to().unwrap(), invite.to().unwrap());
    assert_eq!(cancel.headers.get("Route"), invite.headers.get("Route"));

    // 200 for the CANCEL on its own transaction; 487 for the INVITE, ACKed by the transaction.
    respond(&mut layer, ms(start, 1300), &cancel, 200);
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, cancel_id), vec![200]);
    assert!(surfaced_statuses(&out, invite_id).is_empty());

    respond(&mut layer, ms(start, 1400), &invite, 487);
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, invite_id), vec![487]);
    let ack = sent_request(&out);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKcancel1"));
}

#[test]
fn a_final_response_before_any_provisional_drops_the_held_cancel() {
    let start = Instant::now();
    let (mut layer, invite, invite_id) = calling(start, "z9hG4bKcancel2");
    let cancel_id = layer.cancel(ms(start, 100), invite_id).unwrap();
    assert!(drain(&mut layer).is_empty());

    respond(&mut layer, ms(start, 300), &invite, 200);
    let out = drain(&mut layer);
    assert_eq!(
        surfaced_statuses(&out, invite_id),
        vec![200],
        "the 200 still surfaces"
    );
    assert!(transmits(&out).is_empty(), "the CANCEL is never sent");
    assert!(terminated(&out, cancel_id));
    assert_eq!(layer.state(cancel_id), None);
    assert_eq!(
        layer.state(invite_id),
        Some(TransactionState::ClientInvite(ClientInviteState::Accepted))
    );
}

#[test]
fn a_200_crossing_the_cancel_still_surfaces() {
    let start = Instant::now();
    let (mut layer, invite, invite_id) = calling(start, "z9hG4bKcancel3");
    respond(&mut layer, ms(start, 100), &invite, 180);
    drain(&mut layer);

    let cancel_id = layer.cancel(ms(start, 2000), invite_id).unwrap();
    let cancel = sent_request(&drain(&mut layer));
    assert_eq!(cancel.method, Method::Cancel);

    // The callee answered before it saw the CANCEL: 200 for the INVITE ...
    respond(&mut layer, ms(start, 2010), &invite, 200);
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, invite_id), vec![200]);
    // ... and the CANCEL gets 200 (or 481) on its own transaction, which still retransmits.
    let pending = run_until(&mut layer, start, ms(start, 2600));
    assert_eq!(
        transmits(&outputs(&pending)).len(),
        1,
        "CANCEL retransmitted on Timer E"
    );
    respond(&mut layer, ms(start, 2600), &cancel, 481);
    assert_eq!(surfaced_statuses(&drain(&mut layer), cancel_id), vec![481]);

    // The INVITE is already answered: nothing left to cancel.
    assert_eq!(
        layer.cancel(ms(start, 3000), invite_id),
        Err(TransactionError::NotCancellable(invite_id))
    );
}

#[test]
fn only_one_cancel_per_invite() {
    let start = Instant::now();
    let (mut layer, invite, invite_id) = calling(start, "z9hG4bKcancel4");
    respond(&mut layer, ms(start, 100), &invite, 183);
    drain(&mut layer);
    layer.cancel(ms(start, 200), invite_id).unwrap();
    assert_eq!(
        layer.cancel(ms(start, 300), invite_id),
        Err(TransactionError::DuplicateBranch)
    );
}

const VIA: &str = "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKsrvcancel";

fn caller() -> Peer {
    peer(TransportKind::Udp, "127.0.0.1:5080")
}

#[test]
fn server_links_the_cancel_to_its_invite_and_the_invite_ends_with_487() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let invite = incoming("INVITE", VIA, "srv-cancel", 5);
    layer
        .handle_message(start, caller(), Message::Request(invite))
        .unwrap();
    let invite_id = new_request_id(&drain(&mut layer));
    let invite = layer.request(invite_id).unwrap().clone();
    layer
        .send_response(ms(start, 10), invite_id, reply(&invite, 180))
        .unwrap();
    drain(&mut layer);

    let cancel = incoming("CANCEL", VIA, "srv-cancel", 5);
    layer
        .handle_message(ms(start, 1000), caller(), Message::Request(cancel))
        .unwrap();
    let out = drain(&mut layer);
    let surfaced = events(&out);
    assert_eq!(surfaced.len(), 1);
    let TransactionEvent::Cancel {
        id: cancel_id,
        invite: Some(linked),
        request: cancel,
        ..
    } = &surfaced[0]
    else {
        panic!("expected a linked CANCEL, got {surfaced:?}");
    };
    assert_eq!(*linked, invite_id);
    assert_ne!(*cancel_id, invite_id, "CANCEL is its own transaction");

    // The TU answers both (§9.2).
    layer
        .send_response(ms(start, 1001), *cancel_id, reply(cancel, 200))
        .unwrap();
    layer
        .send_response(ms(start, 1001), invite_id, reply(&invite, 487))
        .unwrap();
    assert_eq!(sent_statuses(&drain(&mut layer)), vec![200, 487]);

    // The CANCEL is retransmitted: its 200 is resent, the TU hears nothing.
    let again = incoming("CANCEL", VIA, "srv-cancel", 5);
    layer
        .handle_message(ms(start, 1500), caller(), Message::Request(again))
        .unwrap();
    let out = drain(&mut layer);
    assert_eq!(sent_statuses(&out), vec![200]);
    assert!(events(&out).is_empty());

    let mut ack = incoming("ACK", VIA, "srv-cancel", 5);
    ack.headers
        .set("To", "<sip:alice@example.com>;tag=remotetag");
    layer
        .handle_message(ms(start, 1600), caller(), Message::Request(ack))
        .unwrap();
    assert!(drain(&mut layer).is_empty());
    assert_eq!(
        layer.state(invite_id),
        Some(TransactionState::ServerInvite(ServerInviteState::Confirmed))
    );
}

#[test]
fn server_cancel_after_the_200_finds_the_invite_already_answered() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    layer
        .handle_message(
            start,
            caller(),
            Message::Request(incoming("INVITE", VIA, "srv-cancel-late", 1)),
        )
        .unwrap();
    let invite_id = new_request_id(&drain(&mut layer));
    let invite = layer.request(invite_id).unwrap().clone();
    layer
        .send_response(ms(start, 100), invite_id, reply(&invite, 200))
        .unwrap();
    drain(&mut layer);

    layer
        .handle_message(
            ms(start, 150),
            caller(),
            Message::Request(incoming("CANCEL", VIA, "srv-cancel-late", 1)),
        )
        .unwrap();
    let surfaced = events(&drain(&mut layer));
    let TransactionEvent::Cancel {
        id: cancel_id,
        invite: Some(linked),
        ..
    } = surfaced[0].clone()
    else {
        panic!("expected a linked CANCEL, got {surfaced:?}");
    };
    assert_eq!(linked, invite_id);
    assert_eq!(
        layer.state(invite_id),
        Some(TransactionState::ServerInvite(ServerInviteState::Accepted))
    );
    // Too late for a 487: the transaction refuses it.
    assert_eq!(
        layer.send_response(ms(start, 151), invite_id, reply(&invite, 487)),
        Err(TransactionError::ResponseNotAllowed {
            id: invite_id,
            status: 487
        })
    );
    let cancel = layer.request(cancel_id).unwrap().clone();
    layer
        .send_response(ms(start, 151), cancel_id, reply(&cancel, 200))
        .unwrap();
    assert_eq!(sent_statuses(&drain(&mut layer)), vec![200]);
}

#[test]
fn server_cancel_without_an_invite_is_unlinked() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    layer
        .handle_message(
            start,
            caller(),
            Message::Request(incoming("CANCEL", VIA, "srv-cancel-none", 1)),
        )
        .unwrap();
    let surfaced = events(&drain(&mut layer));
    assert!(
        matches!(
            &surfaced[..],
            [TransactionEvent::Cancel { invite: None, .. }]
        ),
        "{surfaced:?}"
    );
}
