//! The per-transaction deadline table (timer.rs): earliest deadline first, one per timer.

use std::time::{Duration, Instant};

use dialtone_sip::timer::{Timer, TimerTable};

#[test]
fn table_pops_expired_timers_earliest_first() {
    let base = Instant::now();
    let mut table = TimerTable::new();
    table.set(Timer::B, base + Duration::from_secs(32));
    table.set(Timer::A, base + Duration::from_millis(500));
    assert_eq!(
        table.poll_timeout(),
        Some(base + Duration::from_millis(500))
    );
    assert_eq!(table.pop_expired(base), None);
    let late = base + Duration::from_secs(40);
    assert_eq!(table.pop_expired(late), Some(Timer::A));
    assert_eq!(table.pop_expired(late), Some(Timer::B));
    assert_eq!(table.pop_expired(late), None);
    assert_eq!(table.poll_timeout(), None);
}

#[test]
fn setting_a_timer_again_replaces_its_deadline() {
    let base = Instant::now();
    let mut table = TimerTable::new();
    table.set(Timer::E, base + Duration::from_secs(1));
    table.set(Timer::E, base + Duration::from_secs(3));
    assert_eq!(
        table.deadline(Timer::E),
        Some(base + Duration::from_secs(3))
    );
    assert_eq!(table.pop_expired(base + Duration::from_secs(2)), None);
    table.cancel(Timer::E);
    assert_eq!(table.poll_timeout(), None);
}
