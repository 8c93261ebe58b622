//! What the switchable wrappers report to the application.

use crate::DeviceKind;

/// A change of the device behind a [`crate::SwitchableSource`] or [`crate::SwitchableSink`],
/// sent on the channel given at construction (for the UI and the CLI's JSON lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// Audio now comes from / goes to `to` (after a switch asked for by the application).
    Switched {
        /// Microphone or speaker.
        kind: DeviceKind,
        /// Label of the previous endpoint (device id, `tone:700Hz`, file path).
        from: String,
        /// Label of the new endpoint.
        to: String,
    },
    /// The device in use failed or disappeared; the default device `to` replaces it and audio
    /// continues.
    Fallback {
        /// Microphone or speaker.
        kind: DeviceKind,
        /// The device that was lost.
        lost: String,
        /// The default device now in use.
        to: String,
        /// Why the device was given up (stream error text, or that it vanished).
        reason: String,
    },
    /// The device in use was lost and the default device could not be opened either; the
    /// consumer keeps running (silence in, samples dropped out) and the fallback is retried
    /// every second until it works.
    FallbackFailed {
        /// Microphone or speaker.
        kind: DeviceKind,
        /// The device that was lost.
        lost: String,
        /// Why the default could not be opened.
        reason: String,
    },
}
