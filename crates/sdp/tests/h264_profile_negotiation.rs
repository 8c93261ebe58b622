//! H.264 answers (RFC 6184 §8.2.2): packetization mode must match, the profile must be
//! the same once constraint flags are read, the level is settled in the answer.

mod common;

use common::*;
use dialtone_sdp::{CodecName, CodecPolicy, H264Profile, ProfileLevelId, SdpError};

fn video_offer(formats: &str, fmtps: &[&str]) -> dialtone_sdp::SessionDescription {
    let m = format!("m=video 5002 RTP/AVP {formats}");
    let mut lines = vec![
        "v=0".to_string(),
        "o=- 1 1 IN IP4 192.0.2.1".to_string(),
        "s=-".to_string(),
        "c=IN IP4 192.0.2.1".to_string(),
        "t=0 0".to_string(),
        m,
    ];
    for pt in formats.split(' ') {
        lines.push(format!("a=rtpmap:{pt} H264/90000"));
        lines.push(format!("a=rtcp-fb:{pt} nack pli"));
        lines.push(format!("a=rtcp-fb:{pt} goog-remb"));
    }
    lines.extend(fmtps.iter().map(|f| f.to_string()));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    parse(&refs)
}

fn answer(
    offer: &dialtone_sdp::SessionDescription,
) -> Result<(dialtone_sdp::SessionDescription, dialtone_sdp::Negotiated), SdpError> {
    let mut params = audio_params(4000).with_video(4002);
    params.audio = None;
    negotiator("h264").answer_offer(offer, &params)
}

#[test]
fn profile_level_id_parses_and_names_profiles() {
    let cases = [
        ("42e01f", H264Profile::ConstrainedBaseline),
        ("42c01f", H264Profile::ConstrainedBaseline),
        ("42001f", H264Profile::Baseline),
        ("4d001f", H264Profile::Main),
        ("4d401f", H264Profile::Main),
        ("4d801f", H264Profile::ConstrainedBaseline),
        ("640c1f", H264Profile::ConstrainedHigh),
        ("64001f", H264Profile::High),
        ("58c01f", H264Profile::ConstrainedBaseline),
        ("f4001f", H264Profile::Other(0xf4)),
    ];
    for (text, profile) in cases {
        let id: ProfileLevelId = text.parse().expect(text);
        assert_eq!(id.profile(), profile, "{text}");
        assert_eq!(id.to_string(), text);
    }
    for bad in ["42e01", "42e01fz", "zze01f", "", "42e01f0", "+42e01"] {
        assert!(
            matches!(
                bad.parse::<ProfileLevelId>(),
                Err(SdpError::InvalidProfileLevelId { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn modes_must_match_and_both_are_accepted_in_offer_order() {
    let offer = video_offer(
        "100 101 102",
        &[
            "a=fmtp:100 profile-level-id=42e01f;packetization-mode=0",
            "a=fmtp:101 profile-level-id=42e01f;packetization-mode=1",
            "a=fmtp:102 profile-level-id=42e01f;packetization-mode=2",
        ],
    );
    let (sdp, negotiated) = answer(&offer).expect("answer");
    let video = &sdp.media[0];
    assert_eq!(video.formats, ["100", "101"]);
    assert_eq!(
        video.fmtp(100),
        Some("profile-level-id=42e01f;packetization-mode=0;level-asymmetry-allowed=1")
    );
    assert_eq!(
        video.fmtp(101),
        Some("profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1")
    );
    // Only the feedback we implement is echoed.
    assert_eq!(video.rtcp_feedback(100), vec!["nack pli"]);
    let v = negotiated.video().unwrap();
    assert_eq!((v.codec.name, v.codec.payload_type), (CodecName::H264, 100));
}

#[test]
fn absent_packetization_mode_means_zero() {
    let offer = video_offer("96", &["a=fmtp:96 profile-level-id=42e01f"]);
    let (sdp, _) = answer(&offer).expect("answer");
    assert_eq!(
        sdp.media[0].fmtp(96),
        Some("profile-level-id=42e01f;packetization-mode=0;level-asymmetry-allowed=1")
    );
}

#[test]
fn other_profiles_are_not_accepted() {
    let offer = video_offer(
        "96",
        &["a=fmtp:96 profile-level-id=640c1f;packetization-mode=1"],
    );
    let err = answer(&offer).unwrap_err();
    assert!(err.to_string().contains("no codec in common"), "{err}");
    let bad = video_offer(
        "96",
        &["a=fmtp:96 profile-level-id=banana;packetization-mode=1"],
    );
    assert!(answer(&bad).is_err());
}

#[test]
fn constrained_baseline_written_differently_still_matches() {
    let offer = video_offer(
        "96",
        &["a=fmtp:96 profile-level-id=42c01f;packetization-mode=1"],
    );
    let (sdp, _) = answer(&offer).expect("answer");
    // The answer keeps the offer's profile bytes.
    assert!(sdp.media[0]
        .fmtp(96)
        .unwrap()
        .starts_with("profile-level-id=42c01f;"));
}

#[test]
fn level_is_the_lower_one_without_asymmetry() {
    let mut policy = CodecPolicy::from_lists("h264", "").unwrap();
    policy.h264_profile_level_id = "42e028".parse().unwrap(); // level 4.0
    let mut params = audio_params(4000).with_video(4002);
    params.audio = None;
    let offer = video_offer(
        "96 97",
        &[
            "a=fmtp:96 profile-level-id=42e015;packetization-mode=1",
            "a=fmtp:97 profile-level-id=42e033;packetization-mode=0;level-asymmetry-allowed=1",
        ],
    );
    let (sdp, _) = dialtone_sdp::Negotiator::new(policy, 1, 1)
        .answer_offer(&offer, &params)
        .expect("answer");
    // 2.1 offered without asymmetry: 2.1. 5.1 offered with asymmetry: our 4.0.
    assert!(sdp.media[0]
        .fmtp(96)
        .unwrap()
        .starts_with("profile-level-id=42e015;"));
    assert!(sdp.media[0]
        .fmtp(97)
        .unwrap()
        .starts_with("profile-level-id=42e028;"));
}

#[test]
fn offerer_matches_answered_h264_by_mode_not_number() {
    let mut n = negotiator("h264");
    let mut params = audio_params(4000).with_video(4002);
    params.audio = None;
    let (offer, pending) = n.create_offer(&params).expect("offer");
    assert_eq!(offer.media[0].formats, ["96", "97"]);
    // The peer answers only mode 0, renumbered.
    let answer = video_offer(
        "120",
        &["a=fmtp:120 profile-level-id=42e01f;packetization-mode=0"],
    );
    let negotiated = n.accept_answer(pending, &answer).expect("accepted");
    let codec = &negotiated.video().unwrap().codec;
    assert_eq!(codec.payload_type, 120);
    assert_eq!(
        codec.fmtp.as_deref(),
        Some("profile-level-id=42e01f;packetization-mode=0")
    );
}
