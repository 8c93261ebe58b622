//! Caller-seeded randomness shared by Dialtone's sans-IO protocol machines: SIP branches, tags,
//! Call-IDs and cnonces (RFC 3261 §8.1.1.7, §19.3), RTP SSRCs, initial sequence numbers and
//! timestamps (RFC 3550 §5.1, §8), the RTCP interval's random factor (§6.3.1), relay nonces.
//!
//! Protocol crates never read a global RNG: the caller hands in a [`Random`] source. The
//! runtime seeds an [`Xorshift`] from OS entropy; tests seed it with a constant and get the
//! same run every time. Branches, tags and SSRCs must be hard to guess: seed accordingly.
#![deny(missing_docs)]

/// A source of random 64-bit words.
pub trait Random {
    /// The next random word.
    fn next_u64(&mut self) -> u64;

    /// A uniformly distributed value in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        // 53 random bits: exactly representable, strictly below 1.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A random 32-bit word.
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

impl<R: Random + ?Sized> Random for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

impl<R: Random + ?Sized> Random for Box<R> {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// A small, fast, seeded pseudo-random generator (xorshift64*). Not cryptographically
/// strong; its quality comes from the seed.
#[derive(Debug, Clone)]
pub struct Xorshift {
    state: u64,
}

impl Xorshift {
    /// Used in place of a zero seed, which would make xorshift emit zeros forever.
    const ZERO_SEED_REPLACEMENT: u64 = 0x9E37_79B9_7F4A_7C15;

    /// A generator starting from `seed` (zero is replaced by a fixed non-zero constant).
    pub fn new(seed: u64) -> Xorshift {
        let state = if seed == 0 {
            Self::ZERO_SEED_REPLACEMENT
        } else {
            seed
        };
        Xorshift { state }
    }
}

impl Random for Xorshift {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Xorshift::new(42);
        let mut b = Xorshift::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn zero_seed_does_not_stick_at_zero() {
        let mut rng = Xorshift::new(0);
        assert_ne!(rng.next_u64(), 0);
        assert_ne!(rng.next_u64(), rng.next_u64());
    }

    #[test]
    fn different_seeds_differ() {
        assert_ne!(Xorshift::new(1).next_u64(), Xorshift::new(2).next_u64());
    }

    #[test]
    fn unit_interval_stays_in_range_and_spreads() {
        let mut rng = Xorshift::new(7);
        let values: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn zero_seed_still_varies() {
        let mut rng = Xorshift::new(0);
        assert_ne!(rng.next_u64(), rng.next_u64());
    }
}
