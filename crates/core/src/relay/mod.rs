//! The runtime of Dialtone's built-in relay (issue #6): the sans-IO `dialtone_relay::Relay`
//! (registrar with digest authentication, proxy, media relay) driven with tokio over the
//! core's [`crate::transport::Transports`] (UDP, TCP, TLS, WS, WSS; RFC 3261 §18, RFC 7118)
//! and one UDP socket per media port (RFC 3550 §11).
//!
//! * [`RelayServer::start`] checks and binds everything: SIP listeners (loopback only unless
//!   [`RelayOptions::expose`]), the TLS/WSS certificate (self-signed, generated on the first
//!   start into the state directory, see [`certificate`]), the media port pairs.
//! * [`RelayServer::run`] is the driver task: it `select!`s over transport events, media
//!   datagrams and `sleep_until` the relay's next timeout, drains every relay output after each
//!   input (the shape of the phone's driver), and hands a [`RelayReport`] per relay event to
//!   the caller until the shutdown future completes.
//! * [`cli`]: the `dialtone relay` command, printing the reports as JSON lines.
//! * The WebRTC bridge (issue #6): [`WebRtcBridgeSelector`] hands calls where a browser
//!   (`UDP/TLS/RTP/SAVPF` offer, or a `+sip.ice` binding, RFC 5768) meets a plain-RTP phone to
//!   the runtime's B2BUA (`b2bua.rs`, on `dialtone-relay`'s B2BUA seam), which answers one leg,
//!   calls the other and joins the media with [`crate::webrtc::MediaBridge`]. Reports:
//!   `bridge_call`, `bridge_established` (with `setup_ms`: INVITE to ICE/DTLS connected and the
//!   caller's 200), `bridge_failed`, `bridge_ended` (packet counters). `--no-webrtc-bridge` turns it off.
//! * The browser phone page (`page.rs`, `ui/phone-page/`): JsSIP registering over the WS listener,
//!   served with `--http IP:PORT` (or `--https`, with the relay's certificate, for a `wss` listener).
//!   Challenges sent over WebSocket flows carry only MD5 (browser SIP stacks do only MD5, and
//!   JsSIP keeps the last challenge header).
//!
//! * [`EmbeddedRelay`]: the relay the desktop app starts on its first run (demo accounts in a
//!   `users.toml` it writes, loopback listeners, the page), see [`embedded`].
//! * WebSocket `Origin` check: upgrades from browsers whose page is not the relay's own (or an
//!   [`RelayOptions::allow_origins`] entry) get 403 and an `origin_refused` report.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dialtone_core::relay::RelayError> {
//! use dialtone_core::relay::{RelayOptions, RelayServer};
//! use dialtone_relay::Users;
//! let users = Users::from_toml("[[user]]\nname = \"alice\"\npassword = \"secret\"\n")
//!     .map_err(dialtone_core::relay::RelayError::Users)?;
//! let options = RelayOptions::new(vec!["udp:127.0.0.1:5060".parse().unwrap()], users);
//! let server = RelayServer::start(options).await?;
//! server
//!     .run(|report| println!("{report:?}"), async { let _ = tokio::signal::ctrl_c().await; "SIGINT".to_string() })
//!     .await;
//! # Ok(()) }
//! ```

mod b2bua;
mod bridge_call;
mod bridge_setup;
pub mod certificate;
pub mod cli;
pub mod embedded;
mod listen;
mod media_sockets;
mod page;
mod report;
mod selector;
mod server;

use std::path::PathBuf;

pub use certificate::RelayCertificate;
pub use cli::RelayArgs;
pub use embedded::{DemoAccount, EmbeddedRelay, EmbeddedRelayError, EmbeddedRelayInfo};
pub use listen::{ListenSpec, MediaPorts, SpecError};
pub use report::{LegReport, ListenerReport, RelayReport};
pub use selector::{is_webrtc_binding, WebRtcBridgeSelector};
pub use server::{RelayOptions, RelayServer};

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// A listener on a non-loopback address without `--expose`.
    #[error(
        "refusing to listen on {0}: the relay only listens on loopback (127.0.0.0/8, ::1) unless \
         you pass --expose; an exposed relay takes password guesses from anyone who can reach it"
    )]
    NotLoopback(ListenSpec),
    /// A wildcard address (`0.0.0.0`, `::`).
    #[error(
        "refusing to listen on {0}: name the interface's own address (it is written into SIP \
         headers and SDP, where 0.0.0.0 means nothing)"
    )]
    Unspecified(ListenSpec),
    /// No listener was given.
    #[error("nothing to listen on: give at least one --listen")]
    NoListeners,
    /// The accounts could not be loaded.
    #[error("{0}")]
    Users(#[from] dialtone_relay::UsersError),
    /// A listener could not be bound.
    #[error("{0}")]
    Transport(#[from] crate::transport::TransportError),
    /// The browser phone page's HTTP(S) listener could not be bound.
    #[error("cannot serve the browser phone page on {addr}: {source}")]
    Page {
        /// The requested address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// An `--allow-origin` value is not an origin.
    #[error("--allow-origin: {0}")]
    Origin(#[from] dialtone_relay::InvalidOrigin),
    /// The state directory could not be written.
    #[error("state directory {}: {source}", path.display())]
    StateDir {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// No state directory was given and the user has no data directory.
    #[error("no state directory for the TLS certificate: pass --state-dir")]
    NoStateDir,
    /// The certificate could not be generated or loaded.
    #[error("relay certificate: {0}")]
    Certificate(String),
    /// A media range was given but none of its ports could be bound.
    #[error("no media port pair of {first}-{last} could be bound on {ip} (all in use?)")]
    NoMediaPorts {
        /// First port of the range.
        first: u16,
        /// Last port of the range.
        last: u16,
        /// The media address.
        ip: std::net::IpAddr,
    },
}
