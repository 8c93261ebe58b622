//! Test harness for Dialtone: real SIP peers on 127.0.0.1 and test certificates.
//!
//! - [`Kamailio`]: a registrar + proxy with digest auth (RFC 3261 §10, §16, §22) on UDP/TCP/TLS/WS/WSS,
//!   rendered from `tests/peers/kamailio.cfg.tmpl` into a temporary directory;
//! - [`Baresip`]: baresip as a headless far-end phone with its `ctrl_tcp` control connection;
//! - [`Sipp`]: SIPp running one scenario (`tests/peers/sipp/*.xml` or a built-in one) in the
//!   foreground as our child;
//! - [`free_port`]: a port free for both UDP and TCP on 127.0.0.1;
//! - [`certs`]: self-signed and CA-issued certificates generated with rcgen;
//! - [`TlsTestServer`]: a TLS server that only completes handshakes, for trust tests;
//! - [`digest`]: checking MD5 digest credentials seen in a peer's message trace.
//!
//! Every process is our direct child, put in its own process group and stopped by its PID when the
//! handle is dropped (never by name: other work shares the machine). A missing binary is an error
//! naming the Debian package to install — tests fail, they never skip.
//!
//! ```no_run
//! use dialtone_testkit::{Kamailio, KamailioOpts};
//! let kamailio = Kamailio::start(KamailioOpts::with_free_ports(&[("alice", "secret")])).unwrap();
//! println!("proxy on {}", kamailio.udp_addr());
//! ```
#![deny(missing_docs)]

mod baresip;
pub mod certs;
pub mod dbus;
pub mod digest;
mod error;
mod kamailio;
mod ports;
mod process;
mod sipp;
mod tls_server;

pub use baresip::{Baresip, BaresipEvent, BaresipOpts};
pub use error::TestkitError;
pub use kamailio::{Kamailio, KamailioOpts};
pub use ports::{free_port, free_ports};
pub use process::{require_binary, PeerProcess};
pub use sipp::{Scenario, Sipp, SippArgs, SippOutcome, SippTransport};
pub use tls_server::TlsTestServer;

/// The repository's root, found at run time: the nearest directory holding `tests/peers`, from the running test's
/// package directory (`cargo test` sets `CARGO_MANIFEST_DIR`) or the current directory. Not a compile-time path: a
/// test binary may be reused from a checkout elsewhere when the cargo target directory is shared.
pub fn repo_root() -> std::path::PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_dir().ok());
    start
        .as_deref()
        .and_then(|dir| dir.ancestors().find(|d| d.join("tests/peers").is_dir()))
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The repository's `tests/peers` directory (templates and SIPp scenarios).
pub fn peers_dir() -> std::path::PathBuf {
    repo_root().join("tests/peers")
}
