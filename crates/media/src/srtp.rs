//! SRTP and SRTCP (RFC 3711) for one stream keyed by SDES (RFC 4568):
//! `AES_CM_128_HMAC_SHA1_80`, sans-IO.
//!
//! The cryptographic transforms, key derivation (§4.3), rollover counter (§3.3.1) and
//! replay lists (§3.3.2) come from `rtc-srtp` (the sans-IO SRTP of the webrtc-rs
//! family that `webrtc` 0.21 already builds; see docs/media.md). This module adds what
//! SDES calls for around it:
//!
//! * one context per direction, keyed from [`SrtpKeys`]: ours protects, the peer's
//!   unprotects;
//! * the MKI field (RFC 3711 §3.1) when a key announces one: written between the
//!   encrypted part and the tag on send, checked and removed on receive;
//! * SRTCP packets with the E flag clear are refused: authentication is mandatory
//!   (§3.4) and we never negotiate `UNENCRYPTED_SRTCP` (`rtc-srtp` alone would pass
//!   them through without checking their tag);
//! * packets from SSRCs that never authenticated are first checked in a scratch context
//!   (no replay lists) that is reset whenever it has seen many of them, so forged packets
//!   with random SSRCs cannot grow the per-SSRC state of the real one, nor set its replay
//!   window (which `rtc-srtp` initialises before authenticating) ahead of the real stream.
//!
//! Failures are values ([`SrtpError`]), never panics; [`CallAudio`](crate::CallAudio)
//! drops such packets and counts them in [`MediaStats`](crate::MediaStats).

use std::collections::HashSet;
use std::fmt;

use dialtone_sdp::{Mki, SrtpKey, SrtpKeys, SrtpSuite};
use rtc_shared::error::Error as SharedError;
use rtc_srtp::context::Context;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;

/// The authentication tag length of `AES_CM_128_HMAC_SHA1_80`, bytes.
const TAG_LEN: usize = 10;
/// E flag and SRTCP index, bytes (RFC 3711 §3.4).
const SRTCP_INDEX_LEN: usize = 4;
/// Replay window, packets (RFC 3711 §3.3.2 asks for at least 64).
const REPLAY_WINDOW: usize = 128;
/// How many unauthenticated SSRCs the scratch context may track before it is reset.
const PROBE_SSRCS: usize = 16;
/// How many authenticated SSRCs we keep state for (a peer restarting its stream gets a
/// new SSRC; a few per call at most).
const KNOWN_SSRCS: usize = 64;

/// Why a packet could not be protected or unprotected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SrtpError {
    /// The packet is too short or its header unreadable for SRTP/SRTCP.
    #[error("not an SRTP/SRTCP packet: {0}")]
    Malformed(String),
    /// The authentication tag does not verify (wrong key, tampering, or an MKI we did not
    /// announce; also an SRTCP packet claiming to be unencrypted).
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The packet was received before or lies behind the replay window.
    #[error("replayed packet")]
    Replayed,
    /// The key may protect no more packets (RFC 3711 §9.2: 2^48 SRTP / 2^31 SRTCP).
    #[error("the SRTP key is exhausted; re-keying is needed")]
    KeyExhausted,
    /// The keys could not be set up.
    #[error("cannot set up SRTP: {0}")]
    Setup(String),
}

/// Counters of packets an [`SrtpSession`] refused to unprotect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SrtpCounters {
    /// Packets whose tag did not verify, or too malformed to be checked.
    pub auth_failures: u64,
    /// Replayed packets.
    pub replays: u64,
}

/// SRTP/SRTCP for one stream, both directions.
pub struct SrtpSession {
    keys: SrtpKeys,
    outbound: Context,
    inbound: Inbound,
    counters: SrtpCounters,
}

impl fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpSession")
            .field("suite", &self.keys.suite)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl SrtpSession {
    /// Contexts for a negotiated stream: `keys.local_key` protects what we send,
    /// `keys.remote_key` unprotects what we receive.
    pub fn new(keys: &SrtpKeys) -> Result<SrtpSession, SrtpError> {
        Ok(SrtpSession {
            outbound: context(keys.suite, &keys.local_key, false)?,
            inbound: Inbound::new(keys.suite, keys.remote_key.clone())?,
            keys: keys.clone(),
            counters: SrtpCounters::default(),
        })
    }

    /// The keys this session runs with.
    pub fn keys(&self) -> &SrtpKeys {
        &self.keys
    }

    /// What was refused so far.
    pub fn counters(&self) -> SrtpCounters {
        self.counters
    }

    /// An RTP packet made SRTP: payload encrypted, MKI (if ours has one) and tag appended.
    pub fn protect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        rtp_ssrc(packet)?;
        rtp_header_fits(packet)?;
        let out = self.outbound.encrypt_rtp(packet).map_err(outbound_error)?;
        Ok(with_mki(out.to_vec(), self.keys.local_key.mki()))
    }

    /// An RTCP compound packet made SRTCP: encrypted, E flag and index, MKI, tag.
    pub fn protect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let out = self.outbound.encrypt_rtcp(packet).map_err(outbound_error)?;
        Ok(with_mki(out.to_vec(), self.keys.local_key.mki()))
    }

    /// An SRTP packet from the peer, authenticated, checked against replay and decrypted.
    /// Refusals are counted in [`SrtpSession::counters`].
    pub fn unprotect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let result = self.inbound.rtp(packet);
        self.count(result)
    }

    /// An SRTCP packet from the peer, authenticated, checked against replay and
    /// decrypted. Refusals are counted in [`SrtpSession::counters`].
    pub fn unprotect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let result = self.inbound.rtcp(packet);
        self.count(result)
    }

    fn count(&mut self, result: Result<Vec<u8>, SrtpError>) -> Result<Vec<u8>, SrtpError> {
        match &result {
            Err(SrtpError::Replayed) => self.counters.replays += 1,
            Err(_) => self.counters.auth_failures += 1,
            Ok(_) => {}
        }
        result
    }
}

/// The receiving side: the real context for SSRCs that authenticated, and a scratch one
/// that vets packets from unknown SSRCs first.
///
/// The scratch context has no replay lists: `rtc-srtp` initialises an SSRC's replay
/// window from the first packet it *checks*, before authenticating it, so a forged packet
/// could otherwise set the window far ahead and get the real stream refused as replays.
/// The real context only ever sees an SSRC's first packet after it authenticated.
struct Inbound {
    suite: SrtpSuite,
    key: SrtpKey,
    main: Context,
    probe: Context,
    known_rtp: HashSet<u32>,
    known_rtcp: HashSet<u32>,
    probed: HashSet<u32>,
}

impl Inbound {
    fn new(suite: SrtpSuite, key: SrtpKey) -> Result<Inbound, SrtpError> {
        Ok(Inbound {
            main: context(suite, &key, true)?,
            probe: context(suite, &key, false)?,
            suite,
            key,
            known_rtp: HashSet::new(),
            known_rtcp: HashSet::new(),
            probed: HashSet::new(),
        })
    }

    fn rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let packet = without_mki(packet, self.key.mki(), 0)?;
        let ssrc = rtp_ssrc(&packet)?;
        if !self.known_rtp.contains(&ssrc) {
            self.vet(ssrc, |probe| probe.decrypt_rtp(&packet).map(drop))?;
            if self.known_rtp.len() >= KNOWN_SSRCS {
                self.reset_main()?;
            }
            self.known_rtp.insert(ssrc);
        }
        self.main
            .decrypt_rtp(&packet)
            .map(|p| p.to_vec())
            .map_err(inbound_error)
    }

    fn rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let packet = without_mki(packet, self.key.mki(), SRTCP_INDEX_LEN)?;
        if packet.len() < 8 + SRTCP_INDEX_LEN + TAG_LEN {
            return Err(SrtpError::Malformed("SRTCP packet too short".to_string()));
        }
        // RFC 3711 §3.4: the E flag is the top bit of the word before the tag. We only
        // run encrypted SRTCP; a clear flag would skip authentication in rtc-srtp.
        if packet[packet.len() - TAG_LEN - SRTCP_INDEX_LEN] & 0x80 == 0 {
            return Err(SrtpError::AuthenticationFailed);
        }
        let ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        if !self.known_rtcp.contains(&ssrc) {
            self.vet(ssrc, |probe| probe.decrypt_rtcp(&packet).map(drop))?;
            if self.known_rtcp.len() >= KNOWN_SSRCS {
                self.reset_main()?;
            }
            self.known_rtcp.insert(ssrc);
        }
        self.main
            .decrypt_rtcp(&packet)
            .map(|p| p.to_vec())
            .map_err(inbound_error)
    }

    /// Authenticates a packet from an SSRC not seen before in the scratch context.
    fn vet(
        &mut self,
        ssrc: u32,
        check: impl FnOnce(&mut Context) -> Result<(), SharedError>,
    ) -> Result<(), SrtpError> {
        if self.probed.len() >= PROBE_SSRCS && !self.probed.contains(&ssrc) {
            self.probe = context(self.suite, &self.key, false)?;
            self.probed.clear();
        }
        self.probed.insert(ssrc);
        check(&mut self.probe).map_err(inbound_error)
    }

    /// Forgets every stream's state (only reached after dozens of authenticated SSRCs).
    fn reset_main(&mut self) -> Result<(), SrtpError> {
        self.main = context(self.suite, &self.key, true)?;
        self.known_rtp.clear();
        self.known_rtcp.clear();
        Ok(())
    }
}

/// A context for `key`; `replay_lists`: with RFC 3711 §3.3.2 replay lists (the receiving
/// context; not the sending one, and not the scratch one, whose job is authentication only).
fn context(suite: SrtpSuite, key: &SrtpKey, replay_lists: bool) -> Result<Context, SrtpError> {
    let profile = match suite {
        SrtpSuite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
    };
    let provider =
        rtc_srtp::crypto::default_provider().map_err(|e| SrtpError::Setup(e.to_string()))?;
    let (srtp_replay, srtcp_replay) = if replay_lists {
        (
            Some(srtp_replay_protection(REPLAY_WINDOW)),
            Some(srtcp_replay_protection(REPLAY_WINDOW)),
        )
    } else {
        (None, None)
    };
    Context::new(
        key.master_key(),
        key.master_salt(),
        profile,
        srtp_replay,
        srtcp_replay,
        provider.crypto(),
    )
    .map_err(|e| SrtpError::Setup(e.to_string()))
}

/// The SSRC of an RTP packet (bytes 8..12), after the version check.
fn rtp_ssrc(packet: &[u8]) -> Result<u32, SrtpError> {
    match packet {
        [first, _, _, _, _, _, _, _, a, b, c, d, ..] if first >> 6 == 2 => {
            Ok(u32::from_be_bytes([*a, *b, *c, *d]))
        }
        _ => Err(SrtpError::Malformed(
            "not an RTP version 2 packet".to_string(),
        )),
    }
}

/// rtc-srtp encrypts from where its own header parser says the header ends, recomputed from the parsed fields; a
/// header extension whose recomputed size differs from the bytes on the wire would make it index past the packet
/// (found by the `srtp` fuzz target). Such a header is refused: we never send header extensions ourselves.
fn rtp_header_fits(packet: &[u8]) -> Result<(), SrtpError> {
    use rtc_shared::marshal::{MarshalSize, Unmarshal};
    let mut buf = packet;
    let header = rtc_rtp::Header::unmarshal(&mut buf)
        .map_err(|e| SrtpError::Malformed(format!("RTP header: {e}")))?;
    let parsed = packet.len() - buf.len();
    if header.marshal_size() != parsed || parsed > packet.len() {
        return Err(SrtpError::Malformed(
            "RTP header extension of an unexpected size".to_string(),
        ));
    }
    Ok(())
}

/// Inserts the MKI between the authenticated part and the tag (RFC 3711 §3.1, §3.4).
fn with_mki(mut packet: Vec<u8>, mki: Option<Mki>) -> Vec<u8> {
    if let Some(mki) = mki {
        let at = packet.len().saturating_sub(TAG_LEN);
        packet.splice(at..at, mki.to_bytes());
    }
    packet
}

/// Checks and removes the MKI in front of the tag. `trailer`: bytes that must remain
/// between the header and the MKI (the SRTCP index).
fn without_mki(packet: &[u8], mki: Option<Mki>, trailer: usize) -> Result<Vec<u8>, SrtpError> {
    let Some(mki) = mki else {
        return Ok(packet.to_vec());
    };
    let expected = mki.to_bytes();
    let len = expected.len();
    if packet.len() < 8 + trailer + len + TAG_LEN {
        return Err(SrtpError::Malformed("too short for its MKI".to_string()));
    }
    let at = packet.len() - TAG_LEN - len;
    if packet[at..at + len] != expected[..] {
        return Err(SrtpError::AuthenticationFailed);
    }
    let mut out = Vec::with_capacity(packet.len() - len);
    out.extend_from_slice(&packet[..at]);
    out.extend_from_slice(&packet[at + len..]);
    Ok(out)
}

fn outbound_error(e: SharedError) -> SrtpError {
    match e {
        SharedError::ErrExceededMaxPackets => SrtpError::KeyExhausted,
        other => SrtpError::Malformed(other.to_string()),
    }
}

fn inbound_error(e: SharedError) -> SrtpError {
    match e {
        SharedError::SrtpSsrcDuplicated(..) | SharedError::SrtcpSsrcDuplicated(..) => {
            SrtpError::Replayed
        }
        SharedError::RtpFailedToVerifyAuthTag
        | SharedError::RtcpFailedToVerifyAuthTag
        | SharedError::ErrFailedToVerifyAuthTag => SrtpError::AuthenticationFailed,
        other => SrtpError::Malformed(other.to_string()),
    }
}
