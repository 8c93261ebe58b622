//! A simulated, seeded, lossy/jittery/reordering one-way link on virtual time.

use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_media::{Random, Xorshift};

/// What the link does to datagrams.
#[derive(Debug, Clone, Copy)]
pub struct LinkProfile {
    /// Probability that a datagram is dropped.
    pub loss: f64,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Extra delay, uniform in [0, jitter].
    pub jitter: Duration,
    /// Probability that a datagram is held back by an extra `reorder_delay` (so later
    /// ones overtake it).
    pub reorder: f64,
    /// How long a reordered datagram is held back.
    pub reorder_delay: Duration,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
}

impl LinkProfile {
    /// A perfect link with a fixed delay.
    pub fn clean(delay: Duration) -> LinkProfile {
        LinkProfile {
            loss: 0.0,
            delay,
            jitter: Duration::ZERO,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            duplicate: 0.0,
        }
    }
}

/// A datagram on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub at: Instant,
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
    order: u64,
}

impl Ord for Datagram {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Earliest first out of the max-heap.
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

impl PartialOrd for Datagram {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The link.
pub struct SimLink {
    profile: LinkProfile,
    rng: Xorshift,
    in_flight: BinaryHeap<Datagram>,
    order: u64,
    /// Datagrams dropped so far, in send order.
    pub dropped: Vec<Vec<u8>>,
    /// Datagrams sent into the link.
    pub sent: u64,
}

impl SimLink {
    pub fn new(seed: u64, profile: LinkProfile) -> SimLink {
        SimLink {
            profile,
            rng: Xorshift::new(seed),
            in_flight: BinaryHeap::new(),
            order: 0,
            dropped: Vec::new(),
            sent: 0,
        }
    }

    pub fn set_profile(&mut self, profile: LinkProfile) {
        self.profile = profile;
    }

    /// Puts a datagram on the link at `now`.
    pub fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, bytes: Vec<u8>) {
        self.sent += 1;
        if self.rng.next_f64() < self.profile.loss {
            self.dropped.push(bytes);
            return;
        }
        let copies = if self.rng.next_f64() < self.profile.duplicate {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = self.profile.delay + self.profile.jitter.mul_f64(self.rng.next_f64());
            if self.rng.next_f64() < self.profile.reorder {
                delay += self.profile.reorder_delay;
            }
            self.order += 1;
            self.in_flight.push(Datagram {
                at: now + delay,
                from,
                to,
                bytes: bytes.clone(),
                order: self.order,
            });
        }
    }

    /// Everything due by `now`, in arrival order.
    pub fn deliver(&mut self, now: Instant) -> Vec<Datagram> {
        let mut out = Vec::new();
        while self.in_flight.peek().is_some_and(|d| d.at <= now) {
            if let Some(d) = self.in_flight.pop() {
                out.push(d);
            }
        }
        out
    }

    /// When the next datagram arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.peek().map(|d| d.at)
    }
}
