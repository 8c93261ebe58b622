//! A real Kamailio (Debian package `kamailio`) as registrar + proxy on 127.0.0.1.
//!
//! The configuration is `tests/peers/kamailio.cfg.tmpl` (read it for the routing logic) rendered
//! into a temporary directory together with a tls.cfg and a self-signed certificate. Kamailio runs
//! in the foreground (`-DD -E`) as our child and is stopped by PID on drop.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::certs::TestCert;
use crate::process::{require_binary, PeerProcess};
use crate::{free_port, TestkitError};

const CFG_TEMPLATE: &str = include_str!("../../../tests/peers/kamailio.cfg.tmpl");
const TLS_TEMPLATE: &str = include_str!("../../../tests/peers/kamailio-tls.cfg.tmpl");
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Which transports Kamailio listens on (all on 127.0.0.1) and which digest users it knows.
#[derive(Debug, Clone)]
pub struct KamailioOpts<'a> {
    /// SIP over UDP (always on; used for the readiness probe).
    pub udp_port: u16,
    /// SIP over TCP.
    pub tcp_port: Option<u16>,
    /// SIP over TLS (needs `kamailio-tls-modules`).
    pub tls_port: Option<u16>,
    /// SIP over WebSocket, RFC 7118 (needs `kamailio-websocket-modules`).
    pub ws_port: Option<u16>,
    /// SIP over secure WebSocket (needs both module packages).
    pub wss_port: Option<u16>,
    /// `(user, password)` pairs; names and passwords limited to `[A-Za-z0-9._-]`.
    pub users: &'a [(&'a str, &'a str)],
}

impl<'a> KamailioOpts<'a> {
    /// Every transport enabled, each on a fresh free port.
    pub fn with_free_ports(users: &'a [(&'a str, &'a str)]) -> Self {
        KamailioOpts {
            udp_port: free_port(),
            tcp_port: Some(free_port()),
            tls_port: Some(free_port()),
            ws_port: Some(free_port()),
            wss_port: Some(free_port()),
            users,
        }
    }

    /// UDP and TCP only, on one free port number (shared by both).
    pub fn udp_tcp(users: &'a [(&'a str, &'a str)]) -> Self {
        let port = free_port();
        KamailioOpts {
            udp_port: port,
            tcp_port: Some(port),
            tls_port: None,
            ws_port: None,
            wss_port: None,
            users,
        }
    }
}

/// A running Kamailio; dropped = stopped (by PID) and its temporary directory removed.
#[derive(Debug)]
pub struct Kamailio {
    // Field order matters: the process stops before its directory is removed.
    process: PeerProcess,
    dir: tempfile::TempDir,
    udp_port: u16,
    tcp_port: Option<u16>,
    tls_port: Option<u16>,
    ws_port: Option<u16>,
    wss_port: Option<u16>,
    cert: TestCert,
}

impl Kamailio {
    /// Renders the configuration, starts Kamailio and waits until it answers an OPTIONS over
    /// UDP and accepts TCP connections on every stream port.
    pub fn start(opts: KamailioOpts<'_>) -> Result<Kamailio, TestkitError> {
        let binary = require_binary("kamailio", "kamailio")?;
        check_modules(&opts)?;
        let dir = tempfile::Builder::new()
            .prefix("dialtone-kamailio-")
            .tempdir()
            .map_err(|e| TestkitError::io("create temp dir in", std::env::temp_dir(), e))?;
        let cert = TestCert::self_signed(&["localhost", "127.0.0.1"])?;
        let (cert_path, key_path) = cert.write_to(dir.path())?;
        let tls_cfg = dir.path().join("tls.cfg");
        let tls_text = TLS_TEMPLATE
            .replace("@@CERT@@", &path_text(&cert_path)?)
            .replace("@@KEY@@", &path_text(&key_path)?);
        write(&tls_cfg, &tls_text)?;
        let cfg = dir.path().join("kamailio.cfg");
        write(&cfg, &render(&opts, &tls_cfg)?)?;

        let mut command = Command::new(binary);
        command
            .arg("-f")
            .arg(&cfg)
            .args(["-DD", "-E", "-m", "64", "-M", "8"])
            .arg("-P")
            .arg(dir.path().join("kamailio.pid"))
            .arg("-Y")
            .arg(dir.path())
            .arg("-w")
            .arg(dir.path())
            .current_dir(dir.path());
        if opts.tls_port.is_some() || opts.wss_port.is_some() {
            command.args(["-A", "WITH_TLS"]);
        }
        if opts.ws_port.is_some() || opts.wss_port.is_some() {
            command.args(["-A", "WITH_WEBSOCKETS"]);
        }
        let process = PeerProcess::spawn("kamailio", command, &dir.path().join("kamailio.log"))?;
        let mut kamailio = Kamailio {
            process,
            dir,
            udp_port: opts.udp_port,
            tcp_port: opts.tcp_port,
            tls_port: opts.tls_port,
            ws_port: opts.ws_port,
            wss_port: opts.wss_port,
            cert,
        };
        kamailio.wait_ready()?;
        Ok(kamailio)
    }

    fn wait_ready(&mut self) -> Result<(), TestkitError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let not_ready = |k: &Kamailio, reason: String| TestkitError::NotReady {
            peer: "kamailio".into(),
            reason,
            log: k.process.log_tail(6000),
        };
        let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| TestkitError::io("bind probe socket", PathBuf::from("udp"), e))?;
        probe
            .set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| TestkitError::io("configure probe socket", PathBuf::from("udp"), e))?;
        let mut udp_ready = false;
        let mut attempt = 0u32;
        while !udp_ready {
            if let Some(status) = self.process.try_status() {
                return Err(not_ready(self, format!("exited with {status}")));
            }
            if Instant::now() >= deadline {
                return Err(not_ready(self, "no answer to OPTIONS over UDP".into()));
            }
            attempt += 1;
            udp_ready = options_probe(&probe, self.udp_addr(), attempt);
        }
        for port in self.stream_ports() {
            loop {
                if let Some(status) = self.process.try_status() {
                    return Err(not_ready(self, format!("exited with {status}")));
                }
                let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(not_ready(
                        self,
                        format!("nothing listening on TCP port {port}"),
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    fn stream_ports(&self) -> Vec<u16> {
        [self.tcp_port, self.tls_port, self.ws_port, self.wss_port]
            .into_iter()
            .flatten()
            .collect()
    }

    /// SIP over UDP.
    pub fn udp_addr(&self) -> SocketAddr {
        (Ipv4Addr::LOCALHOST, self.udp_port).into()
    }

    /// SIP over TCP, if enabled.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_port.map(|p| (Ipv4Addr::LOCALHOST, p).into())
    }

    /// SIP over TLS, if enabled.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_port.map(|p| (Ipv4Addr::LOCALHOST, p).into())
    }

    /// SIP over WebSocket (`ws://127.0.0.1:port/`), if enabled.
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.ws_port.map(|p| (Ipv4Addr::LOCALHOST, p).into())
    }

    /// SIP over secure WebSocket, if enabled.
    pub fn wss_addr(&self) -> Option<SocketAddr> {
        self.wss_port.map(|p| (Ipv4Addr::LOCALHOST, p).into())
    }

    /// The self-signed certificate served on the TLS and WSS ports (names `localhost`, `127.0.0.1`).
    pub fn tls_cert(&self) -> &TestCert {
        &self.cert
    }

    /// Path of that certificate in PEM (usable as a CA file: it is self-signed).
    pub fn tls_cert_path(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// Kamailio's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Everything Kamailio logged so far (stderr, `-E`).
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The temporary directory holding the rendered configuration.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn check_modules(opts: &KamailioOpts<'_>) -> Result<(), TestkitError> {
    let module_dir = Path::new("/usr/lib/x86_64-linux-gnu/kamailio/modules");
    let need = |module: &str, package: &str| {
        if module_dir.join(module).exists() {
            Ok(())
        } else {
            Err(TestkitError::MissingBinary {
                binary: format!("kamailio module {module}"),
                package: package.to_owned(),
            })
        }
    };
    if opts.ws_port.is_some() || opts.wss_port.is_some() {
        need("websocket.so", "kamailio-websocket-modules")?;
    }
    if opts.tls_port.is_some() || opts.wss_port.is_some() {
        need("tls.so", "kamailio-tls-modules")?;
    }
    Ok(())
}

fn render(opts: &KamailioOpts<'_>, tls_cfg: &Path) -> Result<String, TestkitError> {
    let mut listen = format!("listen=udp:127.0.0.1:{}\n", opts.udp_port);
    for (proto, port) in [
        ("tcp", opts.tcp_port),
        ("tcp", opts.ws_port),
        ("tls", opts.tls_port),
        ("tls", opts.wss_port),
    ] {
        if let Some(port) = port {
            // Writing to a String cannot fail.
            let _ = writeln!(listen, "listen={proto}:127.0.0.1:{port}");
        }
    }
    if opts.tcp_port.is_none()
        && opts.ws_port.is_none()
        && opts.tls_port.is_none()
        && opts.wss_port.is_none()
    {
        listen.push_str("disable_tcp=yes\n");
    }
    let mut users = String::new();
    for (user, password) in opts.users {
        for text in [user, password] {
            let ok = !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !ok {
                return Err(TestkitError::Setup(format!(
                    "user/password {text:?} must be non-empty [A-Za-z0-9._-]"
                )));
            }
        }
        let _ = writeln!(users, "\t$sht(users=>{user}) = \"{password}\";");
    }
    Ok(CFG_TEMPLATE
        .replace("@@LISTEN@@", &listen)
        .replace("@@USERS@@", &users)
        .replace("@@WS_PORT@@", &opts.ws_port.unwrap_or(0).to_string())
        .replace("@@WSS_PORT@@", &opts.wss_port.unwrap_or(0).to_string())
        .replace("@@TLS_CFG@@", &path_text(tls_cfg)?))
}

/// Sends one OPTIONS to the proxy and waits briefly for a 200.
fn options_probe(socket: &UdpSocket, to: SocketAddr, attempt: u32) -> bool {
    let Ok(local) = socket.local_addr() else {
        return false;
    };
    let request = format!(
        "OPTIONS sip:{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-testkit-probe-{attempt};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@127.0.0.1>;tag=testkit-probe\r\n\
         To: <sip:{to}>\r\n\
         Call-ID: testkit-probe-{attempt}@127.0.0.1\r\n\
         CSeq: {attempt} OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    if socket.send_to(request.as_bytes(), to).is_err() {
        std::thread::sleep(Duration::from_millis(100));
        return false;
    }
    let mut buf = [0u8; 4096];
    match socket.recv_from(&mut buf) {
        Ok((n, _)) => buf[..n].starts_with(b"SIP/2.0 200"),
        Err(_) => false,
    }
}

fn write(path: &Path, text: &str) -> Result<(), TestkitError> {
    std::fs::write(path, text).map_err(|e| TestkitError::io("write", path, e))
}

fn path_text(path: &Path) -> Result<String, TestkitError> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| TestkitError::Setup(format!("non-UTF-8 path {}", path.display())))
}
