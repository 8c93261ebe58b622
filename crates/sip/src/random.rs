//! Caller-seeded randomness for branches, tags and Call-IDs.
//!
//! Protocol machines never reach for a global RNG: whoever drives them hands in a [`Random`]
//! source. The runtime seeds a [`Xorshift`] from OS entropy; tests seed it with a constant and
//! get the same branches every run. RFC 3261 §8.1.1.7 and §19.3 require branches and tags to be
//! unique and hard to guess; seed accordingly.

/// A source of random 64-bit words.
pub trait Random {
    /// The next random word.
    fn next_u64(&mut self) -> u64;
}

impl<R: Random + ?Sized> Random for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// A small, fast, seeded pseudo-random generator (xorshift64*).
///
/// Not cryptographically strong; its quality comes from the seed.
#[derive(Debug, Clone)]
pub struct Xorshift {
    state: u64,
}

impl Xorshift {
    /// Used in place of a zero seed, which would make xorshift emit zeros forever.
    const ZERO_SEED_REPLACEMENT: u64 = 0x9E37_79B9_7F4A_7C15;

    /// A generator starting from `seed`. A zero seed is replaced by a fixed non-zero constant.
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
}
