//! The pending-offer token (str0m style): an answer applies only to the offer whose
//! token comes back with it.

mod common;

use common::*;
use dialtone_sdp::{Direction, SdpError};

fn answer_to(offer: &dialtone_sdp::SessionDescription) -> dialtone_sdp::SessionDescription {
    let mut peer = negotiator("alaw, ulaw, opus, telephone-event");
    let params = dialtone_sdp::SessionParams::new("192.0.2.9".parse().unwrap(), 7000);
    wire(
        &peer
            .answer_offer(&wire(offer), &params)
            .expect("peer answers")
            .0,
    )
}

#[test]
fn the_token_carries_its_offer() {
    let mut n = negotiator("alaw");
    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    assert_eq!(pending.offer(), &offer);
    assert!(n.has_pending_offer());
    n.accept_answer(pending, &answer_to(&offer))
        .expect("accepted");
    assert!(!n.has_pending_offer());
}

#[test]
fn a_superseded_token_is_refused() {
    let mut n = negotiator("alaw");
    let (first, old) = n.create_offer(&audio_params(4000)).expect("offer");
    let mut hold = audio_params(4000);
    hold.direction = Direction::SendOnly;
    let (second, new) = n.create_offer(&hold).expect("second offer");
    assert_eq!(
        n.accept_answer(old, &answer_to(&first)).unwrap_err(),
        SdpError::StalePendingOffer
    );
    // The newest token still works.
    let negotiated = n.accept_answer(new, &answer_to(&second)).expect("accepted");
    assert_eq!(negotiated.audio().unwrap().direction, Direction::SendOnly);
}

#[test]
fn a_token_from_another_negotiator_is_refused() {
    let mut a = dialtone_sdp::Negotiator::new(dialtone_sdp::CodecPolicy::default(), 111, 1);
    let mut b = dialtone_sdp::Negotiator::new(dialtone_sdp::CodecPolicy::default(), 222, 1);
    let (offer_a, token_a) = a.create_offer(&audio_params(4000)).expect("offer");
    let (_offer_b, _token_b) = b.create_offer(&audio_params(5000)).expect("offer");
    assert_eq!(
        b.accept_answer(token_a, &answer_to(&offer_a)).unwrap_err(),
        SdpError::StalePendingOffer
    );
}

#[test]
fn a_token_is_spent_once_used() {
    // Not Clone, so it cannot be reused; a fresh offer has a fresh token.
    let mut n = negotiator("alaw");
    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    let answer = answer_to(&offer);
    n.accept_answer(pending, &answer).expect("accepted");
    let (_, again) = n.create_offer(&audio_params(4000)).expect("re-offer");
    assert!(n.accept_answer(again, &answer).is_ok());
}

#[test]
fn answering_a_remote_offer_supersedes_our_pending_offer() {
    // Glare resolved in the peer's favour: we answered its offer instead.
    let mut n = negotiator("alaw, ulaw");
    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    n.answer_offer(&parse(SIPP_OFFER), &audio_params(4000))
        .expect("answer");
    assert!(!n.has_pending_offer());
    assert_eq!(
        n.accept_answer(pending, &answer_to(&offer)).unwrap_err(),
        SdpError::StalePendingOffer
    );
}

#[test]
fn a_dropped_token_abandons_the_offer_and_keeps_the_session() {
    let mut n = negotiator("alaw");
    let (offer, pending) = n.create_offer(&audio_params(4000)).expect("offer");
    let established = n
        .accept_answer(pending, &answer_to(&offer))
        .expect("accepted");
    let mut hold = audio_params(4000);
    hold.direction = Direction::SendOnly;
    let (_, rejected) = n.create_offer(&hold).expect("re-offer");
    drop(rejected); // e.g. the re-INVITE got 488
    assert_eq!(n.current(), Some(&established));
    // A bad answer also leaves the session as it was.
    let (_, pending) = n.create_offer(&hold).expect("re-offer");
    let bogus = parse(&["v=0", "o=- 1 1 IN IP4 192.0.2.9", "s=-", "t=0 0"]);
    assert!(n.accept_answer(pending, &bogus).is_err());
    assert_eq!(n.current(), Some(&established));
}
