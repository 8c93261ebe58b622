//! Which calls the relay hands to its WebRTC bridge: those where a WebRTC endpoint meets a
//! plain-RTP one.
//!
//! * The caller is WebRTC when its offer uses `UDP/TLS/RTP/SAVPF` (RFC 5764 §8, JSEP RFC 8829
//!   §5.1.2).
//! * A callee's binding is WebRTC when its Contact carries the `+sip.ice` feature tag (RFC 5768
//!   §4.2, which JsSIP and SIP.js put on their REGISTER Contact). The transport alone does not
//!   tell: a Dialtone phone may register over WebSocket and still speak plain RTP.
//!
//! A call goes to the B2BUA when any target is of the other kind; the B2BUA then calls those
//! targets. Calls where every target is of the caller's kind are proxied as before.

use dialtone_relay::{Binding, CallMode, CallSetup, ModeSelector};

use crate::webrtc::is_webrtc_sdp;

/// Picks the B2BUA when WebRTC meets plain RTP (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebRtcBridgeSelector;

/// Whether a registered contact speaks WebRTC media (`+sip.ice`, RFC 5768).
pub fn is_webrtc_binding(binding: &Binding) -> bool {
    binding.contact.param("+sip.ice").is_some()
}

impl ModeSelector for WebRtcBridgeSelector {
    fn select(&mut self, setup: &CallSetup<'_>) -> CallMode {
        let webrtc_caller = setup.offer.is_some_and(is_webrtc_sdp);
        if setup
            .targets
            .iter()
            .any(|t| is_webrtc_binding(t) != webrtc_caller)
        {
            CallMode::B2bua
        } else {
            CallMode::Proxy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_sip::transport::{Peer, TransportKind};
    use dialtone_sip_message::NameAddr;
    use std::time::Instant;

    fn binding(contact: &str, transport: TransportKind) -> Binding {
        Binding {
            contact: NameAddr::parse(contact).unwrap(),
            flow: Peer::new(transport, "127.0.0.1:1".parse().unwrap()),
            expires_at: Instant::now(),
            call_id: "c".into(),
            cseq: 1,
        }
    }

    fn mode(offer: &[u8], targets: &[Binding]) -> CallMode {
        WebRtcBridgeSelector.select(&CallSetup {
            call_id: "c",
            caller: "a",
            caller_flow: Peer::new(TransportKind::Udp, "127.0.0.1:2".parse().unwrap()),
            callee: "b",
            targets,
            offer: Some(offer),
        })
    }

    #[test]
    fn webrtc_meeting_plain_rtp_goes_to_the_bridge() {
        let browser = binding(
            "<sip:k3j@df7.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance=\"<urn:uuid:1>\"",
            TransportKind::Ws,
        );
        let phone_ws = binding("<sip:bob@127.0.0.1:5070;transport=ws>", TransportKind::Ws);
        let phone = binding("<sip:bob@127.0.0.1:5070>", TransportKind::Udp);
        let webrtc = b"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n".as_slice();
        let plain = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n".as_slice();
        assert!(is_webrtc_binding(&browser) && !is_webrtc_binding(&phone_ws));
        assert_eq!(mode(webrtc, std::slice::from_ref(&phone)), CallMode::B2bua);
        assert_eq!(
            mode(webrtc, std::slice::from_ref(&phone_ws)),
            CallMode::B2bua
        );
        assert_eq!(mode(plain, std::slice::from_ref(&browser)), CallMode::B2bua);
        assert_eq!(
            mode(webrtc, std::slice::from_ref(&browser)),
            CallMode::Proxy
        );
        assert_eq!(mode(plain, &[phone_ws, phone.clone()]), CallMode::Proxy);
        assert_eq!(mode(plain, &[phone, browser]), CallMode::B2bua);
    }
}
