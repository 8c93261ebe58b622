//! Two phones watching each other directly (RFC 6665, RFC 3856, PIDF RFC 3863): SUBSCRIBE
//! accepted with a NOTIFY of the current status, NOTIFYs on every change, refresh before
//! expiry, unsubscribe, and the notifier's own rules (489, 406, 423, fetch, expiry).

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::ua::{PresenceStatus, SubId, SubscribeConfig, SubscriptionState, UaEvent};
use dialtone_sip_message::{Message, Method, NameAddr, Request};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const PEER: &str = "127.0.0.1:5099";

fn presence(net: &Net, node: usize, sub: SubId) -> Vec<(String, bool, Option<String>)> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::PresenceChanged {
                id,
                entity,
                open,
                note,
            } if id == sub => Some((entity, open, note)),
            _ => None,
        })
        .collect()
}

fn states(net: &Net, node: usize, sub: SubId) -> Vec<SubscriptionState> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Subscription { id, state } if id == sub => Some(state),
            _ => None,
        })
        .collect()
}

/// Bob watches alice at her own address.
fn bob_watches_alice(net: &mut Net, bob: usize) -> SubId {
    let cfg = SubscribeConfig::new(
        uri(&format!("sip:alice@{ALICE}")),
        NameAddr::parse("<sip:bob@example.com>").unwrap(),
        uri(&format!("sip:bob@{BOB}")),
        udp(ALICE),
    );
    net.cmd(bob, |ua, now| ua.subscribe_presence(now, cfg))
}

#[test]
fn watcher_gets_the_status_now_and_on_every_change() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let sub = bob_watches_alice(&mut net, b);
    let entity = format!("sip:alice@{ALICE}");
    assert_eq!(presence(&net, b, sub), vec![(entity.clone(), true, None)]);
    assert_eq!(
        states(&net, b, sub),
        vec![SubscriptionState::Active { expires: 3600 }]
    );
    let subscribe = net.sent(|w| w.is_method(&Method::Subscribe))[0]
        .request()
        .unwrap()
        .clone();
    assert_eq!(subscribe.headers.get("Event"), Some("presence"));
    assert_eq!(
        subscribe.headers.get("Accept"),
        Some("application/pidf+xml")
    );
    assert_eq!(subscribe.headers.get("Expires"), Some("3600"));

    net.cmd(a, |ua, now| {
        ua.set_presence(
            now,
            PresenceStatus::closed(Some("In a meeting <until 3> & more")),
        )
    });
    assert_eq!(
        presence(&net, b, sub).last().unwrap(),
        &(
            entity.clone(),
            false,
            Some("In a meeting <until 3> & more".to_owned())
        )
    );
    let notify = net
        .sent(|w| w.is_method(&Method::Notify))
        .last()
        .unwrap()
        .request()
        .unwrap()
        .clone();
    assert_eq!(
        notify.headers.get("Content-Type"),
        Some("application/pidf+xml")
    );
    assert!(std::str::from_utf8(&notify.body)
        .unwrap()
        .contains("&lt;until 3&gt; &amp; more"));
    assert_eq!(net.sent(|w| w.is_response(200, &Method::Notify)).len(), 2);
}

#[test]
fn subscription_is_refreshed_before_it_runs_out_and_unsubscribe_ends_it() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let sub = bob_watches_alice(&mut net, b);
    net.run_for(secs(3 * 3600));
    let subscribes = net.sent(|w| w.is_method(&Method::Subscribe));
    let times: Vec<u64> = subscribes
        .iter()
        .map(|w| (w.at - net.start).as_secs())
        .collect();
    assert_eq!(times, vec![0, 3570, 7140, 10710]);
    // Refreshes stay in the dialog.
    assert!(subscribes[1]
        .request()
        .unwrap()
        .to()
        .unwrap()
        .tag()
        .is_some());
    assert!(!states(&net, b, sub)
        .iter()
        .any(|s| matches!(s, SubscriptionState::Terminated { .. })));
    // Every refresh brought a NOTIFY; nothing expired.
    assert_eq!(net.sent(|w| w.is_method(&Method::Notify)).len(), 4);

    net.cmd(b, |ua, now| ua.unsubscribe_presence(now, sub))
        .unwrap();
    let last = net
        .sent(|w| w.is_method(&Method::Subscribe))
        .last()
        .unwrap()
        .request()
        .unwrap()
        .clone();
    assert_eq!(last.headers.get("Expires"), Some("0"));
    assert_eq!(
        states(&net, b, sub).last(),
        Some(&SubscriptionState::Terminated {
            reason: "unsubscribed".to_owned()
        })
    );
    let final_notify = net
        .sent(|w| w.is_method(&Method::Notify))
        .last()
        .unwrap()
        .request()
        .unwrap()
        .clone();
    assert_eq!(
        final_notify.headers.get("Subscription-State"),
        Some("terminated;reason=timeout")
    );
    // Alice has no watcher any more.
    let notifies = net.sent(|w| w.is_method(&Method::Notify)).len();
    net.cmd(a, |ua, now| {
        ua.set_presence(now, PresenceStatus::closed(None))
    });
    assert_eq!(net.sent(|w| w.is_method(&Method::Notify)).len(), notifies);
    assert!(net
        .cmd(b, |ua, now| ua.unsubscribe_presence(now, sub))
        .is_err());
}

fn subscribe_request(headers: &str) -> Request {
    peer_request(PEER, ALICE, "SUBSCRIBE", 1, "", headers, ("", b""))
}

fn answers(log: &Rc<RefCell<Vec<Message>>>) -> Vec<(u16, Option<String>)> {
    log.borrow()
        .iter()
        .filter_map(|m| m.as_response())
        .map(|r| (r.status, r.headers.get("Expires").map(str::to_owned)))
        .collect()
}

fn notifies(log: &Rc<RefCell<Vec<Message>>>) -> Vec<Request> {
    log.borrow()
        .iter()
        .filter_map(|m| m.as_request())
        .filter(|r| r.method == Method::Notify)
        .cloned()
        .collect()
}

/// Alice, and a scripted watcher that records everything and answers NOTIFYs 200.
fn notifier() -> (Net, Rc<RefCell<Vec<Message>>>) {
    let mut net = Net::new();
    net.add_ua(ALICE, 1);
    let log = Rc::new(RefCell::new(Vec::new()));
    let seen = log.clone();
    net.add_script(
        PEER,
        Box::new(move |_, from, msg| {
            seen.borrow_mut().push(msg.clone());
            match msg {
                Message::Request(r) if r.method == Method::Notify => {
                    vec![(from, Message::Response(reply(&r, 200, "peertag")))]
                }
                _ => Vec::new(),
            }
        }),
    );
    (net, log)
}

#[test]
fn notifier_refuses_other_packages_media_and_short_intervals() {
    for (headers, status, extra) in [
        ("Event: dialog\n", 489, "Allow-Events"),
        ("Event: presence\nAccept: text/plain\n", 406, "Accept"),
        ("Event: presence\nExpires: 10\n", 423, "Min-Expires"),
    ] {
        let (mut net, log) = notifier();
        net.inject(PEER, ALICE, Message::Request(subscribe_request(headers)));
        let resp = log.borrow()[0].as_response().unwrap().clone();
        assert_eq!(resp.status, status, "{headers}");
        assert!(resp.headers.contains(extra), "{headers}");
        assert!(notifies(&log).is_empty());
    }
}

#[test]
fn fetch_with_expires_0_gets_one_terminated_notify() {
    let (mut net, log) = notifier();
    net.inject(
        PEER,
        ALICE,
        Message::Request(subscribe_request("Event: presence\nExpires: 0\n")),
    );
    assert_eq!(answers(&log)[0], (200, Some("0".to_owned())));
    let n = notifies(&log);
    assert_eq!(n.len(), 1);
    assert_eq!(
        n[0].headers.get("Subscription-State"),
        Some("terminated;reason=timeout")
    );
    assert!(std::str::from_utf8(&n[0].body)
        .unwrap()
        .contains("<basic>open</basic>"));
}

#[test]
fn watcher_that_does_not_answer_notify_is_dropped() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let log = Rc::new(RefCell::new(Vec::new()));
    net.add_script(PEER, recorder(log.clone()));
    net.inject(
        PEER,
        ALICE,
        Message::Request(subscribe_request(
            "Event: presence
",
        )),
    );
    net.run_for(secs(40));
    let sent = net.sent(|w| w.is_method(&Method::Notify)).len();
    net.cmd(a, |ua, now| {
        ua.set_presence(now, PresenceStatus::closed(None))
    });
    assert_eq!(net.sent(|w| w.is_method(&Method::Notify)).len(), sent);
}

#[test]
fn unrefreshed_watcher_is_dropped_with_a_timeout_notify() {
    let (mut net, log) = notifier();
    net.inject(
        PEER,
        ALICE,
        Message::Request(subscribe_request(
            "Event: presence\nExpires: 7200\nAccept: application/pidf+xml\n",
        )),
    );
    // Granted at most 3600 s.
    assert_eq!(answers(&log)[0], (200, Some("3600".to_owned())));
    let first = notifies(&log);
    assert_eq!(
        first[0].headers.get("Subscription-State"),
        Some("active;expires=3600")
    );
    assert_eq!(first[0].to().unwrap().tag(), Some("peertag"));
    net.run_for(secs(3599));
    assert_eq!(
        notifies(&log)
            .iter()
            .filter(|n| n.cseq().unwrap().seq > 1)
            .count(),
        0
    );
    net.run_for(secs(2));
    let last = notifies(&log).pop().unwrap();
    assert_eq!(
        last.headers.get("Subscription-State"),
        Some("terminated;reason=timeout")
    );
}
