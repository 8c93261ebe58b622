//! Dialtone runtime: drives the sans-IO SIP machines with tokio and exposes a [`Phone`] handle.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dialtone_core::PhoneError> {
//! use dialtone_core::{AccountForm, DriverOptions, Phone};
//! let phone = Phone::start(DriverOptions::default());
//! let mut events = phone.subscribe();
//! phone.connect(AccountForm { login: "alice".into(), server_url: "127.0.0.1".into(), ..Default::default() }).await?;
//! while let Ok(event) = events.recv().await {
//!     println!("{}", serde_json::to_string(&event).unwrap_or_default());
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod account;
pub mod alerts;
pub mod audio;
pub mod dial_link;
mod driver;
pub mod error;
pub mod event;
pub mod history;
pub mod history_recorder;
pub mod keyring;
mod media;
mod phone;
pub mod profile;
pub mod relay;
pub mod secret;
pub mod tls;
pub mod transport;
pub mod webrtc;

pub use account::{AccountForm, FieldError, Transport};
pub use driver::DriverOptions;
pub use error::PhoneError;
pub use event::{
    CallState, DeviceChange, Direction, DtmfMethod, Flow, Held, PhoneEvent, PresenceBasic,
    PresenceStatus, PublicationState, RegistrationState, SubscriptionState, TransferRole,
};
pub use phone::Phone;
pub use secret::Secret;
