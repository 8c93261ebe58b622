//! With the OS trust store, a self-signed server certificate is rejected as "issuer not
//! trusted" and the error carries that certificate's SHA-256 fingerprint so the user can pin it.

use dialtone_core::tls::{client_config, connect, Fingerprint, TlsError, TlsTrust};
use dialtone_testkit::certs::TestCert;
use dialtone_testkit::TlsTestServer;
use tokio::net::TcpStream;

#[tokio::test]
async fn os_roots_reject_self_signed_with_fingerprint() {
    let cert = TestCert::self_signed(&["localhost"]).unwrap();
    let server = TlsTestServer::start(&cert).unwrap();
    let config = client_config(&TlsTrust::OsRoots).unwrap();

    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let err = connect(config, "localhost", tcp)
        .await
        .expect_err("self-signed must be rejected");

    let expected = Fingerprint::of(&cert.cert_der);
    assert_eq!(
        err,
        TlsError::IssuerNotTrusted {
            fingerprint: expected
        }
    );
    let text = err.to_string();
    assert!(text.contains(&expected.to_string()), "{text}");
    assert!(text.starts_with("certificate issuer not trusted"), "{text}");
    assert!(!text.contains("unreachable"), "{text}");
}
