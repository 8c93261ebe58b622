//! Do-not-disturb on the `Phone` API against SIPp calling straight over UDP on loopback (no registration):
//! `set_do_not_disturb(Some(486))` refuses a call with 486 Busy Here before it rings here (the phone reports no RING,
//! only one `call` event, FINISH with code 486; SIPp gets 100 Trying and the final status, never a 180 Ringing);
//! `Some(480)` refuses with 480; a non-error status is refused as input; `None` lets the next call ring (SIPp gets
//! the 180), and declining it reports FINISH with 603 (the code we sent).

use dialtone_core::{
    AccountForm, CallState, Direction, DriverOptions, Phone, PhoneError, PhoneEvent,
};
use dialtone_testkit::{free_port, Scenario, Sipp, SippArgs, SippOutcome};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::broadcast;

const T: Duration = Duration::from_secs(20);

async fn next_event(
    events: &mut broadcast::Receiver<PhoneEvent>,
    what: &str,
    pred: impl Fn(&PhoneEvent) -> bool,
) -> PhoneEvent {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(e) if pred(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => {
                    panic!("the phone stopped before {what}")
                }
            }
        }
    };
    tokio::time::timeout(T, wait)
        .await
        .unwrap_or_else(|_| panic!("no {what} within {T:?}"))
}

/// SIPp calls alice at `phone`, expecting a refusal (603, 480 or 486); returns its outcome.
async fn call_expecting_refusal(phone: SocketAddr) -> Sipp {
    let mut args = SippArgs::new(free_port());
    args.remote = Some(phone);
    args.service = Some("alice".into());
    tokio::task::spawn_blocking(move || {
        Sipp::uac(Scenario::peer("uac_call_expect_refusal.xml"), args).expect("start sipp uac")
    })
    .await
    .expect("spawn sipp")
}

async fn finished(sipp: Sipp) -> SippOutcome {
    tokio::task::spawn_blocking(move || sipp.wait().expect("sipp finished"))
        .await
        .expect("join sipp")
}

fn call_state(e: &PhoneEvent) -> Option<(u64, CallState, Option<u16>)> {
    match e {
        PhoneEvent::Call {
            id,
            state,
            direction: Direction::Incoming,
            code,
            ..
        } => Some((*id, *state, *code)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_disturb_refuses_calls_before_they_ring() {
    let phone = Phone::start(DriverOptions {
        bind_ip: Some("127.0.0.1".parse().expect("ip")),
    });
    let mut events = phone.subscribe();
    phone
        .connect(AccountForm {
            login: "alice".into(),
            server_url: "127.0.0.1:9".into(),
            register_required: false,
            ..Default::default()
        })
        .await
        .expect("connect");
    let listening = next_event(&mut events, "listening", |e| {
        matches!(e, PhoneEvent::Listening { .. })
    })
    .await;
    let PhoneEvent::Listening { addr, .. } = listening else {
        unreachable!()
    };
    let addr: SocketAddr = addr.parse().expect("listening address");

    for code in [486u16, 480] {
        phone.set_do_not_disturb(Some(code)).await.expect("dnd on");
        let sipp = call_expecting_refusal(addr).await;
        let end = next_event(&mut events, "the refused call", |e| call_state(e).is_some()).await;
        let (_, state, got) = call_state(&end).expect("a call event");
        assert_eq!(
            (state, got),
            (CallState::Finish, Some(code)),
            "the first event of a refused call: {end:?}"
        );
        let outcome = finished(sipp).await;
        assert!(outcome.success(), "{outcome}");
        assert!(
            outcome.messages.contains(&format!("SIP/2.0 {code} ")),
            "{outcome}"
        );
        assert!(
            !outcome.messages.contains("SIP/2.0 200"),
            "a refused call must not be answered:\n{outcome}"
        );
        assert!(
            !outcome.messages.contains("SIP/2.0 180"),
            "do-not-disturb must not ring before refusing:\n{outcome}"
        );
    }

    let refused = phone.set_do_not_disturb(Some(200)).await;
    assert!(
        matches!(refused, Err(PhoneError::InvalidInput(_))),
        "{refused:?}"
    );

    phone.set_do_not_disturb(None).await.expect("dnd off");
    let sipp = call_expecting_refusal(addr).await;
    let ring = next_event(&mut events, "RING", |e| call_state(e).is_some()).await;
    let (id, state, _) = call_state(&ring).expect("a call event");
    assert_eq!(state, CallState::Ring, "{ring:?}");
    phone.decline(id).await.expect("decline");
    let end = next_event(&mut events, "the declined call's end", |e| {
        call_state(e).is_some_and(|(i, s, _)| i == id && s == CallState::Finish)
    })
    .await;
    assert_eq!(
        call_state(&end).and_then(|(_, _, c)| c),
        Some(603),
        "{end:?}"
    );
    let outcome = finished(sipp).await;
    assert!(outcome.success(), "{outcome}");
    assert!(outcome.messages.contains("SIP/2.0 603"), "{outcome}");
    assert!(
        outcome.messages.contains("SIP/2.0 180 Ringing"),
        "a call that rings here sends 180:\n{outcome}"
    );
    phone.disconnect().await.expect("disconnect");
}
