//! Sans-IO audio media for Dialtone (placeholder docs, completed below).
#![deny(missing_docs)]

mod call_audio;
mod codec;
mod demux;
mod dtmf;
mod error;
mod jitter_buffer;
mod media_stats;
mod quality;
mod random;
mod reception;
mod resampler;
mod rtcp_interval;
mod rtcp_packet;
mod rtp_packet;
mod rtp_session;

pub use call_audio::{CallAudio, CallAudioParams, CallEvent, CallOutput};
#[cfg(feature = "speex")]
pub use codec::Speex;
#[cfg(feature = "g729")]
pub use codec::G729;
pub use codec::{
    alaw_decode, alaw_encode, available_codecs, create_codec, ulaw_decode, ulaw_encode, AudioCodec,
    FadeConcealer, Opus, OpusSettings, G711, G722,
};
pub use demux::{classify, PacketKind};
pub use dtmf::{
    dtmf_char, dtmf_event_code, DtmfEvent, DtmfPacket, DtmfReceiver, DtmfSender,
    TelephoneEventPayload,
};
pub use error::{CodecError, MediaError, PacketError};
pub use jitter_buffer::{JitterBuffer, JitterBufferConfig, JitterStats, Playout};
pub use media_stats::MediaStats;
pub use quality::{codec_impairment, e_model, mos_from_r, CodecImpairment, Quality};
pub use random::{Random, Xorshift};
pub use resampler::Resampler;
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
