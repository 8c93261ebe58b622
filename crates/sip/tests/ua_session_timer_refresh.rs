//! Session timer refreshes (RFC 4028 §7, §9, §10) on simulated time: negotiation in the INVITE
//! and its 2xx, the refresher's UPDATE at half the interval, re-INVITE when the peer does not
//! allow UPDATE, and the fall-back when UPDATE is refused.

mod ua_harness;

use std::time::Duration;

use dialtone_sip::ua::CallState;
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const PEER: &str = "127.0.0.1:5099";

/// Seconds since the start of the test at which requests of `method` were sent by `from`.
fn times(net: &Net, from: &str, method: &Method) -> Vec<u64> {
    let from = addr(from);
    net.sent(|w| w.from == from && w.is_method(method))
        .iter()
        .map(|w| (w.at - net.start).as_secs())
        .collect()
}

#[test]
fn invite_asks_for_1800_s_and_the_caller_refreshes_by_update_every_900_s() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);

    let invite = net.sent(|w| w.is_method(&Method::Invite))[0]
        .request()
        .unwrap()
        .clone();
    assert!(invite.headers.get("Supported").unwrap().contains("timer"));
    assert_eq!(invite.headers.get("Session-Expires"), Some("1800"));
    assert_eq!(invite.headers.get("Min-SE"), Some("90"));
    let ok = net.sent(|w| w.is_response(200, &Method::Invite))[0]
        .response()
        .unwrap()
        .clone();
    assert_eq!(
        ok.headers.get("Session-Expires"),
        Some("1800;refresher=uac")
    );
    assert_eq!(ok.headers.get("Require"), Some("timer"));

    net.run_for(Duration::from_secs(3 * 3600));
    assert_eq!(
        times(&net, ALICE, &Method::Update),
        (1..=12).map(|n| n * 900).collect::<Vec<_>>()
    );
    let update = net.sent(|w| w.is_method(&Method::Update))[0]
        .request()
        .unwrap()
        .clone();
    assert!(update.body.is_empty());
    assert_eq!(
        update.headers.get("Session-Expires"),
        Some("1800;refresher=uac")
    );
    assert!(times(&net, BOB, &Method::Update).is_empty());
    assert!(net.sent(|w| w.is_method(&Method::Bye)).is_empty());
    assert!(matches!(
        net.ua(a).call_state(ac),
        Some(CallState::Established { .. })
    ));
    assert!(matches!(
        net.ua(b).call_state(bc),
        Some(CallState::Established { .. })
    ));
}

#[test]
fn uas_refreshes_by_reinvite_when_the_caller_lacks_timer_and_update() {
    // The peer asks for 120 s but supports neither `timer` nor UPDATE: we must refresh, by
    // re-INVITE with our current SDP.
    let mut pc = PeerCall::establish(
        ALICE,
        PEER,
        "Session-Expires: 120\nAllow: INVITE, ACK, BYE, CANCEL\n",
    );
    let ok = pc.last_response(&Method::Invite, 200).unwrap();
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uas"));
    assert!(!ok.headers.contains("Require"));
    pc.net.run_for(secs(59));
    assert!(pc.requests(&Method::Invite).is_empty());
    pc.net.run_for(secs(2));
    let reinvite = pc.requests(&Method::Invite).pop().expect("refresh at 60 s");
    assert_eq!(reinvite.body, b"v=0 alice");
    assert_eq!(
        reinvite.headers.get("Session-Expires"),
        Some("120;refresher=uac")
    );
    pc.reply(
        &reinvite,
        200,
        &[("Session-Expires", "120;refresher=uac")],
        "application/sdp",
        b"v=0 peer",
    );
    assert_eq!(pc.requests(&Method::Ack).len(), 1);
    assert!(pc.requests(&Method::Update).is_empty());
    // The next refresh 60 s after that one.
    pc.net.run_for(secs(59));
    assert_eq!(pc.transactions(&Method::Invite).len(), 1);
    pc.net.run_for(secs(2));
    assert_eq!(pc.transactions(&Method::Invite).len(), 2);
}

#[test]
fn update_refused_with_501_falls_back_to_reinvite() {
    let mut pc = PeerCall::establish(
        ALICE,
        PEER,
        "Session-Expires: 200;refresher=uas\nSupported: timer\nAllow: INVITE, ACK, BYE, UPDATE\n",
    );
    pc.net.run_for(secs(101));
    let update = pc.requests(&Method::Update).pop().expect("UPDATE refresh");
    pc.reply(&update, 501, &[], "", b"");
    let reinvite = pc
        .requests(&Method::Invite)
        .pop()
        .expect("re-INVITE at once");
    assert_eq!(reinvite.body, b"v=0 alice");
    pc.reply(
        &reinvite,
        200,
        &[("Session-Expires", "200;refresher=uac")],
        "application/sdp",
        b"v=0 peer",
    );
    pc.net.run_for(secs(101));
    assert_eq!(
        pc.transactions(&Method::Update).len(),
        1,
        "no UPDATE any more"
    );
    assert_eq!(pc.transactions(&Method::Invite).len(), 2);
}

#[test]
fn peer_refreshes_keep_the_call_and_renegotiate_the_interval() {
    let mut pc = PeerCall::establish(ALICE, PEER, "Session-Expires: 120\nSupported: timer\n");
    // The peer is the refresher; it refreshes at 60 s by UPDATE asking for 300 s.
    pc.net.run_for(secs(60));
    pc.send(
        "UPDATE",
        2,
        "Session-Expires: 300;refresher=uac\nSupported: timer\n",
        "",
        b"",
    );
    let ok = pc.last_response(&Method::Update, 200).unwrap();
    assert_eq!(ok.headers.get("Session-Expires"), Some("300;refresher=uac"));
    // 120 s after the start the first interval would have run out; nothing happens.
    pc.net.run_for(secs(200));
    assert!(pc.requests(&Method::Bye).is_empty());
    // Without another refresh, BYE 32 s before the 300 s run out.
    pc.net.run_for(secs(100));
    let bye_at = pc.net.sent(|w| w.is_method(&Method::Bye))[0].at - pc.net.start;
    assert_eq!(bye_at.as_secs(), 60 + 300 - 32);
}
