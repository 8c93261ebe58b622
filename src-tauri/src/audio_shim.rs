//! Mute and device switching during a call, until `Phone::mute`, `Phone::switch_mic` and `Phone::switch_speaker`
//! land in the core: each answers `unsupported`, and `capabilities` does not offer the controls.

use dialtone_core::{Phone, PhoneError};

fn not_yet(what: &str) -> PhoneError {
    PhoneError::Unsupported(format!("{what} needs the call audio path, which this build does not have yet"))
}

/// Mutes or unmutes call `id`'s microphone.
pub async fn mute(_phone: &Phone, _id: u64, _muted: bool) -> Result<(), PhoneError> {
    Err(not_yet("Mute"))
}

/// Switches call `id` to another microphone.
pub async fn switch_mic(_phone: &Phone, _id: u64, _device: Option<String>) -> Result<String, PhoneError> {
    Err(not_yet("Switching the microphone"))
}

/// Switches call `id` to another speaker.
pub async fn switch_speaker(
    _phone: &Phone,
    _id: u64,
    _device: Option<String>,
) -> Result<String, PhoneError> {
    Err(not_yet("Switching the speaker"))
}
