//! Opening what [`SourceChoice`] and [`SinkChoice`] name, at the call's device rate.
//! Opening a device blocks (PulseAudio: up to a second or two): call these from a
//! blocking context, never from the RTP task.

use dialtone_devices::{
    open_input, open_output, AudioSink, AudioSource, DeviceError, NullSink, SilenceSource,
    ToneSource, WavSink, WavSource,
};

use super::{SinkChoice, SourceChoice};

/// Opens the source `choice` names, producing mono PCM at `rate`.
pub(crate) fn open_source(
    choice: &SourceChoice,
    rate: u32,
) -> Result<Box<dyn AudioSource>, DeviceError> {
    Ok(match choice {
        SourceChoice::Device(id) => Box::new(open_input(id.as_deref(), rate)?),
        SourceChoice::Wav(path) => Box::new(WavSource::open(path, rate)?),
        SourceChoice::Tone(hz) => Box::new(ToneSource::new(*hz, rate)?),
        SourceChoice::Silence => Box::new(SilenceSource::new(rate)?),
    })
}

/// Opens the sink `choice` names, taking mono PCM at `rate`.
pub(crate) fn open_sink(choice: &SinkChoice, rate: u32) -> Result<Box<dyn AudioSink>, DeviceError> {
    Ok(match choice {
        SinkChoice::Device(id) => Box::new(open_output(id.as_deref(), rate)?),
        SinkChoice::Wav(path) => Box::new(WavSink::create(path, rate)?),
        SinkChoice::Null => Box::new(NullSink::new(rate)?),
    })
}
