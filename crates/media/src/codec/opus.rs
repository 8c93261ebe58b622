//! Opus (RFC 6716) for RTP (RFC 7587) through the `opus` crate and its bundled libopus:
//! mono at 48 kHz, VoIP application. The peer's fmtp (RFC 7587 §6.1) switches on in-band
//! FEC (`useinbandfec=1`), DTX (`usedtx=1`), caps the bitrate (`maxaveragebitrate`) and the
//! audio bandwidth (`maxplaybackrate`). Loss is concealed by libopus' PLC (decoding with
//! no input) or recovered from the next packet's FEC.

use dialtone_sdp::{fmtp_param, CodecName};
use opus::{Application, Bandwidth, Bitrate, Channels, Decoder, Encoder};

use super::AudioCodec;
use crate::error::CodecError;

/// Samples in 120 ms at 48 kHz: the longest Opus packet.
const MAX_FRAME: usize = 5760;

/// How our Opus encoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusSettings {
    /// Add in-band FEC for the previous frame to each packet.
    pub fec: bool,
    /// Discontinuous transmission: send almost nothing during silence.
    pub dtx: bool,
    /// Target bitrate in bits/s; `None` lets libopus choose.
    pub bitrate: Option<u32>,
    /// The highest audio bandwidth worth encoding, from `maxplaybackrate` (Hz).
    pub max_playback_rate: Option<u32>,
    /// The loss rate FEC is tuned for, in percent (libopus only adds FEC when > 0).
    pub expected_loss_percent: u8,
}

impl Default for OpusSettings {
    /// FEC on (tuned for 10 % loss), DTX off, automatic bitrate.
    fn default() -> Self {
        OpusSettings {
            fec: true,
            dtx: false,
            bitrate: None,
            max_playback_rate: None,
            expected_loss_percent: 10,
        }
    }
}

impl OpusSettings {
    /// Settings for what the peer asked to receive in its `a=fmtp` (RFC 7587 §6.1);
    /// without fmtp, the RFC's defaults (no FEC, no DTX).
    pub fn from_fmtp(fmtp: Option<&str>) -> OpusSettings {
        let flag = |name: &str| fmtp.and_then(|f| fmtp_param(f, name)) == Some("1");
        let number = |name: &str| {
            fmtp.and_then(|f| fmtp_param(f, name))
                .and_then(|v| v.parse::<u32>().ok())
        };
        OpusSettings {
            fec: flag("useinbandfec"),
            dtx: flag("usedtx"),
            bitrate: number("maxaveragebitrate").map(|b| b.clamp(6_000, 510_000)),
            max_playback_rate: number("maxplaybackrate"),
            ..OpusSettings::default()
        }
    }
}

/// An Opus encoder/decoder pair, mono, 48 kHz.
pub struct Opus {
    encoder: Encoder,
    decoder: Decoder,
    scratch: Vec<u8>,
    pcm: Vec<i16>,
}

impl std::fmt::Debug for Opus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opus").finish_non_exhaustive()
    }
}

fn library(e: opus::Error) -> CodecError {
    CodecError::Library {
        codec: "opus",
        reason: e.to_string(),
    }
}

impl Opus {
    /// A codec with these settings.
    pub fn new(settings: OpusSettings) -> Result<Opus, CodecError> {
        let mut encoder =
            Encoder::new(48_000, Channels::Mono, Application::Voip).map_err(library)?;
        encoder.set_inband_fec(settings.fec).map_err(library)?;
        if settings.fec {
            encoder
                .set_packet_loss_perc(i32::from(settings.expected_loss_percent.min(100)))
                .map_err(library)?;
        }
        encoder.set_dtx(settings.dtx).map_err(library)?;
        if let Some(bits) = settings.bitrate {
            encoder
                .set_bitrate(Bitrate::Bits(bits as i32))
                .map_err(library)?;
        }
        if let Some(rate) = settings.max_playback_rate {
            let bandwidth = match rate {
                0..=8_000 => Bandwidth::Narrowband,
                8_001..=12_000 => Bandwidth::Mediumband,
                12_001..=16_000 => Bandwidth::Wideband,
                16_001..=24_000 => Bandwidth::Superwideband,
                _ => Bandwidth::Fullband,
            };
            encoder.set_max_bandwidth(bandwidth).map_err(library)?;
        }
        let decoder = Decoder::new(48_000, Channels::Mono).map_err(library)?;
        Ok(Opus {
            encoder,
            decoder,
            scratch: vec![0; 1500],
            pcm: vec![0; MAX_FRAME],
        })
    }

    /// The encoder, to call libopus directly (benchmarks compare against it).
    pub fn encoder_mut(&mut self) -> &mut Encoder {
        &mut self.encoder
    }
}

impl AudioCodec for Opus {
    fn name(&self) -> CodecName {
        CodecName::Opus
    }

    fn clock_rate(&self) -> u32 {
        48_000
    }

    fn sample_rate(&self) -> u32 {
        48_000
    }

    fn channels(&self) -> u8 {
        1
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        if ![120, 240, 480, 960, 1920, 2880].contains(&pcm.len()) {
            return Err(CodecError::FrameSize {
                codec: "opus",
                samples: pcm.len(),
                multiple: 120,
            });
        }
        let n = self
            .encoder
            .encode(pcm, &mut self.scratch)
            .map_err(library)?;
        out.extend_from_slice(&self.scratch[..n]);
        Ok(())
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), CodecError> {
        if payload.is_empty() {
            return Err(CodecError::Library {
                codec: "opus",
                reason: "empty payload".to_string(),
            });
        }
        let n = self
            .decoder
            .decode(payload, &mut self.pcm, false)
            .map_err(library)?;
        out.extend_from_slice(&self.pcm[..n]);
        Ok(())
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        // libopus conceals in multiples of 2.5 ms; round up and cut.
        let mut left = samples;
        while left > 0 {
            let want = left.min(MAX_FRAME);
            let len = want.div_ceil(120) * 120;
            let start = out.len();
            if let Ok(n) = self.decoder.decode(&[], &mut self.pcm[..len], false) {
                out.extend_from_slice(&self.pcm[..n.min(want)]);
            }
            // Whatever libopus did not fill is silence.
            out.resize(start + want, 0);
            left -= want;
        }
    }

    fn decode_fec(&mut self, next_payload: &[u8], samples: usize, out: &mut Vec<i16>) -> bool {
        let len = samples.min(MAX_FRAME).div_ceil(120) * 120;
        if next_payload.is_empty() || len == 0 {
            return false;
        }
        match self
            .decoder
            .decode(next_payload, &mut self.pcm[..len], true)
        {
            Ok(n) => {
                out.extend_from_slice(&self.pcm[..n.min(samples)]);
                true
            }
            Err(_) => false,
        }
    }
}
