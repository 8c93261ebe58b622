//! Caller-seeded randomness (shared with the SIP crates): see [`dialtone_rand`].

pub use dialtone_rand::{Random, Xorshift};
