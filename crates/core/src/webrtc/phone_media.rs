//! The WebRTC media profile for a Dialtone phone's own calls (issue #6): when a SIP peer offers
//! `UDP/TLS/RTP/SAVPF` (a PBX that only does WebRTC on its WSS port, a browser behind a plain
//! SIP proxy), the phone answers with the same bridge the relay uses — no relay in between.
//!
//! ```text
//!  SIP peer ◀─ICE/DTLS-SRTP─▶ WebRtcPeer ═ MediaBridge ═ PlainLeg ◀─RTP/AVP, loopback─▶ call audio task
//!            (Opus, BUNDLE,    (webrtc-rs, host          (plain leg of the       (CallMedia, unchanged:
//!             rtcp-mux)        candidates on the          bridge)                  codecs, jitter buffer,
//!                              phone's address only)                               devices, stats)
//! ```
//!
//! The call's audio task is not touched: its usual plain-RTP offer (made by the call's own
//! negotiator, with the phone's codec policy) is answered by the bridge's [`PlainLeg`], both on
//! the phone's local address. With Opus on both sides (the default policy) the bridge forwards
//! packets untouched; a policy without Opus makes it transcode to G.711.
//!
//! RFC 4733 DTMF: the peer connection offers and accepts telephone-event/48000 next to Opus; when the
//! WebRTC side negotiated it, the plain leg negotiates telephone-events with the audio task too and
//! the bridge passes the events both ways (see [`Conversion`](super::Conversion)).
//!
//! Later offer/answer exchanges in the same call (hold and resume, either side) keep the ICE
//! and DTLS sessions: a re-offer that keeps the peer's ICE credentials and DTLS fingerprint is
//! answered with our previous description, its direction changed and its `o=` version bumped
//! (RFC 3264 §8); the direction itself takes effect in the call's audio task. A re-offer that
//! restarts ICE or DTLS is refused (488) rather than answered with stale transport parameters.

use std::net::IpAddr;

use dialtone_sdp::Direction;
use tokio::sync::mpsc;

use super::bridge::{BridgeEvent, BridgePlan, BridgeStats, MediaBridge};
use super::peer::{PeerEvent, WebRtcPeer};
use super::plain::PlainLeg;
use super::WebRtcError;

/// The WebRTC side of one phone call: a running [`MediaBridge`] between the SIP peer's WebRTC
/// media and the call's plain-RTP audio task, and the description we last sent the peer.
#[derive(Debug)]
pub struct PhoneWebRtc {
    bridge: MediaBridge,
    /// Our last WebRTC description (answer or re-offer), as sent.
    local_sdp: String,
    /// The `o=` version of `local_sdp`.
    version: u64,
    /// The peer's ICE credentials and DTLS fingerprint, from its first description.
    remote_transport: TransportIdentity,
}

/// What names an ICE/DTLS session in a description: `a=ice-ufrag`, `a=ice-pwd`,
/// `a=fingerprint`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TransportIdentity {
    ufrag: Option<String>,
    pwd: Option<String>,
    fingerprint: Option<String>,
}

impl TransportIdentity {
    fn of(sdp: &str) -> TransportIdentity {
        let value = |name: &str| {
            sdp.lines()
                .map(str::trim_end)
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_ascii_lowercase())
        };
        TransportIdentity {
            ufrag: value("a=ice-ufrag:"),
            pwd: value("a=ice-pwd:"),
            fingerprint: value("a=fingerprint:"),
        }
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Without OS randomness the values are still unique enough per call (the time's nanos).
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .to_le_bytes();
        for (b, n) in bytes.iter_mut().zip(nanos.iter().cycle()) {
            *b = *n;
        }
    }
    bytes
}

fn random_u32() -> u32 {
    u32::from_le_bytes(random::<4>())
}

fn random_u16() -> u16 {
    u16::from_le_bytes(random::<2>())
}

/// Our WebRTC offer (a call we place with the WebRTC profile), waiting for its answer.
pub struct PendingWebRtc {
    peer: WebRtcPeer,
    peer_events: mpsc::UnboundedReceiver<PeerEvent>,
    ip: IpAddr,
    offer: String,
}

impl std::fmt::Debug for PendingWebRtc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingWebRtc")
            .field("ip", &self.ip)
            .finish_non_exhaustive()
    }
}

impl PhoneWebRtc {
    /// Makes a WebRTC offer (`UDP/TLS/RTP/SAVPF`, Opus, BUNDLE, rtcp-mux, every host candidate) from a peer
    /// connection on `ip`, for a call we place to a WebRTC peer (a browser). The answer goes to
    /// [`accept`](Self::accept).
    pub async fn offer(ip: IpAddr) -> Result<(PendingWebRtc, String), WebRtcError> {
        let (peer, peer_events) = WebRtcPeer::new(ip, random_u32()).await?;
        let offer = peer.offer().await?;
        Ok((
            PendingWebRtc {
                peer,
                peer_events,
                ip,
                offer: offer.clone(),
            },
            offer,
        ))
    }

    /// Applies the peer's answer to our [`offer`](Self::offer) and answers `phone_offer` (the call audio task's
    /// plain-RTP offer) with the bridge's plain leg. Returns the call's WebRTC side and the plain answer.
    pub async fn accept(
        pending: PendingWebRtc,
        answer: &str,
        phone_offer: &str,
        events: mpsc::UnboundedSender<BridgeEvent>,
    ) -> Result<(PhoneWebRtc, String), WebRtcError> {
        let PendingWebRtc {
            peer,
            peer_events,
            ip,
            offer,
        } = pending;
        peer.accept_answer(answer).await?;
        Self::bridge(peer, peer_events, ip, offer, answer, phone_offer, events).await
    }

    /// Starts the bridge once the WebRTC exchange is complete: `local_sdp` is our description, `remote_sdp` the
    /// peer's.
    async fn bridge(
        peer: WebRtcPeer,
        peer_events: mpsc::UnboundedReceiver<PeerEvent>,
        ip: IpAddr,
        local_sdp: String,
        remote_sdp: &str,
        phone_offer: &str,
        events: mpsc::UnboundedSender<BridgeEvent>,
    ) -> Result<(PhoneWebRtc, String), WebRtcError> {
        let webrtc = peer.format().await?;
        let session_id = u64::from_le_bytes(random::<8>()) % 1_000_000_000_000;
        // Telephone-events on the internal hop only when the WebRTC peer takes them too: the call's audio task
        // then sends RFC 4733 events (method auto), otherwise SIP INFO.
        let mut plain = PlainLeg::bind_with_events(ip, session_id, webrtc.events.is_some()).await?;
        let (phone_answer, plain_media) = plain.answer_offer(phone_offer.as_bytes())?;
        let plan = BridgePlan {
            plain: plain_media,
            webrtc,
            start: ((random_u16(), random_u32()), (random_u16(), random_u32())),
        };
        let bridge = MediaBridge::start(peer, peer_events, plain.into_sockets(), plan, events)?;
        let version = origin_version(&local_sdp).unwrap_or(1);
        Ok((
            PhoneWebRtc {
                bridge,
                local_sdp,
                version,
                remote_transport: TransportIdentity::of(remote_sdp),
            },
            phone_answer,
        ))
    }

    /// Answers the SIP peer's WebRTC `offer` with a peer connection on `ip` (the phone's local
    /// address; loopback candidates only when it is loopback), and answers `phone_offer` — the
    /// call audio task's plain-RTP offer — with the bridge's plain leg on the same address.
    /// `direction`: the direction our WebRTC answer declares (from our side). Bridge events
    /// (connected, ended) go to `events`.
    ///
    /// Returns the call's WebRTC side, our WebRTC answer (with candidates, fingerprint, ICE
    /// credentials, rtcp-mux and a BUNDLE group) and the plain answer for the audio task's
    /// negotiator. Fails with [`WebRtcError::NoOpus`] when the offer has no Opus,
    /// [`WebRtcError::NoCommonCodec`] when the audio task offered none of Opus/PCMU/PCMA.
    pub async fn answer(
        ip: IpAddr,
        offer: &str,
        phone_offer: &str,
        direction: Direction,
        events: mpsc::UnboundedSender<BridgeEvent>,
    ) -> Result<(PhoneWebRtc, String, String), WebRtcError> {
        let (peer, peer_events) = WebRtcPeer::new(ip, random_u32()).await?;
        let answer = with_direction(&peer.answer(offer).await?, direction);
        let (webrtc, phone_answer) = Self::bridge(
            peer,
            peer_events,
            ip,
            answer.clone(),
            offer,
            phone_offer,
            events,
        )
        .await?;
        Ok((webrtc, answer, phone_answer))
    }

    /// Checks that a later description of the peer keeps its ICE and DTLS session.
    fn same_transport(&self, sdp: &str) -> Result<(), WebRtcError> {
        if TransportIdentity::of(sdp) == self.remote_transport {
            Ok(())
        } else {
            Err(WebRtcError::Sdp(
                "the new description restarts ICE or DTLS (new credentials or fingerprint), which this phone does not renegotiate"
                    .into(),
            ))
        }
    }

    /// Our description again with `direction` and the next `o=` version.
    fn next_description(&mut self, direction: Direction) -> String {
        self.version += 1;
        let sdp = with_origin_version(&self.local_sdp, self.version);
        self.local_sdp = with_direction(&sdp, direction);
        self.local_sdp.clone()
    }

    /// Answers a re-offer of the peer (hold, resume, a session refresh) in the same ICE/DTLS
    /// session; `direction`: ours in the answer. The peer's direction is [`direction_of`] the
    /// offer.
    pub fn answer_again(
        &mut self,
        offer: &str,
        direction: Direction,
    ) -> Result<String, WebRtcError> {
        if !super::is_webrtc_sdp(offer.as_bytes()) {
            return Err(WebRtcError::Sdp(
                "a WebRTC call cannot change to plain RTP".into(),
            ));
        }
        self.same_transport(offer)?;
        Ok(self.next_description(direction))
    }

    /// Our re-offer (hold or resume) in the same ICE/DTLS session, declaring `direction`.
    pub fn offer_again(&mut self, direction: Direction) -> String {
        self.next_description(direction)
    }

    /// Checks the peer's answer to [`offer_again`](Self::offer_again); its direction is
    /// [`direction_of`] the answer.
    pub fn accept_answer(&self, answer: &str) -> Result<(), WebRtcError> {
        self.same_transport(answer)
    }

    /// The bridge's counters so far.
    pub fn stats(&self) -> BridgeStats {
        self.bridge.stats()
    }

    /// Whether the bridge transcodes (the audio task does not use Opus).
    pub fn is_transcoding(&self) -> bool {
        self.bridge.is_transcoding()
    }

    /// Stops the bridge and closes the peer connection; returns the final counters.
    pub async fn stop(self) -> BridgeStats {
        self.bridge.stop().await
    }
}

const DIRECTIONS: [Direction; 4] = [
    Direction::SendRecv,
    Direction::SendOnly,
    Direction::RecvOnly,
    Direction::Inactive,
];

fn direction_line(line: &str) -> Option<Direction> {
    let name = line.trim_end().strip_prefix("a=")?;
    DIRECTIONS.into_iter().find(|d| d.as_str() == name)
}

/// The direction a WebRTC description declares for its audio (media level over session level,
/// `sendrecv` when it says nothing, RFC 4566 §6). An `m=audio` with port 0 is `inactive`.
pub fn direction_of(sdp: &str) -> Direction {
    let mut session = None;
    let mut in_audio = false;
    let mut seen_media = false;
    for line in sdp.lines().map(str::trim_end) {
        if let Some(m) = line.strip_prefix("m=") {
            if in_audio {
                break;
            }
            seen_media = true;
            in_audio = m.starts_with("audio ");
            if in_audio && m.split_whitespace().nth(1) == Some("0") {
                return Direction::Inactive;
            }
            continue;
        }
        match (seen_media, in_audio, direction_line(line)) {
            (false, _, Some(d)) => session = Some(d),
            (true, true, Some(d)) => return d,
            _ => {}
        }
    }
    session.unwrap_or(Direction::SendRecv)
}

/// `sdp` with every direction attribute replaced by `direction` (one per media section,
/// none at session level).
fn with_direction(sdp: &str, direction: Direction) -> String {
    let mut out = String::with_capacity(sdp.len() + 16);
    let mut pending_section = false;
    for line in sdp.lines().map(str::trim_end) {
        if line.starts_with("m=") {
            if pending_section {
                out.push_str(&format!("a={}\r\n", direction.as_str()));
            }
            pending_section = true;
        }
        if direction_line(line).is_some() {
            if pending_section {
                out.push_str(&format!("a={}\r\n", direction.as_str()));
                pending_section = false;
            }
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    if pending_section {
        out.push_str(&format!("a={}\r\n", direction.as_str()));
    }
    out
}

/// The `<sess-version>` of the `o=` line.
fn origin_version(sdp: &str) -> Option<u64> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix("o="))
        .and_then(|o| o.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
}

/// `sdp` with the `o=` line's `<sess-version>` set to `version` (RFC 3264 §8: a changed
/// description has a higher version).
fn with_origin_version(sdp: &str, version: u64) -> String {
    let mut out = String::with_capacity(sdp.len() + 4);
    for line in sdp.lines().map(str::trim_end) {
        match line.strip_prefix("o=") {
            Some(origin) => {
                let mut fields: Vec<String> =
                    origin.split_whitespace().map(str::to_owned).collect();
                if let Some(v) = fields.get_mut(2) {
                    *v = version.to_string();
                }
                out.push_str("o=");
                out.push_str(&fields.join(" "));
            }
            None => out.push_str(line),
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0\r\na=fingerprint:sha-256 AA:BB\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:secretsecretsecret\r\na=sendonly\r\n\
        a=rtpmap:111 opus/48000/2\r\n";

    #[test]
    fn the_audio_direction_is_read_media_level_first() {
        assert_eq!(direction_of(OFFER), Direction::SendOnly);
        let session_level = OFFER
            .replace("a=sendonly\r\n", "")
            .replace("a=group:BUNDLE 0\r\n", "a=group:BUNDLE 0\r\na=recvonly\r\n");
        assert_eq!(direction_of(&session_level), Direction::RecvOnly);
        assert_eq!(
            direction_of(&OFFER.replace("a=sendonly\r\n", "")),
            Direction::SendRecv
        );
        assert_eq!(
            direction_of(&OFFER.replace("m=audio 9", "m=audio 0")),
            Direction::Inactive
        );
    }

    #[test]
    fn the_direction_is_replaced_or_added_per_media_section() {
        let recv = with_direction(OFFER, Direction::RecvOnly);
        assert_eq!(direction_of(&recv), Direction::RecvOnly);
        assert_eq!(recv.matches("a=recvonly").count(), 1, "{recv}");
        assert!(!recv.contains("a=sendonly"));
        let none = OFFER.replace("a=sendonly\r\n", "");
        let added = with_direction(&none, Direction::Inactive);
        assert!(added.ends_with("a=inactive\r\n"), "{added}");
        // The rest of the description is untouched.
        assert!(added.contains("a=ice-pwd:secretsecretsecret\r\na=rtpmap:111 opus/48000/2\r\n"));
    }

    #[test]
    fn the_origin_version_goes_up() {
        assert_eq!(origin_version(OFFER), Some(2));
        let next = with_origin_version(OFFER, 3);
        assert!(next.contains("o=- 42 3 IN IP4 127.0.0.1\r\n"), "{next}");
        assert_eq!(origin_version(&next), Some(3));
    }

    #[test]
    fn an_ice_restart_or_new_fingerprint_is_told_apart() {
        let first = TransportIdentity::of(OFFER);
        assert_eq!(
            TransportIdentity::of(&OFFER.replace("a=sendonly", "a=sendrecv")),
            first
        );
        assert_ne!(
            TransportIdentity::of(&OFFER.replace("ice-ufrag:abcd", "ice-ufrag:efgh")),
            first
        );
        assert_ne!(
            TransportIdentity::of(&OFFER.replace("AA:BB", "CC:DD")),
            first
        );
    }
}
