//! TLS for SIP over TLS and secure WebSockets (RFC 3261 §26.2, RFC 5630, RFC 7118 §5).
//!
//! Each account chooses how it trusts its server ([`TlsTrust`]):
//! - [`TlsTrust::OsRoots`]: the operating system's trust store (via `rustls-native-certs`), with the
//!   Mozilla roots of `webpki-roots` as a fallback when the OS store is empty;
//! - [`TlsTrust::CaFile`]: only the CA certificates in a PEM file;
//! - [`TlsTrust::PinnedSha256`]: exactly one leaf certificate, identified by its SHA-256 fingerprint.
//!   Names and validity dates are not checked (the user pinned *this* certificate), but the handshake
//!   signature still is, so the server must hold the certificate's private key.
//!
//! Handshake failures are classified into [`TlsError`] variants whose `Display` is meant for users:
//! an untrusted issuer reports the server's fingerprint so the user can pin it.
//!
//! ```no_run
//! # async fn demo(tcp: tokio::net::TcpStream) -> Result<(), dialtone_core::tls::TlsError> {
//! use dialtone_core::tls::{client_config, connect, TlsTrust};
//! let config = client_config(&TlsTrust::OsRoots)?;
//! let _stream = connect(config, "sip.example.com", tcp).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig};
use rustls::{OtherError, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

/// How an account decides whether to trust its server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsTrust {
    /// The operating system's trust store (Mozilla's roots if the OS store is empty).
    OsRoots,
    /// Only the CA certificates in this PEM file.
    CaFile(PathBuf),
    /// Exactly the leaf certificate with this SHA-256 fingerprint (hex, colons/spaces optional).
    PinnedSha256(String),
}

/// A SHA-256 certificate fingerprint; displays as upper-case hex pairs joined by colons.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(cert_der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(cert_der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = TlsError;

    /// Accepts 64 hex digits in either case, optionally separated by `:` or whitespace, and an
    /// optional `sha256:` / `SHA-256` prefix as printed by common tools.
    fn from_str(s: &str) -> Result<Self, TlsError> {
        let invalid = || TlsError::InvalidPin(s.to_owned());
        let trimmed = s.trim();
        let lower = trimmed.to_ascii_lowercase();
        let body = [
            "sha256:", "sha-256:", "sha256 ", "sha-256 ", "sha256=", "sha-256=",
        ]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
        let digits: Vec<u8> = body
            .bytes()
            .filter(|b| *b != b':' && !b.is_ascii_whitespace())
            .collect();
        if digits.len() != 64 {
            return Err(invalid());
        }
        let mut out = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).ok_or_else(invalid)?;
            let lo = (pair[1] as char).to_digit(16).ok_or_else(invalid)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Ok(Fingerprint(out))
    }
}

/// Why a TLS configuration could not be built or a handshake failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate chain does not lead to a trusted root.
    #[error(
        "certificate issuer not trusted; server certificate SHA-256 fingerprint {fingerprint} \
         — pin it in the account to trust this server"
    )]
    IssuerNotTrusted {
        /// Fingerprint of the server's leaf certificate.
        fingerprint: Fingerprint,
    },
    /// The certificate is valid but issued for other names.
    #[error(
        "server certificate is for {presented_list} but the account expects {expected}",
        presented_list = list_or_none(presented)
    )]
    NameMismatch {
        /// The name we asked for (SNI / account domain).
        expected: String,
        /// The DNS names / IP addresses the certificate presents.
        presented: Vec<String>,
    },
    /// The certificate's validity period has ended.
    #[error("server certificate expired on {not_after}")]
    Expired {
        /// End of validity, `YYYY-MM-DD hh:mm:ss UTC` (or "unknown date").
        not_after: String,
    },
    /// The certificate's validity period has not started yet (check the computer's clock).
    #[error("server certificate is not valid until {not_before}; check this computer's clock")]
    NotYetValid {
        /// Start of validity, `YYYY-MM-DD hh:mm:ss UTC` (or "unknown date").
        not_before: String,
    },
    /// The account pins a certificate and the server presented another one.
    #[error(
        "server certificate does not match the pinned one: pinned SHA-256 {expected}, \
         server presented {presented}"
    )]
    FingerprintMismatch {
        /// The pinned fingerprint.
        expected: Fingerprint,
        /// The fingerprint the server presented.
        presented: Fingerprint,
    },
    /// The certificate was rejected for another reason (bad signature, revoked, wrong usage...).
    #[error("server certificate rejected: {reason}; server certificate SHA-256 fingerprint {fingerprint}")]
    CertificateRejected {
        /// What the verifier said.
        reason: String,
        /// Fingerprint of the server's leaf certificate.
        fingerprint: Fingerprint,
    },
    /// The TLS handshake failed for a reason other than the certificate.
    #[error("TLS handshake failed: {0}")]
    HandshakeFailed(String),
    /// The pinned fingerprint in the account is not 32 hex bytes.
    #[error("pinned fingerprint {0:?} is not a SHA-256 fingerprint (64 hex digits)")]
    InvalidPin(String),
    /// The CA file could not be read or holds no certificate.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Neither the OS store nor the bundled roots yielded a usable root certificate.
    #[error("no trusted root certificates available")]
    NoRootCertificates,
    /// The server name is neither a DNS name nor an IP address.
    #[error("{0:?} is not a valid server name for TLS")]
    InvalidServerName(String),
    /// A server certificate/key pair could not be loaded.
    #[error("cannot load TLS server certificate/key: {0}")]
    ServerIdentity(String),
    /// The TLS library rejected the configuration.
    #[error("TLS configuration error: {0}")]
    Config(String),
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "no name".to_owned()
    } else {
        names.join(", ")
    }
}

/// The crypto provider used everywhere (ring).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client configuration for one trust choice.
pub fn client_config(trust: &TlsTrust) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        TlsTrust::OsRoots => webpki_verifier(os_roots()?, provider.clone())?,
        TlsTrust::CaFile(path) => webpki_verifier(ca_file_roots(path)?, provider.clone())?,
        TlsTrust::PinnedSha256(pin) => Arc::new(PinnedVerifier {
            pin: pin.parse()?,
            algorithms: provider.signature_verification_algorithms,
        }),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Builds a server configuration (TLS / WSS listeners) from a PEM certificate chain and PEM key.
pub fn server_config(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::ServerIdentity(format!("certificate PEM: {e}")))?;
    if chain.is_empty() {
        return Err(TlsError::ServerIdentity("no certificate in PEM".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError::ServerIdentity(format!("private key PEM: {e}")))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::ServerIdentity(e.to_string()))?;
    Ok(Arc::new(config))
}

/// Runs a client handshake on `tcp`, verifying the server as `server_name` (DNS name or IP).
pub async fn connect(
    config: Arc<ClientConfig>,
    server_name: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TlsError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::InvalidServerName(server_name.to_owned()))?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| classify(&e))
}

/// Classifies an I/O error returned by a TLS handshake into a [`TlsError`].
pub fn classify(err: &io::Error) -> TlsError {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner)))) => {
            match inner.downcast_ref::<Rejected>() {
                Some(rejected) => rejected.to_tls_error(),
                None => TlsError::HandshakeFailed(inner.to_string()),
            }
        }
        Some(rustls::Error::AlertReceived(alert)) => {
            TlsError::HandshakeFailed(format!("the server refused the handshake ({alert:?})"))
        }
        Some(other) => TlsError::HandshakeFailed(other.to_string()),
        None => match err.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted => TlsError::HandshakeFailed(
                "the server closed the connection during the handshake (is this a TLS port?)"
                    .into(),
            ),
            _ => TlsError::HandshakeFailed(err.to_string()),
        },
    }
}

fn webpki_verifier(
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(FingerprintingVerifier { inner }))
}

fn os_roots() -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for err in &native.errors {
        tracing::debug!("OS trust store: {err}");
    }
    roots.add_parsable_certificates(native.certs);
    if roots.is_empty() {
        tracing::info!("OS trust store is empty; using the bundled Mozilla roots");
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if roots.is_empty() {
        return Err(TlsError::NoRootCertificates);
    }
    Ok(roots)
}

fn ca_file_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let fail = |reason: String| TlsError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| fail(format!("not a PEM certificate file: {e}")))?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(fail("contains no usable CA certificate".into()));
    }
    Ok(roots)
}

/// Why our verifier rejected a certificate; travels inside `CertificateError::Other` so the
/// fingerprint of the rejected leaf reaches [`classify`].
#[derive(Debug)]
struct Rejected {
    fingerprint: Fingerprint,
    reason: RejectReason,
}

#[derive(Debug)]
enum RejectReason {
    Webpki(CertificateError),
    PinMismatch(Fingerprint),
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            RejectReason::Webpki(e) => write!(f, "{e}"),
            RejectReason::PinMismatch(pin) => write!(f, "certificate does not match pin {pin}"),
        }
    }
}

impl std::error::Error for Rejected {}

impl Rejected {
    fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(self))))
    }

    fn to_tls_error(&self) -> TlsError {
        let fingerprint = self.fingerprint;
        match &self.reason {
            RejectReason::PinMismatch(expected) => TlsError::FingerprintMismatch {
                expected: *expected,
                presented: fingerprint,
            },
            RejectReason::Webpki(e) => match e {
                // A trusted certificate with the issuer's name but another key (e.g. Debian's
                // snakeoil "CN=localhost" found in /etc/ssl/certs) fails with a signature
                // error: for the user that is still an issuer we do not trust.
                CertificateError::UnknownIssuer
                | CertificateError::BadSignature
                | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                    TlsError::IssuerNotTrusted { fingerprint }
                }

                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => TlsError::NameMismatch {
                    expected: server_name_text(expected),
                    presented: presented.iter().map(|n| plain_name(n)).collect(),
                },
                CertificateError::NotValidForName => TlsError::NameMismatch {
                    expected: "the account's server name".into(),
                    presented: Vec::new(),
                },
                CertificateError::ExpiredContext { not_after, .. } => TlsError::Expired {
                    not_after: utc_text(*not_after),
                },
                CertificateError::Expired => TlsError::Expired {
                    not_after: "unknown date".into(),
                },
                CertificateError::NotValidYetContext { not_before, .. } => TlsError::NotYetValid {
                    not_before: utc_text(*not_before),
                },
                CertificateError::NotValidYet => TlsError::NotYetValid {
                    not_before: "unknown date".into(),
                },
                other => TlsError::CertificateRejected {
                    reason: other.to_string(),
                    fingerprint,
                },
            },
        }
    }
}

/// Turns webpki's `DnsName("x")` / `IpAddress(1.2.3.4)` renderings into `x` / `1.2.3.4`.
fn plain_name(name: &str) -> String {
    let inner = name
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|rest| rest.strip_suffix(')'))
        });
    inner.unwrap_or(name).to_owned()
}

fn server_name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC` (proleptic Gregorian).
fn utc_text(time: UnixTime) -> String {
    let secs = time.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The standard WebPKI verifier, with the rejected leaf's fingerprint attached to failures.
#[derive(Debug)]
struct FingerprintingVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for FingerprintingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|err| match err {
                rustls::Error::InvalidCertificate(cert_err) => Rejected {
                    fingerprint: Fingerprint::of(end_entity),
                    reason: RejectReason::Webpki(cert_err),
                }
                .into_rustls(),
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Accepts exactly the leaf certificate with the pinned SHA-256 fingerprint; handshake
/// signatures are still verified against that certificate's public key.
#[derive(Debug)]
struct PinnedVerifier {
    pin: Fingerprint,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = Fingerprint::of(end_entity);
        if presented == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(Rejected {
                fingerprint: presented,
                reason: RejectReason::PinMismatch(self.pin),
            }
            .into_rustls())
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_round_trips_through_text() {
        let fp = Fingerprint::of(b"hello");
        let text = fp.to_string();
        assert_eq!(text.len(), 32 * 3 - 1);
        assert_eq!(text.parse::<Fingerprint>().ok(), Some(fp));
        let bare = text.replace(':', "").to_ascii_lowercase();
        assert_eq!(bare.parse::<Fingerprint>().ok(), Some(fp));
        assert_eq!(
            format!("sha256:{bare}").parse::<Fingerprint>().ok(),
            Some(fp)
        );
    }

    #[test]
    fn bad_pins_are_rejected() {
        assert!(matches!(
            "AB:CD".parse::<Fingerprint>(),
            Err(TlsError::InvalidPin(_))
        ));
        let not_hex = "zz".repeat(32);
        assert!(matches!(
            not_hex.parse::<Fingerprint>(),
            Err(TlsError::InvalidPin(_))
        ));
        assert!(client_config(&TlsTrust::PinnedSha256("nope".into())).is_err());
    }

    #[test]
    fn utc_dates_are_civil() {
        assert_eq!(
            utc_text(UnixTime::since_unix_epoch(std::time::Duration::ZERO)),
            "1970-01-01 00:00:00 UTC"
        );
        // 2000-02-29 12:34:56 UTC
        let leap = UnixTime::since_unix_epoch(std::time::Duration::from_secs(951_827_696));
        assert_eq!(utc_text(leap), "2000-02-29 12:34:56 UTC");
    }

    #[test]
    fn issuer_message_offers_pinning() {
        let err = TlsError::IssuerNotTrusted {
            fingerprint: Fingerprint([0xAB; 32]),
        };
        let text = err.to_string();
        assert!(text.starts_with(
            "certificate issuer not trusted; server certificate SHA-256 fingerprint AB:AB:"
        ));
        assert!(text.ends_with("pin it in the account to trust this server"));
    }
}
