//! Digest authentication, server side (RFC 3261 §22.4, RFC 7616 §3.3–§3.5, RFC 8760).
//!
//! The relay challenges with one header per configured algorithm
//! ([`crate::RelayConfig::digest_algorithms`]) that every account supports
//! ([`crate::Users::algorithms`]), in the configured order, all sharing one fresh nonce,
//! `qop="auth"`. The default order is MD5 first: JsSIP and SIP.js read only the first
//! challenge header and give up on anything but MD5, while RFC 8760-aware clients (Dialtone's
//! own included) pick the strongest offered header wherever it stands.
//! A client's credentials are checked in one code path whether or not the user exists: an
//! unknown user is checked against a random HA1 drawn at start-up, so the work done — and the
//! answer given — is the same as for a wrong password (no account enumeration).
//!
//! Outcomes ([`Verdict`]): no credentials for our realm → challenge; wrong response, unknown
//! user or malformed credentials → challenge and count a failure against the source; right
//! response but an expired or foreign nonce, or a nonce count used before → challenge with
//! `stale=true` (the client knows the password and only needs a new nonce, RFC 7616 §3.3).

use std::time::{Duration, Instant};

use dialtone_sip::auth::{Algorithm, Challenge};
use dialtone_sip::random::Random;
use dialtone_sip_message::{Request, Uri};
use md5::Md5;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::hmac::Key;
use crate::nonce::{NonceCheck, Nonces};
use crate::users::{hex, Users};

/// What a request's credentials amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No credentials for our realm: challenge; not a failure.
    Missing,
    /// Valid credentials of this user.
    Valid(String),
    /// The digest was right but the nonce is stale: challenge with `stale=true`.
    Stale,
    /// Wrong password, unknown user or malformed credentials: challenge, count a failure.
    Invalid {
        /// The user name the client claimed, if it named one.
        username: Option<String>,
    },
}

/// The challenge side of digest authentication.
#[derive(Debug)]
pub(crate) struct DigestServer {
    nonces: Nonces,
    /// The configured algorithms, in challenge order.
    preference: Vec<Algorithm>,
    /// HA1 values for users that do not exist: MD5-sized and SHA-256-sized.
    dummy_md5: String,
    dummy_sha256: String,
}

fn hash(algorithm: Algorithm, data: &str) -> String {
    match algorithm {
        Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data.as_bytes())),
        Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data.as_bytes())),
    }
}

/// The algorithms challenges offer, in `preference` order: those every account supports, or
/// all of `preference` when the accounts share none of them (then each account can only use
/// the one it has).
pub(crate) fn offered(users: &Users, preference: &[Algorithm]) -> Vec<Algorithm> {
    let supported = users.algorithms();
    let common: Vec<Algorithm> = preference
        .iter()
        .copied()
        .filter(|a| supported.contains(a))
        .collect();
    if common.is_empty() {
        preference.to_vec()
    } else {
        common
    }
}

impl DigestServer {
    pub(crate) fn new(
        rng: &mut dyn Random,
        epoch: Instant,
        nonce_lifetime: Duration,
        preference: &[Algorithm],
    ) -> DigestServer {
        let key = Key::from_words([
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
        ]);
        let dummy = key.mac(&[b"ha1 of users that do not exist"]);
        DigestServer {
            nonces: Nonces::new(key, epoch, nonce_lifetime),
            preference: preference
                .iter()
                .copied()
                .filter(|a| matches!(a, Algorithm::Md5 | Algorithm::Sha256))
                .collect(),
            dummy_md5: hex(&dummy[..16]),
            dummy_sha256: hex(&dummy),
        }
    }

    /// The values of the `WWW-Authenticate` / `Proxy-Authenticate` headers of a challenge.
    pub(crate) fn challenge(
        &mut self,
        now: Instant,
        rng: &mut dyn Random,
        users: &Users,
        stale: bool,
    ) -> Vec<String> {
        let nonce = self.nonces.issue(now, rng);
        offered(users, &self.preference)
            .into_iter()
            .map(|algorithm| {
                let mut value = format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={algorithm}, qop=\"auth\"",
                    users.realm()
                );
                if stale {
                    value.push_str(", stale=true");
                }
                value
            })
            .collect()
    }

    /// Checks the credentials in the `header` lines (`Authorization` or
    /// `Proxy-Authorization`) of `request` that are meant for our realm.
    pub(crate) fn verify(
        &mut self,
        now: Instant,
        request: &Request,
        header: &str,
        users: &Users,
    ) -> Verdict {
        let mut credentials = None;
        let mut malformed = false;
        for value in request.headers.get_all(header) {
            // The credentials grammar (RFC 3261 §25.1 `digest-response`) is the challenge's
            // auth-param list; `Challenge::parse` reads it and keeps the extra parameters.
            match Challenge::parse(value) {
                Ok(c) if c.realm == users.realm() => {
                    credentials = Some(c);
                    break;
                }
                Ok(_) => {}
                Err(_) => malformed = true,
            }
        }
        let Some(c) = credentials else {
            return if malformed {
                Verdict::Invalid { username: None }
            } else {
                Verdict::Missing
            };
        };
        let param = |name: &str| {
            c.params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let username = param("username").map(str::to_owned);
        let invalid = || Verdict::Invalid {
            username: username.clone(),
        };
        let (Some(user), Some(uri), Some(response), Some(cnonce), Some(nc_text)) = (
            username.as_deref(),
            param("uri"),
            param("response"),
            param("cnonce"),
            param("nc"),
        ) else {
            return invalid();
        };
        let nc = match u32::from_str_radix(nc_text, 16) {
            Ok(nc) if nc_text.len() == 8 && nc > 0 => nc,
            _ => return invalid(),
        };
        if c.qop != ["auth"] || !offered(users, &self.preference).contains(&c.algorithm) {
            return invalid();
        }
        // The digest covers the Request-URI the client wrote; it must be this request's.
        if Uri::parse(uri).ok().as_ref() != Some(&request.uri) {
            return invalid();
        }

        let known = users.ha1(user, c.algorithm);
        let ha1 = known.unwrap_or(match c.algorithm {
            Algorithm::Md5 | Algorithm::Md5Sess => &self.dummy_md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => &self.dummy_sha256,
        });
        let ha2 = hash(c.algorithm, &format!("{}:{uri}", request.method));
        let expected = hash(
            c.algorithm,
            &format!("{ha1}:{}:{nc_text}:{cnonce}:auth:{ha2}", c.nonce),
        );
        let matches: bool = expected
            .as_bytes()
            .ct_eq(response.to_ascii_lowercase().as_bytes())
            .into();
        if !(matches && known.is_some()) {
            return invalid();
        }
        match self.nonces.check(&c.nonce, now) {
            NonceCheck::Fresh(issued) if self.nonces.accept_count(&c.nonce, issued, nc, now) => {
                Verdict::Valid(user.to_owned())
            }
            NonceCheck::Fresh(_) | NonceCheck::Expired | NonceCheck::Unknown => Verdict::Stale,
        }
    }

    /// Forgets nonce counts of expired nonces.
    pub(crate) fn prune(&mut self, now: Instant) {
        self.nonces.prune(now);
    }
}

/// Removes the credentials for `realm` that the relay consumed (RFC 3261 §22.3: a proxy
/// removes its own realm's `Proxy-Authorization` and forwards the others).
pub(crate) fn strip_own_credentials(request: &mut Request, realm: &str) {
    let kept: Vec<String> = request
        .headers
        .get_all("Proxy-Authorization")
        .filter(|value| !matches!(Challenge::parse(value), Ok(c) if c.realm == realm))
        .map(str::to_owned)
        .collect();
    request.headers.remove("Proxy-Authorization");
    for value in kept {
        request.headers.push("Proxy-Authorization", value);
    }
}
