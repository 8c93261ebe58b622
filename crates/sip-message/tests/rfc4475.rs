//! RFC 4475 torture messages, one test per message (plus `test.dat`).
//!
//! The corpus lives outside the repository (`shared/corpora/rfc4475`); it is looked up
//! via `DIALTONE_RFC4475_DIR`, then relative to this crate. A missing corpus fails.
//!
//! Valid messages must parse, serialize and re-parse to an equivalent message.
//! Invalid ones must yield the response code the RFC names, either from
//! `Message::parse` (via `ParseError::response`) or from `validate_request` with the
//! default `UasPolicy`; malformed responses must be discarded (`response() == None`).

use std::path::PathBuf;

use dialtone_sip_message::{
    same_name, validate_request, validate_response, Message, Method, ParseError, Rejection,
    Request, Response, Scheme, UasPolicy,
};

/// This package's directory: `cargo test` sets it when running the test (a binary reused from a checkout elsewhere
/// would otherwise look in that checkout); the compile-time value when run by hand.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("DIALTONE_RFC4475_DIR") {
        let p = PathBuf::from(dir);
        assert!(
            p.join("wsinv.dat").is_file(),
            "DIALTONE_RFC4475_DIR={} has no wsinv.dat",
            p.display()
        );
        return p;
    }
    let manifest = manifest_dir();
    let candidates = [
        manifest.join("../../../shared/corpora/rfc4475"),
        manifest.join("../../shared/corpora/rfc4475"),
        PathBuf::from("/work/shared/corpora/rfc4475"),
    ];
    for c in &candidates {
        if c.join("wsinv.dat").is_file() {
            return c.clone();
        }
    }
    panic!(
        "RFC 4475 corpus not found (tried {candidates:?}); set DIALTONE_RFC4475_DIR to the \
         directory holding the .dat files"
    );
}

fn load(name: &str) -> Vec<u8> {
    let path = corpus_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn parse(name: &str) -> Message {
    Message::parse(&load(name)).unwrap_or_else(|e| panic!("{name} must parse: {e}"))
}

fn request(name: &str) -> Request {
    match parse(name) {
        Message::Request(r) => r,
        Message::Response(_) => panic!("{name} should be a request"),
    }
}

fn response(name: &str) -> Response {
    match parse(name) {
        Message::Response(r) => r,
        Message::Request(_) => panic!("{name} should be a response"),
    }
}

fn parse_error(name: &str) -> ParseError {
    match Message::parse(&load(name)) {
        Ok(m) => panic!("{name} must not parse, got {m:?}"),
        Err(e) => e,
    }
}

/// The parse fails and a UAS is told to answer `status`.
fn expect_parse_reply(name: &str, status: u16) -> ParseError {
    let e = parse_error(name);
    assert_eq!(
        e.response().map(|r| r.0),
        Some(status),
        "{name}: wrong reply for {e}"
    );
    e
}

/// The message parses, `validate_request` (default policy) rejects with `status`.
fn expect_rejection(name: &str, status: u16) -> Rejection {
    let req = request(name);
    match validate_request(&req, &UasPolicy::default()) {
        Ok(()) => panic!("{name}: validate_request accepted, expected {status}"),
        Err(r) => {
            assert_eq!(r.status, status, "{name}: got {r}");
            r
        }
    }
}

fn expect_accepted(name: &str) -> Request {
    let req = request(name);
    if let Err(r) = validate_request(&req, &UasPolicy::default()) {
        panic!("{name}: validate_request rejected with {r}");
    }
    req
}

/// Headers except Content-Length, with compact names expanded and lower-cased.
fn header_semantics(m: &Message) -> Vec<(String, String)> {
    let headers = match m {
        Message::Request(r) => &r.headers,
        Message::Response(r) => &r.headers,
    };
    headers
        .iter()
        .filter(|(n, _)| !same_name(n, "Content-Length"))
        .map(|(n, v)| {
            (
                dialtone_sip_message::canonical_name(n).to_ascii_lowercase(),
                v.to_string(),
            )
        })
        .collect()
}

/// Serialize, re-parse and compare start line, headers, typed views and body.
fn assert_round_trip(name: &str, original: &Message) -> Message {
    let bytes = original.to_bytes();
    let again = Message::parse(&bytes).unwrap_or_else(|e| {
        panic!(
            "{name}: re-serialized message does not parse: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        )
    });
    match (original, &again) {
        (Message::Request(a), Message::Request(b)) => {
            assert_eq!(a.method, b.method, "{name}: method");
            assert_eq!(a.uri, b.uri, "{name}: Request-URI");
            assert_eq!(a.uri.to_string(), b.uri.to_string(), "{name}: URI text");
        }
        (Message::Response(a), Message::Response(b)) => {
            assert_eq!(a.status, b.status, "{name}: status");
            assert_eq!(a.reason, b.reason, "{name}: reason");
        }
        _ => panic!("{name}: message kind changed"),
    }
    assert_eq!(
        header_semantics(original),
        header_semantics(&again),
        "{name}: headers"
    );
    assert_eq!(original.body(), again.body(), "{name}: body");
    // Typed views agree wherever they parse.
    assert_eq!(
        original.vias().ok(),
        again.vias().ok(),
        "{name}: Via entries"
    );
    assert_eq!(original.from().ok(), again.from().ok(), "{name}: From");
    assert_eq!(original.to().ok(), again.to().ok(), "{name}: To");
    assert_eq!(original.cseq().ok(), again.cseq().ok(), "{name}: CSeq");
    assert_eq!(
        original.contacts().ok(),
        again.contacts().ok(),
        "{name}: Contact"
    );
    assert_eq!(original.routes().ok(), again.routes().ok(), "{name}: Route");
    // A second round is byte-identical (serialization is canonical).
    assert_eq!(again.to_bytes(), bytes, "{name}: serialization not stable");
    again
}

/// Valid message: parses, round-trips, and all typed views parse.
fn valid(name: &str) -> Message {
    let m = parse(name);
    assert_round_trip(name, &m);
    m.vias().unwrap_or_else(|e| panic!("{name}: Via: {e}"));
    m.from().unwrap_or_else(|e| panic!("{name}: From: {e}"));
    m.to().unwrap_or_else(|e| panic!("{name}: To: {e}"));
    m.call_id()
        .unwrap_or_else(|e| panic!("{name}: Call-ID: {e}"));
    m.cseq().unwrap_or_else(|e| panic!("{name}: CSeq: {e}"));
    m.contacts()
        .unwrap_or_else(|e| panic!("{name}: Contact: {e}"));
    m.routes().unwrap_or_else(|e| panic!("{name}: Route: {e}"));
    m
}

fn req_of(m: Message) -> Request {
    match m {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

fn resp_of(m: Message) -> Response {
    match m {
        Message::Response(r) => r,
        Message::Request(_) => panic!("expected a response"),
    }
}

// ---------------------------------------------------------------------------
// §3.1.1 Valid messages
// ---------------------------------------------------------------------------

/// §3.1.1.1 A Short Tortuous INVITE.
#[test]
fn wsinv() {
    let req = req_of(valid("wsinv.dat"));
    assert_eq!(req.method, Method::Invite);
    assert_eq!(req.uri.host, "chair-dnrc.example.com");
    assert_eq!(req.uri.param("unknownparam"), Some(None));
    let to = req.to().unwrap();
    assert_eq!(to.tag(), Some("1918181833n"));
    assert_eq!(to.display_name, None);
    let from = req.from().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(req.max_forwards().unwrap(), Some(68));
    let cseq = req.cseq().unwrap();
    assert_eq!((cseq.seq, &cseq.method), (9, &Method::Invite));
    let vias = req.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(
        (
            vias[0].transport.as_str(),
            vias[0].host.as_str(),
            vias[0].branch()
        ),
        ("UDP", "192.0.2.2", Some("390skdjuw"))
    );
    assert_eq!(
        (
            vias[1].transport.as_str(),
            vias[1].host.as_str(),
            vias[1].branch()
        ),
        ("TCP", "spindle.example.com", Some("z9hG4bK9ikj8"))
    );
    assert_eq!(
        (
            vias[2].transport.as_str(),
            vias[2].host.as_str(),
            vias[2].branch()
        ),
        ("UDP", "192.168.255.111", Some("z9hG4bK30239"))
    );
    assert_eq!(req.headers.get("Subject"), Some(""));
    assert_eq!(
        req.headers.get("newfangledheader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(
        req.headers.get("UnknownHeaderWithUnusualValue"),
        Some(";;,,;;,;")
    );
    let routes = req.routes().unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].uri.param("lr"), Some(None));
    assert_eq!(routes[0].uri.param("unknownwith"), Some(Some("value")));
    let contacts = req.contacts().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        contacts[0].display_name.as_deref(),
        Some("Quoted string \"\"")
    );
    assert_eq!(contacts[0].param("newparam"), Some(Some("newvalue")));
    assert_eq!(contacts[0].param("secondparam"), Some(None));
    assert_eq!(contacts[0].param("q"), Some(Some("0.33")));
    assert_eq!(req.body.len(), 150);
    expect_accepted("wsinv.dat");
}

/// §3.1.1.2 Wide Range of Valid Characters.
#[test]
fn intmeth() {
    let req = req_of(valid("intmeth.dat"));
    let method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(req.method, Method::Extension(method.to_string()));
    assert_eq!(req.cseq().unwrap().method, req.method);
    assert_eq!(
        req.uri.user.as_deref(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        req.uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(req.uri.host, "example.com");
    let to = req.to().unwrap();
    assert_eq!(
        to.display_name.as_deref(),
        Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
    );
    let from = req.from().unwrap();
    assert_eq!(
        from.display_name.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        from.param("fromParam''~+*_!.-%"),
        Some(Some("\"работающий\""))
    );
    assert_eq!(
        req.call_id().unwrap(),
        "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    );
    assert_eq!(
        req.headers.get("extensionHeader-!.%*+_`'~"),
        Some("\u{FEFF}\u{5927}\u{505C}\u{96FB}")
    );
    assert_eq!(
        Message::Request(req.clone())
            .as_request()
            .map(|r| r.to_bytes().len()),
        Some(req.to_bytes().len())
    );
    // Syntactically fine; whether the method is implemented is the UA core's call.
    expect_accepted("intmeth.dat");
}

/// §3.1.1.3 Valid Use of the % Escaping Mechanism.
#[test]
fn esc01() {
    let req = req_of(valid("esc01.dat"));
    assert_eq!(req.uri.user.as_deref(), Some("sips%3Auser%40example.com"));
    assert_eq!(req.uri.host, "example.net");
    assert_eq!(req.to().unwrap().uri.user.as_deref(), Some("%75se%72"));
    assert_eq!(
        req.from().unwrap().uri.user.as_deref(),
        Some("I%20have%20spaces")
    );
    let contact = &req.contacts().unwrap()[0];
    assert_eq!(contact.uri.user.as_deref(), Some("cal%6Cer"));
    assert_eq!(contact.uri.param("%6C%72"), Some(None));
    assert_eq!(contact.uri.param("n%61me"), Some(Some("v%61lue%25%34%31")));
    expect_accepted("esc01.dat");
}

/// §3.1.1.4 Escaped Nulls in URIs.
#[test]
fn escnull() {
    let req = req_of(valid("escnull.dat"));
    assert_eq!(req.to().unwrap().uri.user.as_deref(), Some("null-%00-null"));
    let users: Vec<_> = req
        .contacts()
        .unwrap()
        .into_iter()
        .map(|c| c.uri.user.unwrap_or_default())
        .collect();
    assert_eq!(users, ["%00", "%00%00"]);
    assert!(req.body.is_empty());
}

/// §3.1.1.5 Use of % When It Is Not an Escape.
#[test]
fn esc02() {
    let req = req_of(valid("esc02.dat"));
    assert_eq!(req.method, Method::Extension("RE%47IST%45R".into()));
    assert_ne!(req.method, Method::Register);
    assert_eq!(req.cseq().unwrap().method, req.method);
    assert_eq!(req.to().unwrap().display_name.as_deref(), Some("%Z%45"));
    assert_eq!(
        req.top_via().unwrap().branch(),
        Some("z9hG4bK209%fzsnel234")
    );
    // `C%6Fntact` is an extension header, not Contact.
    assert_eq!(req.contacts().unwrap().len(), 2);
    assert_eq!(
        req.headers.get("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
    expect_accepted("esc02.dat");
}

/// §3.1.1.6 Message with No LWS between Display Name and <.
#[test]
fn lwsdisp() {
    let req = req_of(valid("lwsdisp.dat"));
    let from = req.from().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("caller"));
    assert_eq!(from.uri.user.as_deref(), Some("caller"));
    assert_eq!(from.tag(), Some("323"));
    expect_accepted("lwsdisp.dat");
}

/// §3.1.1.7 Long Values in Header Fields.
#[test]
fn longreq() {
    let req = req_of(valid("longreq.dat"));
    let to = req.to().unwrap();
    assert!(to
        .display_name
        .as_deref()
        .unwrap()
        .contains("extremeextreme"));
    assert_eq!(to.uri.port, Some(6000));
    assert_eq!(to.uri.params.len(), 3);
    assert_eq!(req.from().unwrap().tag().unwrap().len(), 155);
    let vias = req.vias().unwrap();
    assert_eq!(vias.len(), 34);
    assert_eq!(vias[0].host, "sip33.example.com");
    assert_eq!(vias[33].received(), Some("192.0.2.5"));
    assert!(vias[33].branch().unwrap().ends_with("longbranchvalue"));
    assert_eq!(req.body.len(), 150);
    expect_accepted("longreq.dat");
}

/// §3.1.1.8 Extra Trailing Octets in a UDP Datagram.
#[test]
fn dblreq() {
    let req = req_of(valid("dblreq.dat"));
    assert_eq!(req.method, Method::Register);
    assert!(
        req.body.is_empty(),
        "octets after Content-Length: 0 ignored"
    );
    assert_eq!(
        req.call_id().unwrap(),
        "dblreq.0ha0isndaksdj99sdfafnl3lk233412"
    );
    expect_accepted("dblreq.dat");
}

/// §3.1.1.9 Semicolon-Separated Parameters in URI User Part.
#[test]
fn semiuri() {
    let req = req_of(valid("semiuri.dat"));
    assert_eq!(req.uri.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(req.uri.host, "example.com");
    assert!(req.uri.params.is_empty());
    let accept = req.headers.get("Accept").unwrap();
    assert_eq!(accept.split(',').count(), 6);
    expect_accepted("semiuri.dat");
}

/// §3.1.1.10 Varied and Unknown Transport Types.
#[test]
fn transports() {
    let req = req_of(valid("transports.dat"));
    let t: Vec<String> = req
        .vias()
        .unwrap()
        .into_iter()
        .map(|v| v.transport)
        .collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(req.call_id().unwrap(), "transports.kijh4akdnaqjkwendsasfdj");
    expect_accepted("transports.dat");
}

/// §3.1.1.11 Multipart MIME Message.
#[test]
fn mpart01() {
    let req = req_of(valid("mpart01.dat"));
    assert_eq!(req.method, Method::Message);
    assert_eq!(req.body.len(), 553);
    assert!(req.body.starts_with(b"--7a9cbec02ceef655\r\n"));
    assert!(req.body.ends_with(b"--7a9cbec02ceef655--\r\n"));
    assert_eq!(
        req.content_type(),
        Some("multipart/mixed;boundary=7a9cbec02ceef655")
    );
    assert_eq!(req.top_via().unwrap().rport(), Some(None));
}

/// §3.1.1.12 Unusual Reason Phrase.
#[test]
fn unreason() {
    let resp = resp_of(valid("unreason.dat"));
    assert_eq!(resp.status, 200);
    assert!(resp.reason.starts_with("= 2**3 * 5**2 "));
    assert!(resp
        .reason
        .ends_with("\u{43f}\u{440}\u{43e}\u{441}\u{442}\u{43e}\u{435}"));
    assert_eq!(resp.body.len(), 154);
    validate_response(&resp).unwrap();
}

/// §3.1.1.13 Empty Reason Phrase.
#[test]
fn noreason() {
    let resp = resp_of(valid("noreason.dat"));
    assert_eq!(resp.status, 100);
    assert_eq!(resp.reason, "");
    validate_response(&resp).unwrap();
}

// ---------------------------------------------------------------------------
// §3.1.2 Invalid messages
// ---------------------------------------------------------------------------

/// §3.1.2.1 Extraneous Header Field Separators: 400.
#[test]
fn badinv01() {
    let req = request("badinv01.dat");
    assert!(req.vias().is_err());
    assert!(req.contacts().is_err());
    expect_rejection("badinv01.dat", 400);
}

/// §3.1.2.2 Content Length Larger Than Message: on a datagram, 400.
#[test]
fn clerr() {
    let e = expect_parse_reply("clerr.dat", 400);
    assert_eq!(e.kind(), dialtone_sip_message::ErrorKind::ContentLength);
    // Enough context to build the 400 (RFC 3261 §8.2.6).
    let h = e.headers().expect("headers kept for the reply");
    assert!(h.get("Via").is_some() && h.get("CSeq").is_some());
}

/// §3.1.2.3 Negative Content-Length: 400.
#[test]
fn ncl() {
    let e = expect_parse_reply("ncl.dat", 400);
    assert_eq!(e.kind(), dialtone_sip_message::ErrorKind::ContentLength);
}

/// §3.1.2.4 Request Scalar Fields with Overlarge Values: 400 (CSeq).
#[test]
fn scalar02() {
    let req = request("scalar02.dat");
    assert!(req.cseq().is_err(), "CSeq overflows 32 bits");
    assert!(req.max_forwards().is_err(), "Max-Forwards 300 > 255");
    assert_eq!(req.expires(), None, "overlarge Expires treated as absent");
    let contact = &req.contacts().unwrap()[0];
    assert_eq!(contact.param("expires"), Some(Some("280297596632815")));
    expect_rejection("scalar02.dat", 400);
}

/// §3.1.2.5 Response Scalar Fields with Overlarge Values: discard.
#[test]
fn scalarlg() {
    let resp = response("scalarlg.dat");
    assert_eq!(resp.status, 503);
    assert!(resp.cseq().is_err());
    let e = validate_response(&resp).expect_err("must be discarded");
    assert_eq!(e.response(), None);
}

/// §3.1.2.6 Unterminated Quoted String in Display Name: 400.
#[test]
fn quotbal() {
    assert!(request("quotbal.dat").to().is_err());
    expect_rejection("quotbal.dat", 400);
}

/// §3.1.2.7 <> Enclosing Request-URI: 400.
#[test]
fn ltgtruri() {
    expect_parse_reply("ltgtruri.dat", 400);
}

/// §3.1.2.8 Malformed SIP Request-URI (embedded LWS): 400.
#[test]
fn lwsruri() {
    expect_parse_reply("lwsruri.dat", 400);
}

/// §3.1.2.9 Multiple SP Separating Request-Line Elements: 400.
#[test]
fn lwsstart() {
    expect_parse_reply("lwsstart.dat", 400);
}

/// §3.1.2.10 SP Characters at End of Request-Line: 400.
#[test]
fn trws() {
    expect_parse_reply("trws.dat", 400);
}

/// §3.1.2.11 Escaped Headers in SIP Request-URI: we reject with 400.
#[test]
fn escruri() {
    let req = request("escruri.dat");
    assert_eq!(
        req.uri.headers,
        [("Route".to_string(), "%3Csip:example.com%3E".to_string())]
    );
    expect_rejection("escruri.dat", 400);
}

/// §3.1.2.12 Invalid Time Zone in Date Header Field: we reject with 400.
#[test]
fn baddate() {
    expect_rejection("baddate.dat", 400);
}

/// §3.1.2.13 Failure to Enclose name-addr URI in <>: 400.
#[test]
fn regbadct() {
    assert!(request("regbadct.dat").contacts().is_err());
    expect_rejection("regbadct.dat", 400);
}

/// §3.1.2.14 Spaces within addr-spec: 400.
#[test]
fn badaspec() {
    assert!(request("badaspec.dat").to().is_err());
    expect_rejection("badaspec.dat", 400);
}

/// §3.1.2.15 Non-token Characters in Display Name: 400. The archive's file lacks
/// the empty line ending the header section (itself a 400); `variants/baddn.dat`
/// has it and fails on the display name.
#[test]
fn baddn() {
    let e = expect_parse_reply("baddn.dat", 400);
    assert!(e.headers().is_some_and(|h| h.get("Call-ID").is_some()));
    let fixed = Message::parse(&load("variants/baddn.dat")).expect("variant parses");
    let req = req_of(fixed);
    assert!(req.from().is_err() && req.to().is_err());
    let r = validate_request(&req, &UasPolicy::default()).expect_err("400");
    assert_eq!(r.status, 400);
}

/// §3.1.2.16 Unknown Protocol Version: 505.
#[test]
fn badvers() {
    let e = expect_parse_reply("badvers.dat", 505);
    assert_eq!(e.kind(), dialtone_sip_message::ErrorKind::Version);
}

/// §3.1.2.17 Start Line and CSeq Method Mismatch: 400.
#[test]
fn mismatch01() {
    expect_rejection("mismatch01.dat", 400);
}

/// §3.1.2.18 Unknown Method with CSeq Method Mismatch: 501.
#[test]
fn mismatch02() {
    let req = request("mismatch02.dat");
    assert_eq!(req.method, Method::Extension("NEWMETHOD".into()));
    expect_rejection("mismatch02.dat", 501);
}

/// §3.1.2.19 Overlarge Response Code: discard.
#[test]
fn bigcode() {
    let e = parse_error("bigcode.dat");
    assert_eq!(
        e.response(),
        None,
        "a bad response is dropped, never answered"
    );
}

// ---------------------------------------------------------------------------
// §3.2 Transaction layer, §3.3 Application layer, §3.4 Backward compatibility
// ---------------------------------------------------------------------------

/// §3.2.1 Missing Transaction Identifier: parses; the branch is just the cookie.
#[test]
fn badbranch() {
    let req = expect_accepted("badbranch.dat");
    assert_eq!(req.top_via().unwrap().branch(), Some("z9hG4bK"));
    assert_round_trip("badbranch.dat", &Message::Request(req));
}

/// §3.3.1 Missing Required Header Fields: 400.
#[test]
fn insuf() {
    let req = request("insuf.dat");
    assert!(req.to().is_err() && req.from().is_err() && req.call_id().is_err());
    expect_rejection("insuf.dat", 400);
}

/// §3.3.2 Request-URI with Unknown Scheme: 416.
#[test]
fn unkscm() {
    let req = request("unkscm.dat");
    assert_eq!(
        req.uri.scheme,
        Scheme::Other("nobodyKnowsThisScheme".into())
    );
    assert_eq!(req.uri.opaque.as_deref(), Some("totallyopaquecontent"));
    expect_rejection("unkscm.dat", 416);
}

/// §3.3.3 Request-URI with Known but Atypical Scheme: 416 (we serve sip/sips only).
#[test]
fn novelsc() {
    let req = request("novelsc.dat");
    assert_eq!(req.uri.scheme, Scheme::Other("soap.beep".into()));
    assert_eq!(req.uri.to_string(), "soap.beep://192.0.2.103:3002");
    expect_rejection("novelsc.dat", 416);
}

/// §3.3.4 Unknown URI Schemes in Header Fields: the message is valid and its URIs
/// parse (kept opaque); as a REGISTER whose To (the address-of-record) is not a
/// SIP/SIPS URI it is answered 400, as the RFC says a registrar would.
#[test]
fn unksm2() {
    let req = req_of(valid("unksm2.dat"));
    assert_eq!(req.to().unwrap().uri.scheme, Scheme::Other("isbn".into()));
    assert_eq!(req.from().unwrap().uri.scheme, Scheme::Other("http".into()));
    assert_eq!(
        req.contacts().unwrap()[0].uri.to_string(),
        "name:John_Smith"
    );
    let r = expect_rejection("unksm2.dat", 400);
    assert!(r.reason.contains("REGISTER To"), "{}", r.reason);
}

/// §3.3.5 Proxy-Require and Require: 420 listing the Require tags (a UAS ignores
/// Proxy-Require).
#[test]
fn bext01() {
    let r = expect_rejection("bext01.dat", 420);
    assert_eq!(
        r.extra_headers,
        [(
            "Unsupported".to_string(),
            "nothingSupportsThis, nothingSupportsThisEither".to_string()
        )]
    );
}

/// §3.3.6 Unknown Content-Type: 415 with Accept.
#[test]
fn invut() {
    let r = expect_rejection("invut.dat", 415);
    assert!(r
        .extra_headers
        .iter()
        .any(|(n, v)| n == "Accept" && v.contains("application/sdp")));
}

/// §3.3.7 Unknown Authorization Scheme: parses; authentication decides (401).
#[test]
fn regaut01() {
    let req = req_of(valid("regaut01.dat"));
    assert_eq!(
        req.headers.get("authorization"),
        Some("NoOneKnowsThisScheme opaque-data=here")
    );
    expect_accepted("regaut01.dat");
}

/// §3.3.8 Multiple Values in Single Value Required Fields: 400.
#[test]
fn multi01() {
    let req = request("multi01.dat");
    assert!(req.call_id().is_err() && req.cseq().is_err());
    assert!(req.to().is_err() && req.from().is_err());
    expect_rejection("multi01.dat", 400);
}

/// §3.3.9 Multiple Content-Length Values: 400.
#[test]
fn mcl01() {
    let e = expect_parse_reply("mcl01.dat", 400);
    assert_eq!(e.kind(), dialtone_sip_message::ErrorKind::ContentLength);
}

/// §3.3.10 200 OK Response with Broadcast Via Header Field Value: parses; the
/// transaction layer only uses the top Via.
#[test]
fn bcast() {
    let resp = resp_of(valid("bcast.dat"));
    let vias = resp.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].host, "192.0.2.198");
    assert_eq!(vias[1].host, "255.255.255.255");
    validate_response(&resp).unwrap();
}

/// §3.3.11 Max-Forwards of Zero: a UAS may process it.
#[test]
fn zeromf() {
    let req = expect_accepted("zeromf.dat");
    assert_eq!(req.max_forwards().unwrap(), Some(0));
}

/// §3.3.12 REGISTER with a Contact Header Parameter.
#[test]
fn cparam01() {
    let req = req_of(valid("cparam01.dat"));
    let c = &req.contacts().unwrap()[0];
    assert!(c.uri.params.is_empty());
    assert_eq!(c.param("unknownparam"), Some(None));
    assert_eq!(c.uri.user.as_deref(), Some("+19725552222"));
}

/// §3.3.13 REGISTER with a url-parameter.
#[test]
fn cparam02() {
    let req = req_of(valid("cparam02.dat"));
    let c = &req.contacts().unwrap()[0];
    assert_eq!(c.uri.param("unknownparam"), Some(None));
    assert!(c.params.is_empty());
}

/// §3.3.14 REGISTER with a URL Escaped Header: legal inside <>.
#[test]
fn regescrt() {
    let req = req_of(valid("regescrt.dat"));
    let c = &req.contacts().unwrap()[0];
    assert_eq!(
        c.uri.headers,
        [("Route".to_string(), "%3Csip:sip.example.com%3E".to_string())]
    );
}

/// §3.3.15 Unacceptable Accept Offering: 406.
#[test]
fn sdp01() {
    expect_rejection("sdp01.dat", 406);
}

/// §3.4.1 INVITE with RFC 2543 Syntax: handled (no branch, no Max-Forwards, no
/// From tag, no Content-Length: the body is the rest of the datagram).
#[test]
fn inv2543() {
    let req = req_of(valid("inv2543.dat"));
    assert_eq!(req.top_via().unwrap().branch(), None);
    assert_eq!(req.from().unwrap().tag(), None);
    assert_eq!(req.max_forwards().unwrap(), None);
    assert!(req.body.starts_with(b"v=0\r\n"));
    assert!(req.body.ends_with(b"m=audio 49217 RTP/AVP 0\r\n"));
    assert_eq!(
        req.record_routes().unwrap()[0].uri.param("maddr"),
        Some(Some("ss1.example.com"))
    );
    expect_accepted("inv2543.dat");
}

/// `test.dat`, an extra archive member: no SIP-Version, a header without colon.
#[test]
fn test() {
    expect_parse_reply("test.dat", 400);
}

/// Every `.dat` file in the corpus has a test above.
#[test]
fn corpus_is_complete() {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dat"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 50, "49 RFC 4475 messages plus test.dat");
    let source = include_str!("rfc4475.rs");
    for n in names {
        let stem = n.trim_end_matches(".dat");
        assert!(source.contains(&format!("fn {stem}()")), "no test for {n}");
    }
}
