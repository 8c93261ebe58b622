//! Rewriting SDP so media flows through the relay (the rtpengine "offer/answer" rewrite):
//! connection addresses (`c=`) become the relay's, each relayed `m=` port becomes the port
//! facing the party that will receive this SDP, `a=rtcp` (RFC 3605) follows, and ICE
//! candidates are removed (RFC 8445 §5.1.1.4 / §6.1: they would let the parties bypass the
//! relay; the relay is the only address either side sees).
//!
//! Relayed streams are those with a non-zero port whose transport is RTP over UDP (`RTP/AVP`,
//! `RTP/AVPF`, `RTP/SAVP`, `RTP/SAVPF`) or `udptl` (T.38). Others (rejected streams, TCP,
//! `UDP/TLS/RTP/SAVPF` which needs ICE and DTLS, i.e. the B2BUA bridge) keep their lines and
//! their original connection address.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use dialtone_sdp::{Attribute, Connection, SessionDescription};

use super::{MediaError, MediaRelay, MediaSessionId, Side};

/// ICE attributes removed from relayed streams and, when any stream is relayed, the session.
const ICE_ATTRIBUTES: [&str; 7] = [
    "candidate",
    "remote-candidates",
    "end-of-candidates",
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "ice-lite",
];

fn relayable(protocol: &str) -> bool {
    let p = protocol.to_ascii_uppercase();
    ["RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF", "UDPTL"].contains(&p.as_str())
}

fn strip_ice(attributes: &mut Vec<Attribute>) {
    attributes.retain(|a| !ICE_ATTRIBUTES.iter().any(|name| a.is(name)));
}

impl MediaRelay {
    /// Rewrites `sdp`, sent by `from`, for the other side: records where `from` receives each
    /// stream and replaces addresses and ports with the relay's ports facing the receiver.
    /// Streams appear (and take two port pairs each) the first time an SDP shows them.
    pub fn rewrite_sdp(
        &mut self,
        now: Instant,
        session: MediaSessionId,
        from: Side,
        sdp: &str,
    ) -> Result<String, MediaError> {
        let mut desc = SessionDescription::parse(sdp)?;
        let relay_ip = self.config.advertised_ip;
        let relay_conn = Connection::new(relay_ip);
        let session_conn = desc.connection.clone();
        let session_ip = session_conn.as_ref().and_then(Connection::ip);
        let mut relayed_any = false;

        for (index, media) in desc.media.iter_mut().enumerate() {
            let ip = media
                .connections
                .first()
                .and_then(Connection::ip)
                .or(session_ip);
            let Some(ip) = ip.filter(|_| media.port != 0 && relayable(&media.protocol)) else {
                // Not relayed: keep its own address even if the session-level c= changes.
                if media.connections.is_empty() {
                    if let Some(conn) = &session_conn {
                        media.connections.push(conn.clone());
                    }
                }
                continue;
            };
            let rtp = SocketAddr::new(ip, media.port);
            let mux = media.has_attribute("rtcp-mux");
            let rtcp = match media.rtcp() {
                _ if mux => rtp,
                Some((port, address)) => {
                    let ip = address.and_then(|a| a.parse::<IpAddr>().ok()).unwrap_or(ip);
                    SocketAddr::new(ip, port)
                }
                None => SocketAddr::new(ip, media.port.saturating_add(1)),
            };
            let stream = self.stream_mut(now, session, index)?;
            stream.legs[from.index()].set_remote(rtp, rtcp);
            let facing = stream.legs[from.other().index()].pair;

            media.port = facing.rtp;
            if !media.connections.is_empty() {
                media.connections = vec![relay_conn.clone()];
            }
            let had_rtcp = media.has_attribute("rtcp");
            media.attributes.retain(|a| !a.is("rtcp"));
            strip_ice(&mut media.attributes);
            if had_rtcp {
                let value = format!("{} IN {} {relay_ip}", facing.rtcp, relay_conn.addr_type);
                // A port and an IP address: always a valid attribute value.
                if let Ok(attribute) = Attribute::new("rtcp", value) {
                    media.attributes.push(attribute);
                }
            }
            relayed_any = true;
        }
        if relayed_any {
            if desc.connection.is_some() {
                desc.connection = Some(relay_conn);
            }
            strip_ice(&mut desc.attributes);
        }
        Ok(desc.to_string())
    }
}
