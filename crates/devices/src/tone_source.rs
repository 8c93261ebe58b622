//! A sine generator: the far end's "voice" in tests and the CLI.

use crate::{check_rate, AudioSource, DeviceError};

/// An endless sine at a fixed frequency, generated on demand (pull-based: the consumer's
/// clock paces it). Phase is continuous across reads.
#[derive(Debug, Clone)]
pub struct ToneSource {
    freq: f64,
    rate: u32,
    amplitude: f64,
    phase: f64,
    step: f64,
}

impl ToneSource {
    /// A sine of `freq_hz` at `sample_rate`, at half of full scale (-6 dBFS).
    pub fn new(freq_hz: f64, sample_rate: u32) -> Result<Self, DeviceError> {
        let rate = check_rate(sample_rate)?;
        if !(freq_hz > 0.0 && freq_hz < f64::from(rate) / 2.0) {
            return Err(DeviceError::InvalidParameter(format!(
                "tone of {freq_hz} Hz is not between 0 and {} Hz (half the sample rate)",
                f64::from(rate) / 2.0
            )));
        }
        Ok(ToneSource {
            freq: freq_hz,
            rate,
            amplitude: 0.5,
            phase: 0.0,
            step: std::f64::consts::TAU * freq_hz / f64::from(rate),
        })
    }

    /// The same tone at `amplitude` (0.0..=1.0 of full scale).
    pub fn with_amplitude(mut self, amplitude: f64) -> Self {
        self.amplitude = amplitude.clamp(0.0, 1.0);
        self
    }

    /// The tone's frequency in Hz.
    pub fn frequency(&self) -> f64 {
        self.freq
    }
}

impl AudioSource for ToneSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        let scale = self.amplitude * 32767.0;
        for sample in out.iter_mut() {
            *sample = (self.phase.sin() * scale).round() as i16;
            self.phase += self.step;
            if self.phase >= std::f64::consts::TAU {
                self.phase -= std::f64::consts::TAU;
            }
        }
        out.len()
    }

    fn available(&self) -> usize {
        usize::MAX
    }

    fn label(&self) -> String {
        format!("tone:{}Hz", self.freq)
    }
}
