//! Caller-seeded randomness (shared with the SIP crates): see the `dialtone-rand` crate.

use dialtone_rand as seeded;

pub use seeded::{Random, Xorshift};
