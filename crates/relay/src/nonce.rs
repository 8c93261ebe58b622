//! Server nonces for digest challenges (RFC 7616 §3.3 `nonce`, §5.4 replay; RFC 3261 §22.4).
//!
//! A nonce is `hex(issued-seconds ‖ salt ‖ HMAC(key, issued-seconds ‖ salt)[..16])`: the relay
//! recognises its own nonces and their age without remembering them, so an unauthenticated
//! flood of challenges costs no memory. Nonce counts (`nc`) are remembered only for nonces that
//! carried valid credentials, in a table bounded by [`MAX_TRACKED`]; every `nc` is accepted at
//! most once (a 64-wide window below the highest seen, as replay windows do). When the table
//! must evict an entry, every nonce issued up to that entry's time becomes stale, so an evicted
//! nonce can never be replayed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dialtone_sip::random::Random;

use crate::hmac::Key;
use crate::users::hex;

/// Nonces with remembered nonce counts, at most.
pub(crate) const MAX_TRACKED: usize = 4096;

/// How a nonce presented by a client checks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// Ours and young enough; issued at this many seconds after the epoch.
    Fresh(u64),
    /// Ours but too old (or older than the eviction floor): answer `stale=true`.
    Expired,
    /// Not ours (wrong MAC, wrong shape, from the future, or from before a restart).
    Unknown,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    issued: u64,
    highest: u32,
    /// Bit `i` set: `highest - i` was seen.
    seen: u64,
}

impl Window {
    /// Records `nc`; false if it was seen before or is too far below the highest.
    fn accept(&mut self, nc: u32) -> bool {
        if nc > self.highest {
            let shift = nc - self.highest;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.highest = nc;
            return true;
        }
        let back = self.highest - nc;
        if back >= 64 || self.seen & (1 << back) != 0 {
            return false;
        }
        self.seen |= 1 << back;
        true
    }
}

/// Issues and checks nonces; remembers nonce counts.
#[derive(Debug)]
pub(crate) struct Nonces {
    key: Key,
    epoch: Instant,
    lifetime: Duration,
    /// Nonces issued at or before this second are stale (raised by evictions).
    floor: Option<u64>,
    counts: HashMap<String, Window>,
}

impl Nonces {
    pub(crate) fn new(key: Key, epoch: Instant, lifetime: Duration) -> Nonces {
        Nonces {
            key,
            epoch,
            lifetime,
            floor: None,
            counts: HashMap::new(),
        }
    }

    fn seconds(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    fn mac(&self, issued: u64, salt: u64) -> [u8; 32] {
        self.key.mac(&[&issued.to_be_bytes(), &salt.to_be_bytes()])
    }

    /// A new nonce (64 hex digits).
    pub(crate) fn issue(&mut self, now: Instant, rng: &mut dyn Random) -> String {
        let issued = self.seconds(now);
        let salt = rng.next_u64();
        let mac = self.mac(issued, salt);
        let mut raw = Vec::with_capacity(32);
        raw.extend_from_slice(&issued.to_be_bytes());
        raw.extend_from_slice(&salt.to_be_bytes());
        raw.extend_from_slice(&mac[..16]);
        hex(&raw)
    }

    /// Whether `nonce` is one of ours and still fresh at `now`.
    pub(crate) fn check(&self, nonce: &str, now: Instant) -> NonceCheck {
        let Some(raw) = unhex(nonce).filter(|raw| raw.len() == 32) else {
            return NonceCheck::Unknown;
        };
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&raw[i..i + 8]);
            u64::from_be_bytes(bytes)
        };
        let (issued, salt) = (word(0), word(8));
        let expected = self.mac(issued, salt);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..16], &raw[16..])) {
            return NonceCheck::Unknown;
        }
        let now = self.seconds(now);
        if issued > now {
            return NonceCheck::Unknown;
        }
        if now - issued > self.lifetime.as_secs() || self.floor.is_some_and(|f| issued <= f) {
            return NonceCheck::Expired;
        }
        NonceCheck::Fresh(issued)
    }

    /// Records nonce count `nc` for a fresh nonce that carried valid credentials; false if
    /// this count was already used (a replay).
    pub(crate) fn accept_count(&mut self, nonce: &str, issued: u64, nc: u32, now: Instant) -> bool {
        if let Some(window) = self.counts.get_mut(nonce) {
            return window.accept(nc);
        }
        if self.counts.len() >= MAX_TRACKED {
            self.prune(now);
        }
        if self.counts.len() >= MAX_TRACKED {
            self.evict_oldest();
        }
        let mut window = Window {
            issued,
            highest: 0,
            seen: 0,
        };
        let fresh = window.accept(nc);
        self.counts.insert(nonce.to_owned(), window);
        fresh
    }

    /// Forgets the counts of nonces that have expired.
    pub(crate) fn prune(&mut self, now: Instant) {
        let now = self.seconds(now);
        let lifetime = self.lifetime.as_secs();
        self.counts
            .retain(|_, w| now.saturating_sub(w.issued) <= lifetime);
    }

    fn evict_oldest(&mut self) {
        let Some((nonce, issued)) = self
            .counts
            .iter()
            .min_by_key(|(_, w)| w.issued)
            .map(|(n, w)| (n.clone(), w.issued))
        else {
            return;
        };
        self.counts.remove(&nonce);
        self.floor = Some(self.floor.map_or(issued, |f| f.max(issued)));
    }

    /// How many nonces have remembered counts.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.counts.len()
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| char::from(b).to_digit(16);
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_sip::random::Xorshift;

    fn nonces(start: Instant) -> Nonces {
        Nonces::new(
            Key::from_words([1, 2, 3, 4]),
            start,
            Duration::from_secs(300),
        )
    }

    #[test]
    fn issued_nonces_check_fresh_then_expire() {
        let start = Instant::now();
        let mut n = nonces(start);
        let mut rng = Xorshift::new(9);
        let nonce = n.issue(start, &mut rng);
        assert_eq!(nonce.len(), 64);
        assert_eq!(n.check(&nonce, start), NonceCheck::Fresh(0));
        let later = start + Duration::from_secs(301);
        assert_eq!(n.check(&nonce, later), NonceCheck::Expired);
    }

    #[test]
    fn tampered_or_foreign_nonces_are_unknown() {
        let start = Instant::now();
        let mut n = nonces(start);
        let nonce = n.issue(start, &mut Xorshift::new(1));
        let mut tampered = nonce.clone().into_bytes();
        tampered[63] = if tampered[63] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(n.check(&tampered, start), NonceCheck::Unknown);
        assert_eq!(n.check("abc", start), NonceCheck::Unknown);
        assert_eq!(n.check("zz", start), NonceCheck::Unknown);
        let other = Nonces::new(
            Key::from_words([9, 9, 9, 9]),
            start,
            Duration::from_secs(300),
        );
        assert_eq!(other.check(&nonce, start), NonceCheck::Unknown);
    }

    #[test]
    fn each_nonce_count_is_accepted_once() {
        let start = Instant::now();
        let mut n = nonces(start);
        let nonce = n.issue(start, &mut Xorshift::new(1));
        assert!(n.accept_count(&nonce, 0, 1, start));
        assert!(!n.accept_count(&nonce, 0, 1, start));
        assert!(n.accept_count(&nonce, 0, 3, start));
        assert!(n.accept_count(&nonce, 0, 2, start), "late but unseen");
        assert!(!n.accept_count(&nonce, 0, 2, start));
        assert!(n.accept_count(&nonce, 0, 200, start));
        assert!(
            !n.accept_count(&nonce, 0, 3, start),
            "too far below the window"
        );
    }

    #[test]
    fn eviction_makes_older_nonces_stale() {
        let start = Instant::now();
        let mut n = nonces(start);
        let mut rng = Xorshift::new(5);
        let first = n.issue(start, &mut rng);
        assert!(n.accept_count(&first, 0, 1, start));
        let t = start + Duration::from_secs(10);
        for i in 0..MAX_TRACKED {
            let nonce = format!("{i:064}");
            assert!(n.accept_count(&nonce, 10, 1, t));
        }
        assert_eq!(n.tracked(), MAX_TRACKED);
        // `first` was evicted; it must not come back with a fresh count window.
        assert_eq!(n.check(&first, t), NonceCheck::Expired);
    }
}
