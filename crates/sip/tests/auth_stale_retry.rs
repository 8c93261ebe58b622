//! `stale=true` (RFC 2617 §3.2.1): the credentials were right, the nonce expired; retry once with
//! the new nonce without failing.

use dialtone_sip::auth::{apply, AuthError, Authenticator, Credentials};
use dialtone_sip_message::{Method, Request, Response, Uri};

fn register() -> Request {
    Request::new(Method::Register, Uri::parse("sip:example.com").unwrap())
}

fn challenge(nonce: &str, stale: bool) -> Response {
    let mut r = Response::new(401, "Unauthorized");
    let stale = if stale { ", stale=true" } else { "" };
    r.headers.push(
        "WWW-Authenticate",
        format!(r#"Digest realm="example.com", nonce="{nonce}", qop="auth"{stale}"#),
    );
    r
}

#[test]
fn stale_challenge_is_answered_with_the_new_nonce() {
    let mut auth = Authenticator::new(Credentials::new("alice", "pw"));
    let headers = auth
        .handle_challenge(&register(), &challenge("n1", false), "c1")
        .unwrap();
    let mut answered = register();
    apply(&mut answered, &headers);

    let headers = auth
        .handle_challenge(&answered, &challenge("n2", true), "c2")
        .unwrap();
    assert!(headers[0].value.contains(r#"nonce="n2""#));
    assert!(headers[0].value.contains("nc=00000001"));
}

#[test]
fn stale_with_the_same_nonce_is_still_a_retry() {
    let mut auth = Authenticator::new(Credentials::new("alice", "pw"));
    let headers = auth
        .handle_challenge(&register(), &challenge("n1", false), "c1")
        .unwrap();
    let mut answered = register();
    apply(&mut answered, &headers);
    assert!(auth
        .handle_challenge(&answered, &challenge("n1", true), "c2")
        .is_ok());
}

#[test]
fn stale_answer_declared_stale_again_stops() {
    let mut auth = Authenticator::new(Credentials::new("alice", "pw"));
    let headers = auth
        .handle_challenge(&register(), &challenge("n1", false), "c1")
        .unwrap();
    let mut answered = register();
    apply(&mut answered, &headers);
    let headers = auth
        .handle_challenge(&answered, &challenge("n2", true), "c2")
        .unwrap();
    let mut retried = register();
    apply(&mut retried, &headers);
    assert_eq!(
        auth.handle_challenge(&retried, &challenge("n3", true), "c3"),
        Err(AuthError::StaleLoop {
            realm: "example.com".to_owned()
        })
    );
}

#[test]
fn stale_on_a_refresh_after_success_is_answered() {
    let mut auth = Authenticator::new(Credentials::new("alice", "pw"));
    let headers = auth
        .handle_challenge(&register(), &challenge("n1", true), "c1")
        .unwrap();
    let mut first = register();
    apply(&mut first, &headers); // accepted
    let mut refresh = register();
    auth.authorize(&mut refresh, "c2"); // nc=2 on a nonce that had come stale: fine
    assert!(auth
        .handle_challenge(&refresh, &challenge("n2", true), "c3")
        .is_ok());
}
