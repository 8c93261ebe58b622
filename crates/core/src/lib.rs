//! Dialtone runtime.
#![deny(missing_docs)]
