//! Direction, mute and "no microphone" in the pipeline: hold stops our RTP but not
//! RTCP, receive-only plays what comes, mute sends silence with unchanged timing, a
//! call without microphone still sends 50 silent packets a second, and DTMF without
//! negotiated telephone-event is refused.

mod support;

use std::time::Duration;

use dialtone_media::{CallAudio, CallAudioParams, Xorshift};
use dialtone_sdp::{CodecName, Direction};
use support::session_pair::addr;
use support::{dominant_frequency, rms, CallPair, LinkProfile};

fn clean() -> LinkProfile {
    LinkProfile::clean(Duration::from_millis(20))
}

#[test]
fn hold_stops_our_rtp_keeps_rtcp_and_silences_the_speaker() {
    let mut call = CallPair::new(CodecName::Ulaw, 41, clean(), 48_000);
    call.run(Duration::from_secs(2));
    let before = call.a.audio.stats().packets_sent;
    // A puts B on hold: A sendonly, B (after the answer) recvonly.
    let now = call.now;
    call.a.audio.set_direction(now, Direction::SendOnly);
    call.b.audio.set_direction(now, Direction::RecvOnly);
    let b_sent_before = call.b.audio.stats().packets_sent;
    let b_rtcp_before = call.b.audio.session().stats().rtcp_sent;
    let a_recorded = call.a.recorded.len();
    call.run(Duration::from_secs(12));
    // B sent no RTP, but RTCP went on.
    assert_eq!(call.b.audio.stats().packets_sent, b_sent_before);
    assert!(call.b.audio.session().stats().rtcp_sent > b_rtcp_before);
    // A kept sending (music on hold would go here) and B still plays it.
    assert!(call.a.audio.stats().packets_sent >= before + 590);
    let b_tail = &call.b.recorded[call.b.recorded.len() - 48_000..];
    assert_eq!(dominant_frequency(b_tail, 48_000, 3000.0), 1000.0);
    // A's speaker is silent during hold.
    assert_eq!(rms(&call.a.recorded[a_recorded..]), 0.0);
    // No inactivity event for A although nothing came for 12 s: not receiving.
    assert!(call
        .a
        .events
        .iter()
        .all(|e| !matches!(e, dialtone_media::CallEvent::Inactive { .. })));
    // Resume: both sendrecv, A hears B again.
    let now = call.now;
    call.a.audio.set_direction(now, Direction::SendRecv);
    call.b.audio.set_direction(now, Direction::SendRecv);
    let mark = call.a.recorded.len();
    call.run(Duration::from_secs(2));
    let resumed = &call.a.recorded[mark + 24_000..];
    assert_eq!(dominant_frequency(resumed, 48_000, 3000.0), 700.0);
}

#[test]
fn mute_sends_silence_with_the_same_timing() {
    let mut call = CallPair::new(CodecName::Alaw, 42, clean(), 48_000);
    call.run(Duration::from_secs(1));
    call.a.audio.set_mute(true);
    assert!(call.a.audio.is_muted());
    let sent = call.a.audio.stats().packets_sent;
    let mark = call.b.recorded.len();
    call.run(Duration::from_secs(2));
    assert_eq!(call.a.audio.stats().packets_sent - sent, 100);
    assert!(rms(&call.b.recorded[mark + 12_000..]) < 20.0);
    call.a.audio.set_mute(false);
    let mark = call.b.recorded.len();
    call.run(Duration::from_secs(1));
    assert_eq!(
        dominant_frequency(&call.b.recorded[mark + 12_000..], 48_000, 3000.0),
        1000.0
    );
}

#[test]
fn without_a_microphone_silence_keeps_rtp_timing() {
    let mut call = CallPair::new(CodecName::G722, 43, clean(), 48_000);
    call.a.tone = None;
    let now = call.now;
    call.a.audio.set_microphone(now, false);
    call.run(Duration::from_secs(3));
    let a = call.a.audio.stats();
    assert!((149..=151).contains(&a.packets_sent), "{a:?}");
    let b = call.b.audio.stats();
    assert!(b.packets_received >= 145, "{b:?}");
    assert!(rms(&call.b.recorded[24_000..]) < 20.0);
    // B's tone still reaches A.
    assert_eq!(
        dominant_frequency(&call.a.recorded[48_000..], 48_000, 3000.0),
        700.0
    );
}

#[test]
fn inactive_direction_sends_and_plays_nothing() {
    let mut call = CallPair::new(CodecName::Ulaw, 44, clean(), 48_000);
    call.run(Duration::from_secs(1));
    let now = call.now;
    call.a.audio.set_direction(now, Direction::Inactive);
    call.b.audio.set_direction(now, Direction::Inactive);
    let (a0, b0) = (
        call.a.audio.stats().packets_sent,
        call.b.audio.stats().packets_sent,
    );
    let mark = call.a.recorded.len();
    call.run(Duration::from_secs(40));
    assert_eq!(call.a.audio.stats().packets_sent, a0);
    assert_eq!(call.b.audio.stats().packets_sent, b0);
    assert_eq!(rms(&call.a.recorded[mark..]), 0.0);
    assert!(call
        .a
        .events
        .iter()
        .all(|e| !matches!(e, dialtone_media::CallEvent::Inactive { .. })));
}

#[test]
fn dtmf_needs_negotiated_telephone_event() {
    let now = std::time::Instant::now();
    let params = CallAudioParams::new(CodecName::Ulaw, 0, addr("127.0.0.1:9000"));
    let mut audio = CallAudio::new(now, params, &mut Xorshift::new(1)).unwrap();
    assert!(audio.send_dtmf('1', Duration::from_millis(100)).is_err());
    let mut with_te = CallAudioParams::new(CodecName::Ulaw, 0, addr("127.0.0.1:9000"));
    with_te.telephone_event = Some(dialtone_sdp::TelephoneEvent {
        payload_type: 101,
        clock_rate: 8000,
        events: None,
    });
    let mut audio = CallAudio::new(now, with_te, &mut Xorshift::new(1)).unwrap();
    assert!(audio.send_dtmf('x', Duration::from_millis(100)).is_err());
    assert!(audio.send_dtmf('#', Duration::from_millis(100)).is_ok());
}
