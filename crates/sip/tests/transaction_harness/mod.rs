//! Shared helpers for the transaction tests: peers, messages, and a driver that advances
//! simulated time from one `poll_timeout` to the next. Nothing sleeps; `start` is an arbitrary
//! base instant and every other instant is an offset from it.
#![allow(dead_code)] // each test file uses a different subset

use std::time::{Duration, Instant};

use dialtone_sip::transaction::{
    TransactionEvent, TransactionId, TransactionLayer, TransactionOutput,
};
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip_message::{Message, Method, Request, Response, Uri};

/// Our own address (the UA under test).
pub const LOCAL: &str = "127.0.0.1:5070";
/// The remote UA/proxy.
pub const REMOTE: &str = "127.0.0.1:5060";

pub fn peer(transport: TransportKind, addr: &str) -> Peer {
    Peer::new(transport, addr.parse().expect("test address"))
}

pub fn remote(transport: TransportKind) -> Peer {
    peer(transport, REMOTE)
}

pub fn ms(start: Instant, millis: u64) -> Instant {
    start + Duration::from_millis(millis)
}

/// A request from us (alice) to bob with a top Via carrying `branch`.
pub fn outgoing(method: Method, transport: TransportKind, branch: &str) -> Request {
    let uri = Uri::parse("sip:bob@127.0.0.1:5060").expect("test URI");
    let mut request = Request::new(method.clone(), uri);
    let via = format!(
        "SIP/2.0/{} {LOCAL};branch={branch};rport",
        transport.via_name()
    );
    request.headers.push("Via", via);
    request.headers.push("Max-Forwards", "70");
    request.headers.push("Route", "<sip:proxy.example.com;lr>");
    request
        .headers
        .push("From", "\"Alice\" <sip:alice@example.com>;tag=alicetag");
    request.headers.push("To", "<sip:bob@example.com>");
    request.headers.push("Call-ID", "call-1@127.0.0.1");
    request
        .headers
        .push("CSeq", format!("7 {}", method.as_str()));
    request
        .headers
        .push("Contact", format!("<sip:alice@{LOCAL}>"));
    request.headers.push("Content-Length", "0");
    request
}

/// A request as it arrives from the network: parsed from text, so the tests exercise the
/// wire format. `via` is the full top Via value.
pub fn incoming(method: &str, via: &str, call_id: &str, cseq: u32) -> Request {
    let text = format!(
        "{method} sip:alice@127.0.0.1:5070 SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:bob@example.com>;tag=bobtag\r\n\
         To: <sip:alice@example.com>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    match Message::parse(text.as_bytes()).expect("test request parses") {
        Message::Request(request) => request,
        Message::Response(_) => panic!("expected a request"),
    }
}

/// An ACK for a 2xx, as the peer's dialog sends it: a new branch, the To tag of the 2xx.
pub fn ack_for_2xx(via: &str, call_id: &str, cseq: u32, to_tag: &str) -> Request {
    let mut ack = incoming("ACK", via, call_id, cseq);
    ack.headers
        .set("To", format!("<sip:alice@example.com>;tag={to_tag}"));
    ack
}

/// The peer's response to `request`, To-tagged unless it is a 100.
pub fn reply(request: &Request, status: u16) -> Response {
    let reason = dialtone_sip_message::default_reason(status);
    let mut response = Response::for_request(request, status, reason);
    if status > 100 {
        if let Ok(mut to) = request.to() {
            to.set_tag("remotetag");
            response.headers.set("To", to.to_string());
        }
    }
    response
}

/// Serialises and re-parses, as a message crossing a socket would be.
pub fn wire(message: Message) -> Message {
    Message::parse(&message.to_bytes()).expect("our own output parses")
}

pub fn drain(layer: &mut TransactionLayer) -> Vec<TransactionOutput> {
    std::iter::from_fn(|| layer.poll_output()).collect()
}

/// One output and when (as an offset from the test's start) it came out.
#[derive(Debug, Clone)]
pub struct Timed {
    pub at: Duration,
    pub output: TransactionOutput,
}

/// Advances simulated time timer by timer until `end`, collecting every output.
pub fn run_until(layer: &mut TransactionLayer, start: Instant, end: Instant) -> Vec<Timed> {
    let mut timeline = Vec::new();
    while let Some(deadline) = layer.poll_timeout() {
        if deadline > end {
            break;
        }
        layer.handle_timeout(deadline);
        for output in drain(layer) {
            timeline.push(Timed {
                at: deadline - start,
                output,
            });
        }
    }
    timeline
}

pub fn transmit_times(timeline: &[Timed]) -> Vec<Duration> {
    timeline
        .iter()
        .filter(|t| matches!(t.output, TransactionOutput::Transmit { .. }))
        .map(|t| t.at)
        .collect()
}

pub fn transmits(outputs: &[TransactionOutput]) -> Vec<(Peer, Message)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            TransactionOutput::Transmit { dest, message } => Some((*dest, message.clone())),
            TransactionOutput::Event(_) => None,
        })
        .collect()
}

pub fn events(outputs: &[TransactionOutput]) -> Vec<TransactionEvent> {
    outputs
        .iter()
        .filter_map(|o| match o {
            TransactionOutput::Event(event) => Some(event.clone()),
            TransactionOutput::Transmit { .. } => None,
        })
        .collect()
}

/// The single transmitted message of `outputs`, as a request.
pub fn sent_request(outputs: &[TransactionOutput]) -> Request {
    let sent = transmits(outputs);
    assert_eq!(
        sent.len(),
        1,
        "expected exactly one transmission: {outputs:?}"
    );
    match wire(sent[0].1.clone()) {
        Message::Request(request) => request,
        Message::Response(r) => panic!("expected a request, sent {}", r.status),
    }
}

/// The statuses of the responses transmitted in `outputs`, in order.
pub fn sent_statuses(outputs: &[TransactionOutput]) -> Vec<u16> {
    transmits(outputs)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Response(r) => Some(r.status),
            Message::Request(_) => None,
        })
        .collect()
}

/// The statuses of the responses surfaced to the TU for `id`.
pub fn surfaced_statuses(outputs: &[TransactionOutput], id: TransactionId) -> Vec<u16> {
    events(outputs)
        .into_iter()
        .filter_map(|e| match e {
            TransactionEvent::Response { id: rid, response } if rid == id => Some(response.status),
            _ => None,
        })
        .collect()
}

pub fn terminated(outputs: &[TransactionOutput], id: TransactionId) -> bool {
    events(outputs)
        .iter()
        .any(|e| matches!(e, TransactionEvent::Terminated { id: t } if *t == id))
}

pub fn timed_out(outputs: &[TransactionOutput], id: TransactionId) -> bool {
    events(outputs)
        .iter()
        .any(|e| matches!(e, TransactionEvent::Timeout { id: t } if *t == id))
}

pub fn outputs(timeline: &[Timed]) -> Vec<TransactionOutput> {
    timeline.iter().map(|t| t.output.clone()).collect()
}

/// The id of the single new server transaction surfaced in `outputs`.
pub fn new_request_id(outputs: &[TransactionOutput]) -> TransactionId {
    let ids: Vec<_> = events(outputs)
        .into_iter()
        .filter_map(|e| match e {
            TransactionEvent::Request { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "expected one new request: {outputs:?}");
    ids[0]
}
