//! A pinned SHA-256 fingerprint accepts exactly that leaf certificate (even self-signed and for
//! another name) and rejects any other, reporting both fingerprints.

use dialtone_core::tls::{client_config, connect, Fingerprint, TlsError, TlsTrust};
use dialtone_testkit::certs::TestCert;
use dialtone_testkit::TlsTestServer;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn pinned_fingerprint_accepts_that_certificate() {
    let cert = TestCert::self_signed(&["pbx.internal"]).unwrap();
    let server = TlsTestServer::start(&cert).unwrap();
    // Pins are accepted in the usual spellings; use the lower-case, colon-less one here.
    let pin = Fingerprint::of(&cert.cert_der)
        .to_string()
        .replace(':', "")
        .to_lowercase();
    let config = client_config(&TlsTrust::PinnedSha256(pin)).unwrap();

    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let mut tls = connect(config, "127.0.0.1", tcp)
        .await
        .expect("pinned cert accepted");
    let mut greeting = String::new();
    tls.read_to_string(&mut greeting).await.unwrap();
    assert_eq!(greeting, "hello\n");
}

#[tokio::test]
async fn pinned_fingerprint_rejects_a_different_certificate() {
    let pinned = TestCert::self_signed(&["localhost"]).unwrap();
    let presented = TestCert::self_signed(&["localhost"]).unwrap();
    let server = TlsTestServer::start(&presented).unwrap();
    let pin = Fingerprint::of(&pinned.cert_der);
    let config = client_config(&TlsTrust::PinnedSha256(pin.to_string())).unwrap();

    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let err = connect(config, "localhost", tcp)
        .await
        .expect_err("other cert rejected");
    assert_eq!(
        err,
        TlsError::FingerprintMismatch {
            expected: pin,
            presented: Fingerprint::of(&presented.cert_der),
        }
    );
    assert!(
        err.to_string().contains("does not match the pinned one"),
        "{err}"
    );
}
