//! The playback side: anything that consumes mono 16-bit PCM.

use crate::DeviceError;

/// A consumer of mono `i16` PCM at a fixed rate chosen when it was opened.
///
/// Device sinks queue what `write` gets into a lock-free ring buffer that the audio callback
/// drains (playing silence on underrun); file and null sinks take samples at once. The
/// writer (the jitter buffer side) paces itself: it can look at
/// [`buffered`](AudioSink::buffered) to keep a device's queue short.
pub trait AudioSink: Send {
    /// Samples per second that [`write`](AudioSink::write) expects.
    fn sample_rate(&self) -> u32;

    /// Queues `samples` and returns how many were taken. Never blocks: a device sink whose
    /// queue is full drops the rest.
    fn write(&mut self, samples: &[i16]) -> usize;

    /// Samples queued but not yet played (0 for sinks that take samples at once).
    fn buffered(&self) -> usize {
        0
    }

    /// Whether playback has begun pulling samples (a device stream takes up to a second or
    /// two to start). Sinks without a device are always started.
    fn started(&self) -> bool {
        true
    }

    /// Why the sink stopped working (device stream error, write error), or `None`.
    fn failure(&self) -> Option<String> {
        None
    }

    /// The device id (`pulseaudio:spk_a`) if this sink is a sound device; the switchable
    /// wrapper watches such devices and falls back to the default when they vanish.
    fn device_id(&self) -> Option<String> {
        None
    }

    /// A short label for events and logs: the device id, a file path, `null`.
    fn label(&self) -> String;

    /// Flushes and closes what needs closing (a WAV header); later writes are dropped.
    fn finish(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

impl<S: AudioSink + ?Sized> AudioSink for Box<S> {
    fn sample_rate(&self) -> u32 {
        (**self).sample_rate()
    }
    fn write(&mut self, samples: &[i16]) -> usize {
        (**self).write(samples)
    }
    fn buffered(&self) -> usize {
        (**self).buffered()
    }
    fn started(&self) -> bool {
        (**self).started()
    }
    fn failure(&self) -> Option<String> {
        (**self).failure()
    }
    fn device_id(&self) -> Option<String> {
        (**self).device_id()
    }
    fn label(&self) -> String {
        (**self).label()
    }
    fn finish(&mut self) -> Result<(), DeviceError> {
        (**self).finish()
    }
}
