//! A WebRTC offer (UDP/TLS/RTP/SAVPF) is only accepted when we answer on that
//! transport; the media layer supplies ICE/DTLS attributes and reads the peer's.

mod common;

use common::*;
use dialtone_sdp::{Attribute, CodecName, MediaParams, SdpError};

#[test]
fn plain_rtp_side_rejects_a_webrtc_offer() {
    let err = negotiator("opus, alaw, vp8")
        .answer_offer(&parse(CHROMIUM_OFFER), &audio_params(4000).with_video(4002))
        .unwrap_err();
    let SdpError::NoAcceptableMedia { reason } = err else {
        panic!()
    };
    assert!(
        reason.contains("protocol UDP/TLS/RTP/SAVPF not accepted (we use RTP/AVP)"),
        "{reason}"
    );
}

#[test]
fn webrtc_side_answers_with_its_own_ice_and_dtls_attributes() {
    let mut params = audio_params(4000).with_video(4002);
    let ours = |port| MediaParams {
        port,
        protocol: "UDP/TLS/RTP/SAVPF".to_string(),
        attributes: vec![
            Attribute::new("ice-ufrag", "Dt1a").unwrap(),
            Attribute::new("ice-pwd", "dialtonedialtonedialtone").unwrap(),
            Attribute::new("setup", "active").unwrap(),
        ],
    };
    params.audio = Some(ours(4000));
    params.video = Some(ours(4000));
    params.session_attributes = vec![Attribute::new("group", "BUNDLE 0 1").unwrap()];
    let (answer, negotiated) = negotiator("opus, alaw, telephone-event, vp8")
        .answer_offer(&parse(CHROMIUM_OFFER), &params)
        .expect("answer");
    assert!(answer
        .to_string()
        .contains("t=0 0\r\na=group:BUNDLE 0 1\r\nm=audio 4000 "));
    let audio = &answer.media[0];
    assert_eq!(audio.protocol, "UDP/TLS/RTP/SAVPF");
    assert_eq!(audio.formats, ["111", "8", "110"]);
    assert_eq!(
        attribute_lines(audio)[5..],
        [
            "ptime:20",
            "rtcp-mux",
            "sendrecv",
            "mid:0",
            "ice-ufrag:Dt1a",
            "ice-pwd:dialtonedialtonedialtone",
            "setup:active"
        ]
    );
    let video = &answer.media[1];
    assert_eq!(video.formats, ["96"]);
    assert_eq!(video.rtcp_feedback(96), vec!["ccm fir", "nack", "nack pli"]);
    assert_eq!(video.mid(), Some("1"));

    let a = negotiated.audio().unwrap();
    assert_eq!(a.codec.name, CodecName::Opus);
    assert_eq!(a.mid.as_deref(), Some("0"));
    assert!(a.rtcp_mux);
    assert!(a.remote_attributes.iter().any(|x| x.is("fingerprint")));
    assert_eq!(a.remote_rtp, "0.0.0.0:9".parse().unwrap());
    assert_eq!(negotiated.video().unwrap().codec.name, CodecName::Vp8);
}

#[test]
fn avpf_and_avp_are_one_family() {
    let mut lines = DESK_PHONE_OFFER.to_vec();
    lines[5] = "m=audio 11780 RTP/AVPF 0 8 18 9 101";
    let (answer, _) = negotiator("alaw")
        .answer_offer(&parse(&lines), &audio_params(4000))
        .expect("answer");
    // The answer echoes the offered transport.
    assert_eq!(answer.media[0].protocol, "RTP/AVPF");
}

#[test]
fn attributes_cannot_inject_lines() {
    assert!(matches!(
        Attribute::new("crypto", "1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=evil"),
        Err(SdpError::InvalidAttribute { .. })
    ));
    assert!(Attribute::new("bad name", "1").is_err());
    assert!(Attribute::new("", "1").is_err());
    assert!(Attribute::flag("rtcp-mux\n").is_err());
    assert_eq!(
        Attribute::flag("rtcp-mux").unwrap().to_string(),
        "a=rtcp-mux\r\n"
    );
    let a = Attribute::new("fmtp", "").unwrap();
    assert_eq!((a.name(), a.value()), ("fmtp", Some("")));
}
