//! The peer's offers inside a call are answered by the application (RFC 3261 §14.2, RFC 3311):
//! re-INVITE and UPDATE with SDP are reported as `RemoteOffer` and answered with
//! `answer_offer`; a re-INVITE without SDP gets our offer and its ACK the answer; unanswered,
//! rejected, colliding and cancelled offers.

mod ua_harness;

use dialtone_sip::ua::{CallState, UaError, UaEvent};
use dialtone_sip_message::{Message, Method};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const PEER: &str = "127.0.0.1:5099";

fn count_200(pc: &PeerCall, method: &Method, seq: u32) -> usize {
    pc.responses(method)
        .iter()
        .filter(|r| r.status == 200 && r.cseq().unwrap().seq == seq)
        .count()
}

#[test]
fn reinvite_offer_waits_for_the_apps_answer_and_its_200_repeats_until_ack() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("INVITE", 2, "", "application/sdp", b"v=0 peer sendonly");
    // 100 Trying at once, the offer to the application, no 200 yet.
    assert!(pc
        .responses(&Method::Invite)
        .iter()
        .any(|r| r.status == 100 && r.cseq().unwrap().seq == 2));
    assert_eq!(count_200(&pc, &Method::Invite, 2), 0);
    assert_eq!(
        remote_offers(&pc.net, pc.ua, pc.call),
        vec![b"v=0 peer sendonly".to_vec()]
    );
    let call = pc.call;
    pc.net
        .cmd(pc.ua, |ua, now| {
            ua.answer_offer(now, call, b"v=0 alice recvonly".to_vec())
        })
        .unwrap();
    let ok = pc.last_response(&Method::Invite, 200).unwrap();
    assert_eq!(ok.cseq().unwrap().seq, 2);
    assert_eq!(ok.body, b"v=0 alice recvonly");
    assert!(ok.headers.contains("Contact"));
    // A second answer has nothing to answer.
    let again = pc
        .net
        .cmd(pc.ua, |ua, now| ua.answer_offer(now, call, b"x".to_vec()));
    assert!(matches!(again, Err(UaError::WrongState { .. })));
    // Retransmitted until the ACK, then never again.
    pc.net.run_for(secs(1));
    assert_eq!(count_200(&pc, &Method::Invite, 2), 2);
    pc.send("ACK", 2, "", "", b"");
    pc.net.run_for(secs(30));
    assert_eq!(count_200(&pc, &Method::Invite, 2), 2);
    assert!(matches!(
        pc.net.ua(pc.ua).call_state(call),
        Some(CallState::Established { .. })
    ));
}

#[test]
fn refresh_repeating_the_current_sdp_is_answered_without_the_app() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    // The peer's description in force is "v=0 peer" (from its INVITE).
    pc.send("INVITE", 2, "", "application/sdp", b"v=0 peer");
    assert!(remote_offers(&pc.net, pc.ua, pc.call).is_empty());
    let ok = pc.last_response(&Method::Invite, 200).unwrap();
    assert_eq!(ok.cseq().unwrap().seq, 2);
    assert_eq!(ok.body, b"v=0 alice");
    pc.send("ACK", 2, "", "", b"");
    pc.send("UPDATE", 3, "", "application/sdp", b"v=0 peer");
    assert_eq!(
        pc.last_response(&Method::Update, 200).unwrap().body,
        b"v=0 alice"
    );
    assert!(remote_offers(&pc.net, pc.ua, pc.call).is_empty());
    // A changed one goes to the application.
    pc.send("UPDATE", 4, "", "application/sdp", b"v=0 peer v2");
    assert_eq!(remote_offers(&pc.net, pc.ua, pc.call).len(), 1);
}

#[test]
fn update_offer_is_answered_in_its_200() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("UPDATE", 2, "", "application/sdp", b"v=0 peer new codec");
    assert!(pc.responses(&Method::Update).is_empty());
    assert_eq!(
        remote_offers(&pc.net, pc.ua, pc.call),
        vec![b"v=0 peer new codec".to_vec()]
    );
    let call = pc.call;
    pc.net
        .cmd(pc.ua, |ua, now| {
            ua.answer_offer(now, call, b"v=0 alice new codec".to_vec())
        })
        .unwrap();
    let ok = pc.last_response(&Method::Update, 200).unwrap();
    assert_eq!(ok.body, b"v=0 alice new codec");
    // An UPDATE without SDP is a plain refresh: 200 at once, nothing for the application.
    let before = pc.net.events(pc.ua).len();
    pc.send("UPDATE", 3, "", "", b"");
    let ok = pc.last_response(&Method::Update, 200).unwrap();
    assert_eq!(ok.cseq().unwrap().seq, 3);
    assert!(ok.body.is_empty());
    assert!(events_since(&pc.net, pc.ua, before).is_empty());
}

#[test]
fn reinvite_without_sdp_gets_our_offer_and_the_ack_carries_the_answer() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("INVITE", 2, "", "", b"");
    let ok = pc.last_response(&Method::Invite, 200).unwrap();
    assert_eq!(ok.cseq().unwrap().seq, 2);
    assert_eq!(
        ok.body, b"v=0 alice",
        "our current description is the offer"
    );
    assert!(remote_offers(&pc.net, pc.ua, pc.call).is_empty());
    pc.send("ACK", 2, "", "application/sdp", b"v=0 peer answer");
    assert_eq!(
        remote_sdps(&pc.net, pc.ua, pc.call),
        vec![b"v=0 peer answer".to_vec()]
    );
}

#[test]
fn rejected_offer_gets_the_apps_status_and_the_call_goes_on() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("INVITE", 2, "", "application/sdp", b"v=0 peer video only");
    let call = pc.call;
    pc.net
        .cmd(pc.ua, |ua, now| ua.reject_offer(now, call, 488))
        .unwrap();
    assert!(pc.last_response(&Method::Invite, 488).is_some());
    pc.net.run_for(secs(40));
    assert!(matches!(
        pc.net.ua(pc.ua).call_state(call),
        Some(CallState::Established { .. })
    ));
    // The next offer is taken again.
    pc.send("INVITE", 3, "", "application/sdp", b"v=0 peer audio");
    assert_eq!(remote_offers(&pc.net, pc.ua, call).len(), 2);
}

#[test]
fn unanswered_offer_gets_500_after_16_seconds() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("UPDATE", 2, "", "application/sdp", b"v=0 peer hold");
    pc.net.run_for(secs(15));
    assert!(pc.responses(&Method::Update).is_empty());
    pc.net.run_for(secs(2));
    let statuses: Vec<u16> = pc
        .responses(&Method::Update)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![500]);
    let call = pc.call;
    let late = pc
        .net
        .cmd(pc.ua, |ua, now| ua.answer_offer(now, call, b"x".to_vec()));
    assert!(late.is_err());
}

#[test]
fn second_offer_while_the_first_is_unanswered_gets_500_with_retry_after() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("INVITE", 2, "", "application/sdp", b"v=0 first");
    pc.send("UPDATE", 3, "", "application/sdp", b"v=0 second");
    let busy = pc
        .last_response(&Method::Update, 500)
        .expect("500 to the UPDATE");
    let after: u32 = busy
        .headers
        .get("Retry-After")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(after <= 10);
    pc.send("INVITE", 4, "", "application/sdp", b"v=0 third");
    let busy = pc
        .last_response(&Method::Invite, 500)
        .expect("500 to the INVITE");
    assert_eq!(busy.cseq().unwrap().seq, 4);
    assert!(busy.headers.contains("Retry-After"));
    assert_eq!(remote_offers(&pc.net, pc.ua, pc.call).len(), 1);
}

#[test]
fn cancelled_reinvite_withdraws_the_offer() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("INVITE", 2, "", "application/sdp", b"v=0 peer hold");
    let invite = pc.requests(&Method::Invite);
    assert!(invite.is_empty(), "the peer received no request");
    // CANCEL with the re-INVITE's branch (§9.1).
    let mut cancel = peer_request(PEER, ALICE, "CANCEL", 2, &pc.to_tag, "", ("", b""));
    let reinvite = peer_request(
        PEER,
        ALICE,
        "INVITE",
        2,
        &pc.to_tag,
        "",
        ("application/sdp", b"v=0 peer hold"),
    );
    cancel
        .headers
        .set("Via", reinvite.headers.get("Via").unwrap().to_owned());
    pc.net.inject(PEER, ALICE, Message::Request(cancel));
    assert!(pc.last_response(&Method::Cancel, 200).is_some());
    let terminated = pc.last_response(&Method::Invite, 487).expect("487");
    assert_eq!(terminated.cseq().unwrap().seq, 2);
    let call = pc.call;
    let late = pc
        .net
        .cmd(pc.ua, |ua, now| ua.answer_offer(now, call, b"x".to_vec()));
    assert!(late.is_err());
    assert!(matches!(
        pc.net.ua(pc.ua).call_state(call),
        Some(CallState::Established { .. })
    ));
}

#[test]
fn bye_while_an_offer_waits_answers_it_487() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("UPDATE", 2, "", "application/sdp", b"v=0 peer hold");
    pc.send("BYE", 3, "", "", b"");
    assert!(pc.last_response(&Method::Bye, 200).is_some());
    assert!(pc.last_response(&Method::Update, 487).is_some());
    assert!(pc.net.events(pc.ua).iter().any(|e| matches!(
        e,
        UaEvent::Call {
            state: CallState::Finished { .. },
            ..
        }
    )));
}
