//! Reading a peer's media section: where to send RTP and RTCP (RFC 8866 §5.7 `c=`
//! precedence, RFC 3605 `a=rtcp`, RFC 5761 rtcp-mux), which direction it declared
//! (RFC 3264 §5.1, with the RFC 2543 `c=0.0.0.0` hold of RFC 3264 §8.4), and `a=ptime`.

use std::net::{IpAddr, SocketAddr};

use crate::direction::Direction;
use crate::error::SdpError;
use crate::media::MediaDescription;
use crate::session::SessionDescription;

/// One `m=` line of a remote description, with its session for fallbacks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RemoteMedia<'a> {
    pub session: &'a SessionDescription,
    pub media: &'a MediaDescription,
    pub index: usize,
}

impl<'a> RemoteMedia<'a> {
    pub fn new(session: &'a SessionDescription, index: usize) -> Option<Self> {
        Some(RemoteMedia {
            session,
            media: session.media.get(index)?,
            index,
        })
    }

    /// The connection address: the first media-level `c=`, else the session's.
    pub fn ip(&self) -> Result<IpAddr, SdpError> {
        let connection = self
            .media
            .connections
            .first()
            .or(self.session.connection.as_ref())
            .ok_or_else(|| SdpError::media(self.index, "no `c=` line at media or session level"))?;
        connection.ip().ok_or_else(|| {
            SdpError::media(
                self.index,
                format!(
                    "`c=` address {:?} is not an IP literal",
                    connection.address.chars().take(60).collect::<String>()
                ),
            )
        })
    }

    /// Where to send RTP.
    pub fn rtp(&self) -> Result<SocketAddr, SdpError> {
        Ok(SocketAddr::new(self.ip()?, self.media.port))
    }

    /// Where to send RTCP: RTP's address when multiplexed, else `a=rtcp` (its own
    /// address if it gives an IP), else the RTP port plus one (RFC 3550 §11).
    pub fn rtcp(&self, mux: bool) -> Result<SocketAddr, SdpError> {
        let rtp = self.rtp()?;
        if mux {
            return Ok(rtp);
        }
        if let Some((port, address)) = self.media.rtcp() {
            let ip = address
                .and_then(|a| a.parse::<IpAddr>().ok())
                .unwrap_or(rtp.ip());
            return Ok(SocketAddr::new(ip, port));
        }
        Ok(SocketAddr::new(
            rtp.ip(),
            rtp.port().checked_add(1).unwrap_or(rtp.port()),
        ))
    }

    /// The direction the peer declared: media level, else session level, else
    /// `sendrecv`. A non-ICE stream at `0.0.0.0`/`::` is the old hold: the peer does
    /// not receive.
    pub fn direction(&self) -> Direction {
        let declared = self
            .media
            .direction()
            .or(self.session.direction())
            .unwrap_or_default();
        let ice = self.media.has_attribute("ice-ufrag") || self.session.has_attribute("ice-ufrag");
        match self.ip() {
            Ok(ip) if ip.is_unspecified() && !ice => declared.intersect(Direction::SendOnly),
            _ => declared,
        }
    }

    /// `a=ptime` in whole milliseconds (a fractional part is dropped).
    pub fn ptime(&self) -> Option<u32> {
        let value = self.media.attribute("ptime")?.trim();
        let whole = value.split('.').next().unwrap_or("");
        whole.parse().ok().filter(|p| *p > 0)
    }

    /// True when the line carries `a=rtcp-mux`.
    pub fn rtcp_mux(&self) -> bool {
        self.media.has_attribute("rtcp-mux")
    }
}

/// True when two transport protocols are the same RTP profile family: `RTP/AVP` with
/// `RTP/AVPF`, `RTP/SAVP` with `RTP/SAVPF`, anything else only with itself.
pub(crate) fn same_protocol_family(a: &str, b: &str) -> bool {
    fn family(p: &str) -> String {
        let p = p.to_ascii_uppercase();
        match p.as_str() {
            "RTP/AVPF" => "RTP/AVP".to_string(),
            "RTP/SAVPF" => "RTP/SAVP".to_string(),
            _ => p,
        }
    }
    family(a) == family(b)
}
