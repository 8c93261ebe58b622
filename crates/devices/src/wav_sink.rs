//! `--record FILE.wav`: what we receive, written to a WAV file.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::{check_rate, AudioSink, DeviceError};

/// Writes mono 16-bit PCM to a WAV file as it is written (no device, no timer: the writer's
/// pace is the file's). The header is brought up to date about once a second of audio, so
/// the file stays readable if the process is killed; [`finish`](AudioSink::finish) (or
/// drop) closes it properly.
pub struct WavSink {
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    rate: u32,
    path: PathBuf,
    since_flush: usize,
    written: u64,
    failure: Option<String>,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink")
            .field("path", &self.path)
            .field("rate", &self.rate)
            .field("written", &self.written)
            .finish()
    }
}

impl WavSink {
    /// Creates (or truncates) `path` for mono 16-bit samples at `sample_rate`.
    pub fn create(path: impl AsRef<Path>, sample_rate: u32) -> Result<Self, DeviceError> {
        let path = path.as_ref();
        let rate = check_rate(sample_rate)?;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|e| DeviceError::wav(path, e))?;
        Ok(WavSink {
            writer: Some(writer),
            rate,
            path: path.to_owned(),
            since_flush: 0,
            written: 0,
            failure: None,
        })
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.written
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&mut self, reason: impl std::fmt::Display) {
        self.failure = Some(reason.to_string());
        // Keep what was written: try to leave a valid header behind.
        if let Some(writer) = self.writer.take() {
            let _ = writer.finalize();
        }
    }
}

impl AudioSink for WavSink {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write(&mut self, samples: &[i16]) -> usize {
        let Some(writer) = self.writer.as_mut() else {
            return 0;
        };
        for &sample in samples {
            if let Err(e) = writer.write_sample(sample) {
                self.fail(e);
                return 0;
            }
        }
        self.written += samples.len() as u64;
        self.since_flush += samples.len();
        if self.since_flush >= self.rate as usize {
            self.since_flush = 0;
            if let Err(e) = writer.flush() {
                self.fail(e);
            }
        }
        samples.len()
    }

    fn failure(&self) -> Option<String> {
        self.failure.clone()
    }

    fn label(&self) -> String {
        self.path.display().to_string()
    }

    fn finish(&mut self) -> Result<(), DeviceError> {
        if let Some(reason) = &self.failure {
            return Err(DeviceError::wav(&self.path, reason));
        }
        match self.writer.take() {
            Some(writer) => writer
                .finalize()
                .map_err(|e| DeviceError::wav(&self.path, e)),
            None => Ok(()),
        }
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.finalize();
        }
    }
}
