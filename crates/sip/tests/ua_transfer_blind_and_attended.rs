//! Call transfer between three user agents (RFC 3515, RFC 5589): blind (REFER to a third
//! party, NOTIFY progress, BYE after success) and attended (consult call, REFER with Replaces,
//! the target swaps the consult call for the transferee's call, RFC 3891).

mod ua_harness;

use dialtone_sip::ua::{CallId, CallState, EndReason, InviteConfig, UaEvent};
use dialtone_sip_message::{Method, NameAddr, Uri};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const CAROL: &str = "127.0.0.1:5090";

fn transfer_progress(net: &Net, node: usize, call: CallId) -> Vec<u16> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::TransferProgress { id, code, .. } if id == call => Some(code),
            _ => None,
        })
        .collect()
}

fn transfer_request(net: &Net, node: usize) -> Option<(CallId, Uri, Option<NameAddr>)> {
    net.events(node).into_iter().find_map(|e| match e {
        UaEvent::TransferRequested {
            id,
            target,
            referred_by,
        } => Some((id, target, referred_by)),
        _ => None,
    })
}

/// Bob's application carries out a transfer to `target` (sent to `dest`): calls, reports
/// ringing, lets `callee` answer, reports 200.
fn bob_carries_out(
    net: &mut Net,
    bob: usize,
    bob_call: CallId,
    target: Uri,
    (callee, dest): (usize, &str),
) -> (CallId, CallId) {
    let cfg = InviteConfig::new(
        target,
        NameAddr::parse("<sip:bob@example.com>").unwrap(),
        uri(&format!("sip:bob@{BOB}")),
        Some(b"v=0 bob to carol".to_vec()),
        udp(dest),
    );
    let new_call = net.cmd(bob, |ua, now| ua.invite(now, cfg));
    net.cmd(bob, |ua, now| {
        ua.notify_transfer_progress(now, bob_call, 180, "Ringing")
    })
    .unwrap();
    let carol_call = net.incoming_call(callee).unwrap();
    net.cmd(callee, |ua, now| {
        ua.answer(now, carol_call, b"v=0 carol".to_vec())
    })
    .unwrap();
    assert!(matches!(
        net.ua(bob).call_state(new_call),
        Some(CallState::Established { .. })
    ));
    net.cmd(bob, |ua, now| {
        ua.notify_transfer_progress(now, bob_call, 200, "OK")
    })
    .unwrap();
    (new_call, carol_call)
}

#[test]
fn blind_transfer_reports_progress_and_hangs_up_after_success() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let c = net.add_ua(CAROL, 3);
    let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);

    let carol = uri(&format!("sip:carol@{CAROL}"));
    net.cmd(a, |ua, now| ua.refer(now, ac, carol.clone()))
        .unwrap();
    let refer = net.sent(|w| w.is_method(&Method::Refer))[0]
        .request()
        .unwrap()
        .clone();
    assert_eq!(
        refer.headers.get("Refer-To"),
        Some(format!("<sip:carol@{CAROL}>").as_str())
    );
    assert!(refer.headers.contains("Referred-By"));
    assert_eq!(net.sent(|w| w.is_response(202, &Method::Refer)).len(), 1);
    let (call, target, referred_by) = transfer_request(&net, b).expect("bob asked");
    assert_eq!((call, &target), (bc, &carol));
    assert_eq!(referred_by.unwrap().uri, uri("sip:alice@example.com"));
    // A second transfer while this one runs is refused locally.
    assert!(net
        .cmd(a, |ua, now| ua.refer(now, ac, carol.clone()))
        .is_err());

    let (bob_carol, carol_bob) = bob_carries_out(&mut net, b, bc, target, (c, CAROL));

    assert_eq!(transfer_progress(&net, a, ac), vec![100, 180, 200]);
    let notifies = net.sent(|w| w.is_method(&Method::Notify));
    assert_eq!(notifies.len(), 3);
    let last = notifies[2].request().unwrap();
    assert!(last
        .headers
        .get("Subscription-State")
        .unwrap()
        .starts_with("terminated"));
    assert_eq!(
        last.headers.get("Event"),
        Some(format!("refer;id={}", refer.cseq().unwrap().seq).as_str())
    );
    assert_eq!(last.body, b"SIP/2.0 200 OK\r\n");
    // Alice hung up; bob and carol talk.
    assert_eq!(
        net.call_states(a, ac).last(),
        Some(&CallState::Finished {
            reason: EndReason::Transferred
        })
    );
    assert_eq!(
        net.call_states(b, bc).last(),
        Some(&CallState::Finished {
            reason: EndReason::RemoteHangup
        })
    );
    assert!(matches!(
        net.ua(b).call_state(bob_carol),
        Some(CallState::Established { .. })
    ));
    assert!(matches!(
        net.ua(c).call_state(carol_bob),
        Some(CallState::Established { .. })
    ));
    // Nothing more to report once the subscription is over.
    assert!(net
        .cmd(b, |ua, now| ua
            .notify_transfer_progress(now, bob_carol, 200, "OK"))
        .is_err());
}

#[test]
fn failed_transfer_is_reported_and_the_call_stays() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);
    net.cmd(a, |ua, now| {
        ua.refer(now, ac, uri(&format!("sip:nobody@{CAROL}")))
    })
    .unwrap();
    net.cmd(b, |ua, now| {
        ua.notify_transfer_progress(now, bc, 486, "Busy Here")
    })
    .unwrap();
    assert_eq!(transfer_progress(&net, a, ac), vec![100, 486]);
    assert!(matches!(
        net.ua(a).call_state(ac),
        Some(CallState::Established { .. })
    ));
    // The user may try again.
    net.cmd(a, |ua, now| {
        ua.refer(now, ac, uri(&format!("sip:carol@{CAROL}")))
    })
    .unwrap();
    assert_eq!(net.sent(|w| w.is_method(&Method::Refer)).len(), 2);
}

#[test]
fn attended_transfer_replaces_the_consult_call() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let c = net.add_ua(CAROL, 3);
    let (a_bob, b_alice) = establish(&mut net, a, ALICE, b, BOB);
    // Alice puts bob on hold and consults carol.
    let (a_carol, c_alice) = establish(&mut net, a, ALICE, c, CAROL);

    net.cmd(a, |ua, now| ua.refer_with_replaces(now, a_bob, a_carol))
        .unwrap();
    let (_, target, _) = transfer_request(&net, b).expect("bob asked");
    // The target is carol's contact with the consult dialog in Replaces.
    assert_eq!(target.host, "127.0.0.1");
    assert_eq!(target.port, Some(5090));
    let (name, value) = &target.headers[0];
    assert_eq!(name, "Replaces");
    assert!(value.contains("%3Bto-tag%3D"), "{value}");

    let (b_carol, c_bob) = bob_carries_out(&mut net, b, b_alice, target, (c, CAROL));

    // Carol got an INVITE with Replaces and was not rung.
    let invite = net
        .sent(|w| w.from == addr(BOB) && w.is_method(&Method::Invite))
        .last()
        .unwrap()
        .request()
        .unwrap()
        .clone();
    let replaces = invite.headers.get("Replaces").expect("Replaces header");
    assert!(replaces.contains(";to-tag=") && replaces.contains(";from-tag="));
    assert!(invite.uri.headers.is_empty());
    assert!(net.events(c).iter().any(|e| matches!(
        e,
        UaEvent::IncomingCall { id, replaces: Some(old), .. } if *id == c_bob && *old == c_alice
    )));
    assert!(
        net.sent(|w| w.from == addr(CAROL) && w.is_response(180, &Method::Invite))
            .len()
            == 1,
        "only alice's consult call rang"
    );
    // Carol hung up the consult call; alice hung up on bob; bob and carol talk.
    assert_eq!(
        net.call_states(c, c_alice).last(),
        Some(&CallState::Finished {
            reason: EndReason::Replaced
        })
    );
    assert_eq!(
        net.call_states(a, a_carol).last(),
        Some(&CallState::Finished {
            reason: EndReason::RemoteHangup
        })
    );
    assert_eq!(
        net.call_states(a, a_bob).last(),
        Some(&CallState::Finished {
            reason: EndReason::Transferred
        })
    );
    assert!(matches!(
        net.ua(b).call_state(b_carol),
        Some(CallState::Established { .. })
    ));
    assert!(matches!(
        net.ua(c).call_state(c_bob),
        Some(CallState::Established { .. })
    ));
}
