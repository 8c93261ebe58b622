//! Banning sources that keep failing authentication (the relay's answer to password guessing;
//! fail2ban's rule, kept inside the relay so it needs no log parsing).
//!
//! A source that fails [`BanPolicy::max_failures`] times within [`BanPolicy::window`] is
//! banned for [`BanPolicy::ban`]. A source is an IPv4 address or an IPv6 /64 (one host
//! commonly owns a whole /64). Memory is bounded: at most [`BanPolicy::max_tracked`] sources
//! are tracked, the stalest forgotten first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// When a source gets banned, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BanPolicy {
    /// Failures that trigger a ban. Default 10.
    pub max_failures: usize,
    /// Within this window. Default 60 s.
    pub window: Duration,
    /// Length of the ban. Default 10 minutes.
    pub ban: Duration,
    /// Sources tracked at most (failures and bans each). Default 10 000.
    pub max_tracked: usize,
}

impl Default for BanPolicy {
    fn default() -> BanPolicy {
        BanPolicy {
            max_failures: 10,
            window: Duration::from_secs(60),
            ban: Duration::from_secs(600),
            max_tracked: 10_000,
        }
    }
}

/// Failure counts and active bans.
#[derive(Debug, Clone)]
pub(crate) struct BanList {
    policy: BanPolicy,
    failures: HashMap<IpAddr, VecDeque<Instant>>,
    banned: HashMap<IpAddr, Instant>,
}

/// The unit a ban applies to: the address itself for IPv4, its /64 for IPv6.
pub(crate) fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
    }
}

impl BanList {
    pub(crate) fn new(policy: BanPolicy) -> BanList {
        BanList {
            policy,
            failures: HashMap::new(),
            banned: HashMap::new(),
        }
    }

    /// Whether `ip` is banned at `now`.
    pub(crate) fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.banned
            .get(&source_of(ip))
            .is_some_and(|&until| now < until)
    }

    /// Records an authentication failure from `ip`; returns the end of the ban it triggers.
    pub(crate) fn record_failure(&mut self, ip: IpAddr, now: Instant) -> Option<Instant> {
        let source = source_of(ip);
        if !self.failures.contains_key(&source) && self.failures.len() >= self.policy.max_tracked {
            self.prune(now);
            if self.failures.len() >= self.policy.max_tracked {
                let stalest = self
                    .failures
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(ip, _)| *ip);
                if let Some(ip) = stalest {
                    self.failures.remove(&ip);
                }
            }
        }
        let window = self.policy.window;
        let times = self.failures.entry(source).or_default();
        while times
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= window)
        {
            times.pop_front();
        }
        times.push_back(now);
        if times.len() < self.policy.max_failures.max(1) {
            return None;
        }
        self.failures.remove(&source);
        if self.banned.len() >= self.policy.max_tracked {
            self.banned.retain(|_, &mut until| now < until);
        }
        let until = now + self.policy.ban;
        if self.banned.len() < self.policy.max_tracked {
            self.banned.insert(source, until);
        }
        Some(until)
    }

    /// Forgets failures older than the window and bans that ended.
    pub(crate) fn prune(&mut self, now: Instant) {
        let window = self.policy.window;
        self.failures.retain(|_, times| {
            times
                .back()
                .is_some_and(|&t| now.saturating_duration_since(t) < window)
        });
        self.banned.retain(|_, &mut until| now < until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn failures_spread_beyond_the_window_never_ban() {
        let start = Instant::now();
        let mut bans = BanList::new(BanPolicy::default());
        for i in 0..30 {
            let at = start + Duration::from_secs(7 * i);
            assert_eq!(bans.record_failure(ip("10.0.0.1"), at), None, "failure {i}");
        }
    }

    #[test]
    fn ipv6_hosts_are_banned_by_their_64() {
        let start = Instant::now();
        let mut bans = BanList::new(BanPolicy {
            max_failures: 2,
            ..BanPolicy::default()
        });
        bans.record_failure(ip("2001:db8::1"), start);
        assert!(bans.record_failure(ip("2001:db8::2"), start).is_some());
        assert!(bans.is_banned(ip("2001:db8::ffff"), start));
        assert!(!bans.is_banned(ip("2001:db8:0:1::1"), start));
    }

    #[test]
    fn tracking_is_bounded() {
        let start = Instant::now();
        let mut bans = BanList::new(BanPolicy {
            max_tracked: 3,
            ..BanPolicy::default()
        });
        for i in 0..10u8 {
            bans.record_failure(IpAddr::from([10, 0, 0, i]), start);
        }
        assert!(bans.failures.len() <= 3);
    }
}
