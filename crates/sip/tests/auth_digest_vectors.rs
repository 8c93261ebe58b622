//! Digest responses against published vectors (RFC 2617 §3.5, RFC 7616 §3.9.1) and values
//! computed independently (Python hashlib) for the variants the RFCs give no example of; plus the
//! challenge parser's edge cases.

use dialtone_sip::auth::{authorize, Algorithm, AuthError, Challenge, Credentials, Password};
use dialtone_sip_message::Method;

fn get() -> Method {
    Method::Extension("GET".to_owned())
}

/// Pulls `name=value` (quotes stripped) out of an Authorization value.
fn param(header: &str, name: &str) -> Option<String> {
    let rest = header.strip_prefix("Digest ")?;
    rest.split(", ").find_map(|p| {
        let (n, v) = p.split_once('=')?;
        (n == name).then(|| v.trim_matches('"').to_owned())
    })
}

#[test]
fn rfc2617_mufasa_md5_qop_auth() {
    let ch = Challenge::parse(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    )
    .unwrap();
    let creds = Credentials::new("Mufasa", "Circle Of Life");
    let h = authorize(&ch, &creds, &get(), "/dir/index.html", b"", 1, "0a4f113b");
    assert_eq!(
        param(&h, "response").as_deref(),
        Some("6629fae49393a05397450978507c4ef1")
    );
    assert_eq!(param(&h, "qop").as_deref(), Some("auth"));
    assert_eq!(param(&h, "nc").as_deref(), Some("00000001"));
    assert_eq!(param(&h, "cnonce").as_deref(), Some("0a4f113b"));
    assert_eq!(
        param(&h, "opaque").as_deref(),
        Some("5ccc069c403ebaf9f0171e9517f40e41")
    );
    assert_eq!(param(&h, "uri").as_deref(), Some("/dir/index.html"));
    assert_eq!(param(&h, "username").as_deref(), Some("Mufasa"));
}

const RFC7616_CHALLENGE: &str = r#"Digest
       realm="http-auth@example.org",
       qop="auth, auth-int",
       algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

#[test]
fn rfc7616_mufasa_sha256() {
    let ch = Challenge::parse(RFC7616_CHALLENGE).unwrap();
    assert_eq!(ch.algorithm, Algorithm::Sha256);
    assert_eq!(ch.qop, vec!["auth".to_owned(), "auth-int".to_owned()]);
    let creds = Credentials::new("Mufasa", "Circle of Life");
    let h = authorize(
        &ch,
        &creds,
        &get(),
        "/dir/index.html",
        b"",
        1,
        RFC7616_CNONCE,
    );
    assert_eq!(
        param(&h, "response").as_deref(),
        Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    );
    assert_eq!(param(&h, "algorithm").as_deref(), Some("SHA-256"));
    assert_eq!(
        param(&h, "opaque").as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
}

#[test]
fn rfc7616_mufasa_md5() {
    let mut ch = Challenge::parse(RFC7616_CHALLENGE).unwrap();
    ch.algorithm = Algorithm::Md5;
    let creds = Credentials::new("Mufasa", "Circle of Life");
    let h = authorize(
        &ch,
        &creds,
        &get(),
        "/dir/index.html",
        b"",
        1,
        RFC7616_CNONCE,
    );
    assert_eq!(
        param(&h, "response").as_deref(),
        Some("8ca523f5e9506fed4657c9700eebdbec")
    );
}

#[test]
fn rfc2069_form_without_qop() {
    let ch = Challenge::parse(
        r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    )
    .unwrap();
    let creds = Credentials::new("Mufasa", "CircleOfLife");
    let h = authorize(&ch, &creds, &get(), "/dir/index.html", b"", 1, "unused");
    assert_eq!(
        param(&h, "response").as_deref(),
        Some("1949323746fe6a43ef61f9606e7febea")
    );
    assert_eq!(param(&h, "qop"), None);
    assert_eq!(param(&h, "nc"), None);
    assert_eq!(param(&h, "cnonce"), None);
}

#[test]
fn auth_int_hashes_the_body() {
    let ch =
        Challenge::parse(r#"Digest realm="atlanta.com", nonce="nonce1", qop="auth-int""#).unwrap();
    let creds = Credentials::new("alice", "secret");
    let h = authorize(
        &ch,
        &creds,
        &Method::Invite,
        "sip:bob@biloxi.com",
        b"v=0\r\n",
        42,
        "abc",
    );
    assert_eq!(param(&h, "qop").as_deref(), Some("auth-int"));
    assert_eq!(param(&h, "nc").as_deref(), Some("0000002a"));
    assert_eq!(
        param(&h, "response").as_deref(),
        Some("c3dc2fa74095d4afa1cd1daff5a8a35c")
    );
}

#[test]
fn session_variants() {
    let creds = Credentials::new("alice", "secret");
    for (alg, want) in [
        ("MD5-sess", "ce12186716c34789f381ecad1fb5f3a7"),
        (
            "sha-256-SESS",
            "bcc352771faf3bbc4410123c7885d401021b4bcb092bc32bc0f88779fdd9c525",
        ),
    ] {
        let ch = Challenge::parse(&format!(
            r#"Digest realm="atlanta.com", nonce="nonce1", qop="auth", algorithm={alg}"#
        ))
        .unwrap();
        assert!(ch.algorithm.is_session());
        let h = authorize(
            &ch,
            &creds,
            &Method::Register,
            "sip:atlanta.com",
            b"",
            1,
            "abc",
        );
        assert_eq!(param(&h, "response").as_deref(), Some(want), "{alg}");
    }
}

#[test]
fn quoted_strings_with_escapes_and_unknown_params() {
    let ch = Challenge::parse(
        "digest  realm = \"a \\\"quoted\\\" realm\" ,, nonce=abc/def==,stale=TRUE,\r\n\tfoo=\"bar, baz\", userhash=false, domain=\"sip:x sip:y\"",
    )
    .unwrap();
    assert_eq!(ch.realm, r#"a "quoted" realm"#);
    assert_eq!(ch.nonce, "abc/def==");
    assert!(ch.stale);
    assert_eq!(ch.algorithm, Algorithm::Md5);
    assert!(ch.qop.is_empty());
    assert_eq!(ch.domain.as_deref(), Some("sip:x sip:y"));
    assert_eq!(
        ch.params,
        vec![
            ("foo".to_owned(), "bar, baz".to_owned()),
            ("userhash".to_owned(), "false".to_owned())
        ]
    );
    // The realm comes back escaped in the answer.
    let h = authorize(
        &ch,
        &Credentials::new("a", "b"),
        &Method::Register,
        "sip:x",
        b"",
        1,
        "c",
    );
    assert!(h.contains(r#"realm="a \"quoted\" realm""#), "{h}");
}

#[test]
fn parser_rejections() {
    assert!(matches!(
        Challenge::parse(r#"Basic realm="x""#),
        Err(AuthError::NotDigest { scheme }) if scheme == "Basic"
    ));
    assert_eq!(
        Challenge::parse(r#"Digest realm="x""#),
        Err(AuthError::MissingParam("nonce"))
    );
    assert_eq!(
        Challenge::parse(r#"Digest nonce="x""#),
        Err(AuthError::MissingParam("realm"))
    );
    assert!(matches!(
        Challenge::parse(r#"Digest realm="x", nonce="y", algorithm=SHA-512-256"#),
        Err(AuthError::UnsupportedAlgorithm(a)) if a == "SHA-512-256"
    ));
    assert!(matches!(
        Challenge::parse(r#"Digest realm="x", nonce="y", nonce="z""#),
        Err(AuthError::DuplicateParam(_))
    ));
    for bad in [
        "",
        "   ",
        "Digest realm=\"unterminated",
        "Digest realm=\"x\\",
        "Digest realm",
        "Digest realm=",
        "Digest realm=\"x\" nonce=\"y\"",
        "Digest =x",
        "Digestrealm=x",
    ] {
        assert!(Challenge::parse(bad).is_err(), "{bad:?} should fail");
    }
}

#[test]
fn parser_never_panics_on_prefixes_and_odd_text() {
    let full = "Digest realm=\"réalm \\\"é\\\"\", nonce=\"ñ\", qop=\"auth\", algorithm=SHA-256, x=\"\u{1F600}\"";
    for (i, _) in full.char_indices() {
        let _ = Challenge::parse(&full[..i]);
    }
    assert!(Challenge::parse(full).is_ok());
    for odd in [
        "\"",
        "\\",
        ",,,,",
        "Digest ,",
        "Digest \u{0}",
        "Digest a=\"\\\u{e9}\"",
    ] {
        let _ = Challenge::parse(odd);
    }
}

#[test]
fn password_is_redacted_in_debug() {
    let creds = Credentials::new("alice", "hunter2");
    let dbg = format!("{creds:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(dbg.contains("<redacted>"), "{dbg}");
    assert_eq!(format!("{:?}", Password::new("x")), "<redacted>");
}

#[test]
fn parser_never_panics_on_generated_garbage() {
    // Deterministic xorshift over an alphabet of the characters the grammar cares about.
    let alphabet: Vec<char> = "Digest realm=\"\\,= \t\r\nnoncé😀qop\"auth-int"
        .chars()
        .collect();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..20_000 {
        let mut s = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 48) as usize;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let _ = Challenge::parse(&s);
        let _ = Challenge::parse(&format!("Digest {s}"));
    }
}
