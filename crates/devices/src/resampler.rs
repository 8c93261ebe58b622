//! Streaming linear-interpolation rate conversion and sample-format conversion, usable
//! inside audio callbacks: no allocation, no locks, a few words of state.
//!
//! Linear interpolation is cheap and fine for speech and test tones; it has no
//! anti-aliasing filter, so when a device cannot run at the consumer's rate, downsampling
//! folds content above the new Nyquist back into the band. The crate asks devices for the
//! consumer's rate first (PulseAudio and ALSA's `plug` devices resample properly) and uses
//! this only as a fallback, and for WAV files at another rate.

/// Converts a stream from `from` Hz to `to` Hz by linear interpolation.
///
/// Used either push-style ([`push`](LinearResampler::push): one input sample in, zero or
/// more out) or pull-style ([`pull`](LinearResampler::pull): one output sample out, pulling
/// as many input samples as needed); one instance must stick to one style.
#[derive(Debug, Clone)]
pub struct LinearResampler {
    /// Input samples advanced per output sample (`from / to`).
    step: f64,
    /// Position of the next output between `prev` (0.0) and `cur` (1.0).
    pos: f64,
    prev: f32,
    cur: f32,
    passthrough: bool,
}

impl LinearResampler {
    /// A converter from `from` Hz to `to` Hz (both non-zero; equal rates pass through).
    pub fn new(from: u32, to: u32) -> Self {
        let from = from.max(1);
        let to = to.max(1);
        LinearResampler {
            step: f64::from(from) / f64::from(to),
            pos: 1.0,
            prev: 0.0,
            cur: 0.0,
            passthrough: from == to,
        }
    }

    /// Whether input and output rates are equal (samples pass unchanged).
    pub fn is_passthrough(&self) -> bool {
        self.passthrough
    }

    /// Feeds one input sample; calls `emit` for each output sample it completes.
    #[inline]
    pub fn push(&mut self, sample: f32, mut emit: impl FnMut(f32)) {
        if self.passthrough {
            emit(sample);
            return;
        }
        self.prev = self.cur;
        self.cur = sample;
        // `pos` starts at 1.0 so the first input only primes `cur`.
        self.pos -= 1.0;
        while self.pos < 1.0 {
            if self.pos >= 0.0 {
                emit(self.prev + (self.cur - self.prev) * self.pos as f32);
            }
            self.pos += self.step;
        }
    }

    /// Produces one output sample, calling `next_input` for as many input samples as it
    /// needs (`None` from it counts as silence).
    #[inline]
    pub fn pull(&mut self, mut next_input: impl FnMut() -> Option<f32>) -> f32 {
        if self.passthrough {
            return next_input().unwrap_or(0.0);
        }
        while self.pos >= 1.0 {
            self.prev = self.cur;
            self.cur = next_input().unwrap_or(0.0);
            self.pos -= 1.0;
        }
        let out = self.prev + (self.cur - self.prev) * self.pos as f32;
        self.pos += self.step;
        out
    }
}

/// A sample format the device callbacks convert from/to (`f32` in -1.0..=1.0 is the pivot).
pub(crate) trait PcmSample: Copy + Send + 'static {
    fn to_unit(self) -> f32;
    fn from_unit(value: f32) -> Self;
}

impl PcmSample for i16 {
    #[inline]
    fn to_unit(self) -> f32 {
        f32::from(self) / 32768.0
    }
    #[inline]
    fn from_unit(value: f32) -> Self {
        unit_to_i16(value)
    }
}

impl PcmSample for i32 {
    #[inline]
    fn to_unit(self) -> f32 {
        self as f32 / 2_147_483_648.0
    }
    #[inline]
    fn from_unit(value: f32) -> Self {
        (f64::from(value.clamp(-1.0, 1.0)) * 2_147_483_647.0) as i32
    }
}

impl PcmSample for f32 {
    #[inline]
    fn to_unit(self) -> f32 {
        self
    }
    #[inline]
    fn from_unit(value: f32) -> Self {
        value.clamp(-1.0, 1.0)
    }
}

/// `-1.0..=1.0` to `i16`, clamped and rounded.
#[inline]
pub fn unit_to_i16(value: f32) -> i16 {
    (value * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, freq: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    fn push_all(r: &mut LinearResampler, input: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        for &s in input {
            r.push(s, |o| out.push(o));
        }
        out
    }

    #[test]
    fn equal_rates_pass_through() {
        let input = tone(8000, 440.0, 100);
        let mut r = LinearResampler::new(8000, 8000);
        assert!(r.is_passthrough());
        assert_eq!(push_all(&mut r, &input), input);
    }

    #[test]
    fn push_produces_the_rate_ratio_of_samples() {
        for (from, to) in [(8000, 16000), (48000, 8000), (44100, 48000), (16000, 44100)] {
            let input = tone(from, 300.0, from as usize); // one second
            let mut r = LinearResampler::new(from, to);
            let out = push_all(&mut r, &input);
            let diff = out.len().abs_diff(to as usize);
            assert!(diff <= 2, "{from}->{to}: {} samples", out.len());
        }
    }

    #[test]
    fn pull_consumes_the_rate_ratio_of_samples() {
        let input = tone(48000, 300.0, 48000);
        let mut r = LinearResampler::new(48000, 16000);
        let mut it = input.iter().copied();
        let mut consumed = 0usize;
        for _ in 0..16000 {
            r.pull(|| {
                consumed += 1;
                it.next()
            });
        }
        assert!(consumed.abs_diff(48000) <= 3, "consumed {consumed}");
    }

    #[test]
    fn upsampled_tone_stays_close_to_the_ideal_sine() {
        let input = tone(8000, 400.0, 8000);
        let mut r = LinearResampler::new(8000, 48000);
        let out = push_all(&mut r, &input);
        let ideal = tone(48000, 400.0, out.len() + 6);
        // Output lags by one input sample (6 output samples) in push style.
        let err = out
            .iter()
            .skip(60)
            .zip(ideal.iter().skip(54))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 0.05, "max error {err}");
    }

    #[test]
    fn conversions_clamp_and_round_trip() {
        assert_eq!(unit_to_i16(2.0), i16::MAX);
        assert_eq!(unit_to_i16(-2.0), i16::MIN);
        assert_eq!(i16::from_unit(1234i16.to_unit()), 1234);
        assert_eq!(i32::from_unit(1.0), i32::MAX);
        assert!((0.5f32.to_unit() - 0.5).abs() < f32::EPSILON);
        assert!((i32::MIN.to_unit() + 1.0).abs() < 1e-6);
    }
}
