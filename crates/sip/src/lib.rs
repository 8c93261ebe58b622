//! Sans-IO SIP protocol machines.
#![deny(missing_docs)]

pub mod auth;
pub mod dialog;
pub mod validate;
