//! No microphone: silence that keeps RTP timing.

use crate::{check_rate, AudioSource, DeviceError};

/// Endless digital silence, generated on demand: for calls without a microphone (RTP keeps
/// its timing, the far end hears comfort-free silence) and for muting by switching.
#[derive(Debug, Clone)]
pub struct SilenceSource {
    rate: u32,
}

impl SilenceSource {
    /// Silence at `sample_rate`.
    pub fn new(sample_rate: u32) -> Result<Self, DeviceError> {
        Ok(SilenceSource {
            rate: check_rate(sample_rate)?,
        })
    }
}

impl AudioSource for SilenceSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        out.fill(0);
        out.len()
    }

    fn available(&self) -> usize {
        usize::MAX
    }

    fn label(&self) -> String {
        "silence".to_owned()
    }
}
