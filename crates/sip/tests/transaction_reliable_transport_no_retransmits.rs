//! RFC 3261 §17: over reliable transports (TCP, TLS, WS, WSS) the retransmission timers
//! A, E and G are never set, and the wait timers D, I, J and K are zero, so transactions end
//! as soon as their final exchange is done. The timeouts B, F and H still apply.

mod transaction_harness;

use std::time::{Duration, Instant};

use dialtone_sip::transaction::{TransactionLayer, TransactionOutput};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

const RELIABLE: [TransportKind; 4] = [
    TransportKind::Tcp,
    TransportKind::Tls,
    TransportKind::Ws,
    TransportKind::Wss,
];

#[test]
fn client_requests_are_sent_once_and_time_out_at_64_t1() {
    for transport in RELIABLE {
        for method in [Method::Invite, Method::Options] {
            let start = Instant::now();
            let mut layer = TransactionLayer::default();
            let request = outgoing(method.clone(), transport, "z9hG4bKrel1");
            let id = layer
                .send_request(start, remote(transport), request)
                .unwrap();
            assert_eq!(transmits(&drain(&mut layer)).len(), 1);
            assert_eq!(layer.poll_timeout(), Some(start + Duration::from_secs(32)));
            let timeline = run_until(&mut layer, start, start + Duration::from_secs(100));
            assert!(transmit_times(&timeline).is_empty(), "{transport} {method}");
            assert!(timed_out(&outputs(&timeline), id));
        }
    }
}

#[test]
fn client_final_responses_end_the_transaction_at_once() {
    for transport in RELIABLE {
        let start = Instant::now();
        let mut layer = TransactionLayer::default();
        let dest = remote(transport);

        // Non-INVITE: Timer K is zero.
        let options = outgoing(Method::Options, transport, "z9hG4bKrel2");
        let id = layer.send_request(start, dest, options.clone()).unwrap();
        drain(&mut layer);
        layer
            .handle_message(
                ms(start, 10),
                dest,
                wire(Message::Response(reply(&options, 200))),
            )
            .unwrap();
        let out = drain(&mut layer);
        assert_eq!(surfaced_statuses(&out, id), vec![200]);
        assert!(terminated(&out, id));

        // INVITE rejected: the ACK is sent once, Timer D is zero.
        let invite = outgoing(Method::Invite, transport, "z9hG4bKrel3");
        let id = layer.send_request(start, dest, invite.clone()).unwrap();
        drain(&mut layer);
        layer
            .handle_message(
                ms(start, 10),
                dest,
                wire(Message::Response(reply(&invite, 404))),
            )
            .unwrap();
        let out = drain(&mut layer);
        assert_eq!(surfaced_statuses(&out, id), vec![404]);
        assert_eq!(sent_request(&out).method, Method::Ack);
        assert!(terminated(&out, id));
        assert!(layer.is_empty(), "{transport}");
    }
}

#[test]
fn server_transactions_never_retransmit_and_end_at_once() {
    for transport in RELIABLE {
        let start = Instant::now();
        let mut layer = TransactionLayer::default();
        let from = peer(transport, "127.0.0.1:40123");
        let via = format!(
            "SIP/2.0/{} 127.0.0.1:5080;branch=z9hG4bKrelsrv",
            transport.via_name()
        );

        // INVITE rejected: no Timer G; the ACK ends it at once (Timer I is zero).
        layer
            .handle_message(
                start,
                from,
                Message::Request(incoming("INVITE", &via, "rel", 1)),
            )
            .unwrap();
        let id = new_request_id(&drain(&mut layer));
        let request = layer.request(id).unwrap().clone();
        layer
            .send_response(ms(start, 100), id, reply(&request, 486))
            .unwrap();
        let out = drain(&mut layer);
        assert_eq!(sent_statuses(&out), vec![486]);
        assert_eq!(
            transmits(&out)[0].0,
            from,
            "responses use the request's connection"
        );
        let early = run_until(&mut layer, start, start + Duration::from_secs(10));
        assert!(
            early
                .iter()
                .all(|t| !matches!(t.output, TransactionOutput::Transmit { .. })),
            "{transport}: {early:?}"
        );
        let mut ack = incoming("ACK", &via, "rel", 1);
        ack.headers
            .set("To", "<sip:alice@example.com>;tag=remotetag");
        layer
            .handle_message(ms(start, 10_000), from, Message::Request(ack))
            .unwrap();
        assert!(terminated(&drain(&mut layer), id));

        // Non-INVITE: Timer J is zero.
        layer
            .handle_message(
                ms(start, 11_000),
                from,
                Message::Request(incoming("OPTIONS", &via, "rel", 2)),
            )
            .unwrap();
        let id = new_request_id(&drain(&mut layer));
        let request = layer.request(id).unwrap().clone();
        layer
            .send_response(ms(start, 11_001), id, reply(&request, 200))
            .unwrap();
        let out = drain(&mut layer);
        assert_eq!(sent_statuses(&out), vec![200]);
        assert!(terminated(&out, id));
        assert!(layer.is_empty(), "{transport}");
    }
}

#[test]
fn server_invite_without_ack_still_times_out_on_timer_h() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let from = peer(TransportKind::Tcp, "127.0.0.1:40124");
    let via = "SIP/2.0/TCP 127.0.0.1:5080;branch=z9hG4bKrelh";
    layer
        .handle_message(
            start,
            from,
            Message::Request(incoming("INVITE", via, "relh", 1)),
        )
        .unwrap();
    let id = new_request_id(&drain(&mut layer));
    let request = layer.request(id).unwrap().clone();
    layer
        .send_response(start, id, reply(&request, 500))
        .unwrap();
    drain(&mut layer);
    let timeline = run_until(&mut layer, start, start + Duration::from_secs(100));
    assert!(transmit_times(&timeline).is_empty());
    assert!(timed_out(&outputs(&timeline), id));
    assert_eq!(timeline[0].at, Duration::from_secs(32));
}
