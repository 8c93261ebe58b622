//! What the caller tells the negotiator about our side for one offer or answer
//! (RFC 3264 §5: addresses, ports, media, direction, packetization time).

use std::net::IpAddr;

use crate::attribute::Attribute;
use crate::codec::{CodecName, MediaKind};
use crate::crypto::SrtpPolicy;
use crate::direction::Direction;
use crate::extra_line::ExtraLine;

/// Our side of one media kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaParams {
    /// Our RTP port for this kind (RTCP on the next port unless rtcp-mux is negotiated).
    pub port: u16,
    /// The transport protocol we offer (default `RTP/AVP`). When answering, an offered
    /// stream is accepted if its protocol is of the same family: `RTP/AVP`/`RTP/AVPF`,
    /// `RTP/SAVP`/`RTP/SAVPF`, or exactly this protocol otherwise; the answer then
    /// echoes the offered protocol (RFC 3264 §6).
    pub protocol: String,
    /// Media-level attributes added to our `m=` section after the codec lines (e.g.
    /// `a=crypto`, ICE or DTLS attributes computed by the media layer).
    pub attributes: Vec<Attribute>,
}

impl MediaParams {
    /// `RTP/AVP` on `port`, no extra attributes.
    pub fn new(port: u16) -> Self {
        MediaParams {
            port,
            protocol: "RTP/AVP".to_string(),
            attributes: Vec::new(),
        }
    }
}

/// Our side of a whole offer or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParams {
    /// Our media address, written in `o=` and the session-level `c=`.
    pub address: IpAddr,
    /// Audio wanted (and on which port); `None`: no audio stream (offered audio is
    /// rejected with port 0).
    pub audio: Option<MediaParams>,
    /// Video wanted (and on which port); `None`: no video stream.
    pub video: Option<MediaParams>,
    /// The direction we want: `SendOnly` to put the peer on hold, `Inactive`, ...
    pub direction: Direction,
    /// `a=ptime` we write for audio, in milliseconds.
    pub ptime: Option<u32>,
    /// Offer `a=rtcp-mux` (RFC 5761), and accept it when offered.
    pub rtcp_mux: bool,
    /// Per-call extra lines, written after `c=` and before `t=`.
    pub extra_lines: Vec<ExtraLine>,
    /// Per-call strip list: codecs removed from this offer or answer.
    pub strip: Vec<CodecName>,
    /// Session-level attributes written after `t=` (e.g. `a=group:BUNDLE ...` or
    /// `a=ice-lite` from the media layer).
    pub session_attributes: Vec<Attribute>,
    /// SDES-SRTP for the audio stream (RFC 4568): off (the default), offered with
    /// `a=crypto` in `RTP/AVP` (best effort), or mandatory (`RTP/SAVP`). The key inside
    /// is ours, drawn by the caller; keep it for the whole call (a new key in a re-offer
    /// re-keys the stream).
    pub srtp: SrtpPolicy,
}

impl SessionParams {
    /// Audio only on `audio_port`, `sendrecv`, 20 ms ptime, rtcp-mux offered, no extras.
    pub fn new(address: IpAddr, audio_port: u16) -> Self {
        SessionParams {
            address,
            audio: Some(MediaParams::new(audio_port)),
            video: None,
            direction: Direction::SendRecv,
            ptime: Some(20),
            rtcp_mux: true,
            extra_lines: Vec::new(),
            strip: Vec::new(),
            session_attributes: Vec::new(),
            srtp: SrtpPolicy::Off,
        }
    }

    /// The same with video on `video_port`.
    pub fn with_video(mut self, video_port: u16) -> Self {
        self.video = Some(MediaParams::new(video_port));
        self
    }

    /// The parameters for one media kind, if that kind is wanted.
    pub fn media(&self, kind: MediaKind) -> Option<&MediaParams> {
        match kind {
            MediaKind::Audio => self.audio.as_ref(),
            MediaKind::Video => self.video.as_ref(),
        }
    }
}
