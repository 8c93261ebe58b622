//! Digest authentication, client side (RFC 3261 §22.4, RFC 2617 §3.2, RFC 7616 §3.4, RFC 8760).
//!
//! A server challenges a request with `401 Unauthorized` + `WWW-Authenticate` (registrars, UASs) or
//! `407 Proxy Authentication Required` + `Proxy-Authenticate` (proxies). The client answers by
//! re-sending the request (new CSeq, same Call-ID) with `Authorization` / `Proxy-Authorization`.
//!
//! - [`Challenge::parse`] reads one challenge (the value of one `*-Authenticate` header). It is
//!   total: any `&str` gives `Ok` or an [`AuthError`], never a panic.
//! - [`choose`] picks the strongest challenge we support (SHA-256 over MD5, RFC 8760 §2.4).
//! - [`authorize`] computes the `Authorization` value for one request.
//! - [`Authenticator`] keeps per-realm state (challenge, nonce count) and enforces "one retry
//!   per challenge", so a wrong password ends in an error instead of a 401 loop.
//!
//! ```
//! use dialtone_sip::auth::{authorize, Challenge, Credentials};
//! use dialtone_sip_message::Method;
//! let ch = Challenge::parse(r#"Digest realm="example.com", nonce="abc", qop="auth""#).unwrap();
//! let creds = Credentials::new("alice", "secret");
//! let value = authorize(&ch, &creds, &Method::Register, "sip:example.com", b"", 1, "0a4f113b");
//! assert!(value.starts_with(r#"Digest username="alice", realm="example.com""#));
//! ```

use std::fmt;

use dialtone_sip_message::{Method, Request, Response};
use md5::Md5;
use sha2::{Digest, Sha256};

/// Why a challenge could not be read or answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The header uses another scheme (e.g. `Basic`); SIP only defines Digest (RFC 3261 §22.4).
    #[error("authentication scheme {scheme:?} is not supported (only Digest)")]
    NotDigest {
        /// The scheme as written.
        scheme: String,
    },
    /// The header is not a well-formed list of auth-params.
    #[error("malformed authentication header at byte {position}: {what}")]
    Malformed {
        /// Byte offset in the header value where reading failed.
        position: usize,
        /// What was expected there.
        what: &'static str,
    },
    /// A mandatory parameter is absent.
    #[error("digest challenge has no {0} parameter")]
    MissingParam(&'static str),
    /// A parameter appears twice (RFC 7616 §3.3: each directive at most once).
    #[error("digest parameter {0:?} appears more than once")]
    DuplicateParam(String),
    /// The algorithm is not one of MD5, MD5-sess, SHA-256, SHA-256-sess.
    #[error("digest algorithm {0:?} is not supported")]
    UnsupportedAlgorithm(String),
    /// A 401/407 carried no challenge we can answer.
    #[error("the {status} response carries no digest challenge we can answer")]
    NoChallenge {
        /// Status code of the response.
        status: u16,
    },
    /// We answered this realm's challenge and the server challenged again without `stale=true`:
    /// the user name or password is wrong (RFC 2617 §3.2.1, `stale`).
    #[error(
        "the server rejected the credentials for realm {realm:?} (wrong user name or password?)"
    )]
    Rejected {
        /// The realm whose credentials were refused.
        realm: String,
    },
    /// The answer to a `stale=true` challenge was itself declared stale: the server's nonces
    /// expire faster than we can use them.
    #[error("the server keeps declaring nonces stale for realm {realm:?}")]
    StaleLoop {
        /// The realm concerned.
        realm: String,
    },
}

/// Digest algorithm (RFC 7616 §3.3, RFC 8760 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (the default when the challenge names none).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 8760).
    Sha256,
    /// `SHA-256-sess` (RFC 8760).
    Sha256Sess,
}

impl Algorithm {
    /// The token as written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Reads an algorithm token, case-insensitively.
    pub fn from_token(token: &str) -> Option<Algorithm> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(token))
    }

    /// Whether this is a `-sess` variant (HA1 also covers nonce and cnonce).
    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Higher is stronger; used by [`choose`].
    fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
        }
    }

    /// Lower-case hex digest of `data`.
    fn hex(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data)),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parsed digest challenge (RFC 7616 §3.3; RFC 3261 §25.1 `digest-cln`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Protection space, shown to users and part of HA1.
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// Opaque data to echo back unchanged.
    pub opaque: Option<String>,
    /// Hash algorithm; `MD5` when absent.
    pub algorithm: Algorithm,
    /// Offered qop values, lower-cased (`auth`, `auth-int`); empty = RFC 2069 compatibility.
    pub qop: Vec<String>,
    /// `stale=true`: the nonce expired but the credentials were good; retry with the new nonce.
    pub stale: bool,
    /// `domain` as written, if any.
    pub domain: Option<String>,
    /// Every other parameter, name as written, value unquoted.
    pub params: Vec<(String, String)>,
}

/// The quality of protection we answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qop {
    Auth,
    AuthInt,
}

impl Challenge {
    /// Parses the value of a `WWW-Authenticate` or `Proxy-Authenticate` header.
    ///
    /// Accepts quoted strings with `\` escapes, LWS (including folded lines) around `=` and `,`,
    /// unquoted values (also for parameters the grammar wants quoted, as real servers send them),
    /// empty list elements, and any parameter order. Rejects other schemes, missing `realm` or
    /// `nonce`, duplicated parameters and unknown algorithms.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let params = parse_digest_params(value)?;
        let mut ch = Challenge {
            realm: String::new(),
            nonce: String::new(),
            opaque: None,
            algorithm: Algorithm::Md5,
            qop: Vec::new(),
            stale: false,
            domain: None,
            params: Vec::new(),
        };
        let (mut realm, mut nonce) = (None, None);
        for (name, value) in params {
            match name.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(value),
                "nonce" => nonce = Some(value),
                "opaque" => ch.opaque = Some(value),
                "algorithm" => {
                    ch.algorithm = Algorithm::from_token(value.trim())
                        .ok_or(AuthError::UnsupportedAlgorithm(value))?
                }
                "qop" => {
                    ch.qop = value
                        .split(',')
                        .map(|q| q.trim().to_ascii_lowercase())
                        .filter(|q| !q.is_empty())
                        .collect()
                }
                "stale" => ch.stale = value.trim().eq_ignore_ascii_case("true"),
                "domain" => ch.domain = Some(value),
                _ => ch.params.push((name, value)),
            }
        }
        ch.realm = realm.ok_or(AuthError::MissingParam("realm"))?;
        ch.nonce = nonce.ok_or(AuthError::MissingParam("nonce"))?;
        Ok(ch)
    }

    /// Whether we can answer this challenge: no qop (RFC 2069 style) or one of ours offered.
    pub fn is_usable(&self) -> bool {
        self.qop.is_empty() || self.chosen_qop().is_some()
    }

    /// `auth` when offered (cheaper, body-independent), else `auth-int`.
    fn chosen_qop(&self) -> Option<Qop> {
        if self.qop.iter().any(|q| q == "auth") {
            Some(Qop::Auth)
        } else if self.qop.iter().any(|q| q == "auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }
}

/// Picks the strongest challenge we can answer: SHA-256 family over MD5 family (RFC 8760 §2.4
/// says a UAC uses the topmost header it supports; servers list the preferred one first, so ties
/// keep the first). Challenges offering only unknown qop values are skipped.
pub fn choose(challenges: &[Challenge]) -> Option<&Challenge> {
    let mut best: Option<&Challenge> = None;
    for ch in challenges.iter().filter(|c| c.is_usable()) {
        let stronger = match best {
            Some(b) => ch.algorithm.strength() > b.algorithm.strength(),
            None => true,
        };
        if stronger {
            best = Some(ch);
        }
    }
    best
}

/// A password that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(secret: impl Into<String>) -> Password {
        Password(secret.into())
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Password {
        Password::new(s)
    }
}

impl From<String> for Password {
    fn from(s: String) -> Password {
        Password(s)
    }
}

/// What we authenticate with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Authentication user name (the "auth name"; may differ from the SIP login).
    pub username: String,
    /// The password; `Debug` prints `<redacted>`.
    pub password: Password,
}

impl Credentials {
    /// Builds credentials.
    pub fn new(username: impl Into<String>, password: impl Into<Password>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

/// Computes the `Authorization` / `Proxy-Authorization` header value answering `ch` for a
/// request (RFC 2617 §3.2.2, RFC 7616 §3.4.1).
///
/// With qop offered we answer `qop=auth` (or `auth-int` when that is all that is offered, hashing
/// `body`) with `nc` (written as 8 hex digits) and `cnonce`. Without qop the RFC 2069 form is
/// used (no `nc`, `cnonce`, `qop`) — except that `-sess` algorithms still send `cnonce`, since
/// their HA1 covers it. A challenge offering only unknown qop values is answered RFC 2069 style;
/// [`choose`] never selects such a challenge.
pub fn authorize(
    ch: &Challenge,
    creds: &Credentials,
    method: &Method,
    uri: &str,
    body: &[u8],
    nc: u32,
    cnonce: &str,
) -> String {
    let alg = ch.algorithm;
    let qop = ch.chosen_qop();
    let nc_hex = format!("{nc:08x}");

    let mut ha1 = alg.hex(
        format!(
            "{}:{}:{}",
            creds.username,
            ch.realm,
            creds.password.expose()
        )
        .as_bytes(),
    );
    if alg.is_session() {
        ha1 = alg.hex(format!("{ha1}:{}:{cnonce}", ch.nonce).as_bytes());
    }
    let ha2 = match qop {
        Some(Qop::AuthInt) => alg.hex(format!("{method}:{uri}:{}", alg.hex(body)).as_bytes()),
        _ => alg.hex(format!("{method}:{uri}").as_bytes()),
    };
    let response = match qop {
        Some(q) => {
            let q = if q == Qop::Auth { "auth" } else { "auth-int" };
            alg.hex(format!("{ha1}:{}:{nc_hex}:{cnonce}:{q}:{ha2}", ch.nonce).as_bytes())
        }
        None => alg.hex(format!("{ha1}:{}:{ha2}", ch.nonce).as_bytes()),
    };

    let mut out = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\", algorithm={alg}",
        quote(&creds.username),
        quote(&ch.realm),
        quote(&ch.nonce),
        quote(uri),
    );
    if qop.is_some() || alg.is_session() {
        out.push_str(&format!(", cnonce={}", quote(cnonce)));
    }
    if let Some(opaque) = &ch.opaque {
        out.push_str(&format!(", opaque={}", quote(opaque)));
    }
    if let Some(q) = qop {
        let q = if q == Qop::Auth { "auth" } else { "auth-int" };
        out.push_str(&format!(", qop={q}, nc={nc_hex}"));
    }
    out
}

/// A header to put on the re-sent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    /// `Authorization` (answers `WWW-Authenticate`) or `Proxy-Authorization`.
    pub name: &'static str,
    /// The header value.
    pub value: String,
}

/// What we know about one realm.
#[derive(Debug, Clone)]
struct RealmState {
    challenge: Challenge,
    /// Answers `Proxy-Authenticate` rather than `WWW-Authenticate`.
    proxy: bool,
    /// Nonce count last used with `challenge.nonce`.
    nc: u32,
}

/// Per-realm digest state for one usage (a registration, a call): answers challenges, reuses
/// nonces with increasing nonce counts, and refuses to loop.
///
/// Retry policy, decided from what the challenged request carried for the challenge's realm:
/// - no credentials for that realm → answer (first challenge);
/// - credentials, new challenge has `stale=true` → answer with the new nonce, once: if the answer
///   to a stale challenge is itself declared stale, [`AuthError::StaleLoop`];
/// - credentials, same nonce, not stale → [`AuthError::Rejected`] (wrong password);
/// - credentials answering a fresh challenge (`nc=1`), new nonce, not stale → also
///   [`AuthError::Rejected`]: many servers send a new nonce with every 401, and RFC 2617 says a
///   non-stale challenge means the credentials are wrong;
/// - credentials re-using a cached nonce (`nc>1`), new nonce, not stale → answer: the server
///   forgot the nonce (restart) without saying stale; if that answer fails, the rule above fires.
#[derive(Debug, Clone)]
pub struct Authenticator {
    credentials: Credentials,
    realms: Vec<RealmState>,
}

impl Authenticator {
    /// An authenticator with no known realm yet.
    pub fn new(credentials: Credentials) -> Authenticator {
        Authenticator {
            credentials,
            realms: Vec::new(),
        }
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Whether a challenge has been accepted for some realm (so requests get pre-emptive
    /// credentials from [`Authenticator::authorize`]).
    pub fn has_realms(&self) -> bool {
        !self.realms.is_empty()
    }

    /// Records the challenges of a 401/407 `response` to `request` and returns the headers the
    /// re-sent request must carry (one per known realm; they replace any such headers on it).
    /// The digest covers `request`'s method, Request-URI and body, so the retry must keep them.
    pub fn handle_challenge(
        &mut self,
        request: &Request,
        response: &Response,
        cnonce: &str,
    ) -> Result<Vec<AuthHeader>, AuthError> {
        let mut offered: Vec<(Challenge, bool)> = Vec::new();
        let mut first_error = None;
        for (name, proxy) in [("WWW-Authenticate", false), ("Proxy-Authenticate", true)] {
            for value in response.headers.get_all(name) {
                match Challenge::parse(value) {
                    Ok(ch) => offered.push((ch, proxy)),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        if offered.is_empty() {
            return Err(first_error.unwrap_or(AuthError::NoChallenge {
                status: response.status,
            }));
        }
        let sent = sent_answers(request);

        // One challenge per (realm, header kind): the strongest usable.
        let mut picked: Vec<(Challenge, bool)> = Vec::new();
        for (ch, proxy) in &offered {
            if picked
                .iter()
                .any(|(p, pp)| p.realm == ch.realm && pp == proxy)
            {
                continue;
            }
            let same: Vec<Challenge> = offered
                .iter()
                .filter(|(c, p)| c.realm == ch.realm && p == proxy)
                .map(|(c, _)| c.clone())
                .collect();
            if let Some(best) = choose(&same) {
                picked.push((best.clone(), *proxy));
            }
        }
        if picked.is_empty() {
            return Err(AuthError::NoChallenge {
                status: response.status,
            });
        }

        for (ch, proxy) in picked {
            let previous = self
                .realms
                .iter()
                .position(|r| r.challenge.realm == ch.realm);
            if let Some(answer) = sent.iter().find(|a| a.realm == ch.realm) {
                if ch.stale {
                    let answered_stale = previous.is_some_and(|i| {
                        let prev = &self.realms[i].challenge;
                        prev.stale && prev.nonce == answer.nonce
                    });
                    if answered_stale && answer.nc <= 1 {
                        return Err(AuthError::StaleLoop { realm: ch.realm });
                    }
                } else if ch.nonce == answer.nonce || answer.nc <= 1 {
                    return Err(AuthError::Rejected { realm: ch.realm });
                }
            }
            let state = RealmState {
                challenge: ch,
                proxy,
                nc: 0,
            };
            match previous {
                Some(i) => self.realms[i] = state,
                None => self.realms.push(state),
            }
        }
        Ok(self.headers_for(
            &request.method,
            &request.uri.to_string(),
            &request.body,
            cnonce,
        ))
    }

    /// Puts credentials for every known realm on `request` (replacing any `Authorization` /
    /// `Proxy-Authorization` it has), incrementing each realm's nonce count. Used for retries and
    /// pre-emptively for later requests of the same usage (e.g. registration refreshes).
    pub fn authorize(&mut self, request: &mut Request, cnonce: &str) {
        let headers = self.headers_for(
            &request.method,
            &request.uri.to_string(),
            &request.body,
            cnonce,
        );
        apply(request, &headers);
    }

    fn headers_for(
        &mut self,
        method: &Method,
        uri: &str,
        body: &[u8],
        cnonce: &str,
    ) -> Vec<AuthHeader> {
        let creds = &self.credentials;
        self.realms
            .iter_mut()
            .map(|r| {
                r.nc = r.nc.wrapping_add(1).max(1);
                AuthHeader {
                    name: if r.proxy {
                        "Proxy-Authorization"
                    } else {
                        "Authorization"
                    },
                    value: authorize(&r.challenge, creds, method, uri, body, r.nc, cnonce),
                }
            })
            .collect()
    }
}

/// Replaces `request`'s `Authorization` / `Proxy-Authorization` headers with `headers`.
pub fn apply(request: &mut Request, headers: &[AuthHeader]) {
    request.headers.remove("Authorization");
    request.headers.remove("Proxy-Authorization");
    for h in headers {
        request.headers.push(h.name, h.value.clone());
    }
}

/// A digest answer found on a request we sent.
struct SentAnswer {
    realm: String,
    nonce: String,
    nc: u32,
}

fn sent_answers(request: &Request) -> Vec<SentAnswer> {
    let mut out = Vec::new();
    for name in ["Authorization", "Proxy-Authorization"] {
        for value in request.headers.get_all(name) {
            let Ok(params) = parse_digest_params(value) else {
                continue;
            };
            let find = |key: &str| {
                params
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.clone())
            };
            if let (Some(realm), Some(nonce)) = (find("realm"), find("nonce")) {
                let nc = find("nc")
                    .and_then(|v| u32::from_str_radix(&v, 16).ok())
                    .unwrap_or(1);
                out.push(SentAnswer { realm, nonce, nc });
            }
        }
    }
    out
}

/// Reads `Digest name=value, name="quoted", ...` into (name, unquoted value) pairs.
fn parse_digest_params(value: &str) -> Result<Vec<(String, String)>, AuthError> {
    let mut cur = Cursor { s: value, pos: 0 };
    cur.skip_lws();
    let scheme = cur.token();
    if scheme.is_empty() {
        return Err(cur.malformed("an authentication scheme"));
    }
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(AuthError::NotDigest {
            scheme: scheme.to_owned(),
        });
    }
    let mut params: Vec<(String, String)> = Vec::new();
    if !cur.at_end() && !cur.skip_lws() {
        return Err(cur.malformed("whitespace after the scheme"));
    }
    loop {
        while cur.eat(',') {
            cur.skip_lws();
        }
        if cur.at_end() {
            break;
        }
        let name = cur.token();
        if name.is_empty() {
            return Err(cur.malformed("a parameter name"));
        }
        cur.skip_lws();
        if !cur.eat('=') {
            return Err(cur.malformed("'=' after a parameter name"));
        }
        cur.skip_lws();
        let value = if cur.peek() == Some('"') {
            cur.quoted_string()?
        } else {
            let v = cur.bare_value();
            if v.is_empty() {
                return Err(cur.malformed("a parameter value"));
            }
            v.to_owned()
        };
        if params.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(AuthError::DuplicateParam(name.to_owned()));
        }
        params.push((name.to_owned(), value));
        cur.skip_lws();
        if cur.at_end() {
            break;
        }
        if !cur.eat(',') {
            return Err(cur.malformed("',' between parameters"));
        }
        cur.skip_lws();
    }
    Ok(params)
}

/// A byte position in a `&str`; only ever advanced by whole chars, so slicing is always on a
/// char boundary.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.rest().is_empty()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, want: char) -> bool {
        if self.peek() == Some(want) {
            self.pos += want.len_utf8();
            true
        } else {
            false
        }
    }

    /// Skips linear white space (SP, HTAB, and CRLF folding); true if anything was skipped.
    fn skip_lws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(' ' | '\t' | '\r' | '\n')) {
            self.bump();
        }
        self.pos != start
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.bump();
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// RFC 3261 §25.1 `token`.
    fn token(&mut self) -> &'a str {
        self.take_while(|c| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c))
    }

    /// An unquoted value: anything up to a comma, whitespace or quote. Wider than `token` because
    /// servers send base64 nonces (`/`, `=`) unquoted.
    fn bare_value(&mut self) -> &'a str {
        self.take_while(|c| !matches!(c, ',' | ' ' | '\t' | '\r' | '\n' | '"'))
    }

    /// RFC 3261 §25.1 `quoted-string`, returning the unescaped content.
    fn quoted_string(&mut self) -> Result<String, AuthError> {
        let open = self.pos;
        self.bump(); // the opening quote, checked by the caller
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(AuthError::Malformed {
                        position: open,
                        what: "a closing '\"' for this quoted string",
                    })
                }
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) => out.push(c),
                    None => return Err(self.malformed("a character after '\\'")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn malformed(&self, what: &'static str) -> AuthError {
        AuthError::Malformed {
            position: self.pos,
            what,
        }
    }
}

/// Writes `s` as a quoted-string, escaping `"` and `\` (RFC 3261 §25.1 `quoted-pair`).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
