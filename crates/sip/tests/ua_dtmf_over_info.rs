//! DTMF over SIP INFO: `application/dtmf-relay` sent one digit at a time in order, both
//! `application/dtmf-relay` and `application/dtmf` received as `Dtmf` events, 200 to INFO,
//! 415 for other bodies, 400 for unreadable digits, refusals reported.

mod ua_harness;

use dialtone_sip::ua::{CallId, UaError, UaEvent};
use dialtone_sip_message::Method;
use ua_harness::*;

const ALICE: &str = "127.0.0.1:5070";
const BOB: &str = "127.0.0.1:5080";
const PEER: &str = "127.0.0.1:5099";

fn dtmf_events(net: &Net, node: usize, call: CallId) -> Vec<(char, Option<u32>)> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Dtmf {
                id,
                digit,
                duration_ms,
            } if id == call => Some((digit, duration_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn digits_travel_between_two_phones_in_order() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    let b = net.add_ua(BOB, 2);
    let (ac, bc) = establish(&mut net, a, ALICE, b, BOB);
    for digit in ['1', '#', 'a', '*'] {
        net.cmd(a, |ua, now| ua.send_info_dtmf(now, ac, digit, 160))
            .unwrap();
    }
    assert_eq!(
        dtmf_events(&net, b, bc),
        vec![
            ('1', Some(160)),
            ('#', Some(160)),
            ('A', Some(160)),
            ('*', Some(160))
        ]
    );
    let info = net.sent(|w| w.is_method(&Method::Info))[0]
        .request()
        .unwrap()
        .clone();
    assert_eq!(
        info.headers.get("Content-Type"),
        Some("application/dtmf-relay")
    );
    assert_eq!(info.body, b"Signal=1\r\nDuration=160\r\n");
    assert_eq!(net.sent(|w| w.is_response(200, &Method::Info)).len(), 4);
}

#[test]
fn one_info_at_a_time_and_refusals_reported() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    let call = pc.call;
    for digit in ['4', '5', '6'] {
        pc.net
            .cmd(pc.ua, |ua, now| ua.send_info_dtmf(now, call, digit, 100))
            .unwrap();
    }
    let first = pc.transactions(&Method::Info);
    assert_eq!(first.len(), 1, "the others wait");
    pc.reply(&first[0], 415, &[], "", b"");
    let failed: Vec<(char, u16)> = pc
        .net
        .events(pc.ua)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::DtmfFailed { digit, code, .. } => Some((digit, code)),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![('4', 415)]);
    let infos = pc.transactions(&Method::Info);
    assert_eq!(infos.len(), 2);
    assert_eq!(infos[1].body, b"Signal=5\r\nDuration=100\r\n");
    pc.reply(&infos[1], 200, &[], "", b"");
    let infos = pc.transactions(&Method::Info);
    assert_eq!(infos.len(), 3);
    assert!(infos[2].cseq().unwrap().seq > infos[1].cseq().unwrap().seq);
}

#[test]
fn bad_digits_and_calls_not_up_are_refused() {
    let mut net = Net::new();
    let a = net.add_ua(ALICE, 1);
    net.add_ua(BOB, 2);
    let cfg = invite_config(ALICE, BOB, Some("v=0 alice"));
    let ac = net.cmd(a, |ua, now| ua.invite(now, cfg));
    let ringing = net.cmd(a, |ua, now| ua.send_info_dtmf(now, ac, '1', 100));
    assert!(matches!(ringing, Err(UaError::WrongState { .. })));
    let bad = net.cmd(a, |ua, now| ua.send_info_dtmf(now, ac, 'x', 100));
    assert_eq!(bad, Err(UaError::InvalidDigit('X')));
}

#[test]
fn received_info_bodies() {
    let mut pc = PeerCall::establish(ALICE, PEER, "");
    pc.send(
        "INFO",
        2,
        "",
        "application/dtmf-relay",
        b"Signal=9\r\nDuration=250\r\n",
    );
    pc.send("INFO", 3, "", "application/dtmf", b"11");
    pc.send("INFO", 4, "", "", b"");
    let statuses: Vec<u16> = pc
        .responses(&Method::Info)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 200]);
    assert_eq!(
        dtmf_events(&pc.net, pc.ua, pc.call),
        vec![('9', Some(250)), ('#', None)]
    );
    pc.send("INFO", 5, "", "text/plain", b"hello");
    let unsupported = pc.last_response(&Method::Info, 415).expect("415");
    let accept = unsupported.headers.get("Accept").unwrap();
    assert!(accept.contains("application/dtmf-relay") && accept.contains("application/dtmf"));
    assert!(!accept.contains("text/plain"));
    pc.send("INFO", 6, "", "application/dtmf-relay", b"Signal=Z\r\n");
    assert!(pc.last_response(&Method::Info, 400).is_some());
    assert_eq!(dtmf_events(&pc.net, pc.ua, pc.call).len(), 2);
}
