//! Audio codecs behind one small trait, one file each, and a registry from the
//! negotiated [`CodecName`] (+ fmtp) to a boxed codec.
//!
//! | codec | file | implementation | PCM rate | RTP clock | PLC |
//! |---|---|---|---|---|---|
//! | PCMU / PCMA (G.711, RFC 3551 §4.5.14) | `g711.rs` | ours (ITU-T G.191 reference algorithm) | 8 kHz | 8000 | repeat/fade |
//! | G.722 (RFC 3551 §4.5.2) | `g722.rs` | `audio-codec` (pure Rust) | 16 kHz | 8000 | repeat/fade |
//! | Opus (RFC 7587) | `opus.rs` | `opus` crate, bundled libopus | 48 kHz | 48000 | libopus PLC, in-band FEC |
//! | Speex NB/WB (RFC 5574) | `speex.rs` | `speex-sys`, bundled libspeex (feature `speex`) | 8/16 kHz | 8000/16000 | libspeex PLC |
//! | G.729 (RFC 3551 §4.5.6) | `g729.rs` | `g729-sys` (feature `g729`, off by default) | 8 kHz | 8000 | G.729 erasure concealment |
//!
//! All codecs take and give mono 16-bit PCM at their own [`AudioCodec::sample_rate`];
//! the [`crate::Resampler`] converts from and to device rates.

mod conceal;
mod g711;
mod g722;
#[cfg(feature = "g729")]
mod g729;
mod opus;
#[cfg(feature = "speex")]
mod speex;

use dialtone_sdp::{fmtp_param, CodecName};

use crate::error::{CodecError, MediaError};

pub use conceal::FadeConcealer;
pub use g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode, G711};
pub use g722::G722;
#[cfg(feature = "g729")]
pub use g729::G729;
pub use opus::{Opus, OpusSettings};
#[cfg(feature = "speex")]
pub use speex::Speex;

/// One audio codec: an encoder and a decoder for one stream, mono.
pub trait AudioCodec: Send {
    /// Which codec.
    fn name(&self) -> CodecName;

    /// The RTP clock rate (G.722: 8000 although it samples at 16 kHz).
    fn clock_rate(&self) -> u32;

    /// The PCM sample rate of `encode` input and `decode` output.
    fn sample_rate(&self) -> u32;

    /// PCM channels (always 1: Dialtone is mono end to end).
    fn channels(&self) -> u8;

    /// Encodes one frame of PCM (`sample_rate`, e.g. 20 ms) and appends the payload to
    /// `out`. A frame size the codec cannot take is an error.
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Decodes one payload and appends its PCM to `out`. A corrupt payload is an error
    /// (the caller conceals instead); nothing is appended then.
    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), CodecError>;

    /// Appends `samples` of concealment for lost audio: the codec's own PLC where it has
    /// one, else repeat-and-fade of the last decoded audio.
    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>);

    /// Recovers `samples` of the lost frame before `next_payload` from redundancy carried
    /// in it (Opus in-band FEC) and appends them. Returns `false`, appending nothing, when
    /// the codec or the payload has no such data.
    fn decode_fec(&mut self, next_payload: &[u8], samples: usize, out: &mut Vec<i16>) -> bool {
        let _ = (next_payload, samples, out);
        false
    }
}

/// The audio codecs this build can run, in [`CodecName::ALL`] order.
pub fn available_codecs() -> Vec<CodecName> {
    CodecName::ALL
        .into_iter()
        .filter(|c| {
            matches!(
                c,
                CodecName::Ulaw | CodecName::Alaw | CodecName::G722 | CodecName::Opus
            ) || (cfg!(feature = "speex") && matches!(c, CodecName::Speex | CodecName::Speex16))
                || (cfg!(feature = "g729") && *c == CodecName::G729)
        })
        .collect()
}

/// Builds the codec for a negotiated payload. `fmtp` is the peer's `a=fmtp` for it (what
/// the peer wants to receive: Opus `useinbandfec`, `usedtx`, `maxaveragebitrate`,
/// `maxplaybackrate`; G.729 `annexb`).
pub fn create_codec(
    name: CodecName,
    fmtp: Option<&str>,
) -> Result<Box<dyn AudioCodec>, MediaError> {
    match name {
        CodecName::Ulaw => Ok(Box::new(G711::ulaw())),
        CodecName::Alaw => Ok(Box::new(G711::alaw())),
        CodecName::G722 => Ok(Box::new(G722::new())),
        CodecName::Opus => Ok(Box::new(Opus::new(OpusSettings::from_fmtp(fmtp))?)),
        #[cfg(feature = "speex")]
        CodecName::Speex => Ok(Box::new(Speex::narrowband()?)),
        #[cfg(feature = "speex")]
        CodecName::Speex16 => Ok(Box::new(Speex::wideband()?)),
        #[cfg(feature = "g729")]
        CodecName::G729 => {
            let annexb = fmtp
                .and_then(|f| fmtp_param(f, "annexb"))
                .is_none_or(|v| !v.eq_ignore_ascii_case("no"));
            Ok(Box::new(G729::new(annexb)))
        }
        other => {
            // Keeps `fmtp_param` used in builds without G.729.
            let _ = fmtp.and_then(|f| fmtp_param(f, ""));
            Err(MediaError::UnsupportedCodec(other.as_str()))
        }
    }
}
