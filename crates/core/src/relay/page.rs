//! The browser phone page the relay serves (issue #6): `ui/phone-page/` — a JsSIP phone that
//! registers over the relay's WebSocket listener (RFC 7118) and calls with WebRTC through the
//! relay's bridge. The files are compiled into the binary (the JsSIP bundle is committed, built
//! by `tests/browser/build-jssip.mjs`), so serving it needs nothing at run time.
//!
//! A deliberately small HTTP/1.1 server (RFC 9112): `GET`/`HEAD` of a fixed set of paths, one
//! request per connection (`Connection: close`), requests capped at 8 KiB and 10 s. Plain HTTP
//! on loopback (`http://127.0.0.1` is a secure context, so the page may use the microphone);
//! HTTPS with the relay's certificate when exposed, since browsers only grant the microphone
//! to pages from other hosts over HTTPS. `config.js` tells the page where the WebSocket is:
//! `ws://` for the HTTP page, `wss://` for the HTTPS one (mixed content is blocked).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Largest request head read.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

const INDEX: &str = include_str!("../../../../ui/phone-page/index.html");
const PHONE_JS: &str = include_str!("../../../../ui/phone-page/phone.js");
const PHONE_CSS: &str = include_str!("../../../../ui/phone-page/phone.css");
const JSSIP: &str = include_str!("../../../../ui/phone-page/jssip.min.js");
const JSSIP_LICENSE: &str = include_str!("../../../../ui/phone-page/LICENSE-jssip.md");

/// What `config.js` tells the page.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PageConfig {
    /// The relay's `ws://` listener, if any.
    #[serde(skip)]
    pub ws_url: Option<String>,
    /// The relay's `wss://` listener, if any.
    #[serde(skip)]
    pub wss_url: Option<String>,
    /// The SIP domain of the accounts.
    pub domain: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigJs<'a> {
    ws_url: Option<&'a str>,
    domain: &'a str,
}

impl PageConfig {
    fn script(&self, secure: bool) -> String {
        let ws_url = if secure {
            self.wss_url.as_deref()
        } else {
            self.ws_url.as_deref().or(self.wss_url.as_deref())
        };
        let json = serde_json::to_string(&ConfigJs {
            ws_url,
            domain: &self.domain,
        })
        .unwrap_or_else(|_| "{}".to_owned());
        format!("window.DIALTONE_CONFIG = {json};\n")
    }
}

/// A running page server; stops when dropped.
#[derive(Debug)]
pub(crate) struct PageServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// Whether it speaks HTTPS.
    pub secure: bool,
    _stop: watch::Sender<bool>,
}

impl PageServer {
    /// Binds `addr` and serves the page (over TLS with `tls`).
    pub(crate) async fn bind(
        addr: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
        config: PageConfig,
    ) -> std::io::Result<PageServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let secure = tls.is_some();
        let config = Arc::new(config);
        tokio::spawn(accept_loop(listener, tls, config, stopped));
        Ok(PageServer {
            addr,
            secure,
            _stop: stop,
        })
    }

    /// The page's URL.
    pub(crate) fn url(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    config: Arc<PageConfig>,
    mut stopped: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let accepted = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let config = config.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(READ_TIMEOUT * 2, async move {
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(tls) = acceptor.accept(stream).await {
                            serve(tls, &config, true).await;
                        }
                    }
                    None => serve(stream, &config, false).await,
                }
            })
            .await;
        });
    }
}

/// Reads one request head; `None` on timeout, oversize or a closed connection.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = async {
        loop {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                return Some(String::from_utf8_lossy(&buf).into_owned());
            }
            if buf.len() > MAX_REQUEST {
                return None;
            }
        }
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .ok()
        .flatten()
}

/// The file at `path`: (content type, body).
fn file(path: &str, config: &PageConfig, secure: bool) -> Option<(&'static str, String)> {
    Some(match path {
        "/" | "/index.html" => ("text/html; charset=utf-8", INDEX.to_owned()),
        "/phone.js" => ("text/javascript; charset=utf-8", PHONE_JS.to_owned()),
        "/phone.css" => ("text/css; charset=utf-8", PHONE_CSS.to_owned()),
        "/jssip.min.js" => ("text/javascript; charset=utf-8", JSSIP.to_owned()),
        "/LICENSE-jssip.md" => ("text/plain; charset=utf-8", JSSIP_LICENSE.to_owned()),
        "/config.js" => ("text/javascript; charset=utf-8", config.script(secure)),
        _ => return None,
    })
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    config: &PageConfig,
    secure: bool,
) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split(['?', '#']).next().unwrap_or("");
    let (status, content_type, body) = match method {
        "GET" | "HEAD" => match file(path, config, secure) {
            Some((content_type, body)) => ("200 OK", content_type, body),
            None => (
                "404 Not Found",
                "text/plain; charset=utf-8",
                "not found\n".to_owned(),
            ),
        },
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".to_owned(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'self'; connect-src 'self' ws: wss:; \
         media-src 'self' blob: mediastream:; object-src 'none'; base-uri 'none'\r\n",
        body.len()
    );
    if method != "GET" && method != "HEAD" {
        response.push_str("Allow: GET, HEAD\r\n");
    }
    response.push_str("Connection: close\r\n\r\n");
    let mut bytes = response.into_bytes();
    if method != "HEAD" {
        bytes.extend_from_slice(body.as_bytes());
    }
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_the_page_its_config_and_nothing_else() {
        let config = PageConfig {
            ws_url: Some("ws://127.0.0.1:8080".into()),
            wss_url: None,
            domain: "127.0.0.1".into(),
        };
        let server = PageServer::bind("127.0.0.1:0".parse().unwrap(), None, config)
            .await
            .unwrap();
        assert!(server.url().starts_with("http://127.0.0.1:"));
        let index = get(server.addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
        assert!(index.contains("<script src=\"jssip.min.js\"></script>"));
        let js = get(server.addr, "GET /config.js?x=1 HTTP/1.1\r\n\r\n").await;
        assert!(
            js.contains(
                r#"window.DIALTONE_CONFIG = {"wsUrl":"ws://127.0.0.1:8080","domain":"127.0.0.1"};"#
            ),
            "{js}"
        );
        let jssip = get(server.addr, "HEAD /jssip.min.js HTTP/1.1\r\n\r\n").await;
        assert!(jssip.starts_with("HTTP/1.1 200 OK") && jssip.ends_with("\r\n\r\n"));
        let missing = get(server.addr, "GET /../../etc/passwd HTTP/1.1\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404"));
        let post = get(server.addr, "POST / HTTP/1.1\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 405") && post.contains("Allow: GET, HEAD"));
    }

    #[tokio::test]
    async fn the_https_page_uses_the_relay_certificate_and_points_at_wss() {
        let dir = tempfile::tempdir().unwrap();
        let ip = "127.0.0.1".parse().unwrap();
        let cert = crate::relay::certificate::load_or_create(dir.path(), &[ip]).unwrap();
        let config = PageConfig {
            ws_url: Some("ws://127.0.0.1:8080".into()),
            wss_url: Some("wss://127.0.0.1:8443".into()),
            domain: "127.0.0.1".into(),
        };
        let server = PageServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            Some(cert.server_config.clone()),
            config,
        )
        .await
        .unwrap();
        assert!(server.url().starts_with("https://127.0.0.1:"));
        let trust = crate::tls::TlsTrust::PinnedSha256(cert.fingerprint.to_string());
        let client = crate::tls::client_config(&trust).unwrap();
        let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(client)
            .connect(name, tcp)
            .await
            .expect("TLS with the pinned relay certificate");
        tls.write_all(b"GET /config.js HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(
            out.contains(r#""wsUrl":"wss://127.0.0.1:8443""#),
            "mixed content is blocked: {out}"
        );
    }
}
