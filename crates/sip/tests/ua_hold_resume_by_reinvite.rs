//! Hold and resume by re-INVITE between two user agents (RFC 3261 §14), with real SDP from
//! `dialtone_sdp`: the holder offers `sendonly`, the held side's application answers through
//! `Negotiator::answer_offer` (`recvonly`), the answer comes back as `RemoteSdp`; resume offers
//! `sendrecv` again. Refusals, wrong states and a 481 that ends the call.

mod ua_harness;

use dialtone_sdp::{CodecPolicy, Direction, Negotiator, SessionDescription, SessionParams};
use dialtone_sip::ua::{CallState, EndReason, UaError, UaEvent};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";

fn params(port: u16, direction: Direction) -> SessionParams {
    let mut p = SessionParams::new("127.0.0.1".parse().unwrap(), port);
    p.direction = direction;
    p
}

fn negotiator(id: u64) -> Negotiator {
    Negotiator::new(CodecPolicy::default(), id, 1)
}

/// One hold or resume: alice offers `direction`, bob's application answers the reported offer.
/// Returns the direction alice ends up with and the one bob's answer carries.
fn exchange(
    net: &mut Net,
    (a, b): (usize, usize),
    (ac, bc): (dialtone_sip::ua::CallId, dialtone_sip::ua::CallId),
    (alice_sdp, bob_sdp): (&mut Negotiator, &mut Negotiator),
    direction: Direction,
) -> (Direction, Direction) {
    let (offer, pending) = alice_sdp.create_offer(&params(40000, direction)).unwrap();
    let offers_before = remote_offers(net, b, bc).len();
    net.cmd(a, |ua, now| {
        ua.reinvite(now, ac, offer.to_string().into_bytes())
    })
    .unwrap();
    // Bob's application gets the offer and answers it.
    let offers = remote_offers(net, b, bc);
    assert_eq!(offers.len(), offers_before + 1);
    let offer =
        SessionDescription::parse(std::str::from_utf8(offers.last().unwrap()).unwrap()).unwrap();
    let (answer, bob_side) = bob_sdp
        .answer_offer(&offer, &params(50000, Direction::SendRecv))
        .unwrap();
    net.cmd(b, |ua, now| {
        ua.answer_offer(now, bc, answer.to_string().into_bytes())
    })
    .unwrap();
    // Alice gets the answer.
    let answers = remote_sdps(net, a, ac);
    let answer =
        SessionDescription::parse(std::str::from_utf8(answers.last().unwrap()).unwrap()).unwrap();
    let negotiated = alice_sdp.accept_answer(pending, &answer).unwrap();
    (
        negotiated.audio().unwrap().direction,
        bob_side.audio().unwrap().direction,
    )
}

#[test]
fn hold_then_resume_gets_reversed_then_full_direction() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let calls = establish(&mut net, a, ALICE, b, BOB);
    let (mut alice_sdp, mut bob_sdp) = (negotiator(10), negotiator(20));

    let held = exchange(
        &mut net,
        (a, b),
        calls,
        (&mut alice_sdp, &mut bob_sdp),
        Direction::SendOnly,
    );
    assert_eq!(held, (Direction::SendOnly, Direction::RecvOnly));
    let inactive = exchange(
        &mut net,
        (a, b),
        calls,
        (&mut alice_sdp, &mut bob_sdp),
        Direction::Inactive,
    );
    assert_eq!(inactive, (Direction::Inactive, Direction::Inactive));
    let resumed = exchange(
        &mut net,
        (a, b),
        calls,
        (&mut alice_sdp, &mut bob_sdp),
        Direction::SendRecv,
    );
    assert_eq!(resumed, (Direction::SendRecv, Direction::SendRecv));

    // Three re-INVITEs with rising CSeq, each ACKed, none retransmitted.
    let reinvites: Vec<u32> = net
        .sent(|w| w.is_method(&Method::Invite))
        .iter()
        .map(|w| w.request().unwrap().cseq().unwrap().seq)
        .collect();
    assert_eq!(reinvites, vec![1, 2, 3, 4]);
    net.run_for(secs(40));
    let acks = net.sent(|w| w.is_method(&Method::Ack)).len();
    assert_eq!(acks, 4);
    assert!(matches!(
        net.ua(a).call_state(calls.0),
        Some(CallState::Established { .. })
    ));
    assert!(matches!(
        net.ua(b).call_state(calls.1),
        Some(CallState::Established { .. })
    ));
}

#[test]
fn reinvite_needs_an_established_call_and_no_offer_under_way() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let cfg = invite_config(ALICE, BOB, Some("v=0 alice"));
    let ac = net.cmd(a, |ua, now| ua.invite(now, cfg));
    let ringing = net.cmd(a, |ua, now| ua.reinvite(now, ac, b"v=0 hold".to_vec()));
    assert!(matches!(ringing, Err(UaError::WrongState { .. })));
    let bc = net.incoming_call(b).unwrap();
    net.cmd(b, |ua, now| ua.answer(now, bc, b"v=0 bob".to_vec()))
        .unwrap();
    net.cmd(a, |ua, now| ua.reinvite(now, ac, b"v=0 hold".to_vec()))
        .unwrap();
    // Bob has not answered the offer yet: neither side may offer.
    let again = net.cmd(a, |ua, now| ua.reinvite(now, ac, b"v=0 hold2".to_vec()));
    assert!(matches!(again, Err(UaError::WrongState { .. })));
    let theirs = net.cmd(b, |ua, now| ua.reinvite(now, bc, b"v=0 bob2".to_vec()));
    assert!(matches!(theirs, Err(UaError::WrongState { .. })));
}

#[test]
fn refused_reinvite_reports_offer_failed_and_keeps_the_call() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);
    net.cmd(a, |ua, now| ua.reinvite(now, ac, b"v=0 video".to_vec()))
        .unwrap();
    net.cmd(b, |ua, now| ua.reject_offer(now, bc, 488)).unwrap();
    assert!(net.events(a).iter().any(|e| matches!(
        e,
        UaEvent::OfferFailed { id, code: 488, .. } if *id == ac
    )));
    assert!(remote_sdps(&net, a, ac).is_empty());
    net.run_for(secs(40));
    assert!(matches!(
        net.ua(a).call_state(ac),
        Some(CallState::Established { .. })
    ));
    // The call still takes offers.
    net.cmd(a, |ua, now| ua.reinvite(now, ac, b"v=0 audio".to_vec()))
        .unwrap();
    net.cmd(b, |ua, now| ua.answer_offer(now, bc, b"v=0 ok".to_vec()))
        .unwrap();
    assert_eq!(remote_sdps(&net, a, ac), vec![b"v=0 ok".to_vec()]);
}

#[test]
fn reinvite_answered_481_ends_the_call() {
    let mut pc = PeerCall::establish(ALICE, "127.0.0.1:5099", "");
    let call = pc.call;
    pc.net
        .cmd(pc.ua, |ua, now| {
            ua.reinvite(now, call, b"v=0 hold".to_vec())
        })
        .unwrap();
    let reinvite = pc.requests(&Method::Invite).pop().expect("re-INVITE sent");
    assert_eq!(
        reinvite.headers.get("Content-Type"),
        Some("application/sdp")
    );
    assert!(reinvite.headers.contains("Contact"));
    pc.reply(&reinvite, 481, &[], "", b"");
    assert_eq!(
        pc.net.ua(pc.ua).call_state(call),
        Some(&CallState::Finished {
            reason: EndReason::DialogTerminated { code: 481 }
        })
    );
    assert!(pc
        .net
        .events(pc.ua)
        .iter()
        .any(|e| matches!(e, UaEvent::OfferFailed { code: 481, .. })));
}

#[test]
fn retransmitted_2xx_to_reinvite_is_acked_again() {
    let mut pc = PeerCall::establish(ALICE, "127.0.0.1:5099", "");
    let call = pc.call;
    pc.net
        .cmd(pc.ua, |ua, now| {
            ua.reinvite(now, call, b"v=0 hold".to_vec())
        })
        .unwrap();
    let reinvite = pc.requests(&Method::Invite).pop().unwrap();
    pc.reply(&reinvite, 200, &[], "application/sdp", b"v=0 held");
    assert_eq!(pc.requests(&Method::Ack).len(), 1);
    pc.reply(&reinvite, 200, &[], "application/sdp", b"v=0 held");
    let acks = pc.requests(&Method::Ack);
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0].cseq().unwrap().seq, reinvite.cseq().unwrap().seq);
    assert_eq!(
        remote_sdps(&pc.net, pc.ua, call),
        vec![b"v=0 held".to_vec()]
    );
}
