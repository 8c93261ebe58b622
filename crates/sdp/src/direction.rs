//! Stream directions (RFC 3264 §5.1, §6.1; RFC 8866 §6.7).

use std::fmt;
use std::str::FromStr;

/// The direction attribute of a stream, from the point of view of the side that writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv` (the default when no direction attribute is present).
    #[default]
    SendRecv,
    /// `a=sendonly`: the writer sends but does not want to receive (putting on hold).
    SendOnly,
    /// `a=recvonly`: the writer receives but does not send.
    RecvOnly,
    /// `a=inactive`: neither.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Builds a direction from its two halves.
    pub fn from_parts(sends: bool, receives: bool) -> Self {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// True for `sendrecv` and `sendonly`.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// True for `sendrecv` and `recvonly`.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other side: their `sendonly` is our `recvonly`.
    pub fn reversed(self) -> Self {
        Direction::from_parts(self.receives(), self.sends())
    }

    /// What both allow: sending only if both allow sending, receiving likewise.
    pub fn intersect(self, other: Direction) -> Self {
        Direction::from_parts(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// The direction an answerer writes for an offered direction, given what the
    /// answerer itself wants (RFC 3264 §6.1): the offer reversed, limited by `ours`.
    pub fn answer_to(offered: Direction, ours: Direction) -> Self {
        offered.reversed().intersect(ours)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not one of the four direction attribute names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a direction: {0:?} (expected sendrecv, sendonly, recvonly or inactive)")]
pub struct NotADirection(pub String);

impl FromStr for Direction {
    type Err = NotADirection;

    /// Parses `sendrecv`, `sendonly`, `recvonly`, `inactive` (ASCII case ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| NotADirection(s.to_string()))
    }
}
