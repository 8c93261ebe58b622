//! The capture side: anything that delivers mono 16-bit PCM.

/// A source of mono `i16` PCM at a fixed rate chosen when it was opened (the consumer's
/// rate: every constructor in this crate takes it, and converts from the device or file).
///
/// Device sources are fed by the audio callback through a lock-free ring buffer; `read`
/// takes what has arrived and never blocks. Synthetic and file sources generate on demand
/// (pull-based), so the consumer's clock paces them and they need no sound server.
///
/// The consumer (the RTP side) calls [`read_frame`](AudioSource::read_frame) once per
/// packet interval; a short read is padded with silence so RTP timing never depends on the
/// device.
pub trait AudioSource: Send {
    /// Samples per second of what [`read`](AudioSource::read) returns.
    fn sample_rate(&self) -> u32;

    /// Moves up to `out.len()` ready samples into `out` and returns how many. Never blocks;
    /// device sources may return fewer (nothing yet, start-up) or drop a stale backlog first.
    fn read(&mut self, out: &mut [i16]) -> usize;

    /// Samples that a `read` could return right now (`usize::MAX` for generated sources).
    fn available(&self) -> usize;

    /// Why the source stopped working (a device stream error), or `None` while it works.
    fn failure(&self) -> Option<String> {
        None
    }

    /// The device id (`pulseaudio:mic_a`) if this source is a sound device; the switchable
    /// wrapper watches such devices and falls back to the default when they vanish.
    fn device_id(&self) -> Option<String> {
        None
    }

    /// A short label for events and logs: the device id, `tone:700Hz`, a file path.
    fn label(&self) -> String;

    /// Fills all of `out`: real samples first, silence for the rest. Returns how many were
    /// real, so callers can count underruns.
    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        let got = self.read(out);
        out[got..].fill(0);
        got
    }
}

impl<S: AudioSource + ?Sized> AudioSource for Box<S> {
    fn sample_rate(&self) -> u32 {
        (**self).sample_rate()
    }
    fn read(&mut self, out: &mut [i16]) -> usize {
        (**self).read(out)
    }
    fn available(&self) -> usize {
        (**self).available()
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
    fn read_frame(&mut self, out: &mut [i16]) -> usize {
        (**self).read_frame(out)
    }
}
