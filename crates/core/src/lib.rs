//! Dialtone runtime.
#![deny(missing_docs)]

pub mod tls;
