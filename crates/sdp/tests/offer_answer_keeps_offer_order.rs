//! RFC 3264 §6.1: the answer lists the accepted codecs in the OFFER's order (not ours),
//! with the offer's payload numbers, filtered by our policy.

mod common;

use common::*;
use dialtone_sdp::{CodecName, Direction};

#[test]
fn answer_keeps_the_offer_order_not_our_preference() {
    // We prefer A-law over µ-law over G.722; the phone offers 0 8 18 9 101.
    let mut n = negotiator("alaw, ulaw, g722, telephone-event");
    let (answer, negotiated) = n
        .answer_offer(&parse(DESK_PHONE_OFFER), &audio_params(30000))
        .expect("answer");
    let audio = &answer.media[0];
    assert_eq!(audio.formats, ["0", "8", "9", "101"]);
    assert_eq!(audio.port, 30000);
    assert_eq!(audio.protocol, "RTP/AVP");

    let accepted = negotiated.audio().expect("audio accepted");
    assert_eq!(accepted.codec.name, CodecName::Ulaw);
    assert_eq!(accepted.codec.payload_type, 0);
    let others: Vec<_> = accepted
        .other_codecs
        .iter()
        .map(|c| (c.payload_type, c.name))
        .collect();
    assert_eq!(others, [(8, CodecName::Alaw), (9, CodecName::G722)]);
    let te = accepted.telephone_event.as_ref().expect("DTMF");
    assert_eq!(
        (te.payload_type, te.clock_rate, te.events.as_deref()),
        (101, 8000, Some("0-15"))
    );
    assert_eq!(accepted.remote_rtp, "192.168.1.50:11780".parse().unwrap());
    assert_eq!(accepted.remote_rtcp, "192.168.1.50:11781".parse().unwrap());
    assert_eq!(accepted.ptime, Some(20));
    assert_eq!(accepted.direction, Direction::SendRecv);
    assert_eq!(accepted.local_port, 30000);
    assert!(!accepted.rtcp_mux);
}

#[test]
fn answer_uses_the_offer_payload_numbers_for_dynamic_codecs() {
    let mut n = negotiator("speex16, opus, ulaw, telephone-event");
    let (answer, negotiated) = n
        .answer_offer(&parse(BARESIP_OFFER), &audio_params(30000))
        .expect("answer");
    let audio = &answer.media[0];
    assert_eq!(audio.formats, ["96", "97", "0", "101"]);
    let lines = attribute_lines(audio);
    assert_eq!(
        &lines[..6],
        [
            "rtpmap:96 opus/48000/2",
            "fmtp:96 useinbandfec=1",
            "rtpmap:97 speex/16000",
            "rtpmap:0 PCMU/8000",
            "rtpmap:101 telephone-event/8000",
            "fmtp:101 0-16",
        ]
    );
    let accepted = negotiated.audio().expect("audio");
    assert_eq!(accepted.codec.name, CodecName::Opus);
    assert_eq!(accepted.codec.channels, 2);
    // The peer's own fmtp is reported, for the encoder.
    assert_eq!(
        accepted.codec.fmtp.as_deref(),
        Some("stereo=1;sprop-stereo=1")
    );
}

#[test]
fn answer_is_well_formed_and_attributes_come_in_a_stable_order() {
    let mut n = negotiator("ulaw, alaw, telephone-event");
    let (answer, _) = n
        .answer_offer(&parse(SIPP_OFFER), &audio_params(30000))
        .expect("answer");
    assert_eq!(
        answer.to_string(),
        crlf(&[
            "v=0",
            "o=- 1001 1 IN IP4 127.0.0.1",
            "s=-",
            "c=IN IP4 127.0.0.1",
            "t=0 0",
            "m=audio 30000 RTP/AVP 8 101",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16",
            "a=ptime:20",
            "a=sendrecv",
        ])
    );
}

#[test]
fn offerer_sends_with_the_first_codec_of_the_answer() {
    // We offer opus, alaw, ulaw; the peer answers ulaw first.
    let mut n = negotiator("opus, alaw, ulaw, telephone-event");
    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    assert_eq!(offer.media[0].formats, ["96", "8", "0", "97", "98"]);
    let answer = parse(&[
        "v=0",
        "o=peer 5 5 IN IP4 203.0.113.9",
        "s=-",
        "c=IN IP4 203.0.113.9",
        "t=0 0",
        "m=audio 7000 RTP/AVP 0 8 98",
        "a=rtpmap:98 telephone-event/8000",
    ]);
    let negotiated = n.accept_answer(pending, &answer).expect("accepted");
    let audio = negotiated.audio().expect("audio");
    assert_eq!(
        (audio.codec.payload_type, audio.codec.name),
        (0, CodecName::Ulaw)
    );
    assert_eq!(audio.other_codecs[0].name, CodecName::Alaw);
    assert_eq!(
        audio.telephone_event.as_ref().map(|t| t.payload_type),
        Some(98)
    );
    assert_eq!(audio.remote_rtp, "203.0.113.9:7000".parse().unwrap());
    assert_eq!(audio.local_port, 4000);
}

#[test]
fn answer_payload_numbers_may_differ_from_the_offer() {
    // RFC 3264 §6.1 says SHOULD keep them; we match by codec, not by number.
    let mut n = negotiator("opus, alaw");
    let (_, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    let answer = parse(&[
        "v=0",
        "o=peer 5 5 IN IP4 203.0.113.9",
        "s=-",
        "c=IN IP4 203.0.113.9",
        "t=0 0",
        "m=audio 7000 RTP/AVP 111",
        "a=rtpmap:111 OPUS/48000/2",
    ]);
    let negotiated = n.accept_answer(pending, &answer).expect("accepted");
    let codec = &negotiated.audio().expect("audio").codec;
    assert_eq!((codec.payload_type, codec.name), (111, CodecName::Opus));
}

#[test]
fn answer_naming_a_codec_we_never_offered_is_refused() {
    let mut n = negotiator("alaw");
    let (_, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    let answer = parse(&[
        "v=0",
        "o=peer 5 5 IN IP4 203.0.113.9",
        "s=-",
        "c=IN IP4 203.0.113.9",
        "t=0 0",
        "m=audio 7000 RTP/AVP 0",
    ]);
    let err = n.accept_answer(pending, &answer).unwrap_err();
    assert!(
        err.to_string()
            .contains("accepts none of the offered codecs"),
        "{err}"
    );
    assert!(n.current().is_none());
}
