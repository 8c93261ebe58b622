//! Caller-seeded randomness for branches, tags and Call-IDs (shared with the media and relay
//! crates): see [`dialtone_rand`].

pub use dialtone_rand::{Random, Xorshift};
