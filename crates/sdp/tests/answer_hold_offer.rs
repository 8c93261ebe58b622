//! Answering a hold offer (RFC 3264 §6.1, §8.4): their sendonly → our recvonly;
//! inactive → inactive; their recvonly → our sendonly; the RFC 2543 `c=0.0.0.0` hold.

mod common;

use common::*;
use dialtone_sdp::Direction;

fn offer_with(direction_lines: &[&str], address: &str) -> dialtone_sdp::SessionDescription {
    let c = format!("c=IN IP4 {address}");
    let mut lines = vec![
        "v=0",
        "o=phone 1 2 IN IP4 192.0.2.50",
        "s=-",
        c.as_str(),
        "t=0 0",
    ];
    lines.push("m=audio 11780 RTP/AVP 8 101");
    lines.push("a=rtpmap:101 telephone-event/8000");
    lines.extend_from_slice(direction_lines);
    parse(&lines)
}

fn answer_direction(
    offer: &dialtone_sdp::SessionDescription,
    ours: Direction,
) -> (Direction, Direction) {
    let mut n = negotiator("alaw, telephone-event");
    let mut params = audio_params(4000);
    params.direction = ours;
    let (answer, negotiated) = n.answer_offer(offer, &params).expect("answer");
    let written = answer.media[0]
        .direction()
        .expect("answer states its direction");
    (written, negotiated.audio().expect("audio").direction)
}

#[test]
fn their_sendonly_makes_us_recvonly() {
    let offer = offer_with(&["a=sendonly"], "192.0.2.50");
    assert_eq!(
        answer_direction(&offer, Direction::SendRecv),
        (Direction::RecvOnly, Direction::RecvOnly)
    );
}

#[test]
fn their_inactive_makes_us_inactive() {
    let offer = offer_with(&["a=inactive"], "192.0.2.50");
    assert_eq!(
        answer_direction(&offer, Direction::SendRecv),
        (Direction::Inactive, Direction::Inactive)
    );
}

#[test]
fn their_recvonly_makes_us_sendonly() {
    let offer = offer_with(&["a=recvonly"], "192.0.2.50");
    assert_eq!(
        answer_direction(&offer, Direction::SendRecv),
        (Direction::SendOnly, Direction::SendOnly)
    );
}

#[test]
fn our_own_hold_limits_the_answer() {
    let offer = offer_with(&["a=sendrecv"], "192.0.2.50");
    assert_eq!(
        answer_direction(&offer, Direction::SendOnly),
        (Direction::SendOnly, Direction::SendOnly)
    );
    let offer = offer_with(&["a=sendonly"], "192.0.2.50");
    assert_eq!(
        answer_direction(&offer, Direction::SendOnly),
        (Direction::Inactive, Direction::Inactive)
    );
}

#[test]
fn session_level_direction_applies_when_the_media_has_none() {
    let offer = parse(&[
        "v=0",
        "o=phone 1 2 IN IP4 192.0.2.50",
        "s=-",
        "c=IN IP4 192.0.2.50",
        "t=0 0",
        "a=sendonly",
        "m=audio 11780 RTP/AVP 8",
    ]);
    assert_eq!(
        answer_direction(&offer, Direction::SendRecv).1,
        Direction::RecvOnly
    );
}

#[test]
fn legacy_zero_address_hold_means_they_do_not_receive() {
    let offer = offer_with(&[], "0.0.0.0");
    assert_eq!(
        answer_direction(&offer, Direction::SendRecv),
        (Direction::RecvOnly, Direction::RecvOnly)
    );
    // But a 0.0.0.0 with ICE (WebRTC) is no hold.
    let offer = offer_with(
        &["a=ice-ufrag:abcd", "a=ice-pwd:0123456789abcdef012345"],
        "0.0.0.0",
    );
    assert_eq!(
        answer_direction(&offer, Direction::SendRecv).1,
        Direction::SendRecv
    );
}

#[test]
fn answering_a_hold_reoffer_mid_call_keeps_the_session() {
    let mut n = negotiator("alaw, telephone-event");
    let (first, _) = n
        .answer_offer(
            &offer_with(&["a=sendrecv"], "192.0.2.50"),
            &audio_params(4000),
        )
        .expect("answer");
    let (second, negotiated) = n
        .answer_offer(
            &offer_with(&["a=sendonly"], "192.0.2.50"),
            &audio_params(4000),
        )
        .expect("answer to hold");
    assert_eq!(second.origin.session_id, first.origin.session_id);
    assert_eq!(second.origin.session_version, "2");
    assert_eq!(negotiated.audio().unwrap().direction, Direction::RecvOnly);
}
