//! The app's embedded default relay (`EmbeddedRelay::start_default`) on real sockets: a first start in an empty data
//! directory writes `users.toml` (two demo accounts, random passwords, mode 0600) and serves on loopback; the first
//! demo account registers with the password the info shows (digest over UDP) and a wrong one is refused; the page
//! URL serves the phone page. A second relay started on the same directory while the first runs finds the ports
//! taken, picks free ones and keeps the same accounts. After the first stops, a restart reuses the ports it recorded.

mod relay_support;

use dialtone_core::relay::{EmbeddedRelay, EmbeddedRelayInfo};
use relay_support::RawSip;
use std::io::{Read, Write};
use std::net::TcpStream;

fn register(info: &EmbeddedRelayInfo, user: &str, password: &str) -> u16 {
    let mut raw = RawSip::new("127.0.0.1", info.sip);
    raw.register(user, password)
        .map(|reply| reply.status)
        .unwrap_or(0)
}

/// (user, password) of each account.
fn credentials(info: &EmbeddedRelayInfo) -> Vec<(String, String)> {
    info.accounts
        .iter()
        .map(|a| (a.user.clone(), a.password.expose().to_owned()))
        .collect()
}

fn get(url: &str) -> String {
    let addr = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("not an http URL: {url}"));
    let mut stream = TcpStream::connect(addr).expect("connect to the page");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let mut page = String::new();
    stream.read_to_string(&mut page).expect("read the page");
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_writes_demo_accounts_and_serves_them_on_loopback() {
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = EmbeddedRelay::start_default(dir.path())
        .await
        .expect("the embedded relay starts");
    let info = relay.info().clone();
    assert!(info.created);
    assert!(info.sip.ip().is_loopback(), "{info:?}");
    assert_eq!(info.domain, "127.0.0.1");
    assert!(info.ws_url.starts_with("ws://127.0.0.1:"), "{info:?}");
    assert!(info.page_url.starts_with("http://127.0.0.1:"), "{info:?}");
    let users: Vec<&str> = info.accounts.iter().map(|a| a.user.as_str()).collect();
    assert_eq!(users, ["demo1", "demo2"]);
    assert_eq!(
        info.accounts[0].aor,
        format!("sip:demo1@{}", info.sip),
        "{info:?}"
    );
    let first = info.accounts[0].password.expose().to_owned();
    let second = info.accounts[1].password.expose().to_owned();
    assert!(first.len() >= 16 && second.len() >= 16 && first != second);
    // The passwords never show in Debug output.
    assert!(!format!("{info:?}").contains(&first));

    let text = std::fs::read_to_string(&info.users_file).expect("users.toml");
    assert!(text.contains(&format!("password = \"{first}\"")));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&info.users_file)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "users.toml mode {mode:o}");
    }

    let probe = info.clone();
    let (ok, wrong) = tokio::task::spawn_blocking(move || {
        (
            register(&probe, "demo1", &first),
            register(&probe, "demo2", "not-the-password"),
        )
    })
    .await
    .expect("registration probe");
    assert_eq!(ok, 200, "demo1 with its password");
    assert_eq!(wrong, 401, "demo2 with a wrong password");
    let page_url = info.page_url.clone();
    let page = tokio::task::spawn_blocking(move || get(&page_url))
        .await
        .expect("page probe");
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("jssip"),
        "{page}"
    );

    // A second start on the same directory while the first runs: other ports, same accounts.
    let other = EmbeddedRelay::start_default(dir.path())
        .await
        .expect("a second embedded relay starts on free ports");
    assert!(!other.info().created);
    assert_ne!(other.info().sip, info.sip);
    assert_eq!(credentials(other.info()), credentials(&info));
    let moved = other.info().sip;
    other.stop().await;
    relay.stop().await;

    // The ports of the last start are recorded and preferred on the next one.
    let again = EmbeddedRelay::start_default(dir.path())
        .await
        .expect("restart");
    assert_eq!(again.info().sip, moved);
    assert_eq!(credentials(again.info()), credentials(&info));
    again.stop().await;
}
