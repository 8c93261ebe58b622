//! The UDP size rule of RFC 3261 §18.1.1: a request within 200 bytes of the path MTU (1500), or
//! larger than 1300 bytes when the MTU is unknown, MUST be sent over a congestion-controlled
//! transport such as TCP; the top Via's transport is changed accordingly before sending.
//! Responses are not moved (§18.2.2 sends them where the Via says).

use dialtone_sip_message::{Message, Request};

use super::TransportKind;

/// Largest serialized request (in bytes) still sent over UDP.
pub const UDP_MTU_LIMIT: usize = 1300;

/// The transport a message of `serialized_len` bytes headed for `kind` must really use: TCP for
/// a request over UDP larger than [`UDP_MTU_LIMIT`], otherwise `kind` unchanged.
pub fn mtu_fallback(
    kind: TransportKind,
    message: &Message,
    serialized_len: usize,
) -> TransportKind {
    match (kind, message) {
        (TransportKind::Udp, Message::Request(_)) if serialized_len > UDP_MTU_LIMIT => {
            TransportKind::Tcp
        }
        _ => kind,
    }
}

/// Sets the transport of the topmost Via to `kind` (e.g. `UDP` → `TCP` before an MTU fallback).
/// Several Via lines become one comma-separated line. Returns `false` if there is no Via.
pub fn rewrite_top_via_transport(request: &mut Request, kind: TransportKind) -> bool {
    let Ok(mut vias) = request.vias() else {
        return false;
    };
    let Some(top) = vias.first_mut() else {
        return false;
    };
    top.transport = kind.via_name().to_owned();
    let line = vias
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    request.headers.set("Via", line);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_sip_message::{Method, Response, Uri};

    fn request_of_size(target: usize) -> (Message, usize) {
        let mut req = Request::new(Method::Invite, Uri::parse("sip:bob@127.0.0.1").unwrap());
        req.headers
            .push("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKmtu");
        req.headers
            .push("Via", "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKbelow");
        req.headers.push("CSeq", "1 INVITE");
        // Grow the body until the serialized size (Content-Length digits included) hits target.
        while req.to_bytes().len() < target {
            let missing = target - req.to_bytes().len();
            req.body
                .extend(std::iter::repeat_n(b'x', missing.div_ceil(2)));
        }
        let msg = Message::Request(req);
        let len = msg.to_bytes().len();
        (msg, len)
    }

    #[test]
    fn small_udp_request_stays_on_udp() {
        let (msg, len) = request_of_size(1300);
        assert_eq!(len, UDP_MTU_LIMIT);
        assert_eq!(
            mtu_fallback(TransportKind::Udp, &msg, len),
            TransportKind::Udp
        );
    }

    #[test]
    fn request_over_1300_bytes_moves_to_tcp() {
        let (msg, len) = request_of_size(1400);
        assert!(len > UDP_MTU_LIMIT);
        assert_eq!(
            mtu_fallback(TransportKind::Udp, &msg, len),
            TransportKind::Tcp
        );
        assert_eq!(
            mtu_fallback(TransportKind::Udp, &msg, 1301),
            TransportKind::Tcp
        );
        assert_eq!(
            mtu_fallback(TransportKind::Udp, &msg, 1300),
            TransportKind::Udp
        );
    }

    #[test]
    fn other_transports_and_responses_are_untouched() {
        let (msg, len) = request_of_size(5000);
        for kind in [
            TransportKind::Tcp,
            TransportKind::Tls,
            TransportKind::Ws,
            TransportKind::Wss,
        ] {
            assert_eq!(mtu_fallback(kind, &msg, len), kind);
        }
        let response = Message::Response(Response::new(200, "OK"));
        assert_eq!(
            mtu_fallback(TransportKind::Udp, &response, 5000),
            TransportKind::Udp
        );
    }

    #[test]
    fn top_via_only_is_rewritten() {
        let (Message::Request(mut req), _) = request_of_size(2000) else {
            unreachable!("request_of_size builds a request")
        };
        assert!(rewrite_top_via_transport(&mut req, TransportKind::Tcp));
        let vias = req.vias().unwrap();
        assert_eq!(vias[0].transport, "TCP");
        assert_eq!(vias[0].branch(), Some("z9hG4bKmtu"));
        assert_eq!(vias[1].transport, "UDP");
        assert_eq!(vias.len(), 2);
    }
}
