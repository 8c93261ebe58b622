//! A wrong password must end in an error after one answered challenge, not in a 401 loop.

use dialtone_sip::auth::{apply, AuthError, Authenticator, Credentials};
use dialtone_sip_message::{Method, Request, Response, Uri};

fn register() -> Request {
    Request::new(Method::Register, Uri::parse("sip:example.com").unwrap())
}

fn challenge(status: u16, header: &str, nonce: &str) -> Response {
    let mut r = Response::new(status, "Unauthorized");
    r.headers.push(
        header,
        format!(r#"Digest realm="example.com", nonce="{nonce}", qop="auth""#),
    );
    r
}

#[test]
fn same_nonce_back_after_answering_is_rejected() {
    let mut auth = Authenticator::new(Credentials::new("alice", "wrong"));
    let first = register();
    let resp = challenge(401, "WWW-Authenticate", "n1");
    let headers = auth.handle_challenge(&first, &resp, "c1").unwrap();
    assert_eq!(headers.len(), 1);

    let mut retry = register();
    apply(&mut retry, &headers);
    assert!(retry.headers.get("Authorization").is_some());
    let err = auth.handle_challenge(&retry, &resp, "c2").unwrap_err();
    assert_eq!(
        err,
        AuthError::Rejected {
            realm: "example.com".to_owned()
        }
    );
    assert!(err.to_string().contains("wrong user name or password"));
}

#[test]
fn fresh_nonce_without_stale_after_answering_is_rejected() {
    // Servers such as Asterisk send a new nonce with every 401.
    let mut auth = Authenticator::new(Credentials::new("alice", "wrong"));
    let headers = auth
        .handle_challenge(&register(), &challenge(401, "WWW-Authenticate", "n1"), "c1")
        .unwrap();
    let mut retry = register();
    apply(&mut retry, &headers);
    let err = auth
        .handle_challenge(&retry, &challenge(401, "WWW-Authenticate", "n2"), "c2")
        .unwrap_err();
    assert!(matches!(err, AuthError::Rejected { .. }));
}

#[test]
fn proxy_challenge_then_rejection() {
    let mut auth = Authenticator::new(Credentials::new("alice", "wrong"));
    let invite = Request::new(Method::Invite, Uri::parse("sip:bob@example.com").unwrap());
    let resp = challenge(407, "Proxy-Authenticate", "p1");
    let headers = auth.handle_challenge(&invite, &resp, "c1").unwrap();
    assert_eq!(headers[0].name, "Proxy-Authorization");
    let mut retry = invite.clone();
    apply(&mut retry, &headers);
    assert!(retry.headers.get("Authorization").is_none());
    assert!(matches!(
        auth.handle_challenge(&retry, &resp, "c2"),
        Err(AuthError::Rejected { .. })
    ));
}

#[test]
fn forgotten_cached_nonce_gets_one_more_try() {
    let mut auth = Authenticator::new(Credentials::new("alice", "pw"));
    let headers = auth
        .handle_challenge(&register(), &challenge(401, "WWW-Authenticate", "n1"), "c1")
        .unwrap();
    let mut first = register();
    apply(&mut first, &headers); // nc=1, accepted by the server (200, not shown)

    // A refresh re-uses the nonce pre-emptively with nc=2.
    let mut refresh = register();
    auth.authorize(&mut refresh, "c2");
    let value = refresh.headers.get("Authorization").unwrap().to_owned();
    assert!(value.contains("nc=00000002"), "{value}");

    // The server restarted and forgot n1; it challenges without stale. One retry is fine...
    let headers = auth
        .handle_challenge(&refresh, &challenge(401, "WWW-Authenticate", "n2"), "c3")
        .unwrap();
    assert!(headers[0].value.contains("nc=00000001"));
    let mut retry = register();
    apply(&mut retry, &headers);
    // ...but a challenge to that answer means the password is wrong.
    assert!(matches!(
        auth.handle_challenge(&retry, &challenge(401, "WWW-Authenticate", "n3"), "c4"),
        Err(AuthError::Rejected { .. })
    ));
}

#[test]
fn response_without_challenge_is_an_error() {
    let mut auth = Authenticator::new(Credentials::new("alice", "pw"));
    let resp = Response::new(401, "Unauthorized");
    assert_eq!(
        auth.handle_challenge(&register(), &resp, "c"),
        Err(AuthError::NoChallenge { status: 401 })
    );
    let mut basic = Response::new(401, "Unauthorized");
    basic.headers.push("WWW-Authenticate", r#"Basic realm="x""#);
    assert!(matches!(
        auth.handle_challenge(&register(), &basic, "c"),
        Err(AuthError::NotDigest { .. })
    ));
}
