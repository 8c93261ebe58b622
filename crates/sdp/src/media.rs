//! Media descriptions: an `m=` line and its `i= c= b= k= a=` lines (RFC 8866 §5.14),
//! with lookups for the RTP attributes offer/answer needs (`rtpmap`, `fmtp`, `rtcp`,
//! direction; RFC 8866 §6, RFC 3605, RFC 3264 §5.1).

use std::fmt;

use crate::attribute::Attribute;
use crate::direction::Direction;
use crate::rtpmap::Rtpmap;
use crate::session::{Bandwidth, Connection};

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type: `audio`, `video`, `application`, `image`, ...
    pub media: String,
    /// Transport port; 0 marks a rejected or disabled stream (RFC 3264 §6, §8.2).
    pub port: u16,
    /// The `/<number of ports>` suffix, if written.
    pub port_count: Option<u16>,
    /// Transport protocol: `RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`, ...
    pub protocol: String,
    /// Media formats; for RTP these are payload type numbers as written.
    pub formats: Vec<String>,
    /// Media-level `i=`.
    pub information: Option<String>,
    /// Media-level `c=` lines; they override the session-level one.
    pub connections: Vec<Connection>,
    /// Media-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// Media-level `k=` (obsolete).
    pub key: Option<String>,
    /// Media-level `a=` lines, in order, unknown ones included.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// An `m=` line with no other lines.
    pub fn new(media: &str, port: u16, protocol: &str, formats: Vec<String>) -> Self {
        MediaDescription {
            media: media.to_string(),
            port,
            port_count: None,
            protocol: protocol.to_string(),
            formats,
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// The first attribute called `name` (ASCII case ignored): its value, or `Some("")`
    /// for a property attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.is(name))
            .map(|a| a.value().unwrap_or(""))
    }

    /// All values of the attributes called `name`, in order.
    pub fn attribute_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter(move |a| a.is(name))
            .filter_map(|a| a.value())
    }

    /// True when an attribute `name` is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.is(name))
    }

    /// The media-level direction attribute, if present (RFC 3264 §5.1).
    pub fn direction(&self) -> Option<Direction> {
        self.attributes
            .iter()
            .find_map(|a| a.value().is_none().then(|| a.name().parse().ok()).flatten())
    }

    /// The formats that are RTP payload types (0-127), in `m=` order; others skipped.
    pub fn payload_types(&self) -> Vec<u8> {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|pt| *pt <= 127)
            .collect()
    }

    /// The `a=rtpmap` for payload type `pt`, if there is a well-formed one.
    pub fn rtpmap(&self, pt: u8) -> Option<Rtpmap> {
        self.attribute_values("rtpmap")
            .filter_map(Rtpmap::parse)
            .find(|r| r.payload_type == pt)
    }

    /// The parameters of `a=fmtp:<pt> <params>`, if present.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attribute_values("fmtp").find_map(|v| {
            let (p, params) = v.split_once(' ').unwrap_or((v, ""));
            (p.trim().parse::<u8>().ok() == Some(pt)).then(|| params.trim())
        })
    }

    /// The `a=rtcp-fb` values for payload type `pt` (or `*`), e.g. `nack pli`.
    pub fn rtcp_feedback(&self, pt: u8) -> Vec<&str> {
        self.attribute_values("rtcp-fb")
            .filter_map(|v| {
                let (p, fb) = v.split_once(' ')?;
                (p == "*" || p.parse::<u8>().ok() == Some(pt)).then(|| fb.trim())
            })
            .collect()
    }

    /// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605): the port and the
    /// address, if well-formed.
    pub fn rtcp(&self) -> Option<(u16, Option<&str>)> {
        let value = self.attribute("rtcp")?;
        let mut words = value.split_ascii_whitespace();
        let port = words.next()?.parse().ok()?;
        let address = match (words.next(), words.next(), words.next()) {
            (Some(_net), Some(_addr_type), Some(address)) => Some(address),
            _ => None,
        };
        Some((port, address))
    }

    /// The `a=mid` value (RFC 5888), if present.
    pub fn mid(&self) -> Option<&str> {
        self.attribute("mid")
    }
}

impl fmt::Display for MediaDescription {
    /// Writes the `m=` section, CRLF line endings, in RFC 8866 §5 order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.protocol)?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        f.write_str("\r\n")?;
        if let Some(i) = &self.information {
            write!(f, "i={i}\r\n")?;
        }
        for c in &self.connections {
            write!(f, "{c}")?;
        }
        for b in &self.bandwidths {
            write!(f, "{b}")?;
        }
        if let Some(k) = &self.key {
            write!(f, "k={k}\r\n")?;
        }
        for a in &self.attributes {
            write!(f, "{a}")?;
        }
        Ok(())
    }
}
