//! REGISTER against a registrar that challenges (RFC 3261 §10.2, §22): 401, answered once,
//! 200 with the granted expiry from our Contact's `expires`, refresh before expiry with
//! pre-emptive credentials, same Call-ID and increasing CSeq, then unregister with Expires: 0.

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::auth::Credentials;
use dialtone_sip::ua::register::refresh_delay;
use dialtone_sip::ua::{RegisterConfig, RegistrationState, UaEvent};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const REGISTRAR: &str = "127.0.0.1:5060";

fn config() -> RegisterConfig {
    let mut cfg = RegisterConfig::new(
        uri("sip:example.com"),
        uri("sip:alice@example.com"),
        uri(&format!("sip:alice@{ALICE}")),
        udp(REGISTRAR),
    );
    cfg.credentials = Some(Credentials::new("alice", "secret"));
    cfg
}

fn reg_states(net: &Net, node: usize) -> Vec<RegistrationState> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Registration { state, .. } => Some(state),
            _ => None,
        })
        .collect()
}

#[test]
fn challenge_answered_then_registered_with_granted_expiry() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 1);
    let registrar = Rc::new(RefCell::new(Registrar::new("secret", 300)));
    net.add_script(REGISTRAR, registrar_script(registrar.clone()));

    let id = net.cmd(alice, |ua, now| ua.register(now, config()));
    assert_eq!(registrar.borrow().answers, [401, 200]);
    assert_eq!(
        net.ua(alice).registration_state(id),
        Some(&RegistrationState::Registered { expires: 300 })
    );
    assert_eq!(
        reg_states(&net, alice),
        [
            RegistrationState::Registering,
            RegistrationState::Registering,
            RegistrationState::Registered { expires: 300 }
        ]
    );
    let reqs = registrar.borrow().requests.clone();
    assert_eq!(reqs[0].call_id().unwrap(), reqs[1].call_id().unwrap());
    assert_eq!(reqs[0].cseq().unwrap().seq + 1, reqs[1].cseq().unwrap().seq);
    assert_eq!(reqs[0].expires(), Some(600), "default request is 600 s");
    assert_ne!(
        reqs[0].top_via().unwrap().branch(),
        reqs[1].top_via().unwrap().branch()
    );
    assert_eq!(
        reqs[0].top_via().unwrap().rport(),
        Some(None),
        "we ask for rport"
    );
    assert!(reqs[0].headers.get("Authorization").is_none());
    assert!(reqs[1].headers.get("Authorization").is_some());
    assert_eq!(reqs[1].uri.to_string(), "sip:example.com");
    assert_eq!(
        reqs[1].to().unwrap().uri.to_string(),
        "sip:alice@example.com"
    );
}

#[test]
fn refresh_comes_before_expiry_with_preemptive_credentials() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 2);
    let registrar = Rc::new(RefCell::new(Registrar::new("secret", 300)));
    net.add_script(REGISTRAR, registrar_script(registrar.clone()));
    net.cmd(alice, |ua, now| ua.register(now, config()));
    let registered_at = net.now;

    // max(300/2, 300-30) = 270 s.
    assert_eq!(refresh_delay(300), secs(270));
    net.run_until(registered_at + secs(269));
    assert_eq!(registrar.borrow().requests.len(), 2, "no refresh yet");
    net.run_until(registered_at + secs(271));
    let r = registrar.borrow();
    assert_eq!(r.requests.len(), 3, "one refresh, no new challenge");
    assert_eq!(r.answers, [401, 200, 200]);
    let auth = r.requests[2]
        .headers
        .get("Authorization")
        .unwrap()
        .to_owned();
    assert_eq!(digest_param(&auth, "nc").as_deref(), Some("00000002"));
    assert_eq!(
        r.requests[2].call_id().unwrap(),
        r.requests[0].call_id().unwrap()
    );
    assert_eq!(r.requests[2].cseq().unwrap().seq, 3);
}

#[test]
fn refresh_delay_rule() {
    assert_eq!(refresh_delay(600), secs(570));
    assert_eq!(refresh_delay(60), secs(30));
    assert_eq!(refresh_delay(40), secs(20));
    assert_eq!(refresh_delay(1), secs(1));
}

#[test]
fn unregister_sends_expires_zero() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 3);
    let registrar = Rc::new(RefCell::new(Registrar::new("secret", 300)));
    net.add_script(REGISTRAR, registrar_script(registrar.clone()));
    let id = net.cmd(alice, |ua, now| ua.register(now, config()));
    net.cmd(alice, |ua, now| ua.unregister(now, id)).unwrap();
    let last = registrar.borrow().requests.last().cloned().unwrap();
    assert_eq!(last.expires(), Some(0));
    assert!(last.headers.get("Authorization").is_some());
    assert_eq!(
        reg_states(&net, alice).last(),
        Some(&RegistrationState::Unregistered)
    );
    assert!(net.ua(alice).registration_state(id).is_none(), "forgotten");
    // No refresh afterwards.
    let count = registrar.borrow().requests.len();
    net.run_for(secs(3600));
    assert_eq!(registrar.borrow().requests.len(), count);
}

#[test]
fn outbound_proxy_gets_route_and_traffic() {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, 4);
    let registrar = Rc::new(RefCell::new(Registrar::new("secret", 300)));
    // The "proxy" address is where the registrar script listens.
    net.add_script(REGISTRAR, registrar_script(registrar.clone()));
    let mut cfg = config();
    cfg.outbound_proxy = Some(uri(&format!("sip:{REGISTRAR}")));
    net.cmd(alice, |ua, now| ua.register(now, cfg));
    let reqs = registrar.borrow().requests.clone();
    assert_eq!(
        reqs[0].headers.get("Route"),
        Some(format!("<sip:{REGISTRAR};lr>").as_str())
    );
    assert_eq!(reqs[0].uri.to_string(), "sip:example.com");
    assert!(net
        .sent(|w| w.is_method(&Method::Register))
        .iter()
        .all(|w| w.to == addr(REGISTRAR)));
}
