//! Re-offers for hold (sendonly / inactive) and resume (RFC 3264 §8.4): same `o=` id,
//! version one higher whenever the description changes, same m-lines and payload
//! numbers.

mod common;

use common::*;
use dialtone_sdp::{Direction, Negotiated, Negotiator, SessionDescription, SessionParams};

/// A peer that answers whatever we offer with PCMA/telephone-event, mirroring the
/// direction the way RFC 3264 §6.1 says.
fn peer_answer(offer: &SessionDescription) -> SessionDescription {
    let mut peer = negotiator("alaw, opus, telephone-event");
    let mut params = SessionParams::new("203.0.113.5".parse().unwrap(), 9000);
    params.ptime = None;
    let (answer, _) = peer
        .answer_offer(&wire(offer), &params)
        .expect("peer answers");
    wire(&answer)
}

fn exchange(n: &mut Negotiator, params: &SessionParams) -> (SessionDescription, Negotiated) {
    let (offer, pending) = n.create_offer(params).expect("offer");
    let answer = peer_answer(&offer);
    let negotiated = n.accept_answer(pending, &answer).expect("answer accepted");
    (offer, negotiated)
}

#[test]
fn hold_and_resume_reoffers() {
    let mut n = Negotiator::new(
        dialtone_sdp::CodecPolicy::from_lists("opus, alaw, telephone-event", "").unwrap(),
        987_654_321,
        7,
    );
    let mut params = audio_params(4000);

    let (first, negotiated) = exchange(&mut n, &params);
    assert_eq!(first.origin.session_id, "987654321");
    assert_eq!(first.origin.session_version, "7");
    assert_eq!(negotiated.audio().unwrap().direction, Direction::SendRecv);

    // Hold: sendonly.
    params.direction = Direction::SendOnly;
    let (hold, negotiated) = exchange(&mut n, &params);
    assert_eq!(hold.origin.session_id, "987654321");
    assert_eq!(hold.origin.session_version, "8");
    assert_eq!(hold.media[0].direction(), Some(Direction::SendOnly));
    assert!(hold.to_string().contains("a=sendonly\r\n"));
    // The peer answered recvonly, so we only send.
    assert_eq!(negotiated.audio().unwrap().direction, Direction::SendOnly);
    // Same m-line, same payload numbers.
    assert_eq!(hold.media[0].formats, first.media[0].formats);
    assert_eq!(hold.media[0].port, first.media[0].port);

    // Deeper hold: inactive.
    params.direction = Direction::Inactive;
    let (inactive, negotiated) = exchange(&mut n, &params);
    assert_eq!(inactive.origin.session_version, "9");
    assert_eq!(inactive.media[0].direction(), Some(Direction::Inactive));
    assert_eq!(negotiated.audio().unwrap().direction, Direction::Inactive);

    // Resume.
    params.direction = Direction::SendRecv;
    let (resume, negotiated) = exchange(&mut n, &params);
    assert_eq!(resume.origin.session_version, "10");
    assert_eq!(resume.media[0].direction(), Some(Direction::SendRecv));
    assert_eq!(negotiated.audio().unwrap().direction, Direction::SendRecv);
    assert_eq!(n.session_version(), 10);
    assert_eq!(n.current(), Some(&negotiated));
}

#[test]
fn unchanged_reoffer_keeps_the_version() {
    // RFC 3264 §8: a re-offer identical to the previous description (e.g. a session
    // refresh) keeps its version.
    let mut n = negotiator("alaw");
    let params = audio_params(4000);
    let (first, _) = exchange(&mut n, &params);
    let (again, _) = exchange(&mut n, &params);
    assert_eq!(again.origin.session_version, first.origin.session_version);
    assert_eq!(again, first);
}

#[test]
fn versions_count_answers_we_send_too() {
    let mut n = negotiator("alaw");
    let (_, _) = n
        .answer_offer(&parse(SIPP_OFFER), &audio_params(4000))
        .expect("answer");
    assert_eq!(n.session_version(), 1);
    let mut params = audio_params(4000);
    params.direction = Direction::SendOnly;
    let (hold, _) = n.create_offer(&params).expect("re-offer");
    assert_eq!(hold.origin.session_version, "2");
    assert_eq!(hold.origin.session_id, "1001");
}

#[test]
fn reoffer_after_answering_keeps_the_peers_lines_and_numbers() {
    // The peer offered audio + an application line; our hold re-offer keeps both lines
    // (the second disabled) and the peer's payload numbers (RFC 3264 §8.3.2).
    let mut n = negotiator("opus, alaw, telephone-event");
    let mut offer_lines = BARESIP_OFFER.to_vec();
    offer_lines.extend(["m=application 5060 UDP/BFCP *", "a=floorctrl:c-s"]);
    let (answer, _) = n
        .answer_offer(&parse(&offer_lines), &audio_params(4000))
        .expect("answer");
    assert_eq!(answer.media.len(), 2);
    assert_eq!(answer.media[1].port, 0);

    let mut params = audio_params(4000);
    params.direction = Direction::SendOnly;
    let (reoffer, _) = n.create_offer(&params).expect("re-offer");
    assert_eq!(reoffer.media.len(), 2);
    // Opus and DTMF keep the peer's 96 and 101; the new telephone-event/48000 avoids
    // 97, which the peer used for Speex.
    assert_eq!(reoffer.media[0].formats, ["96", "8", "98", "101"]);
    assert_eq!(reoffer.media[0].rtpmap(98).unwrap().clock_rate, 48000);
    assert_eq!(
        reoffer.media[0].rtpmap(101).unwrap().encoding,
        "telephone-event"
    );
    assert_eq!(reoffer.media[0].rtpmap(101).unwrap().clock_rate, 8000);
    assert_eq!(
        reoffer.media[1].to_string(),
        "m=application 0 UDP/BFCP *\r\n"
    );
}
