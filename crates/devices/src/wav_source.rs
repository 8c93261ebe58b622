//! `--play FILE.wav`: a WAV file as the microphone, looped.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::resampler::LinearResampler;
use crate::{check_rate, AudioSource, DeviceError};

/// Frames decoded per refill.
const BLOCK_FRAMES: usize = 1024;

/// Plays a WAV file endlessly (it loops at the end). Any channel count is mixed down to
/// mono; 8–32-bit integer and 32-bit float files are read; a file at another rate than the
/// consumer's is converted here with [`LinearResampler`] (fine for speech and tones; give
/// it files at the call's rate for the best quality). Pull-based: the file is read as the
/// consumer asks, so it needs no device or timer and works with no sound server.
pub struct WavSource {
    feed: Feed,
    resampler: LinearResampler,
    rate: u32,
    path: PathBuf,
}

impl std::fmt::Debug for WavSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSource")
            .field("path", &self.path)
            .field("rate", &self.rate)
            .field("file_rate", &self.feed.spec.sample_rate)
            .field("channels", &self.feed.spec.channels)
            .field("loops", &self.feed.loops)
            .finish()
    }
}

/// The file side: decoded mono blocks at the file's rate.
struct Feed {
    reader: hound::WavReader<BufReader<File>>,
    spec: hound::WavSpec,
    block: Vec<f32>,
    pos: usize,
    loops: u64,
    failure: Option<String>,
}

impl WavSource {
    /// Opens `path` to deliver mono samples at `sample_rate`.
    pub fn open(path: impl AsRef<Path>, sample_rate: u32) -> Result<Self, DeviceError> {
        let path = path.as_ref();
        let rate = check_rate(sample_rate)?;
        let reader = hound::WavReader::open(path).map_err(|e| DeviceError::wav(path, e))?;
        let spec = reader.spec();
        let supported = match spec.sample_format {
            hound::SampleFormat::Int => (8..=32).contains(&spec.bits_per_sample),
            hound::SampleFormat::Float => spec.bits_per_sample == 32,
        };
        if !supported || spec.channels == 0 {
            return Err(DeviceError::wav(
                path,
                format!(
                    "unsupported layout: {} channels, {} bits {:?}",
                    spec.channels, spec.bits_per_sample, spec.sample_format
                ),
            ));
        }
        if reader.duration() == 0 {
            return Err(DeviceError::wav(path, "the file has no samples"));
        }
        check_rate(spec.sample_rate).map_err(|e| DeviceError::wav(path, e))?;
        Ok(WavSource {
            resampler: LinearResampler::new(spec.sample_rate, rate),
            feed: Feed {
                reader,
                spec,
                block: Vec::with_capacity(BLOCK_FRAMES),
                pos: 0,
                loops: 0,
                failure: None,
            },
            rate,
            path: path.to_owned(),
        })
    }

    /// The file's own sample rate.
    pub fn file_rate(&self) -> u32 {
        self.feed.spec.sample_rate
    }

    /// How many times playback wrapped around to the start.
    pub fn loops(&self) -> u64 {
        self.feed.loops
    }
}

impl Feed {
    fn next(&mut self) -> Option<f32> {
        if self.pos >= self.block.len() {
            self.refill();
        }
        let sample = self.block.get(self.pos).copied();
        self.pos += 1;
        sample
    }

    fn refill(&mut self) {
        self.block.clear();
        self.pos = 0;
        if self.failure.is_some() {
            return;
        }
        for attempt in 0..2 {
            if let Err(e) = self.decode_block() {
                self.failure = Some(e);
                self.block.clear();
                return;
            }
            if !self.block.is_empty() {
                return;
            }
            if attempt == 0 {
                // End of file: loop.
                if let Err(e) = self.reader.seek(0) {
                    self.failure = Some(format!("rewind failed: {e}"));
                    return;
                }
                self.loops += 1;
            }
        }
    }

    fn decode_block(&mut self) -> Result<(), String> {
        let channels = usize::from(self.spec.channels);
        let wanted = BLOCK_FRAMES * channels;
        let mut frame_sum = 0.0f32;
        let mut in_frame = 0usize;
        let scale_mono = 1.0 / channels as f32;
        let mut push = |value: f32, block: &mut Vec<f32>| {
            frame_sum += value;
            in_frame += 1;
            if in_frame == channels {
                block.push(frame_sum * scale_mono);
                frame_sum = 0.0;
                in_frame = 0;
            }
        };
        match self.spec.sample_format {
            hound::SampleFormat::Float => {
                for s in self.reader.samples::<f32>().take(wanted) {
                    push(s.map_err(|e| e.to_string())?, &mut self.block);
                }
            }
            hound::SampleFormat::Int => {
                let full = (1u64 << (self.spec.bits_per_sample - 1)) as f32;
                for s in self.reader.samples::<i32>().take(wanted) {
                    push(s.map_err(|e| e.to_string())? as f32 / full, &mut self.block);
                }
            }
        }
        Ok(())
    }
}

impl AudioSource for WavSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn read(&mut self, out: &mut [i16]) -> usize {
        let WavSource {
            feed, resampler, ..
        } = self;
        for sample in out.iter_mut() {
            *sample = crate::resampler::unit_to_i16(resampler.pull(|| feed.next()));
        }
        out.len()
    }

    fn available(&self) -> usize {
        usize::MAX
    }

    fn failure(&self) -> Option<String> {
        self.feed.failure.clone()
    }

    fn label(&self) -> String {
        self.path.display().to_string()
    }
}
