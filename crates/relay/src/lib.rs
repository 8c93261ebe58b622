//! Sans-IO logic of Dialtone's built-in relay: a registrar with digest authentication, a
//! stateful proxy between its registered users, and a media relay — the "no PBX needed" mode.
//! No sockets, no clock, no global RNG: the runtime (`dialtone-core`) owns the sockets and
//! feeds this crate messages, datagrams and the time.
//!
//! * [`Users`]: accounts from `users.toml` or the app (passwords hashed to HA1 at once).
//! * [`Relay`]: the SIP side. Registrar (RFC 3261 §10.3, 401 digest with MD5/SHA-256, nonce
//!   expiry and nonce-count replay checks), location store behind [`LocationStore`] with the
//!   flow each contact registered over (RFC 5626), proxy (RFC 3261 §16: 407 for every initial
//!   request, 404/480, parallel forking, double Record-Route with flow tokens, loose routing,
//!   CANCEL, Timer C), and the security rules: unknown user and wrong password answered alike,
//!   bans after repeated failures, no open relay. A [`ModeSelector`] can hand calls to the
//!   runtime's B2BUA instead ([`b2bua`]).
//! * [`media::MediaRelay`]: port pairs per call leg, SDP rewriting, latching, forwarding.
//! * [`OriginPolicy`]: the WebSocket Origin allow-list the runtime checks on handshakes.
//!
//! # Driving it
//!
//! ```
//! use std::time::Instant;
//! use dialtone_relay::{Listener, MemoryLocationStore, Relay, RelayConfig, RelayOutput, Users};
//! use dialtone_sip::random::Xorshift;
//! use dialtone_sip::transport::{Peer, TransportKind};
//! use dialtone_sip_message::Message;
//!
//! let now = Instant::now(); // the runtime's clock; the relay only compares instants
//! let users = Users::from_toml("[[user]]\nname = \"alice\"\npassword = \"secret\"\n").unwrap();
//! let listener = Listener::new(TransportKind::Udp, "127.0.0.1:5060".parse().unwrap());
//! let config = RelayConfig::new("dialtone.local", vec![listener]);
//! let mut relay = Relay::new(config, users, MemoryLocationStore::new(), Xorshift::new(7), now);
//!
//! let text = "REGISTER sip:dialtone.local SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKreg1;rport\r\n\
//!     Max-Forwards: 70\r\nFrom: <sip:alice@dialtone.local>;tag=a\r\n\
//!     To: <sip:alice@dialtone.local>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n\
//!     Contact: <sip:alice@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n";
//! let alice = Peer::new(TransportKind::Udp, "127.0.0.1:5070".parse().unwrap());
//! relay.handle_message(now, alice, Message::parse(text.as_bytes()).unwrap());
//! while let Some(output) = relay.poll_output() {
//!     match output {
//!         RelayOutput::Transmit { dest, message } => {
//!             // The challenge: 401 with WWW-Authenticate, back to alice.
//!             assert_eq!(dest, alice);
//!             assert_eq!(message.as_response().unwrap().status, 401);
//!         }
//!         RelayOutput::Event(event) => println!("{event:?}"),
//!     }
//! }
//! let _wake_at = relay.poll_timeout();
//! ```
#![deny(missing_docs)]

pub mod b2bua;
mod ban;
mod config;
mod digest;
mod event;
mod hmac;
pub mod location;
pub mod media;
mod nonce;
mod origin;
mod proxy;
mod registrar;
mod relay;
mod routing;
pub mod users;

pub use b2bua::{AlwaysProxy, BridgeWebRtc, CallMode, CallSetup, ModeSelector};
pub use ban::BanPolicy;
pub use config::{BannedAction, ForwardDomain, Listener, RegistrarConfig, RelayConfig};
pub use event::{RelayEvent, RelayOutput, UnregisterReason};
pub use location::{Binding, BindingKey, LocationStore, MemoryLocationStore};
pub use origin::{InvalidOrigin, OriginPolicy};
pub use relay::Relay;
pub use users::{User, Users, UsersError, DEFAULT_REALM};
