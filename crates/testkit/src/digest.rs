//! MD5 digest credentials for tests (RFC 2617 §3.2.2, RFC 3261 §22.4): checking what a peer's
//! trace shows (SIPp 3.6.1 ignores Proxy-Authorization) and answering a challenge from a raw
//! test client.

use md5::{Digest, Md5};

/// The value of parameter `name` in a Digest credentials header value (quotes removed).
pub fn param(credentials: &str, name: &str) -> Option<String> {
    let body = credentials
        .trim()
        .strip_prefix("Digest")
        .unwrap_or(credentials);
    split_params(body).into_iter().find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Splits on commas outside quoted strings.
fn split_params(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in body.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The expected `response` for `credentials` (an Authorization / Proxy-Authorization value)
/// on a request with `method`, given `password` (MD5, qop absent or `auth`).
pub fn expected_md5_response(credentials: &str, method: &str, password: &str) -> Option<String> {
    let user = param(credentials, "username")?;
    let realm = param(credentials, "realm")?;
    let nonce = param(credentials, "nonce")?;
    let uri = param(credentials, "uri")?;
    let ha1 = md5_hex(&format!("{user}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    match param(credentials, "qop") {
        Some(qop) if qop.eq_ignore_ascii_case("auth") => {
            let nc = param(credentials, "nc")?;
            let cnonce = param(credentials, "cnonce")?;
            Some(md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")))
        }
        Some(_) => None,
        None => Some(md5_hex(&format!("{ha1}:{nonce}:{ha2}"))),
    }
}

/// Whether `credentials` carry the right MD5 `response` for `method` and `password`.
pub fn verify_md5(credentials: &str, method: &str, password: &str) -> bool {
    match (
        expected_md5_response(credentials, method, password),
        param(credentials, "response"),
    ) {
        (Some(expected), Some(given)) => expected.eq_ignore_ascii_case(&given),
        _ => false,
    }
}

/// Credentials answering an MD5 `challenge` (a WWW-/Proxy-Authenticate value) for a request
/// with `method` and Request-URI `uri` (RFC 2617 §3.2.2; qop `auth` when offered, nc 1).
/// Returns `None` if the challenge lacks a realm or nonce or asks for another algorithm.
pub fn md5_credentials(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
) -> Option<String> {
    let realm = param(challenge, "realm")?;
    let nonce = param(challenge, "nonce")?;
    if param(challenge, "algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
        return None;
    }
    let mut credentials =
        format!("Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5");
    let offers_auth = param(challenge, "qop")
        .is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
    if offers_auth {
        credentials.push_str(", qop=auth, nc=00000001, cnonce=\"dialtone0test\"");
    }
    if let Some(opaque) = param(challenge, "opaque") {
        credentials.push_str(&format!(", opaque=\"{opaque}\""));
    }
    let response = expected_md5_response(&credentials, method, password)?;
    credentials.push_str(&format!(", response=\"{response}\""));
    Some(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5's example (qop=auth), with the SIP-style method.
    #[test]
    fn rfc2617_example_verifies() {
        let credentials = r#"Digest username="Mufasa", realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth,
            nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1",
            opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        assert!(verify_md5(credentials, "GET", "Circle Of Life"));
        assert!(!verify_md5(credentials, "GET", "circle of life"));
        assert!(!verify_md5(credentials, "POST", "Circle Of Life"));
    }

    #[test]
    fn built_credentials_verify() {
        for challenge in [
            r#"Digest realm="127.0.0.1", nonce="abc", qop="auth""#,
            r#"Digest realm="127.0.0.1", nonce="abc", opaque="xyz""#,
        ] {
            let credentials =
                md5_credentials(challenge, "REGISTER", "sip:127.0.0.1", "alice", "pw").unwrap();
            assert!(verify_md5(&credentials, "REGISTER", "pw"), "{credentials}");
            assert!(!verify_md5(&credentials, "REGISTER", "other"));
        }
        assert!(md5_credentials(
            r#"Digest realm="r", nonce="n", algorithm=SHA-256"#,
            "REGISTER",
            "sip:x",
            "a",
            "b"
        )
        .is_none());
    }
}
