//! The RTP inactivity timeout on real sockets: A is told when B's RTP stops (B keeps
//! sending RTCP, which does not count); never while A holds the call (it is not
//! receiving then), and again once A resumes; never when switched off.

mod audio_support;

use std::time::{Duration, Instant};

use audio_support::{call, drain, wait_for, Side};
use dialtone_core::audio::{AudioConfig, AudioEvent, SinkChoice, SourceChoice};
use dialtone_sdp::Direction;

const TIMEOUT: Duration = Duration::from_millis(1000);
const CODECS: &str = "ulaw, telephone-event";

fn config(timeout: Option<Duration>) -> AudioConfig {
    AudioConfig {
        source: SourceChoice::Tone(700.0),
        sink: SinkChoice::Null,
        inactivity_timeout: timeout,
        ..AudioConfig::default()
    }
}

/// B stops sending RTP without telling A (as if only B had applied a `recvonly`
/// re-INVITE); its RTCP goes on.
async fn far_end_stops(b: &Side) {
    let mut silent = b.media.clone();
    silent.direction = Direction::RecvOnly;
    b.audio.update(&silent).await.unwrap();
}

fn inactive(e: &AudioEvent) -> Option<u64> {
    match e {
        AudioEvent::Inactive { silent_for_ms } => Some(*silent_for_ms),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_from_the_far_end_is_reported_once_after_the_timeout() {
    let (mut a, mut b) = call(
        CODECS,
        CODECS,
        false,
        config(Some(TIMEOUT)),
        config(Some(TIMEOUT)),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (early, _) = wait_for(&mut a.events, Duration::ZERO, inactive).await;
    assert_eq!(early, None, "no timeout while B talks");

    far_end_stops(&b).await;
    let stopped = Instant::now();
    let (silent_for, seen) = wait_for(&mut a.events, Duration::from_secs(4), inactive).await;
    let after = stopped.elapsed();
    let silent_for = silent_for.unwrap_or_else(|| panic!("no Inactive event: {seen:?}"));
    // B's last packet left up to a frame before `update` returned.
    assert!(
        (TIMEOUT - Duration::from_millis(60)..TIMEOUT + Duration::from_millis(700))
            .contains(&after),
        "reported {after:?} after B stopped"
    );
    assert!((1000..1700).contains(&silent_for), "{silent_for} ms");
    // Once only, and B (still hearing A) has nothing to report.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let a_later = drain(&mut a.events);
    assert!(
        !a_later.iter().any(|e| inactive(e).is_some()),
        "{a_later:?}"
    );
    let b_events = drain(&mut b.events);
    assert!(
        !b_events.iter().any(|e| inactive(e).is_some()),
        "{b_events:?}"
    );
    // RTCP kept flowing from B: A got its receiver reports (RTT measured).
    let a_stats = a.audio.close().await.unwrap().unwrap();
    assert!(
        a_stats.rtt_ms.is_some() || a_stats.remote_packets_lost.is_some(),
        "{a_stats:?}"
    );
    b.audio.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_timeout_while_on_hold_and_again_after_resuming() {
    let (mut a, b) = call(
        CODECS,
        CODECS,
        true,
        config(Some(TIMEOUT)),
        config(Some(TIMEOUT)),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.audio.hold().unwrap();
    far_end_stops(&b).await;
    let (during_hold, seen) = wait_for(&mut a.events, TIMEOUT * 3, inactive).await;
    assert_eq!(during_hold, None, "timed out while holding: {seen:?}");

    a.audio.resume().unwrap();
    let resumed = Instant::now();
    let (after_resume, seen) = wait_for(&mut a.events, Duration::from_secs(4), inactive).await;
    assert!(
        after_resume.is_some(),
        "no Inactive after resuming: {seen:?}"
    );
    let waited = resumed.elapsed();
    assert!(
        waited >= TIMEOUT - Duration::from_millis(50),
        "the timer restarts on resume, it fired after {waited:?}"
    );
    a.audio.close().await.unwrap();
    b.audio.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switched_off_timeout_never_fires() {
    let (mut a, b) = call(CODECS, CODECS, true, config(None), config(Some(TIMEOUT))).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    far_end_stops(&b).await;
    let (fired, seen) = wait_for(&mut a.events, TIMEOUT * 3, inactive).await;
    assert_eq!(fired, None, "{seen:?}");

    // Switched on mid-call (a listen-only call turned normal): it counts from now.
    a.audio.set_inactivity_timeout(Some(TIMEOUT)).unwrap();
    let (fired, seen) = wait_for(&mut a.events, Duration::from_secs(4), inactive).await;
    assert!(fired.is_some(), "{seen:?}");
    a.audio.close().await.unwrap();
    b.audio.close().await.unwrap();
}
