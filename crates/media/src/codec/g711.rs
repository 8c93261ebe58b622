//! G.711 µ-law (PCMU) and A-law (PCMA), RFC 3551 §4.5.14, as specified by ITU-T G.711
//! and implemented by its reference software (ITU-T G.191, `g711.c`): 16-bit linear
//! input with the magnitude of negative samples taken as one's complement, 14-bit
//! (µ-law) and 13-bit (A-law) quantization, reconstruction at segment mid-points.

use dialtone_sdp::CodecName;

use super::conceal::FadeConcealer;
use super::AudioCodec;
use crate::error::CodecError;

/// µ-law compression of one 16-bit sample (G.191 `ulaw_compress`).
pub fn ulaw_encode(sample: i16) -> u8 {
    // Magnitude in 14-bit units plus the bias of 33 (one's complement for negatives).
    let magnitude = if sample < 0 { !sample } else { sample };
    let absno = ((i32::from(magnitude) >> 2) + 33).min(0x1FFF);
    let mut segment = 1;
    let mut i = absno >> 6;
    while i != 0 {
        segment += 1;
        i >>= 1;
    }
    let high = 8 - segment;
    let low = 0x0F - ((absno >> segment) & 0x0F);
    let code = (high << 4 | low) as u8;
    if sample >= 0 {
        code | 0x80
    } else {
        code
    }
}

/// µ-law expansion of one code to 16-bit linear (G.191 `ulaw_expand`).
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TABLE[usize::from(code)]
}

/// A-law compression of one 16-bit sample (G.191 `alaw_compress`).
pub fn alaw_encode(sample: i16) -> u8 {
    let magnitude = if sample < 0 { !sample } else { sample };
    let mut ix = i32::from(magnitude) >> 4;
    if ix > 15 {
        let mut exponent = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            exponent += 1;
        }
        ix -= 16;
        ix += exponent << 4;
    }
    if sample >= 0 {
        ix |= 0x80;
    }
    (ix ^ 0x55) as u8
}

/// A-law expansion of one code to 16-bit linear (G.191 `alaw_expand`).
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TABLE[usize::from(code)]
}

const fn ulaw_expand(code: u8) -> i16 {
    let mantissa = !code;
    let exponent = (mantissa >> 4) & 0x07;
    let segment = exponent as i32 + 1;
    let mantissa = (mantissa & 0x0F) as i32;
    let step = 4 << segment;
    let value = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
    if code < 0x80 {
        -value as i16
    } else {
        value as i16
    }
}

const fn alaw_expand(code: u8) -> i16 {
    let ix = (code ^ 0x55) & 0x7F;
    let exponent = (ix >> 4) as i32;
    let mut mantissa = (ix & 0x0F) as i32;
    if exponent > 0 {
        mantissa += 16;
    }
    mantissa = (mantissa << 4) + 0x08;
    if exponent > 1 {
        mantissa <<= exponent - 1;
    }
    if code > 127 {
        mantissa as i16
    } else {
        -mantissa as i16
    }
}

const fn table(alaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if alaw {
            alaw_expand(i as u8)
        } else {
            ulaw_expand(i as u8)
        };
        i += 1;
    }
    t
}

static ULAW_TABLE: [i16; 256] = table(false);
static ALAW_TABLE: [i16; 256] = table(true);

/// A G.711 codec (µ-law or A-law), 8 kHz, one byte per sample, any frame size.
#[derive(Debug, Clone)]
pub struct G711 {
    alaw: bool,
    concealer: FadeConcealer,
}

impl G711 {
    /// PCMU.
    pub fn ulaw() -> G711 {
        G711 {
            alaw: false,
            concealer: FadeConcealer::new(8000),
        }
    }

    /// PCMA.
    pub fn alaw() -> G711 {
        G711 {
            alaw: true,
            concealer: FadeConcealer::new(8000),
        }
    }
}

impl AudioCodec for G711 {
    fn name(&self) -> CodecName {
        if self.alaw {
            CodecName::Alaw
        } else {
            CodecName::Ulaw
        }
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
        let encode = if self.alaw { alaw_encode } else { ulaw_encode };
        out.extend(pcm.iter().map(|&s| encode(s)));
        Ok(())
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), CodecError> {
        let table = if self.alaw { &ALAW_TABLE } else { &ULAW_TABLE };
        let start = out.len();
        out.extend(payload.iter().map(|&c| table[usize::from(c)]));
        self.concealer.remember(&out[start..]);
        Ok(())
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        self.concealer.conceal(samples, out);
    }
}
