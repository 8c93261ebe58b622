//! No speaker: a sink that discards (and counts) what it gets.

use crate::{check_rate, AudioSink, DeviceError};

/// Takes every sample at once and throws it away, counting them: for receive-without-
/// playback calls, benchmarks and tests.
#[derive(Debug, Clone)]
pub struct NullSink {
    rate: u32,
    written: u64,
}

impl NullSink {
    /// A null sink at `sample_rate`.
    pub fn new(sample_rate: u32) -> Result<Self, DeviceError> {
        Ok(NullSink {
            rate: check_rate(sample_rate)?,
            written: 0,
        })
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.written
    }
}

impl AudioSink for NullSink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write(&mut self, samples: &[i16]) -> usize {
        self.written += samples.len() as u64;
        samples.len()
    }

    fn label(&self) -> String {
        "null".to_owned()
    }
}
