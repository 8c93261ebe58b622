//! Real-world descriptions survive parse → serialize byte for byte (CRLF), and the
//! parsed model exposes what offer/answer needs.

mod common;

use common::*;
use dialtone_sdp::{Direction, SessionDescription};

fn assert_round_trip(lines: &[&str]) {
    let text = crlf(lines);
    let sdp = SessionDescription::parse(&text).expect("parses");
    assert_eq!(sdp.to_string(), text);
    // And again from our own output.
    assert_eq!(wire(&sdp), sdp);
}

#[test]
fn chromium_webrtc_offer_round_trips() {
    assert_round_trip(CHROMIUM_OFFER);
}

#[test]
fn desk_phone_g711_offer_round_trips() {
    assert_round_trip(DESK_PHONE_OFFER);
}

#[test]
fn baresip_offer_round_trips() {
    assert_round_trip(BARESIP_OFFER);
}

#[test]
fn sipp_offer_round_trips() {
    assert_round_trip(SIPP_OFFER);
}

#[test]
fn every_field_type_round_trips() {
    assert_round_trip(ALL_FIELDS);
}

#[test]
fn lf_input_gives_crlf_output() {
    let lf = BARESIP_OFFER.join("\n") + "\n";
    let sdp = SessionDescription::parse(&lf).expect("LF accepted");
    assert_eq!(sdp.to_string(), crlf(BARESIP_OFFER));
    // Without a final line break too, and with a stray empty line at the end.
    let bare = BARESIP_OFFER.join("\n");
    assert_eq!(SessionDescription::parse(&bare).expect("parses"), sdp);
    let padded = crlf(BARESIP_OFFER) + "\r\n";
    assert_eq!(SessionDescription::parse(&padded).expect("parses"), sdp);
}

#[test]
fn chromium_offer_model() {
    let sdp = parse(CHROMIUM_OFFER);
    assert_eq!(sdp.origin.session_id, "4611731400430051336");
    assert_eq!(sdp.attribute("group"), Some("BUNDLE 0 1"));
    // The space after the colon is part of the value and is kept.
    assert_eq!(sdp.attribute("msid-semantic"), Some(" WMS 5d8a3c1e-stream"));
    assert!(sdp.connection.is_none());
    assert_eq!(sdp.media.len(), 2);
    let audio = &sdp.media[0];
    assert_eq!(audio.protocol, "UDP/TLS/RTP/SAVPF");
    assert_eq!(audio.payload_types(), vec![111, 63, 9, 0, 8, 13, 110, 126]);
    assert_eq!(audio.mid(), Some("0"));
    assert_eq!(audio.rtcp(), Some((9, Some("0.0.0.0"))));
    assert_eq!(audio.fmtp(111), Some("minptime=10;useinbandfec=1"));
    assert_eq!(audio.rtpmap(110).map(|r| r.clock_rate), Some(48000));
    assert_eq!(audio.direction(), Some(Direction::SendRecv));
    assert_eq!(audio.attribute_values("extmap").count(), 4);
    let video = &sdp.media[1];
    assert_eq!(
        video.rtcp_feedback(96),
        vec!["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]
    );
    assert_eq!(
        video.attribute("ssrc-group"),
        Some("FID 2882400001 2882400002")
    );
}

#[test]
fn all_fields_model() {
    let sdp = parse(ALL_FIELDS);
    assert_eq!(sdp.information.as_deref(), Some("SDP Offer #1"));
    assert_eq!(sdp.emails.len(), 2);
    assert_eq!(sdp.phones, vec!["+1 617 555-6011".to_string()]);
    assert_eq!(sdp.bandwidths.len(), 2);
    assert_eq!(sdp.bandwidths[1].kind, "TIAS");
    assert_eq!(sdp.bandwidths[1].value, 2_500_000);
    assert_eq!(sdp.times.len(), 2);
    assert_eq!(sdp.times[0].repeats.len(), 2);
    assert_eq!(
        sdp.times[0].zone.as_deref(),
        Some("2882844526 -1h 2898848070 0")
    );
    assert_eq!(sdp.key.as_deref(), Some("prompt"));
    assert_eq!(sdp.direction(), Some(Direction::RecvOnly));
    assert_eq!(sdp.media[0].connections[0].address, "198.51.100.2");
    assert_eq!(sdp.media[1].port_count, Some(2));
    assert_eq!(sdp.media[1].connections.len(), 2);
    assert_eq!(sdp.media[1].connections[0].ip(), "2001:db8::2".parse().ok());
    assert_eq!(sdp.media[2].port, 0);
    assert!(sdp.media[2].formats.is_empty());
}

#[test]
fn rfc4566_zone_after_all_time_descriptions_is_accepted() {
    let sdp = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=2873397496 2873404696",
        "t=2873397497 2873404697",
        "z=2882844526 -1h",
        "a=sendrecv",
    ]);
    assert_eq!(sdp.times[1].zone.as_deref(), Some("2882844526 -1h"));
}

#[test]
fn multicast_connection_address_keeps_its_suffix() {
    let sdp = parse(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 233.252.0.1/127/3",
        "t=0 0",
    ]);
    let c = sdp.connection.as_ref().expect("c=");
    assert_eq!(c.address, "233.252.0.1/127/3");
    assert_eq!(c.ip(), "233.252.0.1".parse().ok());
    assert!(sdp.to_string().contains("c=IN IP4 233.252.0.1/127/3\r\n"));
}

#[test]
fn trailing_blanks_from_sloppy_peers_are_tolerated() {
    let sdp = parse(&[
        "v=0 ",
        "o=- 1 1 IN IP4 192.0.2.1 ",
        "s=-",
        "c=IN IP4 192.0.2.1 ",
        "b=AS:64 ",
        "t=0 0 ",
        "m=audio 5000 RTP/AVP 0 8 ",
        "a=sendonly ",
        "a=rtpmap:0 PCMU/8000 ",
    ]);
    assert_eq!(sdp.bandwidths[0].value, 64);
    assert_eq!(sdp.media[0].formats, ["0", "8"]);
    assert_eq!(sdp.media[0].direction(), Some(Direction::SendOnly));
    assert_eq!(sdp.media[0].rtpmap(0).map(|r| r.clock_rate), Some(8000));
    // Written back without the blanks; the model is stable from then on.
    assert!(sdp.to_string().contains("a=sendonly\r\n"));
    assert_eq!(wire(&sdp), sdp);
}
