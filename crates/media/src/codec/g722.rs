//! G.722 (ITU-T G.722 sub-band ADPCM at 64 kbit/s), RFC 3551 §4.5.2: 16 kHz audio
//! carried with an RTP clock of 8000. The DSP is the pure-Rust `audio-codec` crate;
//! concealment is repeat-and-fade (the crate has no G.722 Appendix III/IV PLC).

use audio_codec::g722::{G722Decoder, G722Encoder};
use audio_codec::{Decoder as _, Encoder as _};
use dialtone_sdp::CodecName;

use super::conceal::FadeConcealer;
use super::AudioCodec;
use crate::error::CodecError;

/// A G.722 codec at 64 kbit/s (mode 1), unpacked octets: one byte per two samples.
pub struct G722 {
    encoder: G722Encoder,
    decoder: G722Decoder,
    concealer: FadeConcealer,
    scratch: Vec<u8>,
    pcm_scratch: Vec<i16>,
}

impl G722 {
    /// A fresh encoder/decoder pair.
    pub fn new() -> G722 {
        G722 {
            encoder: G722Encoder::new(),
            decoder: G722Decoder::new(),
            concealer: FadeConcealer::new(16_000),
            scratch: Vec::new(),
            pcm_scratch: Vec::new(),
        }
    }
}

impl Default for G722 {
    fn default() -> Self {
        G722::new()
    }
}

impl std::fmt::Debug for G722 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("G722").finish_non_exhaustive()
    }
}

impl AudioCodec for G722 {
    fn name(&self) -> CodecName {
        CodecName::G722
    }

    fn clock_rate(&self) -> u32 {
        8000
    }

    fn sample_rate(&self) -> u32 {
        16_000
    }

    fn channels(&self) -> u8 {
        1
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        if !pcm.len().is_multiple_of(2) {
            return Err(CodecError::FrameSize {
                codec: "g722",
                samples: pcm.len(),
                multiple: 2,
            });
        }
        self.scratch
            .resize(self.encoder.max_encode_bytes(pcm.len()), 0);
        let n = self
            .encoder
            .encode_into(pcm, &mut self.scratch)
            .map_err(|e| CodecError::Library {
                codec: "g722",
                reason: e.to_string(),
            })?;
        out.extend_from_slice(&self.scratch[..n]);
        Ok(())
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), CodecError> {
        self.pcm_scratch
            .resize(self.decoder.max_decode_samples(payload.len()), 0);
        let n = self
            .decoder
            .decode_into(payload, &mut self.pcm_scratch)
            .map_err(|e| CodecError::Library {
                codec: "g722",
                reason: e.to_string(),
            })?;
        out.extend_from_slice(&self.pcm_scratch[..n]);
        self.concealer.remember(&self.pcm_scratch[..n]);
        Ok(())
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        self.concealer.conceal(samples, out);
    }
}
