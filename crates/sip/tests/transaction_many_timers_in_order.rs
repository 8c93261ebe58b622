//! Many transactions at once (a relay keeps thousands): the layer's deadline index hands out every
//! transaction's timers at their own RFC 3261 times, in time order, whatever the others do. Sixty
//! non-INVITE client transactions over UDP start 37 ms apart; every third is answered 200 at
//! +700 ms. Unanswered ones retransmit on Timer E (T1 doubling to T2) and time out on Timer F at
//! 64·T1; answered ones stop retransmitting and end on Timer K (T4) after the answer.

mod transaction_harness;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dialtone_sip::transaction::{TransactionEvent, TransactionLayer, TransactionOutput};
use dialtone_sip::transport::TransportKind;
use dialtone_sip_message::{Message, Method};
use transaction_harness::*;

const N: u64 = 60;
const STAGGER_MS: u64 = 37;
const ANSWER_AFTER_MS: u64 = 700;

fn branch_of(message: &Message) -> String {
    let Message::Request(request) = message else {
        panic!("a client transaction transmitted a response");
    };
    let via = request.headers.get("Via").expect("Via");
    via.split("branch=")
        .nth(1)
        .and_then(|b| b.split(';').next())
        .expect("branch")
        .to_string()
}

#[test]
fn sixty_transactions_each_fire_on_their_own_schedule() {
    let start = Instant::now();
    let mut layer = TransactionLayer::default();
    let dest = remote(TransportKind::Udp);
    let mut started = HashMap::new();
    let mut ids = HashMap::new();
    let mut requests = HashMap::new();
    let mut sends: HashMap<String, Vec<Duration>> = HashMap::new();
    let mut ends = HashMap::new();
    let mut last = Duration::ZERO;

    let mut record = |at: Duration, outputs: Vec<TransactionOutput>, ends: &mut HashMap<_, _>| {
        assert!(at >= last, "time went back from {last:?} to {at:?}");
        last = at;
        for output in outputs {
            match output {
                TransactionOutput::Transmit { message, .. } => {
                    sends.entry(branch_of(&message)).or_default().push(at)
                }
                TransactionOutput::Event(TransactionEvent::Terminated { id }) => {
                    ends.insert(id, at);
                }
                _ => {}
            }
        }
    };

    // Interleave the starts and answers with the timers due in between.
    let mut inputs: Vec<(u64, u64, bool)> = (0..N)
        .flat_map(|i| {
            let begin = i * STAGGER_MS;
            let mut v = vec![(begin, i, false)];
            if i % 3 == 0 {
                v.push((begin + ANSWER_AFTER_MS, i, true));
            }
            v
        })
        .collect();
    inputs.sort();
    for (at_ms, i, answer) in inputs {
        let at = ms(start, at_ms);
        while let Some(deadline) = layer.poll_timeout().filter(|d| *d <= at) {
            layer.handle_timeout(deadline);
            let outputs = drain(&mut layer);
            record(deadline - start, outputs, &mut ends);
        }
        let branch = format!("z9hG4bKmany{i}");
        if answer {
            let ok = reply(&requests[&i], 200);
            layer
                .handle_message(at, dest, wire(Message::Response(ok)))
                .expect("the 200 matches its transaction");
        } else {
            let request = outgoing(Method::Register, TransportKind::Udp, &branch);
            let id = layer.send_request(at, dest, request.clone()).expect("send");
            requests.insert(i, request);
            ids.insert(i, id);
            started.insert(branch, Duration::from_millis(at_ms));
        }
        let outputs = drain(&mut layer);
        record(Duration::from_millis(at_ms), outputs, &mut ends);
    }
    while let Some(deadline) = layer.poll_timeout() {
        layer.handle_timeout(deadline);
        let outputs = drain(&mut layer);
        record(deadline - start, outputs, &mut ends);
    }
    assert!(layer.is_empty());

    let expected_unanswered: Vec<u64> = vec![
        0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ];
    for i in 0..N {
        let branch = format!("z9hG4bKmany{i}");
        let begin = started[&branch];
        let offsets: Vec<u64> = sends[&branch]
            .iter()
            .map(|t| (*t - begin).as_millis() as u64)
            .collect();
        let end = (ends[&ids[&i]] - begin).as_millis() as u64;
        if i % 3 == 0 {
            assert_eq!(offsets, vec![0, 500], "answered transaction {i}");
            assert_eq!(end, ANSWER_AFTER_MS + 5000, "Timer K of {i}");
        } else {
            assert_eq!(offsets, expected_unanswered, "transaction {i}");
            assert_eq!(end, 32_000, "Timer F of {i}");
        }
    }
}
