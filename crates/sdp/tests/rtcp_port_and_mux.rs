//! Where RTP and RTCP go: `c=` at media level over session level, `a=rtcp` (RFC 3605),
//! rtcp-mux (RFC 5761) when both sides say so, else the RTP port plus one.

mod common;

use common::*;
use dialtone_sdp::SdpError;

fn offer(media_lines: &[&str]) -> dialtone_sdp::SessionDescription {
    let mut lines = vec![
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
    ];
    lines.extend_from_slice(media_lines);
    parse(&lines)
}

fn accepted(
    offer: &dialtone_sdp::SessionDescription,
    rtcp_mux: bool,
) -> dialtone_sdp::AcceptedMedia {
    let mut params = audio_params(4000);
    params.rtcp_mux = rtcp_mux;
    let (_, negotiated) = negotiator("alaw")
        .answer_offer(offer, &params)
        .expect("answer");
    negotiated.audio().expect("audio").clone()
}

#[test]
fn media_level_connection_overrides_session_level() {
    let a = accepted(
        &offer(&["m=audio 5000 RTP/AVP 8", "c=IN IP4 198.51.100.20"]),
        true,
    );
    assert_eq!(a.remote_rtp, "198.51.100.20:5000".parse().unwrap());
    assert_eq!(a.remote_rtcp, "198.51.100.20:5001".parse().unwrap());
}

#[test]
fn ipv6_connection() {
    let a = accepted(
        &offer(&["m=audio 5000 RTP/AVP 8", "c=IN IP6 2001:db8::7"]),
        true,
    );
    assert_eq!(a.remote_rtp, "[2001:db8::7]:5000".parse().unwrap());
}

#[test]
fn rtcp_attribute_gives_port_and_address() {
    let a = accepted(&offer(&["m=audio 5000 RTP/AVP 8", "a=rtcp:5011"]), true);
    assert_eq!(a.remote_rtcp, "192.0.2.1:5011".parse().unwrap());
    let a = accepted(
        &offer(&["m=audio 5000 RTP/AVP 8", "a=rtcp:6000 IN IP4 203.0.113.3"]),
        true,
    );
    assert_eq!(a.remote_rtcp, "203.0.113.3:6000".parse().unwrap());
}

#[test]
fn rtcp_mux_when_offered_and_wanted() {
    let o = offer(&["m=audio 5000 RTP/AVP 8", "a=rtcp:5001", "a=rtcp-mux"]);
    let a = accepted(&o, true);
    assert!(a.rtcp_mux);
    assert_eq!(a.remote_rtcp, a.remote_rtp);
    let (answer, _) = negotiator("alaw")
        .answer_offer(&o, &audio_params(4000))
        .expect("answer");
    assert!(answer.media[0].has_attribute("rtcp-mux"));

    // Not wanted: not in the answer, RTCP to a=rtcp.
    let a = accepted(&o, false);
    assert!(!a.rtcp_mux);
    assert_eq!(a.remote_rtcp, "192.0.2.1:5001".parse().unwrap());
}

#[test]
fn rtcp_mux_is_not_answered_when_not_offered() {
    let o = offer(&["m=audio 5000 RTP/AVP 8"]);
    let (answer, _) = negotiator("alaw")
        .answer_offer(&o, &audio_params(4000))
        .expect("answer");
    assert!(!answer.media[0].has_attribute("rtcp-mux"));
}

#[test]
fn offerer_muxes_only_if_the_answer_agrees() {
    let mut n = negotiator("alaw");
    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    assert!(offer.media[0].has_attribute("rtcp-mux"));
    let mut answer = wire(&offer);
    answer.media[0].attributes.retain(|a| !a.is("rtcp-mux"));
    answer.media[0].port = 9000;
    let a = n
        .accept_answer(pending, &answer)
        .expect("accepted")
        .audio()
        .unwrap()
        .clone();
    assert!(!a.rtcp_mux);
    assert_eq!(a.remote_rtcp.port(), 9001);

    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    let a = n
        .accept_answer(pending, &wire(&offer))
        .expect("accepted")
        .audio()
        .unwrap()
        .clone();
    assert!(a.rtcp_mux);
    assert_eq!(a.remote_rtcp, a.remote_rtp);
}

#[test]
fn fractional_ptime_is_read_in_whole_milliseconds() {
    let a = accepted(&offer(&["m=audio 5000 RTP/AVP 8", "a=ptime:30.0"]), true);
    assert_eq!(a.ptime, Some(30));
    let a = accepted(&offer(&["m=audio 5000 RTP/AVP 8", "a=ptime:soon"]), true);
    assert_eq!(a.ptime, None);
}

#[test]
fn missing_or_unusable_addresses_are_errors() {
    let no_c = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 5000 RTP/AVP 8",
    ]);
    let err = negotiator("alaw")
        .answer_offer(&no_c, &audio_params(4000))
        .unwrap_err();
    assert_eq!(
        err,
        SdpError::Media {
            index: 0,
            reason: "no `c=` line at media or session level".to_string()
        }
    );
    let fqdn = offer(&["m=audio 5000 RTP/AVP 8", "c=IN IP4 media.example.com"]);
    let err = negotiator("alaw")
        .answer_offer(&fqdn, &audio_params(4000))
        .unwrap_err();
    assert!(err.to_string().contains("is not an IP literal"), "{err}");
    // A stream we reject anyway needs no address.
    let no_c_rejected = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 5000 RTP/AVP 8",
        "c=IN IP4 192.0.2.1",
        "m=video 5002 RTP/AVP 96",
    ]);
    assert!(negotiator("alaw")
        .answer_offer(&no_c_rejected, &audio_params(4000))
        .is_ok());
}
