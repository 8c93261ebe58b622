//! SDP security descriptions for SRTP (SDES, RFC 4568): the `a=crypto` attribute, the
//! key material it carries, and the policy the caller hands the negotiator.
//!
//! ```text
//! a=crypto:<tag> <crypto-suite> <key-params> [<session-param> ...]      (RFC 4568 §9.1)
//! key-params = inline:<base64(master key || master salt)>[|<lifetime>][|<MKI>:<length>]
//! ```
//!
//! Parsing is strict about the grammar (a malformed line is an [`SdpError::InvalidCrypto`],
//! never a panic) and lenient about what it does not run: an unknown suite, key method or
//! session parameter parses fine, and [`CryptoAttribute::usable`] then says whether Dialtone
//! can run the line. Key bytes never appear in `Debug` output.

use std::fmt;

use crate::attribute::Attribute;
use crate::error::SdpError;

/// Length of master key || master salt for `AES_CM_128_HMAC_SHA1_80` (RFC 4568 §6.2.1:
/// a 128-bit key and a 112-bit salt).
pub const SRTP_KEY_SALT_LEN: usize = 30;

/// An SRTP crypto suite Dialtone runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpSuite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568 §6.2.1): AES-128 counter mode, HMAC-SHA1 with
    /// an 80-bit tag; the suite every SDES implementation supports.
    AesCm128HmacSha1_80,
}

impl SrtpSuite {
    /// The suite's name in `a=crypto`.
    pub fn as_str(self) -> &'static str {
        match self {
            SrtpSuite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
        }
    }

    /// The suite called `name` (exact, as RFC 4568 registers it), if Dialtone runs it.
    pub fn from_name(name: &str) -> Option<SrtpSuite> {
        (name == "AES_CM_128_HMAC_SHA1_80").then_some(SrtpSuite::AesCm128HmacSha1_80)
    }

    /// Bytes of master key.
    pub fn master_key_len(self) -> usize {
        16
    }

    /// Bytes of master salt.
    pub fn master_salt_len(self) -> usize {
        14
    }
}

impl fmt::Display for SrtpSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Master Key Identifier (RFC 3711 §3.1, RFC 4568 §6.1): `value` written big-endian in
/// `length` bytes of every packet protected with the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mki {
    /// The identifier.
    pub value: u64,
    /// Its length on the wire, 1–128 bytes.
    pub length: u8,
}

impl Mki {
    /// The MKI field as it appears in packets.
    pub fn to_bytes(self) -> Vec<u8> {
        let length = usize::from(self.length);
        let mut bytes = vec![0u8; length];
        let value = self.value.to_be_bytes();
        let n = length.min(value.len());
        bytes[length - n..].copy_from_slice(&value[value.len() - n..]);
        bytes
    }
}

/// One direction's SRTP master key and master salt (RFC 3711 §8.2), with the MKI its
/// packets carry, if any. `Debug` shows no key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKey {
    key_salt: [u8; SRTP_KEY_SALT_LEN],
    mki: Option<Mki>,
}

impl SrtpKey {
    /// A key from 30 random bytes (master key || master salt); the caller draws them from
    /// a cryptographically secure source (this crate has no randomness).
    pub fn new(key_salt: [u8; SRTP_KEY_SALT_LEN]) -> SrtpKey {
        SrtpKey {
            key_salt,
            mki: None,
        }
    }

    /// The same key announced with an MKI.
    pub fn with_mki(mut self, mki: Option<Mki>) -> SrtpKey {
        self.mki = mki;
        self
    }

    /// Master key || master salt, as written (base64) in `inline:`.
    pub fn key_salt(&self) -> &[u8; SRTP_KEY_SALT_LEN] {
        &self.key_salt
    }

    /// The 16-byte master key.
    pub fn master_key(&self) -> &[u8] {
        &self.key_salt[..16]
    }

    /// The 14-byte master salt.
    pub fn master_salt(&self) -> &[u8] {
        &self.key_salt[16..]
    }

    /// The MKI packets protected with this key carry.
    pub fn mki(&self) -> Option<Mki> {
        self.mki
    }
}

impl fmt::Debug for SrtpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKey")
            .field("key_salt", &"<redacted>")
            .field("mki", &self.mki)
            .finish()
    }
}

/// The SRTP keys an offer/answer exchange settled for one stream (RFC 4568 §6.1: each
/// side's `a=crypto` carries the key it sends with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    /// The crypto suite both sides use.
    pub suite: SrtpSuite,
    /// The `a=crypto` tag of the accepted line.
    pub tag: u32,
    /// What we protect our RTP/RTCP with.
    pub local_key: SrtpKey,
    /// What the peer protects its RTP/RTCP with (we unprotect with it).
    pub remote_key: SrtpKey,
}

/// Whether and how the negotiator uses SDES-SRTP for audio. The driver sets it from the
/// signaling transport: keys written into SDP are only as secret as the signaling, so
/// anything but TLS or WSS must use [`SrtpPolicy::Off`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SrtpPolicy {
    /// No SRTP: offers are plain `RTP/AVP` without `a=crypto`; `RTP/SAVP` offers are
    /// rejected (port 0, or `488` when nothing else is offered), `a=crypto` lines in
    /// `RTP/AVP` offers are ignored.
    #[default]
    Off,
    /// Best effort, as many phones do: offers stay `RTP/AVP` but carry `a=crypto` with
    /// this key; an answer with a usable `a=crypto` gives SRTP, one without gives plain
    /// RTP. Offers (`RTP/AVP` or `RTP/SAVP`) with a usable `a=crypto` are answered with
    /// SRTP, `RTP/AVP` offers without one with plain RTP.
    Offer(SrtpKey),
    /// SRTP or nothing: offers are `RTP/SAVP` with `a=crypto` and this key; an offered
    /// stream without a usable `a=crypto` is rejected.
    Mandatory(SrtpKey),
}

impl SrtpPolicy {
    /// Our key, unless SRTP is off.
    pub fn key(&self) -> Option<&SrtpKey> {
        match self {
            SrtpPolicy::Off => None,
            SrtpPolicy::Offer(key) | SrtpPolicy::Mandatory(key) => Some(key),
        }
    }

    /// True for [`SrtpPolicy::Mandatory`].
    pub fn is_mandatory(&self) -> bool {
        matches!(self, SrtpPolicy::Mandatory(_))
    }
}

/// The key lifetime of an `inline:` key (RFC 4568 §6.1): how many packets it may protect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// `2^n` packets, written `2^n`.
    PowerOfTwo(u8),
    /// A packet count written in decimal.
    Packets(u64),
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lifetime::PowerOfTwo(n) => write!(f, "2^{n}"),
            Lifetime::Packets(n) => write!(f, "{n}"),
        }
    }
}

/// An `inline:` key parameter: the key and salt, an optional lifetime and MKI. `Debug`
/// shows no key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct InlineKey {
    /// Master key || master salt, decoded from base64 (30 bytes for the suite we run).
    pub key_salt: Vec<u8>,
    /// The key's lifetime, if written.
    pub lifetime: Option<Lifetime>,
    /// The MKI, if written.
    pub mki: Option<Mki>,
}

impl fmt::Debug for InlineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineKey")
            .field(
                "key_salt",
                &format_args!("<{} bytes redacted>", self.key_salt.len()),
            )
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish()
    }
}

/// One key parameter of `a=crypto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyParam {
    /// `inline:<key||salt>[|lifetime][|MKI:length]`.
    Inline(InlineKey),
    /// Another key method, kept as written.
    Other {
        /// The method name.
        method: String,
        /// Everything after `<method>:`.
        info: String,
    },
}

impl fmt::Display for KeyParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyParam::Inline(key) => {
                write!(f, "inline:{}", base64_encode(&key.key_salt))?;
                if let Some(lifetime) = key.lifetime {
                    write!(f, "|{lifetime}")?;
                }
                if let Some(mki) = key.mki {
                    write!(f, "|{}:{}", mki.value, mki.length)?;
                }
                Ok(())
            }
            KeyParam::Other { method, info } => write!(f, "{method}:{info}"),
        }
    }
}

/// An `a=crypto` attribute (RFC 4568 §9.1). Its `Display` writes the value after
/// `a=crypto:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The tag (1–9 digits) that the answer repeats for the line it accepts.
    pub tag: u32,
    /// The crypto suite as written.
    pub suite: String,
    /// The key parameters, in order (at least one).
    pub key_params: Vec<KeyParam>,
    /// Session parameters as written (`KDR=`, `UNENCRYPTED_SRTP`, `WSH=`, ...).
    pub session_params: Vec<String>,
}

impl CryptoAttribute {
    /// The attribute for one key of a suite we run: tag, suite, `inline:` key with its MKI,
    /// no lifetime, no session parameters.
    pub fn new(tag: u32, suite: SrtpSuite, key: &SrtpKey) -> CryptoAttribute {
        CryptoAttribute {
            tag,
            suite: suite.as_str().to_string(),
            key_params: vec![KeyParam::Inline(InlineKey {
                key_salt: key.key_salt().to_vec(),
                lifetime: None,
                mki: key.mki(),
            })],
            session_params: Vec::new(),
        }
    }

    /// Parses the value of an `a=crypto` line (the text after `a=crypto:`).
    ///
    /// Errors ([`SdpError::InvalidCrypto`]) when the value breaks the RFC 4568 §9.1
    /// grammar: tag not 1–9 digits, suite not `[A-Za-z0-9_]+`, no key parameter, an
    /// `inline:` key that is not base64 or has a malformed lifetime or MKI. Unknown suites,
    /// key methods and session parameters are kept as written.
    pub fn parse(value: &str) -> Result<CryptoAttribute, SdpError> {
        let mut fields = value.split([' ', '\t']).filter(|f| !f.is_empty());
        let (Some(tag), Some(suite), Some(keys)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(invalid("needs `<tag> <crypto-suite> <key-params>`"));
        };
        if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the tag must be 1 to 9 digits"));
        }
        let tag: u32 = tag
            .parse()
            .map_err(|_| invalid("the tag must be 1 to 9 digits"))?;
        if !suite
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(invalid("the crypto suite must be letters, digits and `_`"));
        }
        let key_params = keys
            .split(';')
            .map(parse_key_param)
            .collect::<Result<Vec<_>, _>>()?;
        let session_params: Vec<String> = fields.map(str::to_string).collect();
        if session_params
            .iter()
            .any(|p| !p.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(invalid("session parameters must be visible characters"));
        }
        Ok(CryptoAttribute {
            tag,
            suite: suite.to_string(),
            key_params,
            session_params,
        })
    }

    /// The `a=crypto` attribute line.
    pub fn to_attribute(&self) -> Attribute {
        // Tags are digits, suites `[A-Za-z0-9_]`, keys base64 and session parameters
        // visible characters: nothing here can hold CR, LF or NUL.
        Attribute::trusted("crypto", Some(self.to_string()))
    }

    /// The suite and key Dialtone can run this line with, or why not (RFC 4568 §6: a
    /// line is only usable if every mandatory part of it is understood).
    ///
    /// Usable: suite `AES_CM_128_HMAC_SHA1_80`, exactly one `inline:` key of 30 bytes
    /// (with any lifetime and MKI), and session parameters limited to `WSH=` (a replay
    /// window hint), `FEC_ORDER=`/`FEC_KEY=` (no FEC is used) and optional ones
    /// (`-` prefix). `KDR=` (key re-derivation), `UNENCRYPTED_SRTP`, `UNENCRYPTED_SRTCP`,
    /// `UNAUTHENTICATED_SRTP` and unknown mandatory parameters make it unusable.
    pub fn usable(&self) -> Result<(SrtpSuite, SrtpKey), String> {
        let suite = SrtpSuite::from_name(&self.suite)
            .ok_or_else(|| format!("crypto suite {} not supported", clip(&self.suite)))?;
        let key = match self.key_params.as_slice() {
            [KeyParam::Inline(key)] => key,
            [KeyParam::Other { method, .. }] => {
                return Err(format!("key method {} not supported", clip(method)))
            }
            _ => return Err("several master keys per line are not supported".to_string()),
        };
        let key_salt: [u8; SRTP_KEY_SALT_LEN] =
            key.key_salt.as_slice().try_into().map_err(|_| {
                format!(
                    "{suite} needs {SRTP_KEY_SALT_LEN} bytes of key and salt, the line has {}",
                    key.key_salt.len()
                )
            })?;
        for param in &self.session_params {
            let name = param.split('=').next().unwrap_or("");
            let ignorable =
                param.starts_with('-') || matches!(name, "WSH" | "FEC_ORDER" | "FEC_KEY");
            if !ignorable {
                return Err(format!("session parameter {} not supported", clip(param)));
            }
        }
        Ok((suite, SrtpKey::new(key_salt).with_mki(key.mki)))
    }
}

impl fmt::Display for CryptoAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.tag, self.suite)?;
        for (i, key) in self.key_params.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{key}")?;
        }
        for param in &self.session_params {
            write!(f, " {param}")?;
        }
        Ok(())
    }
}

/// The `a=crypto` lines of a media section, parsed; malformed ones come back as errors
/// in place (so callers can skip them and still see the rest).
pub(crate) fn crypto_lines(
    m: &crate::media::MediaDescription,
) -> impl Iterator<Item = Result<CryptoAttribute, SdpError>> + '_ {
    m.attribute_values("crypto").map(CryptoAttribute::parse)
}

fn parse_key_param(text: &str) -> Result<KeyParam, SdpError> {
    let Some((method, info)) = text.split_once(':') else {
        return Err(invalid("a key parameter must be `<method>:<info>`"));
    };
    if method.is_empty()
        || !method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(invalid("the key method must be letters, digits and `_`"));
    }
    if !method.eq_ignore_ascii_case("inline") {
        if info.is_empty() || !info.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("key info must be visible characters"));
        }
        return Ok(KeyParam::Other {
            method: method.to_string(),
            info: info.to_string(),
        });
    }
    let mut parts = info.split('|');
    let key_salt = base64_decode(parts.next().unwrap_or(""))
        .ok_or_else(|| invalid("the inline key is not base64"))?;
    if key_salt.is_empty() {
        return Err(invalid("the inline key is empty"));
    }
    let rest: Vec<&str> = parts.collect();
    let (lifetime, mki) = match rest.as_slice() {
        [] => (None, None),
        [one] if one.contains(':') => (None, Some(parse_mki(one)?)),
        [one] => (Some(parse_lifetime(one)?), None),
        [lifetime, mki] => (Some(parse_lifetime(lifetime)?), Some(parse_mki(mki)?)),
        _ => return Err(invalid("an inline key has at most a lifetime and an MKI")),
    };
    Ok(KeyParam::Inline(InlineKey {
        key_salt,
        lifetime,
        mki,
    }))
}

fn parse_lifetime(text: &str) -> Result<Lifetime, SdpError> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    match text.strip_prefix("2^") {
        Some(exponent) if digits(exponent) => match exponent.parse::<u8>() {
            Ok(n) if n < 64 => Ok(Lifetime::PowerOfTwo(n)),
            _ => Err(invalid("the key lifetime exponent must be below 64")),
        },
        None if digits(text) => text
            .parse()
            .map(Lifetime::Packets)
            .map_err(|_| invalid("the key lifetime does not fit 64 bits")),
        _ => Err(invalid("the key lifetime must be `2^<n>` or a number")),
    }
}

fn parse_mki(text: &str) -> Result<Mki, SdpError> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    let Some((value, length)) = text.split_once(':') else {
        return Err(invalid("the MKI must be `<value>:<length>`"));
    };
    if !digits(value) || !digits(length) {
        return Err(invalid("the MKI must be `<value>:<length>` in decimal"));
    }
    let length: u8 = match length.parse() {
        Ok(n @ 1..=128) => n,
        _ => return Err(invalid("the MKI length must be 1 to 128 bytes")),
    };
    let value: u64 = value
        .parse()
        .map_err(|_| invalid("the MKI value does not fit 64 bits"))?;
    if length < 8 && value >> (u32::from(length) * 8) != 0 {
        return Err(invalid("the MKI value does not fit its length"));
    }
    Ok(Mki { value, length })
}

fn invalid(reason: &'static str) -> SdpError {
    SdpError::InvalidCrypto { reason }
}

/// At most 40 characters of peer text in a message.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 §4) with `=` padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64, padding optional; `None` on any other character, a
/// misplaced `=`, a dangling character or non-zero leftover bits.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    if text.len() - trimmed.len() > 2
        || (text.len() != trimmed.len() && !text.len().is_multiple_of(4))
    {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in trimmed.bytes() {
        let v = BASE64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // 2 or 4 leftover bits must be zero; 6 leftover bits is a dangling character.
    (bits < 6 && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64_encode(&bytes);
            assert_eq!(text.len() % 4, 0);
            assert_eq!(base64_decode(&text), Some(bytes.clone()), "{text}");
            assert_eq!(base64_decode(text.trim_end_matches('=')), Some(bytes));
        }
        // RFC 4648 §10 vectors.
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm9vYg=="), Some(b"foob".to_vec()));
    }

    #[test]
    fn base64_refuses_junk() {
        for bad in [
            "Zm9vY", "Zm9v!A==", "Zm===", "Z===", "Zm9=vYg", "Zm9vYh==", "Zm8==",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn mki_bytes_are_big_endian_in_their_length() {
        assert_eq!(
            Mki {
                value: 1,
                length: 4
            }
            .to_bytes(),
            vec![0, 0, 0, 1]
        );
        assert_eq!(
            Mki {
                value: 0x0102,
                length: 10
            }
            .to_bytes(),
            vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
        );
    }

    #[test]
    fn key_debug_shows_no_bytes() {
        let key = SrtpKey::new([0xAB; SRTP_KEY_SALT_LEN]);
        let text = format!("{key:?}");
        assert!(
            !text.contains("171") && !text.to_lowercase().contains("ab, "),
            "{text}"
        );
        let line = CryptoAttribute::new(1, SrtpSuite::AesCm128HmacSha1_80, &key);
        let text = format!("{line:?}");
        assert!(text.contains("redacted") && !text.contains("171"), "{text}");
    }
}
