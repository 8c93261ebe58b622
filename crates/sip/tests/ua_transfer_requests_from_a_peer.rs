//! Transfer requests from a scripted peer: a REFER in the call gets 202, a NOTIFY `100 Trying`
//! and an event; malformed REFERs, REFER outside a call, stray NOTIFYs; INVITE with Replaces
//! that matches nothing (481), only early-only (486), a dialog we did not start (481) or is
//! malformed (400) (RFC 3515, RFC 3891 §3).

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::ua::{UaError, UaEvent};
use dialtone_sip_message::{Message, Method};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const PEER: &str = "127.0.0.1:5099";

#[test]
fn refer_gets_202_a_trying_notify_and_the_app_reports_the_rest() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send(
        "REFER",
        2,
        "Refer-To: <sip:carol@127.0.0.1:5090>\nReferred-By: <sip:peer@example.com>\n",
        "",
        b"",
    );
    assert!(pc.last_response(&Method::Refer, 202).is_some());
    let notify = pc.requests(&Method::Notify).pop().expect("NOTIFY 100");
    assert_eq!(notify.headers.get("Event"), Some("refer;id=2"));
    assert_eq!(
        notify.headers.get("Subscription-State"),
        Some("active;expires=60")
    );
    assert_eq!(
        notify.headers.get("Content-Type"),
        Some("message/sipfrag;version=2.0")
    );
    assert_eq!(notify.body, b"SIP/2.0 100 Trying\r\n");
    assert_eq!(notify.to().unwrap().tag(), Some("peertag"));
    let (id, target) = pc
        .net
        .events(pc.ua)
        .into_iter()
        .find_map(|e| match e {
            UaEvent::TransferRequested { id, target, .. } => Some((id, target)),
            _ => None,
        })
        .expect("TransferRequested");
    assert_eq!(id, pc.call);
    assert_eq!(target, uri("sip:carol@127.0.0.1:5090"));
    pc.reply(&notify, 200, &[], "", b"");

    let call = pc.call;
    pc.net
        .cmd(pc.ua, |ua, now| {
            ua.notify_transfer_progress(now, call, 503, "Service Unavailable\r\nX: y")
        })
        .unwrap();
    let last = pc.requests(&Method::Notify).pop().unwrap();
    assert_eq!(last.body, b"SIP/2.0 503 Service UnavailableX: y\r\n");
    assert_eq!(
        last.headers.get("Subscription-State"),
        Some("terminated;reason=noresource")
    );
    let over = pc.net.cmd(pc.ua, |ua, now| {
        ua.notify_transfer_progress(now, call, 200, "OK")
    });
    assert!(matches!(over, Err(UaError::WrongState { .. })));
}

#[test]
fn refer_without_one_refer_to_is_400_and_outside_a_call_403() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send("REFER", 2, "", "", b"");
    assert!(pc.last_response(&Method::Refer, 400).is_some());
    pc.send(
        "REFER",
        3,
        "Refer-To: <sip:a@127.0.0.1>\nRefer-To: <sip:b@127.0.0.1>\n",
        "",
        b"",
    );
    assert_eq!(pc.responses(&Method::Refer).last().unwrap().status, 400);
    assert!(pc.requests(&Method::Notify).is_empty());
    let refer = peer_request(
        PEER,
        ALICE,
        "REFER",
        1,
        "",
        "Refer-To: <sip:a@127.0.0.1>\n",
        ("", b""),
    );
    pc.net.inject(PEER, ALICE, Message::Request(refer));
    assert_eq!(pc.responses(&Method::Refer).last().unwrap().status, 403);
}

#[test]
fn notify_without_our_refer_is_481_and_other_events_489() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send(
        "NOTIFY",
        2,
        "Event: refer\nSubscription-State: active\n",
        "message/sipfrag",
        b"SIP/2.0 200 OK\r\n",
    );
    assert!(pc.last_response(&Method::Notify, 481).is_some());
    pc.send(
        "NOTIFY",
        3,
        "Event: dialog\nSubscription-State: active\n",
        "",
        b"",
    );
    assert!(pc.last_response(&Method::Notify, 489).is_some());
}

fn invite_with(headers: &str) -> (Net, usize, Rc<RefCell<Vec<Message>>>) {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 9);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PEER, recorder(log.clone()));
    let invite = peer_request(
        PEER,
        ALICE,
        "INVITE",
        1,
        "",
        headers,
        ("application/sdp", b"v=0 peer"),
    );
    net.inject(PEER, ALICE, Message::Request(invite));
    (net, alice, log)
}

fn final_status(log: &Rc<RefCell<Vec<Message>>>) -> u16 {
    log.borrow()
        .iter()
        .filter_map(|m| m.as_response())
        .map(|r| r.status)
        .rfind(|s| *s >= 200)
        .expect("a final response")
}

#[test]
fn invite_replacing_an_unknown_dialog_is_481_and_malformed_400() {
    let (net, alice, log) = invite_with("Replaces: nosuch;to-tag=1;from-tag=2\n");
    assert_eq!(final_status(&log), 481);
    assert!(net.incoming_call(alice).is_none());
    let (_, _, log) = invite_with("Replaces: nosuch;to-tag=1\n");
    assert_eq!(final_status(&log), 400);
}

#[test]
fn invite_replacing_a_confirmed_dialog_with_early_only_is_486() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    let replaces = format!(
        "Replaces: peer-call;to-tag={};from-tag=peertag;early-only\n",
        pc.to_tag
    );
    let mut invite = peer_request(
        "127.0.0.1:5098",
        ALICE,
        "INVITE",
        1,
        "",
        &replaces,
        ("application/sdp", b"v=0 other"),
    );
    invite.headers.set("Call-ID", "other-call");
    pc.net
        .inject("127.0.0.1:5098", ALICE, Message::Request(invite.clone()));
    let refused = pc
        .net
        .sent(|w| w.response().is_some_and(|r| r.status == 486))
        .len();
    assert_eq!(refused, 1);
    // Without early-only it is taken, not rung, and flagged.
    let replaces = format!(
        "Replaces: peer-call;to-tag={};from-tag=peertag\n",
        pc.to_tag
    );
    let mut invite = peer_request(
        "127.0.0.1:5098",
        ALICE,
        "INVITE",
        1,
        "",
        &replaces,
        ("application/sdp", b"v=0 other"),
    );
    invite.headers.set("Call-ID", "third-call");
    invite
        .headers
        .set("Via", "SIP/2.0/UDP 127.0.0.1:5098;branch=z9hG4bKthird");
    pc.net
        .inject("127.0.0.1:5098", ALICE, Message::Request(invite));
    let old = pc.call;
    assert!(pc.net.events(pc.ua).iter().any(|e| matches!(
        e,
        UaEvent::IncomingCall { replaces: Some(r), .. } if *r == old
    )));
    let rang = pc
        .net
        .sent(|w| w.to == addr("127.0.0.1:5098") && w.is_response(180, &Method::Invite))
        .len();
    assert_eq!(rang, 0);
}

#[test]
fn invite_replacing_a_ringing_incoming_call_is_481() {
    let (mut net, alice, log) = invite_with("");
    assert!(net.incoming_call(alice).is_some());
    let tag = log
        .borrow()
        .iter()
        .filter_map(|m| m.as_response())
        .find(|r| r.status == 180)
        .and_then(|r| r.to().unwrap().tag().map(str::to_owned))
        .unwrap();
    let mut invite = peer_request(
        "127.0.0.1:5098",
        ALICE,
        "INVITE",
        1,
        "",
        &format!("Replaces: peer-call;to-tag={tag};from-tag=peertag\n"),
        ("application/sdp", b"v=0 other"),
    );
    invite.headers.set("Call-ID", "other-call");
    net.inject("127.0.0.1:5098", ALICE, Message::Request(invite));
    assert_eq!(
        net.sent(|w| w.to == addr("127.0.0.1:5098") && w.response().is_some())
            .last()
            .unwrap()
            .response()
            .unwrap()
            .status,
        481
    );
}
