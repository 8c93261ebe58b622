//! What the server transport does with received bytes (RFC 3261 §18.2.1, §18.3; RFC 3581 §4):
//! parse, stamp the top Via of requests with `received`/`rport`, and answer unparseable requests
//! that can still be answered with the parse error's status (RFC 3261 §8.2.6, §21.4.1).

use std::net::{IpAddr, SocketAddr};

use dialtone_sip_message::{same_name, Headers, Message, ParseError, Request, Response};

use super::Peer;

/// The outcome of processing one datagram or one framed stream message.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// Deliver this message to the consumer.
    Deliver(Box<Message>),
    /// Send these bytes (an error response) back to the sender.
    Reply(Vec<u8>),
    /// Nothing to do (logged already).
    Discard,
}

/// Parses one whole message from `peer` and decides what to do with it.
pub(crate) fn process(bytes: &[u8], peer: Peer) -> Inbound {
    match Message::parse(bytes) {
        Ok(Message::Request(mut request)) => {
            if stamp_received(&mut request, peer.addr) {
                Inbound::Deliver(Box::new(Message::Request(request)))
            } else {
                tracing::warn!("request from {peer} without a usable Via; discarded");
                Inbound::Discard
            }
        }
        Ok(Message::Response(response)) => {
            // RFC 3261 §18.1.2: a response is matched through its top Via; without one it is
            // useless.
            if response.top_via().is_ok() {
                Inbound::Deliver(Box::new(Message::Response(response)))
            } else {
                tracing::debug!("response from {peer} without a usable Via; discarded");
                Inbound::Discard
            }
        }
        Err(err) => match error_response(&err) {
            Some(response) => {
                tracing::info!(
                    "unparseable request from {peer} ({err}); answering {}",
                    response.status
                );
                Inbound::Reply(response.to_bytes())
            }
            None => {
                tracing::debug!("discarding unparseable message from {peer}: {err}");
                Inbound::Discard
            }
        },
    }
}

/// Stamps the top Via of a request that arrived from `source` (RFC 3261 §18.2.1, RFC 3581 §4):
/// `received` is added when the sent-by host is not the source IP or when `rport` is present;
/// an empty `rport` gets the source port. Several Via lines become one comma-separated line
/// (equivalent, RFC 3261 §7.3.1). Stamping again with the same source changes nothing.
/// Returns `false` when the request has no parseable Via.
pub fn stamp_received(request: &mut Request, source: SocketAddr) -> bool {
    let Ok(mut vias) = request.vias() else {
        return false;
    };
    let Some(top) = vias.first_mut() else {
        return false;
    };
    let wants_rport = top.rport() == Some(None);
    let host_is_source = top
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip == source.ip());
    let source_ip = source.ip().to_string();
    let needs_received = wants_rport || !host_is_source;
    let already_stamped = top.received() == Some(source_ip.as_str()) && !wants_rport;
    if !needs_received || already_stamped {
        return true;
    }
    top.set_param("received", Some(&source_ip));
    if wants_rport {
        top.set_param("rport", Some(&source.port().to_string()));
    }
    let line = vias
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    request.headers.set("Via", line);
    true
}

/// The response to an unparseable request, when the error says it can be answered and the
/// headers needed to route a response (Via, From, To, Call-ID, CSeq) are known.
fn error_response(err: &ParseError) -> Option<Response> {
    let (status, reason) = err.response()?;
    let headers = err.headers()?;
    let mut response = Response::new(status, reason);
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        let mut any = false;
        for (n, value) in headers.iter() {
            if same_name(n, name) {
                any = true;
                if name == "To" {
                    response.headers.push(name, with_to_tag(value, headers));
                } else {
                    response.headers.push(name, value);
                }
            }
        }
        if !any {
            return None;
        }
    }
    Some(response)
}

/// Adds a To tag (RFC 3261 §8.2.6.2) derived from the request, so retransmissions of the
/// same bad request get the same tag.
fn with_to_tag(to: &str, headers: &Headers) -> String {
    if to.to_ascii_lowercase().contains(";tag=") {
        return to.to_owned();
    }
    // FNV-1a over Call-ID and CSeq: stable and good enough to tell stateless answers apart.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [headers.get("Call-ID"), headers.get("CSeq")]
        .into_iter()
        .flatten()
    {
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{to};tag=err{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_sip::transport::TransportKind;

    fn peer() -> Peer {
        Peer::new(TransportKind::Udp, "192.0.2.7:40000".parse().unwrap())
    }

    fn request(via: &str) -> Vec<u8> {
        format!(
            "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\n\
             Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn delivered(bytes: &[u8]) -> Request {
        match process(bytes, peer()) {
            Inbound::Deliver(m) => match *m {
                Message::Request(r) => r,
                other => panic!("not a request: {other:?}"),
            },
            other => panic!("not delivered: {other:?}"),
        }
    }

    #[test]
    fn empty_rport_gets_source_port_and_received() {
        let req = delivered(&request("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport"));
        let vias = req.vias().unwrap();
        assert_eq!(vias.len(), 2, "second Via kept");
        assert_eq!(vias[0].received(), Some("192.0.2.7"));
        assert_eq!(vias[0].rport(), Some(Some(40000)));
        assert_eq!(vias[1].received(), None);
    }

    #[test]
    fn matching_sent_by_is_left_alone() {
        let req = delivered(&request("SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1"));
        let top = req.top_via().unwrap();
        assert_eq!(top.received(), None);
        assert_eq!(top.rport(), None);
    }

    #[test]
    fn host_name_sent_by_gets_received_only() {
        let mut req = delivered(&request("SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1"));
        assert_eq!(req.top_via().unwrap().received(), Some("192.0.2.7"));
        assert_eq!(req.top_via().unwrap().rport(), None);
        let before = req.headers.clone();
        assert!(stamp_received(&mut req, peer().addr));
        assert_eq!(req.headers, before, "stamping twice is idempotent");
    }

    #[test]
    fn bad_version_request_is_answered_505_with_to_tag() {
        let text = String::from_utf8(request("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1"))
            .unwrap()
            .replacen("SIP/2.0\r\n", "SIP/7.0\r\n", 1);
        match process(text.as_bytes(), peer()) {
            Inbound::Reply(bytes) => {
                let Ok(Message::Response(resp)) = Message::parse(&bytes) else {
                    panic!("reply does not parse")
                };
                assert_eq!(resp.status, 505);
                assert!(resp.to().unwrap().tag().is_some());
                assert_eq!(resp.call_id().unwrap(), "c1");
                assert_eq!(resp.vias().unwrap().len(), 2);
            }
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn garbage_and_bad_responses_are_discarded() {
        assert!(matches!(
            process(b"\x00\x01garbage", peer()),
            Inbound::Discard
        ));
        assert!(matches!(
            process(b"SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n", peer()),
            Inbound::Discard
        ));
    }
}
