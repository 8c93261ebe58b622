//! Trusted but expired (or not yet valid) certificates are rejected with their dates.

use dialtone_core::tls::{client_config, connect, TlsError, TlsTrust};
use dialtone_testkit::certs::{TestCa, Validity};
use dialtone_testkit::TlsTestServer;
use tokio::net::TcpStream;

async fn handshake_error(validity: Validity) -> TlsError {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Dialtone Test CA").unwrap();
    let ca_path = dir.path().join("ca.pem");
    ca.write_cert(&ca_path).unwrap();
    let leaf = ca.issue(&["localhost"], validity).unwrap();
    let server = TlsTestServer::start(&leaf).unwrap();
    let config = client_config(&TlsTrust::CaFile(ca_path)).unwrap();
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    connect(config, "localhost", tcp)
        .await
        .expect_err("must be rejected")
}

#[tokio::test]
async fn expired_certificate_reports_its_end_date() {
    let err = handshake_error(Validity::Expired).await;
    assert_eq!(
        err,
        TlsError::Expired {
            not_after: "2001-01-01 00:00:00 UTC".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "server certificate expired on 2001-01-01 00:00:00 UTC"
    );
}

#[tokio::test]
async fn not_yet_valid_certificate_points_at_the_clock() {
    let err = handshake_error(Validity::NotYetValid).await;
    assert_eq!(
        err,
        TlsError::NotYetValid {
            not_before: "2090-01-01 00:00:00 UTC".into()
        }
    );
    assert!(
        err.to_string().contains("check this computer's clock"),
        "{err}"
    );
}
