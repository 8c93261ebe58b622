//! Sine generation and the Goertzel algorithm, to check audio as audio.

use std::f64::consts::PI;

/// `samples` of a sine at `freq` Hz sampled at `rate`, amplitude `amp`, starting at
/// sample index `start` (so consecutive calls continue the wave).
pub fn sine(freq: f64, rate: u32, amp: f64, start: usize, samples: usize) -> Vec<i16> {
    (start..start + samples)
        .map(|n| (amp * (2.0 * PI * freq * n as f64 / f64::from(rate)).sin()).round() as i16)
        .collect()
}

/// Goertzel power of `freq` in `pcm` sampled at `rate`, normalised by length².
pub fn goertzel_power(pcm: &[i16], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in pcm {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    power / (pcm.len() as f64).powi(2).max(1.0)
}

/// The frequency among 100 Hz … `max` Hz (in 50 Hz steps) with the most Goertzel power.
pub fn dominant_frequency(pcm: &[i16], rate: u32, max: f64) -> f64 {
    let mut best = (0.0, f64::MIN);
    let mut f = 100.0;
    while f <= max {
        let p = goertzel_power(pcm, rate, f);
        if p > best.1 {
            best = (f, p);
        }
        f += 50.0;
    }
    best.0
}

/// Root mean square of the samples.
pub fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    (pcm.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt()
}
