//! Session expiry and interval negotiation failures (RFC 4028 §7.3, §9, §10) on simulated
//! time: BYE when the refresher goes silent, reported as "session expired"; 422 retried with
//! the server's Min-SE; 422 sent for intervals below our Min-SE.

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::ua::{CallState, EndReason, UaEvent};
use dialtone_sip_message::{Message, Method, Request};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const PEER: &str = "127.0.0.1:5099";

#[test]
fn silent_refresher_gets_bye_before_expiry_and_the_call_reports_session_expired() {
    let mut pc = PeerCall::establish(ALICE, PEER, "Session-Expires: 120\nSupported: timer\n");
    let ok = pc.last_response(&Method::Invite, 200).unwrap();
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uac"));
    assert_eq!(ok.headers.get("Require"), Some("timer"));
    // min(32, 120/3) = 32 s before the end: at 88 s.
    pc.net.run_for(secs(87));
    assert!(pc.requests(&Method::Bye).is_empty());
    pc.net.run_for(secs(2));
    let bye = pc.requests(&Method::Bye).pop().expect("BYE at 88 s");
    pc.reply(&bye, 200, &[], "", b"");
    assert_eq!(
        pc.net.ua(pc.ua).call_state(pc.call),
        None,
        "the call is gone"
    );
    let last = pc.net.call_states(pc.ua, pc.call).pop().unwrap();
    assert_eq!(
        last,
        CallState::Finished {
            reason: EndReason::SessionExpired
        }
    );
    assert_eq!(EndReason::SessionExpired.to_string(), "session expired");
}

#[test]
fn short_interval_bye_margin_is_a_third() {
    // 90 s: the margin is 30 s (a third), not 32.
    let mut pc = PeerCall::establish(ALICE, PEER, "Session-Expires: 90\nSupported: timer\n");
    pc.net.run_for(secs(100));
    let first_bye = pc.net.sent(|w| w.is_method(&Method::Bye))[0].at - pc.net.start;
    assert_eq!(first_bye.as_secs(), 60);
}

#[test]
fn invite_below_our_min_se_gets_422_with_min_se() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 5);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PEER, recorder(log.clone()));
    let invite = peer_request(
        PEER,
        ALICE,
        "INVITE",
        1,
        "",
        "Session-Expires: 60\nSupported: timer\n",
        ("application/sdp", b"v=0 peer"),
    );
    net.inject(PEER, ALICE, Message::Request(invite));
    let resp = log
        .borrow()
        .iter()
        .filter_map(|m| m.as_response().cloned())
        .find(|r| r.status >= 200)
        .expect("final response");
    assert_eq!(resp.status, 422);
    assert_eq!(resp.headers.get("Min-SE"), Some("90"));
    assert!(net.incoming_call(alice).is_none());
}

/// A UAS that wants at least `min` seconds: 422 below, else 200 with the interval and
/// `refresher=uac`. Records every INVITE.
fn picky_uas(min: u32, invites: Rc<RefCell<Vec<Request>>>) -> Script {
    Box::new(move |_, from, msg| {
        let Message::Request(req) = msg else {
            return Vec::new();
        };
        if req.method != Method::Invite {
            return Vec::new();
        }
        invites.borrow_mut().push(req.clone());
        let asked: u32 = req
            .headers
            .get("Session-Expires")
            .and_then(|v| v.split(';').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let resp = if asked < min {
            let mut r = reply(&req, 422, "uastag");
            r.headers.push("Min-SE", min.to_string());
            r
        } else {
            let mut r = reply(&req, 200, "uastag");
            r.headers.push("Contact", format!("<sip:bob@{PEER}>"));
            r.headers
                .push("Session-Expires", format!("{asked};refresher=uac"));
            r.headers.push("Require", "timer");
            r.headers.push("Content-Type", "application/sdp");
            r.body = b"v=0 bob".to_vec();
            r
        };
        vec![(from, Message::Response(resp))]
    })
}

#[test]
fn invite_answered_422_is_retried_with_the_servers_min_se() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 6);
    let seen = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PEER, picky_uas(3600, seen.clone()));
    let cfg = invite_config(ALICE, PEER, Some("v=0 alice"));
    let call = net.cmd(alice, |ua, now| ua.invite(now, cfg));
    let invites = seen.borrow().clone();
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[0].headers.get("Session-Expires"), Some("1800"));
    assert_eq!(invites[1].cseq().unwrap().seq, 2);
    assert_eq!(invites[1].call_id().unwrap(), invites[0].call_id().unwrap());
    assert_eq!(invites[1].headers.get("Session-Expires"), Some("3600"));
    assert_eq!(invites[1].headers.get("Min-SE"), Some("3600"));
    assert!(matches!(
        net.ua(alice).call_state(call),
        Some(CallState::Established { .. })
    ));
    // The 422 was absorbed: the application saw no failure. We refresh at half of 3600 s.
    assert!(!net.events(alice).iter().any(|e| matches!(
        e,
        UaEvent::Call {
            state: CallState::Failed { .. },
            ..
        }
    )));
    // It sent no Allow, so the refresh is a re-INVITE.
    net.run_for(secs(1799));
    assert_eq!(seen.borrow().len(), 2);
    net.run_for(secs(2));
    let refresh = seen.borrow().last().unwrap().clone();
    assert!(refresh.to().unwrap().tag().is_some(), "a re-INVITE");
    assert_eq!(
        refresh.headers.get("Session-Expires"),
        Some("3600;refresher=uac")
    );
    assert!(net.sent(|w| w.is_method(&Method::Update)).is_empty());
}

#[test]
fn repeated_422_without_a_higher_min_se_fails_the_call() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 7);
    // This server always answers 422 with a Min-SE it then still refuses.
    net.add_script(
        PEER,
        Box::new(|_, from, msg| {
            let Message::Request(req) = msg else {
                return Vec::new();
            };
            if req.method != Method::Invite {
                return Vec::new();
            }
            let mut r = reply(&req, 422, "uastag");
            r.headers.push("Min-SE", "1800");
            vec![(from, Message::Response(r))]
        }),
    );
    let cfg = invite_config(ALICE, PEER, Some("v=0 alice"));
    let call = net.cmd(alice, |ua, now| ua.invite(now, cfg));
    assert_eq!(net.sent(|w| w.is_method(&Method::Invite)).len(), 1);
    assert!(matches!(
        net.call_states(alice, call).last(),
        Some(CallState::Failed { code: 422, .. })
    ));
}
