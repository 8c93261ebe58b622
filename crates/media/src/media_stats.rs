//! Per-call media statistics, live and at the end: what the CLI prints as JSON lines and
//! the UI shows (RFC 3550 counters, jitter buffer counters, E-model estimate).

use serde::Serialize;

/// A snapshot of one call's audio statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaStats {
    /// The codec's configuration name (`opus`, `alaw`, ...).
    pub codec: String,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// RTP bytes sent (datagrams, headers included).
    pub bytes_sent: u64,
    /// RTP packets received from the peer (valid ones).
    pub packets_received: u64,
    /// RTP bytes received from the peer.
    pub bytes_received: u64,
    /// Peer packets that never arrived (RFC 3550 A.3).
    pub packets_lost: i64,
    /// Peer packets that arrived too late to play.
    pub packets_late: u64,
    /// Interarrival jitter of the peer's stream, ms (RFC 3550 A.8).
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, ms, once known.
    pub rtt_ms: Option<f64>,
    /// The jitter buffer's target delay, ms.
    pub jitter_buffer_ms: f64,
    /// Frames made up by concealment.
    pub concealed_frames: u64,
    /// What the peer reports losing of our stream, in all.
    pub remote_packets_lost: Option<i64>,
    /// The jitter the peer reports on our stream, ms.
    pub remote_jitter_ms: Option<f64>,
    /// DTMF digits sent.
    pub dtmf_sent: u64,
    /// DTMF digits received.
    pub dtmf_received: u64,
    /// Malformed RTP datagrams dropped.
    pub malformed_rtp: u64,
    /// Malformed RTCP datagrams dropped.
    pub malformed_rtcp: u64,
    /// Datagrams from unexpected addresses dropped.
    pub stray_packets: u64,
    /// RTP packets with a payload type we did not negotiate, or that failed to decode.
    pub undecodable_packets: u64,
    /// The media is SRTP (RFC 3711, keyed by SDES).
    pub srtp: bool,
    /// SRTP/SRTCP datagrams dropped because their authentication tag did not verify
    /// (wrong key, tampering) or they were too malformed to check.
    pub srtp_auth_failures: u64,
    /// SRTP/SRTCP datagrams dropped as replays (RFC 3711 §3.3.2).
    pub srtp_replays: u64,
    /// E-model transmission rating R (ITU-T G.107, simplified).
    pub r_factor: f64,
    /// E-model MOS estimate (1.0–4.5).
    pub mos: f64,
}
