//! SIP timers: the values of RFC 3261 Table 4 (§A), RFC 6026 (Timers L and M), and a
//! per-transaction deadline table.
//!
//! Time is always an [`Instant`] handed in by the caller; nothing here reads the clock. A machine
//! keeps a [`TimerTable`]; the driver asks [`TimerTable::poll_timeout`] for the earliest deadline
//! and feeds expired timers back with [`TimerTable::pop_expired`].

use std::time::{Duration, Instant};

/// The base timer values of RFC 3261 §17.1.1.1 and Table 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip time estimate (RFC 3261 §17.1.1.1). Default 500 ms.
    pub t1: Duration,
    /// T2, the maximum retransmit interval for non-INVITE requests and INVITE responses.
    /// Default 4 s.
    pub t2: Duration,
    /// T4, the maximum time a message stays in the network. Default 5 s.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> TimerConfig {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// How long a server INVITE transaction waits for the TU's first response before answering
/// 100 (Trying) itself (RFC 3261 §17.2.1).
pub const TRYING_DELAY: Duration = Duration::from_millis(200);

/// The lower bound on Timer D over unreliable transports (RFC 3261 §17.1.1.2, Table 4).
pub const TIMER_D_MIN: Duration = Duration::from_secs(32);

impl TimerConfig {
    /// 64·T1: the transaction timeout behind Timers B, F, H, L, M and (unreliable) J.
    pub fn transaction_timeout(&self) -> Duration {
        self.t1 * 64
    }

    /// The next interval of a retransmission timer capped at T2 (Timers E and G): doubles the
    /// previous interval, never past T2 (RFC 3261 §17.1.2.2, §17.2.1).
    pub fn capped_backoff(&self, previous: Duration) -> Duration {
        (previous * 2).min(self.t2)
    }

    /// The first duration of `timer` on a transport of the given reliability, or `None` when
    /// the timer is not set at all (retransmission timers on reliable transports).
    ///
    /// Zero durations (D, I, J, K on reliable transports) mean "fire at once".
    pub fn initial(&self, timer: Timer, reliable: bool) -> Option<Duration> {
        let unreliable_only = |d: Duration| if reliable { None } else { Some(d) };
        let zero_if_reliable = |d: Duration| Some(if reliable { Duration::ZERO } else { d });
        match timer {
            Timer::A | Timer::E | Timer::G => unreliable_only(self.t1),
            Timer::B | Timer::F | Timer::H | Timer::L | Timer::M => {
                Some(self.transaction_timeout())
            }
            Timer::D => zero_if_reliable(self.transaction_timeout().max(TIMER_D_MIN)),
            Timer::I | Timer::K => zero_if_reliable(self.t4),
            Timer::J => zero_if_reliable(self.transaction_timeout()),
            Timer::Trying => Some(TRYING_DELAY),
        }
    }
}

/// The transaction timers, named as in RFC 3261 figures 5–8 and RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// INVITE request retransmit interval, unreliable transports only: T1, doubling
    /// (RFC 3261 §17.1.1.2).
    A,
    /// INVITE transaction timeout, 64·T1 (RFC 3261 §17.1.1.2).
    B,
    /// Wait time for response retransmissions in the client INVITE Completed state: at least
    /// 32 s unreliable, zero reliable (RFC 3261 §17.1.1.2).
    D,
    /// Non-INVITE request retransmit interval, unreliable only: T1 doubling up to T2, then T2 in
    /// Proceeding (RFC 3261 §17.1.2.2).
    E,
    /// Non-INVITE transaction timeout, 64·T1 (RFC 3261 §17.1.2.2).
    F,
    /// INVITE final (non-2xx) response retransmit interval, unreliable only: T1 doubling up to
    /// T2 (RFC 3261 §17.2.1).
    G,
    /// Wait time for ACK receipt, 64·T1 (RFC 3261 §17.2.1).
    H,
    /// Wait time for ACK retransmissions in the server Confirmed state: T4 unreliable, zero
    /// reliable (RFC 3261 §17.2.1).
    I,
    /// Wait time for non-INVITE request retransmissions: 64·T1 unreliable, zero reliable
    /// (RFC 3261 §17.2.2).
    J,
    /// Wait time for non-INVITE response retransmissions: T4 unreliable, zero reliable
    /// (RFC 3261 §17.1.2.2).
    K,
    /// Wait time in the server INVITE Accepted state for retransmitted INVITEs and ACKs,
    /// 64·T1 (RFC 6026, server Accepted state).
    L,
    /// Wait time in the client INVITE Accepted state for retransmitted or forked 2xx,
    /// 64·T1 (RFC 6026, client Accepted state).
    M,
    /// 200 ms after an INVITE arrives the server transaction sends 100 (Trying) unless the TU
    /// has responded (RFC 3261 §17.2.1).
    Trying,
}

impl Timer {
    /// Every timer, in table order.
    pub const ALL: [Timer; 13] = [
        Timer::A,
        Timer::B,
        Timer::D,
        Timer::E,
        Timer::F,
        Timer::G,
        Timer::H,
        Timer::I,
        Timer::J,
        Timer::K,
        Timer::L,
        Timer::M,
        Timer::Trying,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Deadlines of the timers one transaction has running; at most one deadline per timer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerTable {
    deadlines: [Option<Instant>; Timer::ALL.len()],
}

impl TimerTable {
    /// An empty table.
    pub fn new() -> TimerTable {
        TimerTable::default()
    }

    /// Sets `timer` to fire at `deadline`, replacing any earlier setting.
    pub fn set(&mut self, timer: Timer, deadline: Instant) {
        self.deadlines[timer.index()] = Some(deadline);
    }

    /// Stops `timer`.
    pub fn cancel(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    /// Stops every timer.
    pub fn cancel_all(&mut self) {
        self.deadlines = Default::default();
    }

    /// When `timer` fires, if it is running.
    pub fn deadline(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    /// The earliest deadline of all running timers.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Removes and returns the timer with the earliest deadline at or before `now` (ties go to
    /// table order), or `None` when nothing has expired.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let (timer, _) = Timer::ALL
            .iter()
            .filter_map(|&timer| self.deadline(timer).map(|at| (timer, at)))
            .filter(|&(_, at)| at <= now)
            .min_by_key(|&(timer, at)| (at, timer))?;
        self.cancel(timer);
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_rfc_values() {
        let c = TimerConfig::default();
        assert_eq!(c.t1, Duration::from_millis(500));
        assert_eq!(c.t2, Duration::from_secs(4));
        assert_eq!(c.t4, Duration::from_secs(5));
        assert_eq!(c.transaction_timeout(), Duration::from_secs(32));
    }

    #[test]
    fn reliable_transports_skip_retransmits_and_zero_waits() {
        let c = TimerConfig::default();
        for t in [Timer::A, Timer::E, Timer::G] {
            assert_eq!(c.initial(t, true), None);
            assert_eq!(c.initial(t, false), Some(c.t1));
        }
        for t in [Timer::D, Timer::I, Timer::J, Timer::K] {
            assert_eq!(c.initial(t, true), Some(Duration::ZERO));
            assert!(c.initial(t, false).is_some_and(|d| d > Duration::ZERO));
        }
        assert_eq!(c.initial(Timer::D, false), Some(Duration::from_secs(32)));
    }

    #[test]
    fn backoff_caps_at_t2() {
        let c = TimerConfig::default();
        assert_eq!(
            c.capped_backoff(Duration::from_secs(1)),
            Duration::from_secs(2)
        );
        assert_eq!(
            c.capped_backoff(Duration::from_secs(2)),
            Duration::from_secs(4)
        );
        assert_eq!(
            c.capped_backoff(Duration::from_secs(4)),
            Duration::from_secs(4)
        );
    }
}
