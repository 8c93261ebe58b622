//! Checking MD5 digest credentials (RFC 2617 §3.2.2, RFC 3261 §22.4) found in a peer's trace,
//! for peers that cannot check them themselves (SIPp 3.6.1 ignores Proxy-Authorization).

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
}
