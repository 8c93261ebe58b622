//! The result of one offer/answer exchange, per `m=` line, seen from our side
//! (RFC 3264 §6.1 for directions, RFC 3605 / RFC 5761 for the RTCP destination).

use std::net::SocketAddr;

use crate::attribute::Attribute;
use crate::codec::{CodecName, MediaKind};
use crate::crypto::SrtpKeys;
use crate::direction::Direction;

/// What an offer/answer exchange settled: one entry per `m=` line, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// One entry per `m=` line of the offer (and the answer), in order.
    pub media: Vec<NegotiatedMedia>,
}

impl Negotiated {
    /// The accepted audio stream, if any (the first one).
    pub fn audio(&self) -> Option<&AcceptedMedia> {
        self.accepted(MediaKind::Audio)
    }

    /// The accepted video stream, if any (the first one).
    pub fn video(&self) -> Option<&AcceptedMedia> {
        self.accepted(MediaKind::Video)
    }

    /// The first accepted stream of `kind`.
    pub fn accepted(&self, kind: MediaKind) -> Option<&AcceptedMedia> {
        self.media.iter().find_map(|m| match m {
            NegotiatedMedia::Accepted(a) if a.kind == kind => Some(a.as_ref()),
            _ => None,
        })
    }
}

/// The fate of one `m=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiatedMedia {
    /// The stream is in use (whatever its direction, `inactive` included).
    Accepted(Box<AcceptedMedia>),
    /// The stream was rejected or disabled: port 0 in the offer or the answer.
    Rejected {
        /// 0-based `m=` line index.
        index: usize,
        /// The `m=` media type (`audio`, `video`, `application`, ...).
        media: String,
    },
}

/// An accepted stream: what the media layer needs to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedMedia {
    /// 0-based `m=` line index.
    pub index: usize,
    /// Audio or video.
    pub kind: MediaKind,
    /// `a=mid` of the line, if any.
    pub mid: Option<String>,
    /// The transport protocol of the line (`RTP/AVP`, ...).
    pub protocol: String,
    /// The codec to send with: the first one of the answer that both sides support.
    pub codec: NegotiatedCodec,
    /// The other codecs both sides accepted, in the answer's order (the peer may switch
    /// to any of them, so be ready to receive them).
    pub other_codecs: Vec<NegotiatedCodec>,
    /// RFC 4733 telephone-event, if negotiated.
    pub telephone_event: Option<TelephoneEvent>,
    /// Our RTP port on this line.
    pub local_port: u16,
    /// Where to send RTP: the peer's `c=` (media level over session level) and port.
    pub remote_rtp: SocketAddr,
    /// Where to send RTCP: RTP's address with rtcp-mux, else `a=rtcp` (RFC 3605), else
    /// the RTP port plus one.
    pub remote_rtcp: SocketAddr,
    /// RTP and RTCP share one port (RFC 5761): both sides said `a=rtcp-mux`.
    pub rtcp_mux: bool,
    /// The direction from our side: their `sendonly` is our `recvonly`, limited by
    /// what we asked for.
    pub direction: Direction,
    /// The `a=ptime` the peer asked for (how we should packetize), if it said.
    pub ptime: Option<u32>,
    /// The peer's media-level attributes, verbatim (ICE, crypto, fingerprint, ...).
    pub remote_attributes: Vec<Attribute>,
    /// SDES-SRTP keys when the stream is protected (RFC 4568); `None`: plain RTP.
    pub srtp: Option<SrtpKeys>,
}

/// One codec both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCodec {
    /// The RTP payload type, as numbered in the answer.
    pub payload_type: u8,
    /// Which codec.
    pub name: CodecName,
    /// RTP clock rate.
    pub clock_rate: u32,
    /// Channels (1 unless the `a=rtpmap` says otherwise; Opus says 2).
    pub channels: u8,
    /// The peer's `a=fmtp` parameters for this payload (what it wants to receive:
    /// Opus FEC/DTX, H.264 profile and packetization mode, G.729 Annex B, ...).
    pub fmtp: Option<String>,
}

/// The negotiated RFC 4733 telephone-event payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Its RTP payload type.
    pub payload_type: u8,
    /// Its clock rate (8000, or 48000 next to Opus).
    pub clock_rate: u32,
    /// The peer's event list from `a=fmtp` (e.g. `0-16`), if given.
    pub events: Option<String>,
}
