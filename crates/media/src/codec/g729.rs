//! G.729 (ITU-T G.729 CS-ACELP, 8 kbit/s; Annex B VAD/DTX/CNG), RFC 3551 §4.5.6,
//! through `g729-sys`. Behind the `g729` cargo feature, off by default: see
//! docs/media.md for why. 10 ms frames of 80 samples, 10 bytes each; a 2-byte SID
//! frame carries comfort noise. Loss is concealed by the decoder's erasure handling.

use dialtone_sdp::CodecName;

use super::AudioCodec;
use crate::error::CodecError;

const FRAME: usize = 80;
const FRAME_BYTES: usize = 10;
const SID_BYTES: usize = 2;

/// A G.729 encoder/decoder pair.
pub struct G729 {
    encoder: g729_sys::Encoder,
    decoder: g729_sys::Decoder,
}

impl std::fmt::Debug for G729 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("G729").finish_non_exhaustive()
    }
}

impl G729 {
    /// A codec; `annexb` switches on VAD/DTX in our encoder (fmtp `annexb`, default yes).
    pub fn new(annexb: bool) -> G729 {
        G729 {
            encoder: g729_sys::Encoder::new(annexb),
            decoder: g729_sys::Decoder::new(),
        }
    }
}

impl AudioCodec for G729 {
    fn name(&self) -> CodecName {
        CodecName::G729
    }

    fn clock_rate(&self) -> u32 {
        8000
    }

    fn sample_rate(&self) -> u32 {
        8000
    }

    fn channels(&self) -> u8 {
        1
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        if pcm.is_empty() || !pcm.len().is_multiple_of(FRAME) {
            return Err(CodecError::FrameSize {
                codec: "g729",
                samples: pcm.len(),
                multiple: FRAME,
            });
        }
        let mut frame = [0i16; FRAME];
        let mut bytes = [0u8; FRAME_BYTES];
        for chunk in pcm.chunks_exact(FRAME) {
            frame.copy_from_slice(chunk);
            let n = usize::from(self.encoder.encode_into(&frame, &mut bytes)).min(FRAME_BYTES);
            out.extend_from_slice(&bytes[..n]);
        }
        Ok(())
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), CodecError> {
        let voice = payload.len() / FRAME_BYTES;
        let sid = payload.len() % FRAME_BYTES;
        if (voice == 0 && sid == 0) || (sid != 0 && sid != SID_BYTES) {
            return Err(CodecError::Library {
                codec: "g729",
                reason: format!("payload of {} bytes", payload.len()),
            });
        }
        for chunk in payload[..voice * FRAME_BYTES].chunks_exact(FRAME_BYTES) {
            out.extend_from_slice(&self.decoder.decode(chunk, false, false, false));
        }
        if sid == SID_BYTES {
            let tail = &payload[voice * FRAME_BYTES..];
            out.extend_from_slice(&self.decoder.decode(tail, false, true, false));
        }
        Ok(())
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        let start = out.len();
        for _ in 0..samples.div_ceil(FRAME) {
            out.extend_from_slice(&self.decoder.decode(&[], true, false, false));
        }
        out.truncate(start + samples);
    }
}
