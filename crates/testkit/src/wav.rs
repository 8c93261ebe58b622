//! Test signals as WAV files (RIFF, PCM 16-bit mono) for peers that send a file: baresip's `aufile`, SIPp.

use std::path::Path;

use crate::TestkitError;

/// Writes `seconds` of a sine at `hz` (amplitude half of full scale, -6 dBFS) sampled at `rate` to `path`, the
/// same in each of `channels` channels (baresip's `aufile` wants 2 for Opus).
pub fn write_tone_wav(
    path: &Path,
    hz: f64,
    rate: u32,
    channels: u16,
    seconds: u32,
) -> Result<(), TestkitError> {
    let frames = rate as usize * seconds as usize;
    let count = frames * usize::from(channels.max(1));
    let data_len = u32::try_from(count * 2).map_err(|_| {
        TestkitError::Setup(format!(
            "{seconds} s at {rate} Hz is too long for a WAV file"
        ))
    })?;
    let mut bytes = Vec::with_capacity(44 + count * 2);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    let channels = channels.max(1);
    bytes.extend_from_slice(&channels.to_le_bytes());
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes()); // bytes per second
    bytes.extend_from_slice(&(2 * channels).to_le_bytes()); // block align
    bytes.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    let step = 2.0 * std::f64::consts::PI * hz / f64::from(rate);
    for n in 0..frames {
        let sample = (f64::from(i16::MAX) * 0.5 * (step * n as f64).sin()).round() as i16;
        for _ in 0..channels {
            bytes.extend_from_slice(&sample.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).map_err(|e| TestkitError::io("write", path, e))
}
