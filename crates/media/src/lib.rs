//! Sans-IO audio media for Dialtone (placeholder docs, completed below).
#![deny(missing_docs)]

mod demux;
mod error;
mod jitter_buffer;
mod random;
mod reception;
mod rtcp_interval;
mod rtcp_packet;
mod rtp_packet;
mod rtp_session;

pub use demux::{classify, PacketKind};
pub use error::{CodecError, MediaError, PacketError};
pub use jitter_buffer::{JitterBuffer, JitterBufferConfig, JitterStats, Playout};
pub use random::{Random, Xorshift};
pub use rtcp_interval::{deterministic_interval, randomized_interval, IntervalInputs};
pub use rtcp_packet::{
    parse_compound, write_compound, Bye, NtpTime, ReceiverReport, ReportBlock, RtcpPacket,
    SdesChunk, SenderReport, PT_BYE, PT_RR, PT_SDES, PT_SR, SDES_CNAME,
};
pub use rtp_packet::{RtpExtension, RtpPacket, RTP_HEADER_LEN};
pub use rtp_session::{
    Channel, Output, ReceivedRtp, RemoteReport, RtpEvent, RtpSession, RtpSessionConfig,
    SessionStats, Transmit,
};
