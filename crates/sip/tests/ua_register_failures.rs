//! Registration failures: a wrong password fails after one answered challenge (no loop) and is
//! retried after a back-off; 423 is retried with Min-Expires; a silent registrar gives 408 after
//! Timer F; a NAT-ed registrar's `received`/`rport` makes us re-register with the public address.

mod ua_harness;

use std::cell::RefCell;
use std::rc::Rc;

use dialtone_sip::auth::Credentials;
use dialtone_sip::ua::{RegisterConfig, RegistrationState, UaEvent};
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const REGISTRAR: &str = "127.0.0.1:5060";

fn config(password: &str) -> RegisterConfig {
    let mut cfg = RegisterConfig::new(
        uri("sip:example.com"),
        uri("sip:alice@example.com"),
        uri(&format!("sip:alice@{ALICE}")),
        udp(REGISTRAR),
    );
    cfg.credentials = Some(Credentials::new("alice", password));
    cfg
}

fn setup(registrar: Registrar, seed: u64) -> (Net, usize, Rc<RefCell<Registrar>>) {
    let mut net = Net::new();
    let alice = net.add_ua(ALICE, seed);
    let registrar = Rc::new(RefCell::new(registrar));
    net.add_script(REGISTRAR, registrar_script(registrar.clone()));
    (net, alice, registrar)
}

fn failures(net: &Net, node: usize) -> Vec<(u16, String)> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Registration {
                state: RegistrationState::Failed { code, reason },
                ..
            } => Some((code, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn wrong_password_fails_after_one_retry_then_backs_off() {
    let (mut net, alice, registrar) = setup(Registrar::new("secret", 300), 5);
    net.cmd(alice, |ua, now| ua.register(now, config("wrong")));
    assert_eq!(registrar.borrow().answers, [401, 401], "exactly one retry");
    let failed = failures(&net, alice);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, 401);
    assert!(
        failed[0].1.contains("rejected the credentials"),
        "{}",
        failed[0].1
    );

    // RFC 5626 §4.5 back-off: first retry within 15–30 s, not before.
    net.run_for(secs(14));
    assert_eq!(registrar.borrow().requests.len(), 2);
    net.run_for(secs(17));
    assert_eq!(
        registrar.borrow().requests.len(),
        4,
        "one more attempt (REGISTER + retry)"
    );
    assert_eq!(failures(&net, alice).len(), 2);
    // Second wait is 30–60 s.
    net.run_for(secs(29));
    assert_eq!(registrar.borrow().requests.len(), 4);
    net.run_for(secs(32));
    assert_eq!(registrar.borrow().requests.len(), 6);
}

#[test]
fn interval_too_brief_retries_with_min_expires() {
    let mut r = Registrar::new("secret", 300);
    r.min_expires = Some(1800);
    let (mut net, alice, registrar) = setup(r, 6);
    let id = net.cmd(alice, |ua, now| ua.register(now, config("secret")));
    assert_eq!(registrar.borrow().answers, [401, 423, 200]);
    assert_eq!(registrar.borrow().requests[2].expires(), Some(1800));
    assert_eq!(
        net.ua(alice).registration_state(id),
        Some(&RegistrationState::Registered { expires: 1800 })
    );
}

#[test]
fn silent_registrar_times_out_with_408() {
    let mut r = Registrar::new("secret", 300);
    r.silent = true;
    let (mut net, alice, registrar) = setup(r, 7);
    net.cmd(alice, |ua, now| ua.register(now, config("secret")));
    net.run_for(secs(31));
    assert!(failures(&net, alice).is_empty());
    net.run_for(secs(2)); // Timer F = 64·T1 = 32 s
    assert_eq!(failures(&net, alice), [(408, "Request Timeout".to_owned())]);
    // UDP retransmissions happened (Timer E).
    assert!(registrar.borrow().requests.len() > 5);
}

#[test]
fn nat_public_address_is_registered() {
    let mut r = Registrar::new("secret", 300);
    r.nat = Some(("203.0.113.7".to_owned(), 40000));
    let (mut net, alice, registrar) = setup(r, 8);
    let id = net.cmd(alice, |ua, now| ua.register(now, config("secret")));
    let reqs = registrar.borrow().requests.clone();
    assert_eq!(registrar.borrow().answers, [401, 200, 200]);
    let contacts: Vec<String> = reqs[2]
        .contacts()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        contacts,
        [
            "<sip:alice@203.0.113.7:40000>".to_owned(),
            format!("<sip:alice@{ALICE}>;expires=0")
        ]
    );
    assert_eq!(
        net.ua(alice)
            .registration_contact(id)
            .map(ToString::to_string),
        Some("sip:alice@203.0.113.7:40000".to_owned())
    );
    assert_eq!(
        net.ua(alice).registration_state(id),
        Some(&RegistrationState::Registered { expires: 300 })
    );
}
