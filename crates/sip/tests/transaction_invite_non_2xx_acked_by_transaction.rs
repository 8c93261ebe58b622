//! RFC 3261 §17.1.1.3: the INVITE client transaction ACKs a 300–699 response itself, with the
//! INVITE's branch, and re-ACKs its retransmissions during Timer D; RFC 6026: a 2xx moves it
//! to Accepted, where every 2xx reaches the TU until Timer M.

mod transaction_harness;

use std::time::{Duration, Instant};

use dialtone_sip::transaction::{ClientInviteState, TransactionLayer, TransactionState};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

#[test]
fn non_2xx_final_is_acked_with_the_invite_branch_and_reacked_until_timer_d() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let dest = remote(TransportKind::Udp);
    let invite = outgoing(Method::Invite, TransportKind::Udp, "z9hG4bKbusy");
    let id = layer.send_request(start, dest, invite.clone()).unwrap();
    drain(&mut layer);

    let busy = reply(&invite, 486);
    layer
        .handle_message(ms(start, 200), dest, wire(Message::Response(busy.clone())))
        .unwrap();
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, id), vec![486]);
    let ack = sent_request(&out);
    assert_eq!(transmits(&out)[0].0, dest);

    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    let vias = ack.vias().unwrap();
    assert_eq!(vias.len(), 1, "the ACK has exactly one Via");
    assert_eq!(vias[0], invite.top_via().unwrap());
    assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKbusy"));
    assert_eq!(ack.cseq().unwrap().seq, 7);
    assert_eq!(ack.cseq().unwrap().method, Method::Ack);
    assert_eq!(ack.call_id().unwrap(), invite.call_id().unwrap());
    assert_eq!(ack.from().unwrap(), invite.from().unwrap());
    assert_eq!(
        ack.to().unwrap().tag(),
        Some("remotetag"),
        "To comes from the response"
    );
    assert_eq!(
        ack.headers.get_all("Route").collect::<Vec<_>>(),
        invite.headers.get_all("Route").collect::<Vec<_>>()
    );
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ClientInvite(ClientInviteState::Completed))
    );

    // The 486 is retransmitted: the ACK goes out again, the TU hears nothing.
    layer
        .handle_message(ms(start, 700), dest, wire(Message::Response(busy)))
        .unwrap();
    let out = drain(&mut layer);
    assert!(events(&out).is_empty(), "{out:?}");
    assert_eq!(sent_request(&out), ack);

    // No Timer A in Completed; Timer D ends it 32 s after the 486.
    let timeline = run_until(&mut layer, start, start + Duration::from_secs(60));
    assert!(transmit_times(&timeline).is_empty());
    let all = outputs(&timeline);
    assert!(terminated(&all, id));
    assert_eq!(timeline[0].at, Duration::from_millis(32_200));
}

#[test]
fn every_2xx_reaches_the_tu_while_accepted_until_timer_m() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let dest = remote(TransportKind::Udp);
    let invite = outgoing(Method::Invite, TransportKind::Udp, "z9hG4bKok");
    let id = layer.send_request(start, dest, invite.clone()).unwrap();
    drain(&mut layer);

    let ok = reply(&invite, 200);
    layer
        .handle_message(ms(start, 100), dest, wire(Message::Response(ok.clone())))
        .unwrap();
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, id), vec![200]);
    assert!(
        transmits(&out).is_empty(),
        "the ACK for a 2xx is the dialog's job"
    );
    assert_eq!(
        layer.state(id),
        Some(TransactionState::ClientInvite(ClientInviteState::Accepted))
    );

    // A retransmitted 2xx and a 2xx from another fork both surface.
    layer
        .handle_message(ms(start, 600), dest, wire(Message::Response(ok.clone())))
        .unwrap();
    let mut forked = ok;
    forked
        .headers
        .set("To", "<sip:bob@example.com>;tag=otherfork");
    layer
        .handle_message(ms(start, 700), dest, wire(Message::Response(forked)))
        .unwrap();
    let out = drain(&mut layer);
    assert_eq!(surfaced_statuses(&out, id), vec![200, 200]);
    assert!(transmits(&out).is_empty());

    // A late 486 is absorbed. Timer M ends the transaction 64·T1 after the first 2xx.
    layer
        .handle_message(
            ms(start, 800),
            dest,
            wire(Message::Response(reply(&invite, 486))),
        )
        .unwrap();
    assert!(drain(&mut layer).is_empty());
    assert_eq!(layer.poll_timeout(), Some(ms(start, 32_100)));
    let timeline = run_until(&mut layer, start, start + Duration::from_secs(60));
    assert!(terminated(&outputs(&timeline), id));
    assert!(layer.is_empty());
}
