//! Trusting a CA file accepts a server certificate issued by that CA, and only that CA.

use dialtone_core::tls::{client_config, connect, TlsError, TlsTrust};
use dialtone_testkit::certs::{TestCa, Validity};
use dialtone_testkit::TlsTestServer;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn ca_file_accepts_certificates_it_issued() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Dialtone Test CA").unwrap();
    let ca_path = dir.path().join("ca.pem");
    ca.write_cert(&ca_path).unwrap();
    let leaf = ca
        .issue(&["localhost", "127.0.0.1"], Validity::Current)
        .unwrap();
    let server = TlsTestServer::start(&leaf).unwrap();
    let config = client_config(&TlsTrust::CaFile(ca_path)).unwrap();

    for name in ["localhost", "127.0.0.1"] {
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let mut tls = connect(config.clone(), name, tcp)
            .await
            .expect("CA-issued cert accepted");
        let mut greeting = String::new();
        tls.read_to_string(&mut greeting).await.unwrap();
        assert_eq!(greeting, "hello\n");
    }
}

#[tokio::test]
async fn ca_file_rejects_certificates_from_another_ca() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = TestCa::new("Trusted CA").unwrap();
    let ca_path = dir.path().join("ca.pem");
    trusted.write_cert(&ca_path).unwrap();
    let other = TestCa::new("Other CA").unwrap();
    let leaf = other.issue(&["localhost"], Validity::Current).unwrap();
    let server = TlsTestServer::start(&leaf).unwrap();
    let config = client_config(&TlsTrust::CaFile(ca_path)).unwrap();

    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let err = connect(config, "localhost", tcp)
        .await
        .expect_err("foreign CA rejected");
    assert!(matches!(err, TlsError::IssuerNotTrusted { .. }), "{err:?}");
}

#[test]
fn unreadable_or_empty_ca_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let err = client_config(&TlsTrust::CaFile(missing.clone())).unwrap_err();
    assert!(
        matches!(&err, TlsError::CaFile { path, .. } if *path == missing),
        "{err:?}"
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    let err = client_config(&TlsTrust::CaFile(empty)).unwrap_err();
    assert!(
        err.to_string().contains("no usable CA certificate"),
        "{err}"
    );
}
