//! RFC 4733 §2.1: telephone-event runs at the audio codec's clock rate; the answer keeps
//! the one that matches the chosen codec.

mod common;

use common::*;

#[test]
fn opus_call_keeps_telephone_event_48000() {
    let mut n = negotiator("opus, alaw, telephone-event");
    let (answer, negotiated) = n
        .answer_offer(&parse(CHROMIUM_OFFER_PLAIN), &audio_params(4000))
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["111", "8", "110"]);
    let te = negotiated
        .audio()
        .unwrap()
        .telephone_event
        .clone()
        .expect("DTMF");
    assert_eq!((te.payload_type, te.clock_rate), (110, 48000));
}

#[test]
fn g711_call_keeps_telephone_event_8000() {
    let mut n = negotiator("alaw, opus, telephone-event");
    let mut offer = parse(CHROMIUM_OFFER_PLAIN);
    // Put PCMA first so it is the chosen codec.
    offer.media[0].formats = ["8", "111", "110", "126"].map(String::from).to_vec();
    let (answer, negotiated) = n.answer_offer(&offer, &audio_params(4000)).expect("answer");
    assert_eq!(answer.media[0].formats, ["8", "111", "126"]);
    let te = negotiated
        .audio()
        .unwrap()
        .telephone_event
        .clone()
        .expect("DTMF");
    assert_eq!((te.payload_type, te.clock_rate), (126, 8000));
}

#[test]
fn without_a_matching_rate_the_offered_telephone_event_is_kept() {
    // baresip offers Opus with telephone-event/8000 only; DTMF must still work.
    let mut n = negotiator("opus, telephone-event");
    let (answer, negotiated) = n
        .answer_offer(&parse(BARESIP_OFFER), &audio_params(4000))
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["96", "101"]);
    let te = negotiated
        .audio()
        .unwrap()
        .telephone_event
        .clone()
        .expect("DTMF");
    assert_eq!((te.payload_type, te.clock_rate), (101, 8000));
}

#[test]
fn offerer_picks_the_matching_rate_from_the_answer() {
    let mut n = negotiator("opus, telephone-event");
    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    assert_eq!(offer.media[0].formats, ["96", "97", "98"]);
    let mut answer = wire(&offer);
    answer.media[0].port = 7000;
    let negotiated = n.accept_answer(pending, &answer).expect("accepted");
    let te = negotiated
        .audio()
        .unwrap()
        .telephone_event
        .clone()
        .expect("DTMF");
    assert_eq!((te.payload_type, te.clock_rate), (97, 48000));
}

#[test]
fn telephone_event_alone_is_no_codec() {
    let offer = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 101",
        "a=rtpmap:101 telephone-event/8000",
    ]);
    let err = negotiator("alaw, telephone-event")
        .answer_offer(&offer, &audio_params(4000))
        .unwrap_err();
    assert!(err.to_string().contains("no codec in common"), "{err}");
}

/// The Chromium offer's audio line on plain RTP/AVP, as a SIP gateway would relay it.
const CHROMIUM_OFFER_PLAIN: &[&str] = &[
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 192.0.2.33",
    "t=0 0",
    "m=audio 40000 RTP/AVP 111 63 9 0 8 13 110 126",
    "a=rtpmap:111 opus/48000/2",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:13 CN/8000",
    "a=rtpmap:110 telephone-event/48000",
    "a=rtpmap:126 telephone-event/8000",
];
