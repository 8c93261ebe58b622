//! The SDP parser: one pass over the lines, checking the type letters and their order
//! against the grammar of RFC 8866 §9 (order in §5).
//!
//! Lenient where real peers are sloppy and it costs nothing: LF without CR, empty lines
//! (skipped), blanks trailing `v=0`, `b=` and property attributes, `z=` after `t=` or `r=` (RFC 4566 and RFC 8866 placements), media lines
//! with no formats (seen on rejected streams). Strict elsewhere: an unknown type letter,
//! a line out of order or a malformed `o= c= b= t= m= a=` is an error naming the line
//! (RFC 8866 §5 lets a parser reject a description it does not understand).
//! Never panics: all slicing is on ASCII boundaries checked beforehand.

use crate::attribute::{text_problem, Attribute};
use crate::error::SdpError;
use crate::media::MediaDescription;
use crate::session::{Bandwidth, Connection, Origin, SessionDescription, Timing};

/// Where a session-level line may appear, in RFC 8866 §5 order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SessionRank {
    Start,
    Version,
    Origin,
    Name,
    Information,
    Uri,
    Email,
    Phone,
    Connection,
    Bandwidth,
    Time,
    Key,
    Attribute,
}

/// Where a media-level line may appear, in RFC 8866 §5 order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum MediaRank {
    Media,
    Information,
    Connection,
    Bandwidth,
    Key,
    Attribute,
}

struct Parser {
    session: SessionDescription,
    rank: SessionRank,
    media_rank: MediaRank,
    /// The previous line was `t=` or `r=` (so `r=`/`z=` may follow).
    after_time: bool,
}

pub(crate) fn parse(text: &str) -> Result<SessionDescription, SdpError> {
    let mut parser = Parser {
        session: SessionDescription {
            origin: Origin {
                username: String::new(),
                session_id: String::new(),
                session_version: String::new(),
                net_type: String::new(),
                addr_type: String::new(),
                address: String::new(),
            },
            session_name: String::new(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            times: Vec::new(),
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        },
        rank: SessionRank::Start,
        media_rank: MediaRank::Media,
        after_time: false,
    };
    let mut last_line = 0;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        last_line = number;
        parser.line(number, line)?;
    }
    parser.finish(last_line)
}

impl Parser {
    fn line(&mut self, number: usize, line: &str) -> Result<(), SdpError> {
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b'=' || !bytes[0].is_ascii_lowercase() {
            return Err(SdpError::parse(
                number,
                format!("expected `<letter>=<value>`, found {:?}", clip(line)),
            ));
        }
        if let Some(problem) = text_problem(line) {
            return Err(SdpError::parse(number, format!("line {problem}")));
        }
        let letter = char::from(bytes[0]);
        // Bytes 0 and 1 are ASCII, so 2 is a char boundary.
        let value = line.get(2..).unwrap_or("");
        if self.rank == SessionRank::Start && letter != 'v' {
            return Err(SdpError::parse(
                number,
                format!("a description must start with `v=0`, found `{letter}=`"),
            ));
        }
        if self.session.media.is_empty() {
            self.session_line(number, letter, value)
        } else {
            self.media_line(number, letter, value)
        }
    }

    fn session_line(&mut self, number: usize, letter: char, value: &str) -> Result<(), SdpError> {
        let rank = match letter {
            'v' => SessionRank::Version,
            'o' => SessionRank::Origin,
            's' => SessionRank::Name,
            'i' => SessionRank::Information,
            'u' => SessionRank::Uri,
            'e' => SessionRank::Email,
            'p' => SessionRank::Phone,
            'c' => SessionRank::Connection,
            'b' => SessionRank::Bandwidth,
            't' | 'r' | 'z' => SessionRank::Time,
            'k' => SessionRank::Key,
            'a' => SessionRank::Attribute,
            'm' => return self.start_media(number, value),
            other => return Err(unknown_letter(number, other)),
        };
        self.check_header_complete(number, rank)?;
        let repeatable = matches!(
            rank,
            SessionRank::Email
                | SessionRank::Phone
                | SessionRank::Bandwidth
                | SessionRank::Time
                | SessionRank::Attribute
        );
        if rank < self.rank || (rank == self.rank && !repeatable) {
            return Err(out_of_order(number, letter, "the session section"));
        }
        self.rank = rank;
        let s = &mut self.session;
        match letter {
            'v' => {
                if value.trim_end_matches([' ', '\t']) != "0" {
                    return Err(SdpError::parse(
                        number,
                        format!("unsupported SDP version {:?} (only `v=0`)", clip(value)),
                    ));
                }
            }
            'o' => s.origin = parse_origin(number, value)?,
            's' => s.session_name = value.to_string(),
            'i' => s.information = Some(value.to_string()),
            'u' => s.uri = Some(value.to_string()),
            'e' => s.emails.push(value.to_string()),
            'p' => s.phones.push(value.to_string()),
            'c' => s.connection = Some(parse_connection(number, value)?),
            'b' => s.bandwidths.push(parse_bandwidth(number, value)?),
            't' => {
                s.times.push(parse_timing(number, value)?);
                self.after_time = true;
                return Ok(());
            }
            'r' | 'z' => return self.time_extra(number, letter, value),
            'k' => s.key = Some(value.to_string()),
            _ => s.attributes.push(parse_attribute(number, value)?),
        }
        self.after_time = false;
        Ok(())
    }

    /// `r=` after `t=`/`r=`; one `z=` after `t=`/`r=`.
    fn time_extra(&mut self, number: usize, letter: char, value: &str) -> Result<(), SdpError> {
        let timing = match self.session.times.last_mut() {
            Some(t) if self.after_time && t.zone.is_none() => t,
            _ => return Err(out_of_order(number, letter, "the time description")),
        };
        if value.is_empty() {
            return Err(SdpError::parse(number, format!("empty `{letter}=` line")));
        }
        if letter == 'r' {
            timing.repeats.push(value.to_string());
        } else {
            timing.zone = Some(value.to_string());
            self.after_time = false;
        }
        Ok(())
    }

    /// `v=`, `o=`, `s=` come first, in that order, each exactly once.
    fn check_header_complete(&self, number: usize, rank: SessionRank) -> Result<(), SdpError> {
        let missing = match (self.rank, rank) {
            (SessionRank::Version, r) if r > SessionRank::Origin => Some('o'),
            (SessionRank::Origin, r) if r > SessionRank::Name => Some('s'),
            _ => None,
        };
        match missing {
            Some(letter) => Err(SdpError::parse(
                number,
                format!("missing `{letter}=` line before this one"),
            )),
            None => Ok(()),
        }
    }

    fn start_media(&mut self, number: usize, value: &str) -> Result<(), SdpError> {
        if self.session.times.is_empty() {
            self.check_header_complete(number, SessionRank::Attribute)?;
            return Err(SdpError::parse(
                number,
                "missing `t=` line before the first `m=` line",
            ));
        }
        self.session.media.push(parse_media(number, value)?);
        self.media_rank = MediaRank::Media;
        Ok(())
    }

    fn media_line(&mut self, number: usize, letter: char, value: &str) -> Result<(), SdpError> {
        let rank = match letter {
            'm' => return self.start_media(number, value),
            'i' => MediaRank::Information,
            'c' => MediaRank::Connection,
            'b' => MediaRank::Bandwidth,
            'k' => MediaRank::Key,
            'a' => MediaRank::Attribute,
            'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => {
                return Err(SdpError::parse(
                    number,
                    format!(
                        "`{letter}=` is a session-level line but appears inside a media section"
                    ),
                ))
            }
            other => return Err(unknown_letter(number, other)),
        };
        let repeatable = matches!(
            rank,
            MediaRank::Connection | MediaRank::Bandwidth | MediaRank::Attribute
        );
        if rank < self.media_rank || (rank == self.media_rank && !repeatable) {
            return Err(out_of_order(number, letter, "the media section"));
        }
        self.media_rank = rank;
        let Some(m) = self.session.media.last_mut() else {
            return Err(SdpError::parse(
                number,
                "media line outside a media section",
            ));
        };
        match letter {
            'i' => m.information = Some(value.to_string()),
            'c' => m.connections.push(parse_connection(number, value)?),
            'b' => m.bandwidths.push(parse_bandwidth(number, value)?),
            'k' => m.key = Some(value.to_string()),
            _ => m.attributes.push(parse_attribute(number, value)?),
        }
        Ok(())
    }

    fn finish(self, last_line: usize) -> Result<SessionDescription, SdpError> {
        let missing = match self.rank {
            SessionRank::Start => return Err(SdpError::parse(0, "empty session description")),
            SessionRank::Version => Some("o="),
            SessionRank::Origin => Some("s="),
            _ if self.session.times.is_empty() => Some("t="),
            _ => None,
        };
        match missing {
            Some(field) => Err(SdpError::parse(
                last_line,
                format!("description ends without a `{field}` line"),
            )),
            None => Ok(self.session),
        }
    }
}

fn parse_origin(number: usize, value: &str) -> Result<Origin, SdpError> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [username, session_id, session_version, net_type, addr_type, address] = fields[..] else {
        return Err(SdpError::parse(
            number,
            format!(
                "`o=` needs 6 fields (username sess-id sess-version nettype addrtype address), found {}",
                fields.len()
            ),
        ));
    };
    Ok(Origin {
        username: username.to_string(),
        session_id: session_id.to_string(),
        session_version: session_version.to_string(),
        net_type: net_type.to_string(),
        addr_type: addr_type.to_string(),
        address: address.to_string(),
    })
}

fn parse_connection(number: usize, value: &str) -> Result<Connection, SdpError> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [net_type, addr_type, address] = fields[..] else {
        return Err(SdpError::parse(
            number,
            format!(
                "`c=` needs 3 fields (nettype addrtype address), found {}",
                fields.len()
            ),
        ));
    };
    Ok(Connection {
        net_type: net_type.to_string(),
        addr_type: addr_type.to_string(),
        address: address.to_string(),
    })
}

fn parse_bandwidth(number: usize, value: &str) -> Result<Bandwidth, SdpError> {
    Bandwidth::parse(value).ok_or_else(|| {
        SdpError::parse(
            number,
            format!("`b=` must be `<bwtype>:<digits>`, found {:?}", clip(value)),
        )
    })
}

fn parse_timing(number: usize, value: &str) -> Result<Timing, SdpError> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let parsed = match fields[..] {
        [start, stop] => start.parse().ok().zip(stop.parse().ok()),
        _ => None,
    };
    let Some((start, stop)) = parsed else {
        return Err(SdpError::parse(
            number,
            format!(
                "`t=` must be `<start> <stop>` in decimal, found {:?}",
                clip(value)
            ),
        ));
    };
    Ok(Timing {
        start,
        stop,
        repeats: Vec::new(),
        zone: None,
    })
}

fn parse_attribute(number: usize, value: &str) -> Result<Attribute, SdpError> {
    Attribute::parse(value).ok_or_else(|| {
        SdpError::parse(
            number,
            format!(
                "`a=` must be `<token>` or `<token>:<value>`, found {:?}",
                clip(value)
            ),
        )
    })
}

fn parse_media(number: usize, value: &str) -> Result<MediaDescription, SdpError> {
    let mut fields = value.split_ascii_whitespace();
    let (Some(media), Some(port), Some(protocol)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(SdpError::parse(
            number,
            "`m=` needs `<media> <port> <proto> <fmt> ...`",
        ));
    };
    let (port, port_count) = match port.split_once('/') {
        Some((p, n)) => (p, Some(n)),
        None => (port, None),
    };
    let port: u16 = port.parse().map_err(|_| {
        SdpError::parse(number, format!("`m=` port {:?} is not 0-65535", clip(port)))
    })?;
    let port_count = match port_count {
        Some(n) => Some(n.parse::<u16>().map_err(|_| {
            SdpError::parse(
                number,
                format!("`m=` port count {:?} is not a number", clip(n)),
            )
        })?),
        None => None,
    };
    if !media.bytes().all(crate::attribute::is_token_char) {
        return Err(SdpError::parse(number, "`m=` media type is not a token"));
    }
    let mut m = MediaDescription::new(media, port, protocol, fields.map(str::to_string).collect());
    m.port_count = port_count;
    Ok(m)
}

fn unknown_letter(number: usize, letter: char) -> SdpError {
    SdpError::parse(number, format!("unknown SDP line type `{letter}=`"))
}

fn out_of_order(number: usize, letter: char, section: &str) -> SdpError {
    SdpError::parse(
        number,
        format!("`{letter}=` line out of order or repeated in {section} (RFC 8866 §5 order)"),
    )
}

/// At most 60 characters of peer text in an error message.
fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}
