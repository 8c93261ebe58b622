//! Switching devices mid-stream and losing them, on a private PulseAudio server with
//! virtual devices. The consumer side pulls/pushes 20 ms frames at its own pace throughout,
//! like the RTP side of a call.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use dialtone_devices::{
    open_input, AudioSource, DeviceEvent, DeviceKind, SourceSwitch, SwitchableSink,
    SwitchableSource, ToneSource,
};
use support::{assert_silent, assert_tone, play, play_on, session, Player, Recorder, RATE};

/// Speaker_A plays 700 Hz and Speaker_B 900 Hz: Mic_A hears 700 Hz, Mic_B 900 Hz.
fn two_voices() -> [Player; 2] {
    [play_on(700.0, "Speaker_A"), play_on(900.0, "Speaker_B")]
}

/// Records the switchable source `open` makes (reporting device events to the sender it
/// gets); returns the recorder, the switch and the events.
fn record_switchable(
    open: impl FnOnce(mpsc::Sender<DeviceEvent>) -> (SwitchableSource, SourceSwitch),
) -> (Recorder, SourceSwitch, mpsc::Receiver<DeviceEvent>) {
    let (events_tx, events) = mpsc::channel();
    let (mic, switch) = open(events_tx);
    (Recorder::start(Box::new(mic)), switch, events)
}

/// A switchable source on Mic_A.
fn switchable_mic_a(events: mpsc::Sender<DeviceEvent>) -> (SwitchableSource, SourceSwitch) {
    SwitchableSource::open(Some("Mic_A"), RATE, Some(events)).unwrap()
}

fn mic_a() -> Box<dyn AudioSource> {
    Box::new(open_input(Some("Mic_A"), RATE).unwrap())
}

fn wait_event(events: &mpsc::Receiver<DeviceEvent>, what: &str) -> DeviceEvent {
    events
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("no {what} event within 5 s"))
}

#[test]
fn switching_the_mic_mid_stream_changes_the_tone_without_a_gap() {
    let _s = session();
    let _voices = two_voices();
    let (recorder, switch, events) = record_switchable(switchable_mic_a);
    std::thread::sleep(Duration::from_millis(3000));

    let switched_at = recorder.now();
    assert_eq!(
        switch.switch_to_device(Some("Mic_B")).unwrap(),
        "pulseaudio:mic_b"
    );
    let event = wait_event(&events, "switch");
    assert_eq!(
        event,
        DeviceEvent::Switched {
            kind: DeviceKind::Input,
            from: "pulseaudio:mic_a".into(),
            to: "pulseaudio:mic_b".into()
        }
    );
    std::thread::sleep(Duration::from_millis(3000));
    let rec = recorder.finish();

    assert_tone("before the switch", rec.span(1.0, switched_at), 700.0);
    assert_tone(
        "after the switch",
        rec.span(switched_at + 1.0, rec.seconds()),
        900.0,
    );
    let (gap_end, gap) = rec.longest_dropout();
    eprintln!(
        "switched at {switched_at:.2} s; longest dropout {gap:?}, longest wall-clock gap {:?}",
        rec.longest_gap()
    );
    assert!(
        gap <= Duration::from_millis(200),
        "frames missing for {gap:?} until {gap_end:?} (switch at {switched_at:.3} s): {}",
        rec.pulls_near(gap_end, Duration::from_millis(400))
    );
    // Frames kept flowing right through the switch.
    let around: Vec<_> = rec
        .pulls
        .iter()
        .filter(|(at, _)| (at.as_secs_f64() - switched_at).abs() < 1.0)
        .collect();
    assert!(around.iter().filter(|(_, got)| *got > 0).count() * 10 >= around.len() * 8);
}

#[test]
fn switching_the_speaker_moves_the_sound_to_the_other_device() {
    let _s = session();
    let (events_tx, events) = mpsc::channel();
    let (speaker, switch) = SwitchableSink::open(Some("Speaker_A"), RATE, Some(events_tx)).unwrap();
    let _p = play(700.0, speaker);
    let (mic_a, mic_b) = (mic_a(), open_input(Some("Mic_B"), RATE).unwrap());
    let rec_a = Recorder::start(mic_a);
    let rec_b = Recorder::start(Box::new(mic_b));
    std::thread::sleep(Duration::from_millis(3000));

    let switched_at = rec_a.now();
    assert_eq!(
        switch.switch_to_device(Some("pulseaudio:spk_b")).unwrap(),
        "pulseaudio:spk_b"
    );
    let event = wait_event(&events, "switch");
    assert!(
        matches!(&event, DeviceEvent::Switched { kind: DeviceKind::Output, from, to }
            if from == "pulseaudio:spk_a" && to == "pulseaudio:spk_b"),
        "{event:?}"
    );
    std::thread::sleep(Duration::from_millis(3500));
    let (rec_a, rec_b) = (rec_a.finish(), rec_b.finish());

    assert_tone("Speaker_A before", rec_a.span(1.0, switched_at), 700.0);
    assert_silent("Speaker_B before", rec_b.span(1.0, switched_at));
    assert_silent(
        "Speaker_A after",
        rec_a.span(switched_at + 2.0, rec_a.seconds()),
    );
    assert_tone(
        "Speaker_B after",
        rec_b.span(switched_at + 2.0, rec_b.seconds()),
        700.0,
    );
}

#[test]
fn unloading_the_mic_falls_back_to_the_default_and_audio_continues() {
    let s = session();
    s.server.pactl(&["set-default-source", "mic_b"]).unwrap();
    let _voices = two_voices();
    let (recorder, _switch, events) = record_switchable(switchable_mic_a);
    std::thread::sleep(Duration::from_millis(2500));

    let lost_at = recorder.now();
    s.server.unload_device("mic_a").unwrap();
    let event = wait_event(&events, "fallback");
    assert!(
        matches!(&event, DeviceEvent::Fallback { kind: DeviceKind::Input, lost, to, .. }
            if lost == "pulseaudio:mic_a" && to == "pulseaudio:mic_b"),
        "{event:?}"
    );
    std::thread::sleep(Duration::from_millis(3000));
    let rec = recorder.finish();

    assert_tone("before the loss", rec.span(1.0, lost_at), 700.0);
    assert_tone(
        "after the fallback",
        rec.span(lost_at + 1.5, rec.seconds()),
        900.0,
    );
    let (gap_end, gap) = rec.longest_dropout();
    eprintln!("lost at {lost_at:.2} s: {event:?}; longest dropout {gap:?}");
    assert!(
        gap <= Duration::from_millis(500),
        "audio missing for {gap:?} until {gap_end:?}: {}",
        rec.pulls_near(gap_end, Duration::from_millis(600))
    );
    let last_second: Vec<_> = rec
        .pulls
        .iter()
        .filter(|(at, _)| at.as_secs_f64() > rec.seconds() - 1.0)
        .collect();
    assert!(last_second.iter().filter(|(_, got)| *got > 0).count() * 10 >= last_second.len() * 8);
}

#[test]
fn unloading_the_speaker_falls_back_to_the_default_and_audio_continues() {
    let s = session(); // default sink: spk_a
    let (events_tx, events) = mpsc::channel();
    let (speaker, _switch) =
        SwitchableSink::open(Some("Speaker_B"), RATE, Some(events_tx)).unwrap();
    let _p = play(700.0, speaker);
    let rec_a = Recorder::start(mic_a());
    std::thread::sleep(Duration::from_millis(2500));

    let lost_at = rec_a.now();
    s.server.unload_device("spk_b").unwrap();
    let event = wait_event(&events, "fallback");
    assert!(
        matches!(&event, DeviceEvent::Fallback { kind: DeviceKind::Output, lost, to, .. }
            if lost == "pulseaudio:spk_b" && to == "pulseaudio:spk_a"),
        "{event:?}"
    );
    std::thread::sleep(Duration::from_millis(3500));
    let rec_a = rec_a.finish();
    assert_silent("Speaker_A before the loss", rec_a.span(1.0, lost_at));
    assert_tone(
        "Speaker_A after the fallback",
        rec_a.span(lost_at + 2.0, rec_a.seconds()),
        700.0,
    );
}

/// A "device" that works for a while and then reports a stream error, like a USB headset
/// pulled out on ALSA (where nothing else tells us it is gone).
struct FailingDevice {
    tone: ToneSource,
    left: usize,
}

impl AudioSource for FailingDevice {
    fn sample_rate(&self) -> u32 {
        RATE
    }
    fn read(&mut self, out: &mut [i16]) -> usize {
        let n = out.len().min(self.left);
        self.left -= n;
        self.tone.read(&mut out[..n])
    }
    fn available(&self) -> usize {
        self.left
    }
    fn failure(&self) -> Option<String> {
        (self.left == 0).then(|| "device unplugged (stream error)".to_owned())
    }
    fn device_id(&self) -> Option<String> {
        Some("alsa:hw:CARD=Headset,DEV=0".to_owned())
    }
    fn label(&self) -> String {
        "alsa:hw:CARD=Headset,DEV=0".to_owned()
    }
}

#[test]
fn a_stream_error_falls_back_to_the_default_mic() {
    let _s = session(); // default source: mic_a
    let _a = play_on(700.0, "Speaker_A");
    let failing = FailingDevice {
        tone: ToneSource::new(400.0, RATE).unwrap(),
        left: 2 * RATE as usize,
    };
    let (recorder, _switch, events) =
        record_switchable(|events| SwitchableSource::new(Box::new(failing), Some(events)));
    let event = events
        .recv_timeout(Duration::from_secs(8))
        .expect("fallback event after the stream error");
    let failed_at = 2.0;
    assert_eq!(
        event,
        DeviceEvent::Fallback {
            kind: DeviceKind::Input,
            lost: "alsa:hw:CARD=Headset,DEV=0".into(),
            to: "pulseaudio:mic_a".into(),
            reason: "device unplugged (stream error)".into()
        }
    );
    std::thread::sleep(Duration::from_millis(3000));
    let rec = recorder.finish();
    assert_tone("before the error", rec.span(0.2, failed_at), 400.0);
    assert_tone(
        "after the fallback",
        rec.span(failed_at + 1.5, rec.seconds()),
        700.0,
    );
}
