//! RFC 4733 DTMF through the pipelines: digits sent on one side are reported once each,
//! in order, with their durations, on the other — over a clean link, over a link that
//! loses and duplicates packets, and next to Opus (telephone-event/48000).

mod support;

use std::time::Duration;

use dialtone_media::{CallEvent, DtmfEvent};
use dialtone_sdp::CodecName;
use support::{CallPair, LinkProfile};

fn digits(events: &[CallEvent]) -> Vec<DtmfEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Dtmf(d) => Some(*d),
            _ => None,
        })
        .collect()
}

fn send_and_collect(codec: CodecName, link: LinkProfile, keys: &str) -> Vec<DtmfEvent> {
    let mut call = CallPair::new(codec, 31, link, 48_000);
    call.run(Duration::from_millis(500));
    for k in keys.chars() {
        call.a
            .audio
            .send_dtmf(k, Duration::from_millis(120))
            .expect("dtmf");
    }
    call.run(Duration::from_secs(4));
    assert_eq!(call.a.audio.stats().dtmf_sent, keys.len() as u64);
    digits(&call.b.events)
}

#[test]
fn digits_arrive_once_each_in_order_with_their_duration() {
    let got = send_and_collect(
        CodecName::Ulaw,
        LinkProfile::clean(Duration::from_millis(20)),
        "159#*0D",
    );
    let keys: String = got.iter().map(|d| d.digit).collect();
    assert_eq!(keys, "159#*0D");
    for d in &got {
        assert_eq!(d.duration, Duration::from_millis(120), "{d:?}");
    }
}

#[test]
fn retransmitted_ends_and_duplicates_do_not_double_digits() {
    let link = LinkProfile {
        loss: 0.15,
        duplicate: 0.3,
        jitter: Duration::from_millis(15),
        ..LinkProfile::clean(Duration::from_millis(20))
    };
    let got = send_and_collect(CodecName::Alaw, link, "24680");
    let keys: String = got.iter().map(|d| d.digit).collect();
    assert_eq!(keys, "24680");
    for d in &got {
        // The end packets may be lost with the last updates: at least most of it.
        assert!(d.duration >= Duration::from_millis(80), "{d:?}");
        assert!(d.duration <= Duration::from_millis(120), "{d:?}");
    }
}

#[test]
fn next_to_opus_the_event_clock_is_48khz() {
    let got = send_and_collect(
        CodecName::Opus,
        LinkProfile::clean(Duration::from_millis(20)),
        "7A",
    );
    let keys: String = got.iter().map(|d| d.digit).collect();
    assert_eq!(keys, "7A");
    assert_eq!(got[0].duration, Duration::from_millis(120));
}
