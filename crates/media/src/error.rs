//! Errors of this crate. A peer's malformed packet is a [`PacketError`] (dropped and
//! counted by the session, never a panic); a bad local setup is a [`MediaError`].

/// Why bytes from the network are not a valid RTP or RTCP packet (RFC 3550 §5.1, §6.4,
/// appendix A.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Fewer bytes than the fixed header, the CSRC list, the extension or a length field
    /// promises.
    #[error("packet truncated: need {needed} bytes, have {have}")]
    Truncated {
        /// Bytes the headers call for.
        needed: usize,
        /// Bytes present.
        have: usize,
    },
    /// The version field is not 2.
    #[error("RTP/RTCP version {0}, expected 2")]
    Version(u8),
    /// The padding count is zero or larger than the packet allows.
    #[error("invalid padding length {0}")]
    Padding(usize),
    /// An RTCP compound packet does not start with SR or RR, or has padding before its
    /// last packet (RFC 3550 A.2).
    #[error("invalid RTCP compound packet: {0}")]
    Compound(&'static str),
    /// A field value the format rules out (a report count that does not fit the length,
    /// an SDES chunk without terminator, ...).
    #[error("invalid field: {0}")]
    Field(&'static str),
}

/// Why a codec could not encode or decode a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The library behind the codec rejected the input (for a peer's payload: it is
    /// corrupt); the text is the library's.
    #[error("{codec}: {reason}")]
    Library {
        /// The codec's configuration name.
        codec: &'static str,
        /// What the library said.
        reason: String,
    },
    /// The PCM frame handed to the encoder does not have a size the codec accepts.
    #[error("{codec}: cannot encode {samples} samples (frame sizes: multiples of {multiple})")]
    FrameSize {
        /// The codec's configuration name.
        codec: &'static str,
        /// Samples given.
        samples: usize,
        /// The frame sizes the codec takes are multiples of this.
        multiple: usize,
    },
}

/// Why a media pipeline could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The negotiated codec is not an audio codec this build can run (video, or a codec
    /// whose cargo feature is off, such as `g729`).
    #[error("codec {0} is not available in this build")]
    UnsupportedCodec(&'static str),
    /// A codec library failed to initialise.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The SRTP keys could not be set up.
    #[error(transparent)]
    Srtp(#[from] crate::srtp::SrtpError),
    /// A parameter is out of range (ptime, sample rate, ...).
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}
