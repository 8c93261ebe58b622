//! Sans-IO logic of Dialtone's built-in relay: registrar, proxy and media relay.
#![deny(missing_docs)]

pub mod users;

pub use users::{User, Users, UsersError, DEFAULT_REALM};
