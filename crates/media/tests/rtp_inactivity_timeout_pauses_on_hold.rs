//! The RTP inactivity timeout: 30 s by default, not while on hold, and switchable off
//! for listen-only calls.

mod support;

use std::time::{Duration, Instant};

use dialtone_media::{Output, RtpEvent, RtpSession, RtpSessionConfig, Xorshift};
use dialtone_sdp::Direction;
use support::session_pair::addr;

fn run(s: &mut RtpSession, from: Instant, until: Instant) -> Vec<(Duration, Duration)> {
    let mut fired = Vec::new();
    let mut now = from;
    while let Some(t) = s.poll_timeout() {
        if t > until {
            break;
        }
        now = now.max(t);
        s.handle_timeout(now);
        while let Some(out) = s.poll_output() {
            if let Output::Event(RtpEvent::Inactive { silent_for }) = out {
                fired.push((now - from, silent_for));
            }
        }
    }
    fired
}

#[test]
fn fires_once_after_thirty_silent_seconds() {
    let start = Instant::now();
    let mut s = RtpSession::new(
        start,
        RtpSessionConfig::new(8000, addr("192.0.2.9:7000")),
        &mut Xorshift::new(1),
    );
    let fired = run(&mut s, start, start + Duration::from_secs(100));
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].0, Duration::from_secs(30));
    assert_eq!(fired[0].1, Duration::from_secs(30));
}

#[test]
fn hold_pauses_the_timer_and_resume_restarts_it() {
    let start = Instant::now();
    let mut s = RtpSession::new(
        start,
        RtpSessionConfig::new(8000, addr("192.0.2.9:7000")),
        &mut Xorshift::new(1),
    );
    // On hold from t = 10 s: the peer stops sending, no event however long.
    assert!(run(&mut s, start, start + Duration::from_secs(10)).is_empty());
    s.set_direction(start + Duration::from_secs(10), Direction::SendOnly);
    assert!(run(&mut s, start, start + Duration::from_secs(300)).is_empty());
    // Resumed at t = 300 s: silence counts from the resume.
    s.set_direction(start + Duration::from_secs(300), Direction::SendRecv);
    let fired = run(&mut s, start, start + Duration::from_secs(400));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].0, Duration::from_secs(330));
}

#[test]
fn can_be_switched_off_for_listen_only_calls() {
    let start = Instant::now();
    let mut config = RtpSessionConfig::new(8000, addr("192.0.2.9:7000"));
    config.inactivity_timeout = None;
    let mut s = RtpSession::new(start, config, &mut Xorshift::new(1));
    assert!(run(&mut s, start, start + Duration::from_secs(600)).is_empty());
}
