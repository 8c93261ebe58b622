//! H.264 `profile-level-id` and its offer/answer rules (RFC 6184 §8.1, §8.2.2).
//!
//! Two H.264 formats are compatible when their `packetization-mode` is equal (absent
//! means 0) and their profiles are the same once the constraint flags are read (so
//! `42e01f` and `42c01f`, both Constrained Baseline, match). The answer keeps the
//! offer's profile and, unless both sides allow level asymmetry, the lower level.

use std::fmt;
use std::str::FromStr;

use crate::error::SdpError;
use crate::rtpmap::fmtp_param;

/// The three bytes of `profile-level-id`: `profile_idc`, `profile-iop`, `level_idc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfileLevelId {
    /// `profile_idc` (0x42 Baseline, 0x4d Main, 0x58 Extended, 0x64 High, ...).
    pub profile_idc: u8,
    /// The constraint flags byte (`constraint_set0_flag` is the top bit).
    pub profile_iop: u8,
    /// `level_idc`, ten times the level (31 for level 3.1).
    pub level_idc: u8,
}

/// The H.264 profile a `profile-level-id` stands for, constraint flags included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H264Profile {
    /// Constrained Baseline (what WebRTC endpoints send).
    ConstrainedBaseline,
    /// Baseline.
    Baseline,
    /// Main.
    Main,
    /// Extended.
    Extended,
    /// Constrained High.
    ConstrainedHigh,
    /// High.
    High,
    /// Any other `profile_idc` (compared by value).
    Other(u8),
}

impl ProfileLevelId {
    /// Constrained Baseline, level 3.1 (`42e01f`): Dialtone's default.
    pub const CONSTRAINED_BASELINE_3_1: ProfileLevelId = ProfileLevelId {
        profile_idc: 0x42,
        profile_iop: 0xe0,
        level_idc: 0x1f,
    };

    /// The profile, reading the constraint flags (RFC 6184 §8.1; H.264 Annex A).
    pub fn profile(self) -> H264Profile {
        let set0 = self.profile_iop & 0x80 != 0;
        let set1 = self.profile_iop & 0x40 != 0;
        let set3 = self.profile_iop & 0x10 != 0;
        let set4_5 = self.profile_iop & 0x0c;
        match self.profile_idc {
            0x42 if set1 => H264Profile::ConstrainedBaseline,
            0x42 => H264Profile::Baseline,
            0x4d if set0 => H264Profile::ConstrainedBaseline,
            0x4d => H264Profile::Main,
            0x58 if set0 && set1 => H264Profile::ConstrainedBaseline,
            0x58 if set0 => H264Profile::Baseline,
            0x58 => H264Profile::Extended,
            0x64 if set4_5 == 0x0c && !set3 => H264Profile::ConstrainedHigh,
            0x64 => H264Profile::High,
            other => H264Profile::Other(other),
        }
    }

    /// The same profile with another level.
    pub fn with_level(self, level_idc: u8) -> Self {
        ProfileLevelId { level_idc, ..self }
    }

    /// Reads `profile-level-id` from fmtp parameters; absent means Baseline level 1
    /// (`420010`, RFC 6184 §8.1).
    pub fn from_fmtp(params: &str) -> Result<Self, SdpError> {
        match fmtp_param(params, "profile-level-id") {
            Some(v) => v.parse(),
            None => Ok(ProfileLevelId {
                profile_idc: 0x42,
                profile_iop: 0x00,
                level_idc: 0x0a,
            }),
        }
    }
}

impl FromStr for ProfileLevelId {
    type Err = SdpError;

    /// Parses six hex digits, e.g. `42e01f`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || SdpError::InvalidProfileLevelId {
            value: s.chars().take(32).collect(),
        };
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let byte = |i: usize| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(invalid)
        };
        Ok(ProfileLevelId {
            profile_idc: byte(0)?,
            profile_iop: byte(2)?,
            level_idc: byte(4)?,
        })
    }
}

impl fmt::Display for ProfileLevelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}{:02x}{:02x}",
            self.profile_idc, self.profile_iop, self.level_idc
        )
    }
}

/// `packetization-mode` from fmtp parameters; absent means 0 (RFC 6184 §8.1).
pub(crate) fn packetization_mode(params: &str) -> u8 {
    fmtp_param(params, "packetization-mode")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// True when `level-asymmetry-allowed=1` (RFC 6184 §8.1).
pub(crate) fn level_asymmetry_allowed(params: &str) -> bool {
    fmtp_param(params, "level-asymmetry-allowed") == Some("1")
}

/// The fmtp Dialtone writes for one H.264 payload.
pub(crate) fn fmtp(profile: ProfileLevelId, packetization_mode: u8) -> String {
    format!("profile-level-id={profile};packetization-mode={packetization_mode};level-asymmetry-allowed=1")
}

/// When `offered` (remote fmtp) matches our H.264 with `mode`, the fmtp we answer with:
/// the offer's profile, our level if both allow asymmetry, else the lower of the two.
pub(crate) fn answer_fmtp(offered: &str, ours: ProfileLevelId, mode: u8) -> Option<String> {
    if packetization_mode(offered) != mode {
        return None;
    }
    let theirs = ProfileLevelId::from_fmtp(offered).ok()?;
    if theirs.profile() != ours.profile() {
        return None;
    }
    let level = if level_asymmetry_allowed(offered) {
        ours.level_idc
    } else {
        ours.level_idc.min(theirs.level_idc)
    };
    Some(fmtp(theirs.with_level(level), mode))
}

/// True when the remote fmtp describes the same H.264 format as ours (used to match
/// an answer's payloads to our offer's).
pub(crate) fn same_format(ours: &str, theirs: &str) -> bool {
    let (Ok(a), Ok(b)) = (
        ProfileLevelId::from_fmtp(ours),
        ProfileLevelId::from_fmtp(theirs),
    ) else {
        return false;
    };
    packetization_mode(ours) == packetization_mode(theirs) && a.profile() == b.profile()
}
