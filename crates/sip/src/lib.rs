//! Sans-IO SIP protocol machines.
#![deny(missing_docs)]

pub mod auth;
pub mod dialog;
pub mod pidf;
pub mod random;
pub mod timer;
pub mod transaction;
pub mod transport;
pub mod ua;
pub mod validate;
