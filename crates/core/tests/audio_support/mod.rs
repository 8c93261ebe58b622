//! Helpers for the call audio tests: real offer/answer between two `Negotiator`s, two
//! `CallAudioTask`s on loopback, event waiting and audio checks (dominant frequency).

#![allow(dead_code)]

pub mod pulse;
pub mod sip;

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use dialtone_core::audio::{AudioConfig, AudioEvent, AudioEvents, CallAudioTask};
use dialtone_devices::analysis::{analyze_wav, ToneAnalysis};
use dialtone_sdp::{AcceptedMedia, CodecPolicy, Negotiator, SessionDescription, SessionParams};

pub const LOOPBACK: &str = "127.0.0.1";

pub fn loopback() -> IpAddr {
    LOOPBACK.parse().expect("loopback address")
}

/// One side of a call.
pub struct Side {
    pub audio: CallAudioTask,
    pub events: AudioEvents,
    pub negotiator: Negotiator,
    pub media: AcceptedMedia,
}

/// Opens two tasks, lets A offer `offer_codecs` and B answer with `answer_codecs` (both
/// lists in the configuration syntax, e.g. `"ulaw, telephone-event"`), with or without
/// rtcp-mux, and starts both with what the exchange settled.
pub async fn call(
    offer_codecs: &str,
    answer_codecs: &str,
    rtcp_mux: bool,
    a: AudioConfig,
    b: AudioConfig,
) -> (Side, Side) {
    let (a_audio, a_events) = CallAudioTask::open(loopback(), a).await.expect("open A");
    let (b_audio, b_events) = CallAudioTask::open(loopback(), b).await.expect("open B");
    let mut a_neg = Negotiator::new(
        CodecPolicy::from_lists(offer_codecs, "").expect("A's codecs"),
        1001,
        1,
    );
    let mut b_neg = Negotiator::new(
        CodecPolicy::from_lists(answer_codecs, "").expect("B's codecs"),
        2002,
        1,
    );
    let mut a_params = SessionParams::new(loopback(), a_audio.local_port());
    a_params.rtcp_mux = rtcp_mux;
    let mut b_params = SessionParams::new(loopback(), b_audio.local_port());
    b_params.rtcp_mux = rtcp_mux;
    let (a_media, b_media) = exchange(&mut a_neg, &a_params, &mut b_neg, &b_params);
    a_audio.start(&a_media).await.expect("start A");
    b_audio.start(&b_media).await.expect("start B");
    (
        Side {
            audio: a_audio,
            events: a_events,
            negotiator: a_neg,
            media: a_media,
        },
        Side {
            audio: b_audio,
            events: b_events,
            negotiator: b_neg,
            media: b_media,
        },
    )
}

/// One offer/answer through the wire format: `offerer` offers with `offer_params`,
/// `answerer` answers with `answer_params`. Returns the accepted audio of both sides.
pub fn exchange(
    offerer: &mut Negotiator,
    offer_params: &SessionParams,
    answerer: &mut Negotiator,
    answer_params: &SessionParams,
) -> (AcceptedMedia, AcceptedMedia) {
    let (offer, pending) = offerer.create_offer(offer_params).expect("offer");
    let offer = SessionDescription::parse(&offer.to_string()).expect("offer parses");
    let (answer, answered) = answerer
        .answer_offer(&offer, answer_params)
        .expect("answer");
    let answer = SessionDescription::parse(&answer.to_string()).expect("answer parses");
    let accepted = offerer.accept_answer(pending, &answer).expect("accept");
    (
        accepted.audio().expect("offerer's audio").clone(),
        answered.audio().expect("answerer's audio").clone(),
    )
}

/// Waits up to `within` for an event `pick` accepts, returning what it returns; the
/// events seen on the way are returned too.
pub async fn wait_for<T>(
    events: &mut AudioEvents,
    within: Duration,
    mut pick: impl FnMut(&AudioEvent) -> Option<T>,
) -> (Option<T>, Vec<AudioEvent>) {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(within, async {
        while let Some(event) = events.recv().await {
            let picked = pick(&event);
            seen.push(event);
            if picked.is_some() {
                return picked;
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    (found, seen)
}

/// Everything queued on `events` now.
pub fn drain(events: &mut AudioEvents) -> Vec<AudioEvent> {
    let mut all = Vec::new();
    while let Ok(event) = events.try_recv() {
        all.push(event);
    }
    all
}

/// Analyses a recording after its first `skip`.
pub fn analyze(path: &Path, skip: Duration) -> ToneAnalysis {
    analyze_wav(path, skip).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Asserts that `analysis` is `hz` (±15 Hz) at a level well above silence.
pub fn assert_tone(what: &str, analysis: &ToneAnalysis, hz: f64) {
    let dominant = analysis
        .dominant_hz
        .unwrap_or_else(|| panic!("{what}: no tone at all ({analysis:?})"));
    assert!(
        (dominant - hz).abs() <= 15.0,
        "{what}: dominant {dominant:.1} Hz, expected {hz} Hz ({analysis:?})"
    );
    assert!(
        analysis.rms > 0.05,
        "{what}: level too low for a -6 dBFS tone ({analysis:?})"
    );
}
