//! RFC 8760 §2.4: with several challenges the UAC answers the strongest one it supports.

use dialtone_sip::auth::{choose, Algorithm, Authenticator, Challenge, Credentials};
use dialtone_sip_message::{Method, Request, Response, Uri};

fn ch(s: &str) -> Challenge {
    Challenge::parse(s).unwrap()
}

#[test]
fn choose_prefers_sha256_whatever_the_order() {
    let md5 = ch(r#"Digest realm="r", nonce="n1", qop="auth", algorithm=MD5"#);
    let sha = ch(r#"Digest realm="r", nonce="n2", qop="auth", algorithm=SHA-256"#);
    let list = [md5.clone(), sha.clone()];
    assert_eq!(choose(&list).map(|c| c.algorithm), Some(Algorithm::Sha256));
    let list = [sha, md5.clone()];
    assert_eq!(choose(&list).map(|c| c.algorithm), Some(Algorithm::Sha256));
    assert_eq!(choose(&[md5]).map(|c| c.algorithm), Some(Algorithm::Md5));
    assert!(choose(&[]).is_none());
}

#[test]
fn choose_skips_challenges_with_only_unknown_qop() {
    let odd = ch(r#"Digest realm="r", nonce="n1", qop="auth-conf", algorithm=SHA-256"#);
    let md5 = ch(r#"Digest realm="r", nonce="n2", qop="auth""#);
    let list = [odd.clone(), md5];
    assert_eq!(choose(&list).map(|c| c.nonce.as_str()), Some("n2"));
    assert!(choose(&[odd]).is_none());
}

#[test]
fn authenticator_answers_the_sha256_header_of_a_401() {
    let mut req = Request::new(Method::Register, Uri::parse("sip:example.com").unwrap());
    req.headers.push("Call-ID", "c1");
    let mut resp = Response::new(401, "Unauthorized");
    resp.headers.push(
        "WWW-Authenticate",
        r#"Digest realm="example.com", nonce="md5nonce", qop="auth", algorithm=MD5"#,
    );
    resp.headers.push(
        "WWW-Authenticate",
        r#"Digest realm="example.com", nonce="shanonce", qop="auth", algorithm=SHA-256"#,
    );
    resp.headers
        .push("WWW-Authenticate", r#"Basic realm="example.com""#);
    let mut auth = Authenticator::new(Credentials::new("alice", "pw"));
    let headers = auth.handle_challenge(&req, &resp, "cn").unwrap();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].name, "Authorization");
    assert!(headers[0].value.contains(r#"nonce="shanonce""#));
    assert!(headers[0].value.contains("algorithm=SHA-256"));
}
