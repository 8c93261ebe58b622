//! Call audio against SIPp replaying real captures with `play_pcap_audio` (raw sockets:
//! SIPp must run as root). The SIP side is a bare UDP endpoint in the test; the SDP comes
//! from the project's `Negotiator`; the media from a `CallAudioTask`.
//!
//! * We call SIPp (`audio_uas_play_g711a.xml`), which answers PCMA and plays
//!   `g711a.pcap` (speech, 30 ms packets): our recording holds speech-level audio.
//! * SIPp calls us (`audio_uac_play_dtmf.xml`) offering telephone-event 101 and plays the
//!   `dtmf_2833_*.pcap` captures for 1-9, *, #: each digit is reported once, in order.

mod audio_support;

use std::time::Duration;

use audio_support::sip::SipEndpoint;
use audio_support::{loopback, wait_for};
use dialtone_core::audio::{AudioConfig, AudioEvent, CallAudioTask, SinkChoice, SourceChoice};
use dialtone_devices::analysis::{analyze, read_wav_mono};
use dialtone_sdp::{CodecName, CodecPolicy, Negotiator, SessionDescription, SessionParams};
use dialtone_testkit::{free_port, Scenario, Sipp, SippArgs};

/// `play_pcap_audio` opens a raw socket: without root SIPp sends nothing and these tests
/// could not tell a broken receiver from a silent peer. Fail loudly instead.
fn require_root() {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .expect("Uid line");
    assert_eq!(
        euid, "0",
        "SIPp's play_pcap_audio needs root (raw socket); run these tests as root"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speech_from_sipps_g711a_capture_is_recorded() {
    require_root();
    let sipp = Sipp::uas(
        Scenario::peer("audio_uas_play_g711a.xml"),
        SippArgs::new(free_port()),
    )
    .expect("start SIPp");
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("received.wav");
    // We send silence: whatever the recording holds came from SIPp.
    let config = AudioConfig {
        source: SourceChoice::Silence,
        sink: SinkChoice::Wav(recording.clone()),
        ..AudioConfig::default()
    };
    let (audio, mut events) = CallAudioTask::open(loopback(), config).await.unwrap();
    let mut negotiator = Negotiator::new(
        CodecPolicy::from_lists("alaw, ulaw, telephone-event", "").unwrap(),
        42,
        1,
    );
    let params = SessionParams::new(loopback(), audio.local_port());
    let (offer, pending) = negotiator.create_offer(&params).unwrap();

    let mut sip = SipEndpoint::bind().await;
    let (mut dialog, answer) = sip.call(sipp.addr(), "audio", &offer.to_string()).await;
    let answer = SessionDescription::parse(&answer).expect("SIPp's SDP parses");
    let negotiated = negotiator.accept_answer(pending, &answer).unwrap();
    let media = negotiated.audio().expect("audio accepted");
    assert_eq!(media.codec.name, CodecName::Alaw);
    assert_eq!(media.ptime, Some(30));
    assert!(!media.rtcp_mux);
    audio.start(media).await.unwrap();

    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(sip.bye(&mut dialog).await, 200);
    let stats = audio.close().await.unwrap().expect("media ran");
    let outcome = sipp.wait().expect("SIPp ends");
    assert!(outcome.success(), "{outcome}");

    let seen = audio_support::drain(&mut events);
    eprintln!("final {stats:?}\nevents {seen:?}");
    // ~33 packets/s of 30 ms for 4.5 s.
    assert!(stats.packets_received >= 120, "{stats:?} {seen:?}");
    assert_eq!(stats.undecodable_packets, 0, "{stats:?}");
    assert!(stats.packets_sent >= 120, "we sent too: {stats:?}");
    let (samples, rate) = read_wav_mono(&recording).unwrap();
    let second = |s: f64| (s * f64::from(rate)) as usize;
    let speech = &samples[second(1.0).min(samples.len())..second(4.0).min(samples.len())];
    let level = analyze(speech, rate, Duration::ZERO);
    // The capture's own level over those seconds is 0.05-0.09 of full scale.
    assert!(
        level.rms > 0.02,
        "speech from g711a.pcap should be well above silence: {level:?} {stats:?} {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digits_from_sipps_dtmf_captures_are_reported_in_order() {
    require_root();
    let sip = SipEndpoint::bind().await;
    let args = SippArgs {
        remote: Some(sip.local()),
        service: Some("dialtone".into()),
        ..SippArgs::new(free_port())
    };
    let sipp = Sipp::uac(Scenario::peer("audio_uac_play_dtmf.xml"), args).expect("start SIPp");

    let (invite, from) = sip.expect_request("INVITE", Duration::from_secs(10)).await;
    let config = AudioConfig {
        source: SourceChoice::Silence,
        sink: SinkChoice::Null,
        ..AudioConfig::default()
    };
    let (audio, mut events) = CallAudioTask::open(loopback(), config).await.unwrap();
    let mut negotiator = Negotiator::new(
        CodecPolicy::from_lists("ulaw, alaw, telephone-event", "").unwrap(),
        43,
        1,
    );
    let offer = SessionDescription::parse(&String::from_utf8_lossy(&invite.body))
        .expect("SIPp's offer parses");
    let params = SessionParams::new(loopback(), audio.local_port());
    let (answer, negotiated) = negotiator.answer_offer(&offer, &params).unwrap();
    let media = negotiated.audio().expect("audio accepted");
    assert_eq!(media.codec.name, CodecName::Alaw);
    assert_eq!(
        media.telephone_event.as_ref().map(|t| t.payload_type),
        Some(101)
    );
    audio.start(media).await.unwrap();
    sip.respond(&invite, from, 200, "OK", Some(&answer.to_string()))
        .await;

    let mut digits = String::new();
    let (_, seen) = wait_for(&mut events, Duration::from_secs(15), |e| match e {
        AudioEvent::Dtmf { digit, duration_ms } => {
            // Each capture's end packets carry a duration of 2,240 units of 8 kHz.
            assert_eq!(*duration_ms, 280, "digit {digit}");
            digits.push(*digit);
            (digits.len() == 11).then_some(())
        }
        _ => None,
    })
    .await;
    assert_eq!(digits, "123456789*#", "events: {seen:?}");

    let (bye, from) = sip.expect_request("BYE", Duration::from_secs(10)).await;
    sip.respond(&bye, from, 200, "OK", None).await;
    let stats = audio.close().await.unwrap().expect("media ran");
    assert_eq!(stats.dtmf_received, 11, "{stats:?}");
    let outcome = sipp.wait().expect("SIPp ends");
    assert!(outcome.success(), "{outcome}");
}
