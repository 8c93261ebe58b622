//! Listing devices and finding one by id or name, on cpal's default host: PulseAudio
//! (native protocol, cpal's `pulseaudio` feature) when a server is reachable, ALSA otherwise.
//!
//! Ids are cpal's persistent [`cpal::DeviceId`] strings, `host:device`: `pulseaudio:mic_a`
//! (the PulseAudio sink/source name, stable across restarts) or `alsa:default`,
//! `alsa:hw:CARD=PCH,DEV=0` (the ALSA PCM name). Names are what users see: PulseAudio's
//! `device.description` (`Mic_A`, `Speaker_B`), or ALSA's first description line.

use cpal::traits::{DeviceTrait, HostTrait};

use crate::DeviceError;

/// Whether a device captures or plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// A microphone (a capture device, a PulseAudio source).
    Input,
    /// A speaker or headset (a playback device, a PulseAudio sink).
    Output,
}

impl DeviceKind {
    /// `"input"` or `"output"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Input => "input",
            DeviceKind::Output => "output",
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One device as listed by [`enumerate`]. A device that can do both (an ALSA `default`)
/// is listed twice, once per kind, with the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Stable id, `host:device` (keep it in settings; pass it to [`crate::open_input`]).
    pub id: String,
    /// Human-readable name (the PulseAudio description, e.g. `Mic_A`).
    pub name: String,
    /// Input or output.
    pub kind: DeviceKind,
    /// The device's own rate, if the backend could tell without opening a stream.
    pub default_rate: Option<u32>,
    /// Whether this is the system's current default device of its kind.
    pub is_default: bool,
}

/// Lists the input and output devices of the default host (PulseAudio if reachable, else
/// ALSA). Inputs first, then outputs, each in the backend's order.
pub fn enumerate() -> Result<Vec<DeviceInfo>, DeviceError> {
    list(&cpal::default_host())
}

fn list(host: &cpal::Host) -> Result<Vec<DeviceInfo>, DeviceError> {
    let default_in = host.default_input_device().and_then(|d| d.id().ok());
    let default_out = host.default_output_device().and_then(|d| d.id().ok());
    let devices: Vec<cpal::Device> = host.devices().map_err(DeviceError::backend)?.collect();
    let mut out = Vec::new();
    for kind in [DeviceKind::Input, DeviceKind::Output] {
        for device in &devices {
            let Ok(id) = device.id() else { continue };
            let Ok(description) = device.description() else {
                continue;
            };
            let fits = match kind {
                DeviceKind::Input => description.supports_input(),
                DeviceKind::Output => description.supports_output(),
            };
            if !fits {
                continue;
            }
            let default_rate = match (kind, host.id()) {
                // Asking ALSA opens the PCM; only PulseAudio answers from its device list.
                (_, cpal::HostId::Alsa) => None,
                (DeviceKind::Input, _) => device.default_input_config().ok(),
                (DeviceKind::Output, _) => device.default_output_config().ok(),
            }
            .map(|c| c.sample_rate());
            let default_id = match kind {
                DeviceKind::Input => default_in.as_ref(),
                DeviceKind::Output => default_out.as_ref(),
            };
            out.push(DeviceInfo {
                id: id.to_string(),
                name: description.name().to_owned(),
                kind,
                default_rate,
                is_default: default_id == Some(&id),
            });
        }
    }
    Ok(out)
}

/// Finds a device of `kind` by id (exact), then by name (exact, case-insensitive), then by
/// a name fragment that matches exactly one device. For `--mic NAME` / `--speaker NAME`.
pub fn find_device(kind: DeviceKind, query: &str) -> Result<DeviceInfo, DeviceError> {
    pick(enumerate()?, kind, query)
}

fn pick(
    devices: Vec<DeviceInfo>,
    kind: DeviceKind,
    query: &str,
) -> Result<DeviceInfo, DeviceError> {
    let mut of_kind: Vec<DeviceInfo> = devices.into_iter().filter(|d| d.kind == kind).collect();
    if let Some(i) = of_kind.iter().position(|d| d.id == query) {
        return Ok(of_kind.swap_remove(i));
    }
    let wanted = query.to_lowercase();
    if let Some(i) = of_kind.iter().position(|d| d.name.to_lowercase() == wanted) {
        return Ok(of_kind.swap_remove(i));
    }
    let mut partial: Vec<DeviceInfo> = of_kind
        .into_iter()
        .filter(|d| d.name.to_lowercase().contains(&wanted))
        .collect();
    match partial.len() {
        1 => Ok(partial.remove(0)),
        0 => Err(DeviceError::NotFound {
            kind: kind.as_str(),
            query: query.to_owned(),
        }),
        _ => Err(DeviceError::Ambiguous {
            kind: kind.as_str(),
            query: query.to_owned(),
            candidates: partial
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Finds the cpal device for `id` (an id or a name, see [`find_device`]; `None` = the
/// default device) and returns it with its resolved id.
pub(crate) fn resolve(
    kind: DeviceKind,
    id: Option<&str>,
) -> Result<(cpal::Device, String), DeviceError> {
    let (host, device) = match id {
        None => {
            let host = cpal::default_host();
            let device = match kind {
                DeviceKind::Input => host.default_input_device(),
                DeviceKind::Output => host.default_output_device(),
            }
            .ok_or(DeviceError::NoDefault {
                kind: kind.as_str(),
            })?;
            (host, device)
        }
        Some(query) => {
            let by_id = query.parse::<cpal::DeviceId>().ok().and_then(|parsed| {
                let host = cpal::host_from_id(parsed.host()).ok()?;
                let device = host.device_by_id(&parsed)?;
                Some((host, device))
            });
            match by_id {
                Some(found) => found,
                None => {
                    let host = cpal::default_host();
                    let info = pick(list(&host)?, kind, query)?;
                    let parsed: cpal::DeviceId = info
                        .id
                        .parse()
                        .map_err(|_| DeviceError::BadId(info.id.clone()))?;
                    let device = host.device_by_id(&parsed).ok_or(DeviceError::NotFound {
                        kind: kind.as_str(),
                        query: query.to_owned(),
                    })?;
                    (host, device)
                }
            }
        }
    };
    drop(host);
    let resolved = device.id().map_err(DeviceError::backend)?.to_string();
    Ok((device, resolved))
}

/// Checks whether devices are still there, for hosts that can tell cheaply. PulseAudio
/// moves a stream whose device vanished to the default device without telling cpal, so
/// the switchable wrappers ask this every few hundred milliseconds. ALSA cannot be asked
/// without opening PCMs; there a vanished device shows up as a stream error instead.
pub(crate) struct Presence {
    pulse: Option<cpal::Host>,
}

impl Presence {
    pub(crate) fn new() -> Self {
        Presence { pulse: None }
    }

    /// `Some(true/false)` for PulseAudio ids, `None` when this host cannot tell.
    pub(crate) fn is_present(&mut self, kind: DeviceKind, id: &str) -> Option<bool> {
        let parsed: cpal::DeviceId = id.parse().ok()?;
        if parsed.host() != cpal::HostId::PulseAudio {
            return None;
        }
        if self.pulse.is_none() {
            // A server we cannot reach means the device is gone for us.
            self.pulse = Some(cpal::host_from_id(cpal::HostId::PulseAudio).ok()?);
        }
        let host = self.pulse.as_ref()?;
        match host.devices() {
            Ok(mut devices) => Some(devices.any(|d| {
                d.id().ok().as_ref() == Some(&parsed)
                    && d.description().is_ok_and(|desc| match kind {
                        DeviceKind::Input => desc.supports_input(),
                        DeviceKind::Output => desc.supports_output(),
                    })
            })),
            Err(_) => {
                self.pulse = None;
                Some(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, name: &str, kind: DeviceKind) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            name: name.into(),
            kind,
            default_rate: Some(48000),
            is_default: false,
        }
    }

    fn sample() -> Vec<DeviceInfo> {
        vec![
            info("pulseaudio:mic_a", "Mic_A", DeviceKind::Input),
            info("pulseaudio:mic_b", "Mic_B", DeviceKind::Input),
            info(
                "pulseaudio:spk_a.monitor",
                "Monitor of Speaker_A",
                DeviceKind::Input,
            ),
            info("pulseaudio:spk_a", "Speaker_A", DeviceKind::Output),
        ]
    }

    #[test]
    fn picks_by_id_then_name_then_unique_fragment() {
        assert_eq!(
            pick(sample(), DeviceKind::Input, "pulseaudio:mic_b")
                .unwrap()
                .name,
            "Mic_B"
        );
        assert_eq!(
            pick(sample(), DeviceKind::Input, "mic_a").unwrap().id,
            "pulseaudio:mic_a"
        );
        assert_eq!(
            pick(sample(), DeviceKind::Input, "monitor").unwrap().id,
            "pulseaudio:spk_a.monitor"
        );
        assert_eq!(
            pick(sample(), DeviceKind::Output, "speaker").unwrap().id,
            "pulseaudio:spk_a"
        );
    }

    #[test]
    fn kind_is_respected_and_misses_are_errors() {
        let err = pick(sample(), DeviceKind::Output, "Mic_A").unwrap_err();
        assert!(
            matches!(err, DeviceError::NotFound { kind: "output", .. }),
            "{err}"
        );
        let err = pick(sample(), DeviceKind::Input, "mic_").unwrap_err();
        assert!(matches!(err, DeviceError::Ambiguous { .. }), "{err}");
        assert!(err.to_string().contains("Mic_A, Mic_B"), "{err}");
    }
}
