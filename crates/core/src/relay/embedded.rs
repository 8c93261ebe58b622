//! The relay the desktop app starts on its first run (issue #6, "embedded default"): with no
//! PBX and no saved account, the app is still a phone within a minute. [`EmbeddedRelay::start_default`]
//!
//! 1. on the first start writes `users.toml` in the given data directory with two local demo
//!    accounts, `demo1` (for the app) and `demo2` (for a second phone or the browser page), each
//!    with a random password; the file is created with mode 0600 (it holds passwords). Later
//!    starts read the same file (a user may edit it; the accounts with a `password` are shown);
//! 2. starts the relay on loopback only: SIP over UDP and TCP on one port (5060 when free), SIP
//!    over WebSocket (5066 when free) and the browser phone page over HTTP (8088 when free). The
//!    ports actually bound are kept in `embedded.toml` and preferred on the next start, so a phone
//!    set up once keeps working; a port taken by another program is replaced by a free one;
//! 3. returns [`EmbeddedRelayInfo`]: what the app shows (the SIP server address, the demo
//!    accounts, the page URL).
//!
//! The relay runs on the caller's tokio runtime until [`EmbeddedRelay::stop`] or drop. Its reports
//! go to `tracing` (or to a callback, [`EmbeddedRelay::start_with`]); none carries a secret.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};

use dialtone_relay::Users;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::{ListenSpec, MediaPorts, RelayError, RelayOptions, RelayReport, RelayServer};
use crate::secret::Secret;

/// The accounts file in the data directory.
pub const USERS_FILE: &str = "users.toml";
/// The ports of the last start, in the data directory.
pub const PORTS_FILE: &str = "embedded.toml";
/// The demo accounts written on the first start: the first for the app itself, the second for
/// another phone or the browser page.
pub const DEMO_USERS: [&str; 2] = ["demo1", "demo2"];
/// Ports tried on the first start: SIP (UDP and TCP), SIP over WebSocket, the phone page.
const PREFERRED: Ports = Ports {
    sip: 5060,
    ws: 5066,
    http: 8088,
};
/// Media ports tried first; when none of them is free, a free range is searched.
const MEDIA: MediaPorts = MediaPorts {
    first: 40000,
    last: 40039,
};
/// Length of a generated password, characters of a 32-symbol alphabet (80 bits).
const PASSWORD_LEN: usize = 16;
/// Lower-case letters and digits without look-alikes (l, o, 0, 1): 32 symbols.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// Why the embedded relay could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedRelayError {
    /// A file of the data directory could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `users.toml` does not parse (the message never shows a secret).
    #[error("{}: {source}", path.display())]
    Users {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: dialtone_relay::UsersError,
    },
    /// No random bytes for the passwords.
    #[error("no randomness for the demo passwords: {0}")]
    Random(String),
    /// The relay itself could not start.
    #[error(transparent)]
    Relay(#[from] RelayError),
}

/// One account of the embedded relay that the app can show and use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// The user name (SIP login).
    pub user: String,
    /// Its password (shown to the user on purpose: a local demo account).
    pub password: Secret,
    /// Its address, `sip:demo1@127.0.0.1:5060`.
    pub aor: String,
}

/// What the app shows about the embedded relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedRelayInfo {
    /// The SIP domain of the accounts (`127.0.0.1`).
    pub domain: String,
    /// The SIP server, UDP and TCP (`127.0.0.1:5060`).
    pub sip: SocketAddr,
    /// SIP over WebSocket, `ws://127.0.0.1:5066`.
    pub ws_url: String,
    /// The browser phone page, `http://127.0.0.1:8088/`.
    pub page_url: String,
    /// The accounts that have a password in `users.toml`, in file order (on a first start:
    /// `demo1`, `demo2`).
    pub accounts: Vec<DemoAccount>,
    /// The accounts file.
    pub users_file: PathBuf,
    /// Whether this start created `users.toml`.
    pub created: bool,
}

/// The running embedded relay; stops on [`EmbeddedRelay::stop`] or when dropped.
#[derive(Debug)]
pub struct EmbeddedRelay {
    info: EmbeddedRelayInfo,
    ports: Ports,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Ports {
    sip: u16,
    ws: u16,
    http: u16,
}

#[derive(Deserialize)]
struct UsersFile {
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Deserialize)]
struct UserEntry {
    name: String,
    password: Option<String>,
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedRelayError + '_ {
    move |source| EmbeddedRelayError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// A random password of [`PASSWORD_LEN`] symbols of [`ALPHABET`] (each byte's low 5 bits: no
/// bias, the alphabet has 32 symbols).
fn random_password() -> Result<String, EmbeddedRelayError> {
    let mut bytes = [0u8; PASSWORD_LEN];
    getrandom::getrandom(&mut bytes).map_err(|e| EmbeddedRelayError::Random(e.to_string()))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect())
}

/// Writes `bytes` to `path` with the profile store's crash-safe writer, created with `mode`.
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), EmbeddedRelayError> {
    crate::profile::atomic_file::write_atomically_with_mode(path, bytes, Some(mode)).map_err(|e| {
        EmbeddedRelayError::File {
            path: e.path,
            source: e.source,
        }
    })
}

/// The `users.toml` text of a first start: the demo accounts with fresh passwords.
fn demo_users_toml() -> Result<String, EmbeddedRelayError> {
    let mut text = String::from(
        "# Accounts of the relay the Dialtone app starts when no account is set up.\n\
         # Add more as [[user]] name = \"...\" password = \"...\" (or ha1 = \"...\" with a realm).\n\n",
    );
    for user in DEMO_USERS {
        text.push_str(&format!(
            "[[user]]\nname = \"{user}\"\npassword = \"{}\"\n\n",
            random_password()?
        ));
    }
    Ok(text)
}

/// What `users.toml` holds: the accounts, the (user, password) pairs that have a password, and
/// whether this start created the file.
struct LoadedUsers {
    users: Users,
    passwords: Vec<(String, Secret)>,
    created: bool,
}

/// Reads `users.toml`, writing the demo accounts first if there is none.
fn load_or_create_users(path: &Path) -> Result<LoadedUsers, EmbeddedRelayError> {
    let created = match std::fs::metadata(path) {
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_atomically(path, demo_users_toml()?.as_bytes(), 0o600)?;
            true
        }
        Err(e) => return Err(file_error(path)(e)),
    };
    let text = std::fs::read_to_string(path).map_err(file_error(path))?;
    let users = Users::from_toml(&text).map_err(|source| EmbeddedRelayError::Users {
        path: path.to_path_buf(),
        source,
    })?;
    // `Users::from_toml` accepted the text, so this shape parses too; it only keeps the
    // passwords (which `Users` hashes away) to show them.
    let passwords = toml::from_str::<UsersFile>(&text)
        .map(|file| {
            file.user
                .into_iter()
                .filter_map(|u| u.password.map(|p| (u.name, Secret::new(p))))
                .collect()
        })
        .unwrap_or_default();
    Ok(LoadedUsers {
        users,
        passwords,
        created,
    })
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

/// `port` if it can be bound on loopback right now (UDP too with `udp`), else 0 (any free port).
fn free_or_any(port: u16, udp: bool) -> u16 {
    if port == 0 {
        return 0;
    }
    let tcp_free = TcpListener::bind(loopback(port)).is_ok();
    let udp_free = !udp || UdpSocket::bind(loopback(port)).is_ok();
    if tcp_free && udp_free {
        port
    } else {
        0
    }
}

/// A range of `pairs` RTP/RTCP pairs on loopback that is free right now, if one is found.
fn free_media_range(pairs: u16) -> Option<MediaPorts> {
    for _ in 0..20 {
        let probe = UdpSocket::bind(loopback(0)).ok()?;
        let base = probe.local_addr().ok()?.port() & !1;
        drop(probe);
        let last = base.checked_add(pairs * 2 - 1)?;
        if base < 1024 {
            continue;
        }
        if (base..=last).all(|p| UdpSocket::bind(loopback(p)).is_ok()) {
            return Some(MediaPorts { first: base, last });
        }
    }
    None
}

fn options(users: &Users, ports: Ports, media: Option<MediaPorts>, dir: &Path) -> RelayOptions {
    let listen = vec![
        ListenSpec {
            kind: dialtone_sip::transport::TransportKind::Udp,
            addr: loopback(ports.sip),
        },
        ListenSpec {
            kind: dialtone_sip::transport::TransportKind::Tcp,
            addr: loopback(ports.sip),
        },
        ListenSpec {
            kind: dialtone_sip::transport::TransportKind::Ws,
            addr: loopback(ports.ws),
        },
    ];
    let mut options = RelayOptions::new(listen, users.clone());
    options.media_ports = media;
    options.http = Some(loopback(ports.http));
    options.state_dir = Some(dir.to_path_buf());
    options
}

/// Starts the relay on the preferred ports where they are free, falling back to any free port
/// when binding fails anyway (another program took one in between), and to another media
/// range (then none: media flows directly) when the usual one is taken.
async fn start_server(
    users: &Users,
    preferred: Ports,
    dir: &Path,
) -> Result<RelayServer, RelayError> {
    let ports = Ports {
        sip: free_or_any(preferred.sip, true),
        ws: free_or_any(preferred.ws, false),
        http: free_or_any(preferred.http, false),
    };
    let any = Ports {
        sip: 0,
        ws: 0,
        http: 0,
    };
    let mut media = Some(MEDIA);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ports = if attempt == 1 { ports } else { any };
        match RelayServer::start(options(users, ports, media, dir)).await {
            Ok(server) => return Ok(server),
            Err(RelayError::NoMediaPorts { .. }) if attempt < 4 => {
                media = free_media_range(MEDIA.last.saturating_sub(MEDIA.first).div_ceil(2));
                tracing::info!("embedded relay: media ports {MEDIA:?} are taken; using {media:?}");
            }
            Err(e @ (RelayError::Transport(_) | RelayError::Page { .. })) if attempt < 4 => {
                tracing::info!("embedded relay: {e}; trying free ports");
            }
            Err(e) => return Err(e),
        }
    }
}

impl EmbeddedRelay {
    /// Starts the app's default relay from `data_dir` (created if needed), logging its reports
    /// with `tracing`. See the [module documentation](self).
    pub async fn start_default(data_dir: &Path) -> Result<EmbeddedRelay, EmbeddedRelayError> {
        Self::start_with(data_dir, |report| {
            if let Ok(line) = serde_json::to_string(&report) {
                tracing::info!("embedded relay: {line}");
            }
        })
        .await
    }

    /// Like [`EmbeddedRelay::start_default`], handing every report to `report` (on the relay's
    /// task) instead.
    pub async fn start_with(
        data_dir: &Path,
        report: impl FnMut(RelayReport) + Send + 'static,
    ) -> Result<EmbeddedRelay, EmbeddedRelayError> {
        std::fs::create_dir_all(data_dir).map_err(file_error(data_dir))?;
        let users_file = data_dir.join(USERS_FILE);
        let LoadedUsers {
            users,
            passwords,
            created,
        } = load_or_create_users(&users_file)?;
        let ports_file = data_dir.join(PORTS_FILE);
        let preferred = std::fs::read_to_string(&ports_file)
            .ok()
            .and_then(|text| toml::from_str::<Ports>(&text).ok())
            .unwrap_or(PREFERRED);
        let server = start_server(&users, preferred, data_dir).await?;

        let bound = |kind| {
            server
                .listeners()
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, addr)| *addr)
        };
        use dialtone_sip::transport::TransportKind;
        let (Some(sip), Some(ws)) = (bound(TransportKind::Udp), bound(TransportKind::Ws)) else {
            return Err(RelayError::NoListeners.into());
        };
        let page = server.page_addrs().first().copied();
        let Some(page) = page else {
            return Err(RelayError::NoListeners.into());
        };
        let domain = sip.ip().to_string();
        let info = EmbeddedRelayInfo {
            accounts: passwords
                .into_iter()
                .map(|(user, password)| DemoAccount {
                    aor: format!("sip:{user}@{sip}"),
                    user,
                    password,
                })
                .collect(),
            domain,
            sip,
            ws_url: format!("ws://{ws}"),
            page_url: format!("http://{page}/"),
            users_file: std::path::absolute(&users_file).unwrap_or(users_file),
            created,
        };
        let bound_ports = Ports {
            sip: sip.port(),
            ws: ws.port(),
            http: page.port(),
        };
        if bound_ports != preferred {
            let text = format!(
                "# Ports of the relay the Dialtone app starts (preferred on the next start).\n{}",
                toml::to_string(&bound_ports).unwrap_or_default()
            );
            if let Err(e) = write_atomically(&ports_file, text.as_bytes(), 0o644) {
                tracing::warn!("embedded relay: cannot remember its ports: {e}");
            }
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(report, async move {
            let _ = stopped.await;
            "stopped by the app".to_string()
        }));
        Ok(EmbeddedRelay {
            info,
            ports: bound_ports,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// What the app shows.
    pub fn info(&self) -> &EmbeddedRelayInfo {
        &self.info
    }

    /// Stops the relay and waits (up to 2 s) until its SIP, WebSocket and page ports are free
    /// again, so a restart gets the same ones.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let ports = self.ports;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while tokio::time::Instant::now() < deadline
            && (free_or_any(ports.sip, true) == 0
                || free_or_any(ports.ws, false) == 0
                || free_or_any(ports.http, false) == 0)
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for EmbeddedRelay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_from_the_alphabet() {
        let a = random_password().unwrap();
        let b = random_password().unwrap();
        assert_eq!(a.len(), PASSWORD_LEN);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
    }

    #[test]
    fn the_first_users_file_holds_two_demo_accounts_readable_only_by_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(USERS_FILE);
        let first = load_or_create_users(&path).unwrap();
        assert!(first.created);
        assert_eq!(first.users.len(), 2);
        let names: Vec<&str> = first.passwords.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, DEMO_USERS);
        assert_ne!(first.passwords[0].1, first.passwords[1].1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        // A second start keeps the file and its passwords.
        let again = load_or_create_users(&path).unwrap();
        assert!(!again.created);
        assert_eq!(again.passwords, first.passwords);
    }

    #[test]
    fn a_damaged_users_file_is_reported_without_its_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(USERS_FILE);
        std::fs::write(&path, "[[user]]\nname = \"x\"\npassword = \"hunter2\n").unwrap();
        let err = match load_or_create_users(&path) {
            Ok(_) => panic!("a damaged users.toml was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(USERS_FILE), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
