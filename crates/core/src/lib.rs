//! Dialtone runtime.
#![deny(missing_docs)]

pub mod tls;
pub mod transport;
