//! The codec names users of the original web call server configure, their RTP
//! mappings, and the policy lists built from comma lists.

mod common;

use common::*;
use dialtone_sdp::{parse_codec_list, CodecName, CodecPolicy, MediaKind, SdpError, SessionParams};

#[test]
fn every_configured_name_maps_to_its_rtpmap() {
    let expected = [
        ("opus", "opus", 48000, Some(2), None),
        ("alaw", "PCMA", 8000, None, Some(8)),
        ("ulaw", "PCMU", 8000, None, Some(0)),
        ("g729", "G729", 8000, None, Some(18)),
        ("speex16", "speex", 16000, None, None),
        ("speex", "speex", 8000, None, None),
        ("g722", "G722", 8000, None, Some(9)),
        ("telephone-event", "telephone-event", 8000, None, None),
        ("h264", "H264", 90000, None, None),
        ("vp8", "VP8", 90000, None, None),
    ];
    for (name, encoding, rate, channels, static_pt) in expected {
        let codec: CodecName = name.parse().expect(name);
        assert_eq!(codec.as_str(), name);
        assert_eq!(codec.to_string(), name);
        assert_eq!(codec.encoding(), encoding, "{name}");
        assert_eq!(codec.clock_rate(), rate, "{name}");
        assert_eq!(codec.channels(), channels, "{name}");
        assert_eq!(codec.static_payload_type(), static_pt, "{name}");
        let kind = if matches!(name, "h264" | "vp8") {
            MediaKind::Video
        } else {
            MediaKind::Audio
        };
        assert_eq!(codec.kind(), kind, "{name}");
    }
}

#[test]
fn comma_lists_tolerate_spaces_case_empty_items_and_duplicates() {
    let list = parse_codec_list(" Opus, ALAW ,,ulaw, opus, telephone-event,").expect("valid");
    assert_eq!(
        list,
        vec![
            CodecName::Opus,
            CodecName::Alaw,
            CodecName::Ulaw,
            CodecName::TelephoneEvent
        ]
    );
    assert_eq!(parse_codec_list("").expect("empty is fine"), vec![]);
}

#[test]
fn unknown_names_are_clear_errors() {
    for (list, bad) in [
        ("opus,gsm", "gsm"),
        ("pcma", "pcma"),
        ("opus, g.711 ", "g.711"),
    ] {
        let err = parse_codec_list(list).unwrap_err();
        assert_eq!(
            err,
            SdpError::UnknownCodec {
                name: bad.to_string()
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{bad:?}")) && msg.contains("speex16"),
            "{msg}"
        );
    }
    assert!(CodecPolicy::from_lists("opus", "amr").is_err());
    assert!(CodecPolicy::from_lists("amr", "").is_err());
}

#[test]
fn offer_uses_static_and_dynamic_payload_types_in_policy_order() {
    let mut n = negotiator("g729, speex16, alaw, speex, opus, ulaw, g722, telephone-event");
    let (offer, _pending) = n.create_offer(&audio_params(4000)).expect("offer");
    let audio = &offer.media[0];
    // Policy order; telephone-event last, twice (48000 for Opus, then 8000).
    assert_eq!(
        audio.formats,
        ["18", "96", "8", "97", "98", "0", "9", "99", "100"]
    );
    let lines = attribute_lines(audio);
    for expected in [
        "rtpmap:18 G729/8000",
        "fmtp:18 annexb=no",
        "rtpmap:96 speex/16000",
        "rtpmap:8 PCMA/8000",
        "rtpmap:97 speex/8000",
        "rtpmap:98 opus/48000/2",
        "fmtp:98 useinbandfec=1",
        "rtpmap:0 PCMU/8000",
        "rtpmap:9 G722/8000",
        "rtpmap:99 telephone-event/48000",
        "fmtp:99 0-16",
        "rtpmap:100 telephone-event/8000",
        "fmtp:100 0-16",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected} in {lines:#?}"
        );
    }
}

#[test]
fn telephone_event_at_48000_only_next_to_opus() {
    let mut n = negotiator("alaw, telephone-event");
    let (offer, _) = n.create_offer(&audio_params(4000)).expect("offer");
    let lines = attribute_lines(&offer.media[0]);
    assert!(
        lines.contains(&"rtpmap:96 telephone-event/8000".to_string()),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("telephone-event/48000")),
        "{lines:?}"
    );
}

#[test]
fn opus_fmtp_follows_the_policy_options() {
    let mut policy = CodecPolicy::from_lists("opus", "").expect("valid");
    policy.opus.usedtx = true;
    policy.opus.maxplaybackrate = Some(16000);
    let mut n = dialtone_sdp::Negotiator::new(policy, 1, 1);
    let (offer, _) = n.create_offer(&audio_params(4000)).expect("offer");
    assert_eq!(
        offer.media[0].fmtp(96),
        Some("maxplaybackrate=16000;useinbandfec=1;usedtx=1")
    );

    let mut policy = CodecPolicy::from_lists("opus", "").expect("valid");
    policy.opus.useinbandfec = false;
    let mut n = dialtone_sdp::Negotiator::new(policy, 1, 1);
    let (offer, _) = n.create_offer(&audio_params(4000)).expect("offer");
    assert_eq!(offer.media[0].fmtp(96), None);
}

#[test]
fn h264_is_offered_twice_with_both_packetization_modes() {
    let mut n = negotiator("alaw, h264, vp8");
    let params = audio_params(4000).with_video(4002);
    let (offer, _) = n.create_offer(&params).expect("offer");
    let video = &offer.media[1];
    assert_eq!(video.media, "video");
    assert_eq!(video.formats, ["96", "97", "98"]);
    assert_eq!(
        video.fmtp(96),
        Some("profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1")
    );
    assert_eq!(
        video.fmtp(97),
        Some("profile-level-id=42e01f;packetization-mode=0;level-asymmetry-allowed=1")
    );
    assert_eq!(
        video.rtpmap(98).map(|r| r.encoding),
        Some("VP8".to_string())
    );
    assert_eq!(video.rtcp_feedback(98), vec!["nack", "nack pli", "ccm fir"]);
    // Audio codecs stay on the audio line, video codecs on the video line.
    assert_eq!(offer.media[0].formats, ["8"]);
}

#[test]
fn excluded_codecs_are_not_offered_but_are_accepted_in_answers() {
    let policy = CodecPolicy::from_lists("opus, g729, alaw", "g729").expect("valid");
    let mut n = dialtone_sdp::Negotiator::new(policy, 1, 1);
    let (offer, _) = n.create_offer(&audio_params(4000)).expect("offer");
    assert_eq!(offer.media[0].formats, ["96", "8"]);

    let policy = CodecPolicy::from_lists("opus, g729, alaw", "g729").expect("valid");
    let mut n = dialtone_sdp::Negotiator::new(policy, 1, 1);
    let (answer, negotiated) = n
        .answer_offer(&parse(DESK_PHONE_OFFER), &audio_params(4000))
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["8", "18"]);
    assert_eq!(
        negotiated.audio().expect("audio").codec.name,
        CodecName::Alaw
    );
}

#[test]
fn strip_list_removes_codecs_from_offers_and_answers() {
    let mut params = audio_params(4000);
    params.strip = parse_codec_list("opus, telephone-event").expect("valid");
    let mut n = negotiator("opus, alaw, ulaw, telephone-event");
    let (offer, _) = n.create_offer(&params).expect("offer");
    assert_eq!(offer.media[0].formats, ["8", "0"]);

    let mut n = negotiator("opus, alaw, ulaw, telephone-event");
    let (answer, negotiated) = n
        .answer_offer(&parse(BARESIP_OFFER), &params)
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["0", "8"]);
    assert!(negotiated.audio().expect("audio").telephone_event.is_none());
}

#[test]
fn nothing_left_to_offer_is_an_error() {
    let mut params = audio_params(4000);
    params.strip = vec![CodecName::Alaw];
    let mut n = negotiator("alaw, telephone-event");
    assert_eq!(
        n.create_offer(&params).unwrap_err(),
        SdpError::NothingToOffer
    );
    // Asking for nothing at all is the same error.
    let mut params: SessionParams = audio_params(4000);
    params.audio = None;
    assert_eq!(
        negotiator("alaw").create_offer(&params).unwrap_err(),
        SdpError::NothingToOffer
    );
}

#[test]
fn g729_is_accepted_with_annexb_no() {
    let mut n = negotiator("g729");
    let (answer, negotiated) = n
        .answer_offer(&parse(DESK_PHONE_OFFER), &audio_params(4000))
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["18"]);
    assert_eq!(answer.media[0].fmtp(18), Some("annexb=no"));
    let codec = &negotiated.audio().expect("audio").codec;
    assert_eq!((codec.payload_type, codec.name), (18, CodecName::G729));
    assert_eq!(codec.fmtp.as_deref(), Some("annexb=no"));
}
