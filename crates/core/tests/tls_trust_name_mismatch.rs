//! A trusted certificate issued for other names is rejected as a name mismatch that lists
//! what the certificate presents.

use dialtone_core::tls::{client_config, connect, TlsError, TlsTrust};
use dialtone_testkit::certs::{TestCa, Validity};
use dialtone_testkit::TlsTestServer;
use tokio::net::TcpStream;

#[tokio::test]
async fn certificate_for_another_name_is_a_name_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Dialtone Test CA").unwrap();
    let ca_path = dir.path().join("ca.pem");
    ca.write_cert(&ca_path).unwrap();
    let leaf = ca
        .issue(&["other.test", "127.0.0.2", "::1"], Validity::Current)
        .unwrap();
    let server = TlsTestServer::start(&leaf).unwrap();
    let config = client_config(&TlsTrust::CaFile(ca_path)).unwrap();

    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let err = connect(config, "sip.example.test", tcp)
        .await
        .expect_err("wrong name rejected");
    assert_eq!(
        err,
        TlsError::NameMismatch {
            expected: "sip.example.test".into(),
            presented: vec!["other.test".into(), "127.0.0.2".into(), "0::1".into()],
        }
    );
    assert_eq!(
        err.to_string(),
        "server certificate is for other.test, 127.0.0.2, 0::1 but the account expects sip.example.test"
    );
}
