//! Audio+video offers answered audio-only (video port 0), both ways.

mod common;

use common::*;
use dialtone_sdp::{MediaKind, NegotiatedMedia, SdpError};

#[test]
fn peer_answers_our_audio_video_offer_audio_only() {
    let mut n = negotiator("opus, alaw, telephone-event, vp8, h264");
    let params = audio_params(4000).with_video(4002);
    let (offer, pending) = n.create_offer(&params).expect("offer");
    assert_eq!(offer.media.len(), 2);

    // A desk phone: no video, so it answers video with port 0.
    let mut phone = negotiator("alaw, telephone-event");
    let phone_params = dialtone_sdp::SessionParams::new("192.0.2.77".parse().unwrap(), 6000);
    let (answer, phone_side) = phone
        .answer_offer(&wire(&offer), &phone_params)
        .expect("answer");
    assert_eq!(answer.media[1].port, 0);
    assert_eq!(answer.media[1].media, "video");
    assert!(phone_side.video().is_none());

    let negotiated = n.accept_answer(pending, &wire(&answer)).expect("accepted");
    let audio = negotiated.audio().expect("audio still flows");
    assert_eq!(audio.codec.name, dialtone_sdp::CodecName::Alaw);
    assert_eq!(audio.remote_rtp, "192.0.2.77:6000".parse().unwrap());
    assert!(negotiated.video().is_none());
    assert_eq!(
        negotiated.media[1],
        NegotiatedMedia::Rejected {
            index: 1,
            media: "video".to_string()
        }
    );
}

#[test]
fn we_answer_a_video_offer_audio_only_when_no_video_is_wanted() {
    let offer = parse(&[
        "v=0",
        "o=- 5 5 IN IP4 192.0.2.8",
        "s=-",
        "c=IN IP4 192.0.2.8",
        "t=0 0",
        "m=audio 5000 RTP/AVP 0",
        "m=video 5002 RTP/AVP 96",
        "a=rtpmap:96 VP8/90000",
    ]);
    let mut n = negotiator("ulaw, vp8");
    let (answer, negotiated) = n.answer_offer(&offer, &audio_params(4000)).expect("answer");
    assert_eq!(answer.media[1].to_string(), "m=video 0 RTP/AVP 96\r\n");
    assert!(negotiated.accepted(MediaKind::Audio).is_some());
    assert!(negotiated.video().is_none());
}

#[test]
fn answer_with_both_streams_accepts_video_too() {
    let mut n = negotiator("alaw, vp8");
    let params = audio_params(4000).with_video(4002);
    let (offer, pending) = n.create_offer(&params).expect("offer");
    let mut peer = negotiator("alaw, vp8");
    let peer_params =
        dialtone_sdp::SessionParams::new("192.0.2.77".parse().unwrap(), 6000).with_video(6002);
    let (answer, _) = peer
        .answer_offer(&wire(&offer), &peer_params)
        .expect("answer");
    let negotiated = n.accept_answer(pending, &wire(&answer)).expect("accepted");
    let video = negotiated.video().expect("video");
    assert_eq!(video.codec.name, dialtone_sdp::CodecName::Vp8);
    assert_eq!(video.remote_rtp, "192.0.2.77:6002".parse().unwrap());
    assert_eq!(video.ptime, None);
    // No a=ptime on video lines.
    assert!(!offer.media[1].has_attribute("ptime"));
}

#[test]
fn answer_with_the_wrong_number_of_lines_is_refused() {
    let mut n = negotiator("alaw, vp8");
    let (_, pending) = n
        .create_offer(&audio_params(4000).with_video(4002))
        .expect("offer");
    let answer = parse(&[
        "v=0",
        "o=- 5 5 IN IP4 192.0.2.8",
        "s=-",
        "c=IN IP4 192.0.2.8",
        "t=0 0",
        "m=audio 5000 RTP/AVP 8",
    ]);
    let err = n.accept_answer(pending, &answer).unwrap_err();
    assert!(matches!(err, SdpError::AnswerMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("the offer has 2 m= lines, the answer 1"),
        "{err}"
    );
}

#[test]
fn answer_with_swapped_media_types_is_refused() {
    let mut n = negotiator("alaw, vp8");
    let (_, pending) = n
        .create_offer(&audio_params(4000).with_video(4002))
        .expect("offer");
    let answer = parse(&[
        "v=0",
        "o=- 5 5 IN IP4 192.0.2.8",
        "s=-",
        "c=IN IP4 192.0.2.8",
        "t=0 0",
        "m=video 0 RTP/AVP 96",
        "m=audio 5000 RTP/AVP 8",
    ]);
    let err = n.accept_answer(pending, &answer).unwrap_err();
    assert!(
        err.to_string()
            .contains("m-line 0: offered audio, answered video"),
        "{err}"
    );
}

#[test]
fn reoffer_after_video_rejection_keeps_the_video_line() {
    let mut n = negotiator("alaw, vp8");
    let (offer, pending) = n
        .create_offer(&audio_params(4000).with_video(4002))
        .expect("offer");
    let mut answer = wire(&offer);
    answer.media[1].port = 0;
    n.accept_answer(pending, &answer).expect("accepted");
    // Next re-offer without video: the line stays, disabled (RFC 3264 §8.2).
    let (reoffer, _) = n.create_offer(&audio_params(4000)).expect("re-offer");
    assert_eq!(reoffer.media.len(), 2);
    assert_eq!(reoffer.media[1].port, 0);
    assert_eq!(reoffer.media[1].media, "video");
}
