//! Checking audio as audio, for tests: the dominant frequency of a recording (Goertzel
//! filters over Hann-windowed blocks) and its RMS level. A party's tone (500/700/900 Hz...)
//! must come out as the dominant frequency on the other side.

use std::path::Path;
use std::time::Duration;

use crate::DeviceError;

/// Length of one analysis block: 100 ms gives 10 Hz bins (Hann main lobe ±20 Hz).
const BLOCK_MS: u32 = 100;
/// At most this many blocks (spread over the signal) are analysed, to bound the work.
const MAX_BLOCKS: usize = 30;
/// Search range of the coarse scan.
const MIN_HZ: f64 = 40.0;
const MAX_HZ: f64 = 8000.0;
const COARSE_STEP_HZ: f64 = 10.0;
/// Below this RMS (fraction of full scale, about -80 dBFS) a signal counts as silence.
pub const SILENCE_RMS: f64 = 1e-4;

/// What [`analyze`] finds in a stretch of audio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneAnalysis {
    /// The strongest frequency in Hz (±2 Hz), or `None` for silence or too little audio.
    pub dominant_hz: Option<f64>,
    /// RMS level as a fraction of full scale (0.0..=1.0; a full-scale sine is ~0.707).
    pub rms: f64,
    /// Samples analysed (after the skipped start).
    pub samples: usize,
}

/// RMS of `samples` as a fraction of full scale.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples
        .iter()
        .map(|&s| {
            let v = f64::from(s) / 32768.0;
            v * v
        })
        .sum();
    (sum / samples.len() as f64).sqrt()
}

/// Goertzel power of `freq` Hz in `samples` (rectangular window), normalised so a
/// full-scale sine at exactly `freq` gives about 0.25.
pub fn goertzel_power(samples: &[i16], sample_rate: u32, freq: f64) -> f64 {
    let as_f64: Vec<f64> = samples.iter().map(|&s| f64::from(s) / 32768.0).collect();
    power(&as_f64, sample_rate, freq)
}

fn power(block: &[f64], sample_rate: u32, freq: f64) -> f64 {
    if block.is_empty() {
        return 0.0;
    }
    let coeff = 2.0 * (std::f64::consts::TAU * freq / f64::from(sample_rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in block {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let n = block.len() as f64;
    p / (n * n)
}

/// The dominant frequency of `samples`, or `None` if they are silent or shorter than one
/// 100 ms block.
pub fn dominant_frequency(samples: &[i16], sample_rate: u32) -> Option<f64> {
    if sample_rate == 0 || rms(samples) < SILENCE_RMS {
        return None;
    }
    let block_len = (sample_rate * BLOCK_MS / 1000) as usize;
    if block_len < 16 || samples.len() < block_len {
        return None;
    }
    let blocks = windowed_blocks(samples, block_len);
    let total = |freq: f64| -> f64 { blocks.iter().map(|b| power(b, sample_rate, freq)).sum() };
    let top = (f64::from(sample_rate) / 2.0 - COARSE_STEP_HZ).min(MAX_HZ);
    let mut best = (MIN_HZ, f64::MIN);
    let mut freq = MIN_HZ;
    while freq <= top {
        let p = total(freq);
        if p > best.1 {
            best = (freq, p);
        }
        freq += COARSE_STEP_HZ;
    }
    // Refine around the coarse peak in 1 Hz steps.
    let coarse = best.0;
    let mut offset = -COARSE_STEP_HZ;
    while offset <= COARSE_STEP_HZ {
        let f = coarse + offset;
        if f > 0.0 {
            let p = total(f);
            if p > best.1 {
                best = (f, p);
            }
        }
        offset += 1.0;
    }
    Some(best.0)
}

/// Up to [`MAX_BLOCKS`] Hann-windowed blocks spread evenly over `samples`.
fn windowed_blocks(samples: &[i16], block_len: usize) -> Vec<Vec<f64>> {
    let count = samples.len() / block_len;
    let stride = count.div_ceil(MAX_BLOCKS).max(1);
    let window: Vec<f64> = (0..block_len)
        .map(|i| {
            let x = std::f64::consts::TAU * i as f64 / (block_len - 1) as f64;
            0.5 - 0.5 * x.cos()
        })
        .collect();
    (0..count)
        .step_by(stride)
        .map(|b| {
            samples[b * block_len..(b + 1) * block_len]
                .iter()
                .zip(&window)
                .map(|(&s, w)| f64::from(s) / 32768.0 * w)
                .collect()
        })
        .collect()
}

/// Dominant frequency and RMS of `samples` after skipping the first `skip` (start-up
/// transients, device latency).
pub fn analyze(samples: &[i16], sample_rate: u32, skip: Duration) -> ToneAnalysis {
    let skip_samples = (skip.as_secs_f64() * f64::from(sample_rate)) as usize;
    let rest = samples.get(skip_samples..).unwrap_or(&[]);
    ToneAnalysis {
        dominant_hz: dominant_frequency(rest, sample_rate),
        rms: rms(rest),
        samples: rest.len(),
    }
}

/// Reads a WAV file as mono `i16` (channels averaged) and returns it with its rate.
pub fn read_wav_mono(path: impl AsRef<Path>) -> Result<(Vec<i16>, u32), DeviceError> {
    let path = path.as_ref();
    let mut reader = hound::WavReader::open(path).map_err(|e| DeviceError::wav(path, e))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let values: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let full = (1u64 << spec.bits_per_sample.clamp(1, 32).saturating_sub(1)) as f64;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| f64::from(v) / full))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| DeviceError::wav(path, e))?;
    let mono = values
        .chunks_exact(channels)
        .map(|frame| {
            let v = frame.iter().sum::<f64>() / channels as f64;
            crate::resampler::unit_to_i16(v as f32)
        })
        .collect();
    Ok((mono, spec.sample_rate))
}

/// [`analyze`] for a WAV file (mixed to mono), skipping its first `skip`.
pub fn analyze_wav(path: impl AsRef<Path>, skip: Duration) -> Result<ToneAnalysis, DeviceError> {
    let (samples, rate) = read_wav_mono(path)?;
    Ok(analyze(&samples, rate, skip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AudioSource, ToneSource};

    fn tone(freq: f64, rate: u32, secs: f64) -> Vec<i16> {
        let mut src = ToneSource::new(freq, rate).unwrap();
        let mut out = vec![0; (f64::from(rate) * secs) as usize];
        src.read(&mut out);
        out
    }

    #[test]
    fn finds_the_tone_at_several_rates() {
        for (freq, rate) in [
            (700.0, 8000),
            (900.0, 16000),
            (1000.0, 48000),
            (437.0, 44100),
        ] {
            let found = dominant_frequency(&tone(freq, rate, 1.0), rate).unwrap();
            assert!(
                (found - freq).abs() <= 2.0,
                "{freq} Hz at {rate}: found {found}"
            );
        }
    }

    #[test]
    fn the_louder_of_two_tones_wins() {
        let a = tone(700.0, 16000, 1.0);
        let b = tone(900.0, 16000, 1.0);
        let mix: Vec<i16> = a.iter().zip(&b).map(|(&x, &y)| x / 4 + y / 2).collect();
        let found = dominant_frequency(&mix, 16000).unwrap();
        assert!((found - 900.0).abs() <= 2.0, "{found}");
    }

    #[test]
    fn silence_and_short_input_have_no_frequency() {
        assert_eq!(dominant_frequency(&[0; 16000], 16000), None);
        assert_eq!(dominant_frequency(&tone(700.0, 16000, 0.05), 16000), None);
        assert_eq!(rms(&[]), 0.0);
    }

    #[test]
    fn rms_of_a_half_scale_sine() {
        let level = rms(&tone(700.0, 16000, 1.0));
        assert!((level - 0.5 / 2f64.sqrt()).abs() < 0.01, "{level}");
    }

    #[test]
    fn analyze_skips_the_start() {
        let mut samples = tone(500.0, 8000, 1.0);
        samples.extend(tone(1000.0, 8000, 1.0));
        let all = analyze(&samples, 8000, Duration::ZERO);
        let late = analyze(&samples, 8000, Duration::from_secs(1));
        assert_eq!(late.samples, 8000);
        assert!((late.dominant_hz.unwrap() - 1000.0).abs() <= 2.0);
        assert_eq!(all.samples, 16000);
    }

    #[test]
    fn goertzel_peaks_at_the_tone() {
        let samples = tone(700.0, 8000, 0.5);
        let at = goertzel_power(&samples, 8000, 700.0);
        let off = goertzel_power(&samples, 8000, 1100.0);
        assert!(at > 0.05 && off < at / 100.0, "at {at} off {off}");
    }
}
