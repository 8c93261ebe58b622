//! Presence against a scripted presence server: PUBLISH with SIP-ETag refresh, modification,
//! 412 recovery, 423, digest challenge and removal (RFC 3903); SUBSCRIBE whose NOTIFY overtakes
//! the 2xx, refresh in the dialog, `deactivated` re-subscription, rejection and errors
//! (RFC 6665 §4.1).

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::auth::Credentials;
use dialtone_sip::ua::{
    PresenceStatus, PubId, PublicationState, PublishConfig, SubId, SubscribeConfig,
    SubscriptionState, UaEvent,
};
use dialtone_sip_message::{Message, Method, NameAddr, Request, Response};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const SERVER: &str = "127.0.0.1:5099";

struct Server {
    net: Net,
    ua: usize,
    log: Rc<RefCell<Vec<Message>>>,
}

impl Server {
    fn new() -> Server {
        let mut net = Net::new();
        let ua = net.add_ua(ALICE, 4);
        let log = Rc::new(RefCell::new(Vec::new()));
        net.add_script(SERVER, recorder(log.clone()));
        Server { net, ua, log }
    }

    fn requests(&self, method: &Method) -> Vec<Request> {
        let mut seen: Vec<Request> = Vec::new();
        for r in self.log.borrow().iter().filter_map(|m| m.as_request()) {
            // One per transaction: retransmissions share Call-ID and CSeq.
            let same = |s: &Request| {
                s.call_id().unwrap() == r.call_id().unwrap()
                    && s.cseq().unwrap() == r.cseq().unwrap()
            };
            if &r.method == method && !seen.iter().any(same) {
                seen.push(r.clone());
            }
        }
        seen
    }

    fn last(&self, method: &Method) -> Request {
        self.requests(method).pop().expect("request received")
    }

    fn answer(&mut self, req: &Request, status: u16, headers: &[(&str, &str)]) {
        let mut resp: Response = reply(req, status, "srvtag");
        for (n, v) in headers {
            resp.headers.push(n, *v);
        }
        self.net.inject(SERVER, ALICE, Message::Response(resp));
    }

    fn responses_to(&self, method: &Method) -> Vec<u16> {
        self.log
            .borrow()
            .iter()
            .filter_map(|m| m.as_response())
            .filter(|r| r.cseq().is_ok_and(|c| &c.method == method))
            .map(|r| r.status)
            .collect()
    }
}

fn publications(net: &Net, node: usize, id: PubId) -> Vec<PublicationState> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Publication { id: i, state } if i == id => Some(state),
            _ => None,
        })
        .collect()
}

fn publish(s: &mut Server) -> PubId {
    let cfg = PublishConfig::new(uri("sip:alice@example.com"), udp(SERVER));
    s.net.cmd(s.ua, |ua, now| ua.publish_presence(now, cfg))
}

#[test]
fn publication_is_refreshed_by_etag_modified_and_removed() {
    let mut s = Server::new();
    let id = publish(&mut s);
    let first = s.last(&Method::Publish);
    assert_eq!(first.headers.get("Event"), Some("presence"));
    assert_eq!(first.headers.get("Expires"), Some("3600"));
    assert_eq!(
        first.headers.get("Content-Type"),
        Some("application/pidf+xml")
    );
    assert!(!first.headers.contains("SIP-If-Match"));
    let body = String::from_utf8(first.body.clone()).unwrap();
    assert!(body.contains("entity=\"sip:alice@example.com\"") && body.contains(">open<"));
    s.answer(&first, 200, &[("SIP-ETag", "e1"), ("Expires", "120")]);
    assert_eq!(
        publications(&s.net, s.ua, id),
        vec![PublicationState::Published { expires: 120 }]
    );

    // Refresh at 90 s: no body, the entity tag.
    s.net.run_for(secs(89));
    assert_eq!(s.requests(&Method::Publish).len(), 1);
    s.net.run_for(secs(2));
    let refresh = s.last(&Method::Publish);
    assert!(refresh.body.is_empty());
    assert_eq!(refresh.headers.get("SIP-If-Match"), Some("e1"));
    assert_eq!(refresh.call_id().unwrap(), first.call_id().unwrap());
    assert_eq!(refresh.cseq().unwrap().seq, 2);
    s.answer(&refresh, 200, &[("SIP-ETag", "e2"), ("Expires", "120")]);

    // A change is published with the new tag; the server lost it (412): afresh.
    s.net.cmd(s.ua, |ua, now| {
        ua.set_presence(now, PresenceStatus::closed(Some("away")))
    });
    let modify = s.last(&Method::Publish);
    assert_eq!(modify.headers.get("SIP-If-Match"), Some("e2"));
    assert!(String::from_utf8(modify.body.clone())
        .unwrap()
        .contains("<note>away</note>"));
    s.answer(&modify, 412, &[]);
    let fresh = s.last(&Method::Publish);
    assert!(!fresh.headers.contains("SIP-If-Match"));
    assert!(String::from_utf8(fresh.body.clone())
        .unwrap()
        .contains(">closed<"));
    s.answer(&fresh, 200, &[("SIP-ETag", "e3"), ("Expires", "120")]);

    s.net
        .cmd(s.ua, |ua, now| ua.unpublish_presence(now, id))
        .unwrap();
    let remove = s.last(&Method::Publish);
    assert_eq!(remove.headers.get("Expires"), Some("0"));
    assert_eq!(remove.headers.get("SIP-If-Match"), Some("e3"));
    assert!(remove.body.is_empty());
    s.answer(&remove, 200, &[("SIP-ETag", "e3"), ("Expires", "0")]);
    assert_eq!(
        publications(&s.net, s.ua, id).last(),
        Some(&PublicationState::Removed)
    );
    assert!(s
        .net
        .cmd(s.ua, |ua, now| ua.unpublish_presence(now, id))
        .is_err());
}

#[test]
fn publish_answers_challenges_and_423_and_reports_failures() {
    let mut s = Server::new();
    let mut cfg = PublishConfig::new(uri("sip:alice@example.com"), udp(SERVER));
    cfg.auth = Some(Credentials::new("alice", "pw"));
    let id = s.net.cmd(s.ua, |ua, now| ua.publish_presence(now, cfg));
    let first = s.last(&Method::Publish);
    s.answer(
        &first,
        401,
        &[(
            "WWW-Authenticate",
            r#"Digest realm="example.com", nonce="n", qop="auth""#,
        )],
    );
    let second = s.last(&Method::Publish);
    assert!(second.headers.contains("Authorization"));
    assert_eq!(second.body, first.body);
    s.answer(&second, 423, &[("Min-Expires", "7200")]);
    let third = s.last(&Method::Publish);
    assert_eq!(third.headers.get("Expires"), Some("7200"));
    assert!(
        third.headers.contains("Authorization"),
        "pre-emptive credentials"
    );
    s.answer(&third, 489, &[]);
    assert!(matches!(
        publications(&s.net, s.ua, id).last(),
        Some(PublicationState::Failed { code: 489, .. })
    ));
    s.net.run_for(secs(120));
    assert_eq!(s.requests(&Method::Publish).len(), 3, "no retry after 489");

    // No answer at all: 408, then another try a minute later.
    let mut s = Server::new();
    let id = publish(&mut s);
    s.net.run_for(secs(33));
    assert!(matches!(
        publications(&s.net, s.ua, id).last(),
        Some(PublicationState::Failed { code: 408, .. })
    ));
    s.net.run_for(secs(60));
    assert_eq!(s.requests(&Method::Publish).len(), 2);
}

fn subscription_events(net: &Net, node: usize, id: SubId) -> Vec<UaEvent> {
    net.events(node)
        .into_iter()
        .filter(|e| {
            matches!(e, UaEvent::Subscription { id: i, .. } | UaEvent::PresenceChanged { id: i, .. } if *i == id)
        })
        .collect()
}

fn subscribe(s: &mut Server) -> SubId {
    let cfg = SubscribeConfig::new(
        uri("sip:bob@example.com"),
        NameAddr::parse("<sip:alice@example.com>").unwrap(),
        uri(&format!("sip:alice@{ALICE}")),
        udp(SERVER),
    );
    s.net.cmd(s.ua, |ua, now| ua.subscribe_presence(now, cfg))
}

/// The server's NOTIFY for `subscribe` (CSeq `seq`).
fn notify(subscribe: &Request, seq: u32, state: &str, body: &str) -> Request {
    let from = subscribe.from().unwrap();
    let text = format!(
        "NOTIFY sip:alice@{ALICE} SIP/2.0
Via: SIP/2.0/UDP {SERVER};branch=z9hG4bKnotify{seq}x{}
Max-Forwards: 70
From: <sip:bob@example.com>;tag=srvtag
To: {from}
Call-ID: {}
CSeq: {seq} NOTIFY
Contact: <sip:presence@{SERVER}>
Event: presence
Subscription-State: {state}
Content-Length: 0

",
        subscribe.call_id().unwrap(),
        subscribe.call_id().unwrap()
    );
    let mut r = request_text(&text);
    if !body.is_empty() {
        r.headers.push("Content-Type", "application/pidf+xml");
        r.body = body.as_bytes().to_vec();
    }
    r
}

const BOB_AWAY: &str = r#"<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.com"><tuple id="x"><status><basic>closed</basic></status><note>Gone fishing</note></tuple></presence>"#;

#[test]
fn notify_before_the_2xx_makes_the_dialog_and_refreshes_stay_in_it() {
    let mut s = Server::new();
    let id = subscribe(&mut s);
    let sub = s.last(&Method::Subscribe);
    // The NOTIFY overtakes the 200.
    let n = notify(&sub, 1, "active;expires=600", BOB_AWAY);
    s.net.inject(SERVER, ALICE, Message::Request(n));
    assert_eq!(s.responses_to(&Method::Notify), vec![200]);
    s.answer(&sub, 200, &[("Expires", "600")]);
    assert_eq!(
        subscription_events(&s.net, s.ua, id),
        vec![
            UaEvent::Subscription {
                id,
                state: SubscriptionState::Active { expires: 600 }
            },
            UaEvent::PresenceChanged {
                id,
                entity: "sip:bob@example.com".to_owned(),
                open: false,
                note: Some("Gone fishing".to_owned())
            }
        ]
    );
    s.net.run_for(secs(569));
    assert_eq!(s.requests(&Method::Subscribe).len(), 1);
    s.net.run_for(secs(2));
    let refresh = s.last(&Method::Subscribe);
    assert_eq!(refresh.to().unwrap().tag(), Some("srvtag"));
    assert_eq!(refresh.cseq().unwrap().seq, 2);
    assert_eq!(refresh.uri, uri(&format!("sip:presence@{SERVER}")));
    // A refresh the server forgot (481): subscribe afresh.
    s.answer(&refresh, 481, &[]);
    let again = s.last(&Method::Subscribe);
    assert!(again.to().unwrap().tag().is_none());
    assert_ne!(again.call_id().unwrap(), sub.call_id().unwrap());
}

#[test]
fn deactivated_resubscribes_and_rejected_ends() {
    let mut s = Server::new();
    let id = subscribe(&mut s);
    let sub = s.last(&Method::Subscribe);
    s.answer(&sub, 202, &[("Expires", "3600")]);
    s.net.inject(
        SERVER,
        ALICE,
        Message::Request(notify(&sub, 1, "pending", "")),
    );
    s.net.inject(
        SERVER,
        ALICE,
        Message::Request(notify(&sub, 2, "terminated;reason=deactivated", "")),
    );
    let fresh = s.last(&Method::Subscribe);
    assert_ne!(fresh.call_id().unwrap(), sub.call_id().unwrap());
    s.answer(&fresh, 202, &[]);
    s.net.inject(
        SERVER,
        ALICE,
        Message::Request(notify(&fresh, 1, "terminated;reason=rejected", "")),
    );
    assert_eq!(
        subscription_events(&s.net, s.ua, id),
        vec![
            UaEvent::Subscription {
                id,
                state: SubscriptionState::Pending
            },
            UaEvent::Subscription {
                id,
                state: SubscriptionState::Terminated {
                    reason: "rejected".to_owned()
                }
            }
        ]
    );
    // Over: a further NOTIFY finds no subscription.
    s.net.inject(
        SERVER,
        ALICE,
        Message::Request(notify(&fresh, 2, "active", BOB_AWAY)),
    );
    assert_eq!(s.responses_to(&Method::Notify).last(), Some(&481));
}

#[test]
fn subscribe_errors_end_the_subscription_and_wrong_packages_get_489() {
    let mut s = Server::new();
    let id = subscribe(&mut s);
    let sub = s.last(&Method::Subscribe);
    let mut wrong = notify(&sub, 1, "active", "");
    wrong.headers.set("Event", "dialog");
    s.net.inject(SERVER, ALICE, Message::Request(wrong));
    assert_eq!(s.responses_to(&Method::Notify), vec![489]);
    s.answer(&sub, 404, &[]);
    assert_eq!(
        subscription_events(&s.net, s.ua, id),
        vec![UaEvent::Subscription {
            id,
            state: SubscriptionState::Terminated {
                reason: "404 Not Found".to_owned()
            }
        }]
    );
}
