//! Test certificates generated with rcgen: self-signed leaves and a small CA.
//!
//! Names that parse as IP addresses become IP SANs, the others DNS SANs.

use std::path::{Path, PathBuf};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::TestkitError;

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// rcgen's default window, which includes today.
    Current,
    /// 2000-01-01 .. 2001-01-01.
    Expired,
    /// 2090-01-01 .. 2091-01-01.
    NotYetValid,
}

/// A certificate and its private key.
#[derive(Debug, Clone)]
pub struct TestCert {
    /// PEM certificate.
    pub cert_pem: String,
    /// PEM PKCS#8 private key.
    pub key_pem: String,
    /// DER certificate (for fingerprints).
    pub cert_der: Vec<u8>,
}

impl TestCert {
    /// A self-signed certificate for `names`, valid now.
    pub fn self_signed(names: &[&str]) -> Result<TestCert, TestkitError> {
        Self::self_signed_with(names, Validity::Current)
    }

    /// A self-signed certificate for `names` with the given validity.
    pub fn self_signed_with(names: &[&str], validity: Validity) -> Result<TestCert, TestkitError> {
        let params = leaf_params(names, validity)?;
        let key = KeyPair::generate().map_err(cert_err)?;
        let cert = params.self_signed(&key).map_err(cert_err)?;
        Ok(TestCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
        })
    }

    /// Writes `cert.pem` and `key.pem` into `dir` and returns their paths.
    pub fn write_to(&self, dir: &Path) -> Result<(PathBuf, PathBuf), TestkitError> {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.cert_pem).map_err(|e| TestkitError::io("write", &cert, e))?;
        std::fs::write(&key, &self.key_pem).map_err(|e| TestkitError::io("write", &key, e))?;
        Ok((cert, key))
    }
}

/// A certificate authority that issues leaf certificates.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// PEM of the CA certificate (what goes into a CA file).
    pub cert_pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new self-signed CA called `common_name`.
    pub fn new(common_name: &str) -> Result<TestCa, TestkitError> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().map_err(cert_err)?;
        let cert = params.self_signed(&key).map_err(cert_err)?;
        Ok(TestCa {
            issuer: Issuer::new(params, key),
            cert_pem: cert.pem(),
        })
    }

    /// Issues a leaf certificate for `names`.
    pub fn issue(&self, names: &[&str], validity: Validity) -> Result<TestCert, TestkitError> {
        let params = leaf_params(names, validity)?;
        let key = KeyPair::generate().map_err(cert_err)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(cert_err)?;
        Ok(TestCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
        })
    }

    /// Writes the CA certificate to `path`.
    pub fn write_cert(&self, path: &Path) -> Result<(), TestkitError> {
        std::fs::write(path, &self.cert_pem).map_err(|e| TestkitError::io("write", path, e))
    }
}

fn leaf_params(names: &[&str], validity: Validity) -> Result<CertificateParams, TestkitError> {
    let sans: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(sans).map_err(cert_err)?;
    if let Some(first) = names.first() {
        params.distinguished_name.push(DnType::CommonName, *first);
    }
    match validity {
        Validity::Current => {}
        Validity::Expired => {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        Validity::NotYetValid => {
            params.not_before = date_time_ymd(2090, 1, 1);
            params.not_after = date_time_ymd(2091, 1, 1);
        }
    }
    Ok(params)
}

fn cert_err(e: rcgen::Error) -> TestkitError {
    TestkitError::Certificate(e.to_string())
}
