//! RFC 3264 §6: an offered stream nothing matches is rejected with port 0, the others
//! answered; when nothing at all can be accepted the offer is refused (SIP: 488).

mod common;

use common::*;
use dialtone_sdp::{NegotiatedMedia, SdpError};

#[test]
fn stream_without_a_common_codec_gets_port_zero() {
    let offer = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 8",
        "a=mid:a",
        "m=video 5002 RTP/AVP 34",
        "a=rtpmap:34 H263/90000",
        "a=mid:v",
        "m=image 5004 udptl t38",
        "a=T38FaxVersion:0",
        "m=audio 5006 RTP/AVP 0",
    ]);
    let mut n = negotiator("alaw, ulaw, vp8");
    let (answer, negotiated) = n
        .answer_offer(&offer, &audio_params(4000).with_video(4002))
        .expect("answer");
    assert_eq!(answer.media.len(), 4);
    assert_eq!(answer.media[0].port, 4000);
    assert_eq!(answer.media[0].mid(), Some("a"));
    // Rejected lines keep media type, protocol, formats and mid; nothing else.
    assert_eq!(
        answer.media[1].to_string(),
        "m=video 0 RTP/AVP 34\r\na=mid:v\r\n"
    );
    assert_eq!(answer.media[2].to_string(), "m=image 0 udptl t38\r\n");
    // Only one audio stream is supported: the second is rejected.
    assert_eq!(answer.media[3].to_string(), "m=audio 0 RTP/AVP 0\r\n");
    assert!(matches!(negotiated.media[0], NegotiatedMedia::Accepted(_)));
    for (index, media) in [(1, "video"), (2, "image"), (3, "audio")] {
        assert_eq!(
            negotiated.media[index],
            NegotiatedMedia::Rejected {
                index,
                media: media.to_string()
            }
        );
    }
    assert_eq!(wire(&answer), answer);
}

#[test]
fn disabled_offered_streams_stay_disabled() {
    let offer = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=video 0 RTP/AVP 96",
        "m=audio 5000 RTP/AVP 8",
    ]);
    let (answer, negotiated) = negotiator("alaw, vp8")
        .answer_offer(&offer, &audio_params(4000).with_video(4002))
        .expect("answer");
    assert_eq!(answer.media[0].port, 0);
    assert_eq!(negotiated.audio().unwrap().index, 1);
}

#[test]
fn nothing_acceptable_is_an_error_naming_each_stream() {
    let offer = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 3",
        "m=video 5002 RTP/AVP 96",
        "a=rtpmap:96 VP8/90000",
    ]);
    let mut n = negotiator("alaw");
    let err = n.answer_offer(&offer, &audio_params(4000)).unwrap_err();
    let SdpError::NoAcceptableMedia { reason } = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(
        reason,
        "m-line 0 (audio): no codec in common; m-line 1 (video): no video wanted for this call"
    );
    // Nothing changed.
    assert!(n.current().is_none());
    assert_eq!(n.session_version(), 1);
}

#[test]
fn an_offer_without_media_is_refused() {
    let offer = parse(&["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"]);
    let err = negotiator("alaw")
        .answer_offer(&offer, &audio_params(4000))
        .unwrap_err();
    assert_eq!(
        err,
        SdpError::NoAcceptableMedia {
            reason: "the offer has no m= line".to_string()
        }
    );
}

#[test]
fn static_payload_types_need_no_rtpmap() {
    let offer = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 18 0 9",
    ]);
    let (answer, negotiated) = negotiator("g722, ulaw")
        .answer_offer(&offer, &audio_params(4000))
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["0", "9"]);
    let audio = negotiated.audio().unwrap();
    assert_eq!(
        (audio.codec.name, audio.codec.clock_rate),
        (dialtone_sdp::CodecName::Ulaw, 8000)
    );
}

#[test]
fn speex_rates_are_distinct_codecs() {
    let offer = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 97 98",
        "a=rtpmap:97 speex/16000",
        "a=rtpmap:98 speex/8000",
    ]);
    let (answer, negotiated) = negotiator("speex")
        .answer_offer(&offer, &audio_params(4000))
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["98"]);
    assert_eq!(
        negotiated.audio().unwrap().codec.name,
        dialtone_sdp::CodecName::Speex
    );
}
