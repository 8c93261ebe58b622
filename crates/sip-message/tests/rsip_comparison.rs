//! Measures rsip 0.4 against our parser on the 13 valid messages of RFC 4475 §3.1.1
//! (the numbers quoted in docs/sip-message.md). Ours must accept all 13; rsip's
//! count is printed, not asserted. Run with `--nocapture` to see the table.

use std::path::PathBuf;

use dialtone_sip_message::Message;
use rsip::headers::ToTypedHeader;
use rsip::message::HeadersExt;

/// This package's directory: `cargo test` sets it when running the test (a binary reused from a checkout elsewhere
/// would otherwise look in that checkout); the compile-time value when run by hand.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

const VALID: [&str; 13] = [
    "wsinv",
    "intmeth",
    "esc01",
    "escnull",
    "esc02",
    "lwsdisp",
    "longreq",
    "dblreq",
    "semiuri",
    "transports",
    "mpart01",
    "unreason",
    "noreason",
];

fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("DIALTONE_RFC4475_DIR") {
        return PathBuf::from(dir);
    }
    let manifest = manifest_dir();
    [
        manifest.join("../../../shared/corpora/rfc4475"),
        manifest.join("../../shared/corpora/rfc4475"),
        PathBuf::from("/work/shared/corpora/rfc4475"),
    ]
    .into_iter()
    .find(|p| p.join("wsinv.dat").is_file())
    .expect("RFC 4475 corpus not found; set DIALTONE_RFC4475_DIR")
}

/// rsip's verdict: `Ok(())` when the message parses and its Via, From, To, Call-ID
/// and CSeq convert to rsip's typed headers; otherwise which step failed.
fn rsip_verdict(bytes: &[u8]) -> Result<(), String> {
    let msg = rsip::SipMessage::try_from(bytes).map_err(|e| format!("parse: {e}"))?;
    msg.via_header()
        .and_then(|h| h.typed().map(|_| ()))
        .map_err(|e| format!("Via: {e}"))?;
    msg.from_header()
        .and_then(|h| h.typed().map(|_| ()))
        .map_err(|e| format!("From: {e}"))?;
    msg.to_header()
        .and_then(|h| h.typed().map(|_| ()))
        .map_err(|e| format!("To: {e}"))?;
    msg.call_id_header().map_err(|e| format!("Call-ID: {e}"))?;
    msg.cseq_header()
        .and_then(|h| h.typed().map(|_| ()))
        .map_err(|e| format!("CSeq: {e}"))?;
    Ok(())
}

/// Ours: parse plus the same typed headers.
fn our_verdict(bytes: &[u8]) -> Result<(), String> {
    let m = Message::parse(bytes).map_err(|e| format!("parse: {e}"))?;
    m.vias().map_err(|e| format!("Via: {e}"))?;
    m.from().map_err(|e| format!("From: {e}"))?;
    m.to().map_err(|e| format!("To: {e}"))?;
    m.call_id().map_err(|e| format!("Call-ID: {e}"))?;
    m.cseq().map_err(|e| format!("CSeq: {e}"))?;
    Ok(())
}

/// rsip's errors embed the whole message; keep the first 100 characters of line one.
fn first_line(e: &str) -> String {
    e.lines().next().unwrap_or("").chars().take(100).collect()
}

#[test]
fn rsip_vs_ours_on_valid_rfc4475_messages() {
    let dir = corpus_dir();
    let (mut ours_ok, mut rsip_parse_ok, mut rsip_typed_ok) = (0, 0, 0);
    println!("{:<12} {:<8} rsip", "message", "ours");
    for name in VALID {
        let bytes = std::fs::read(dir.join(format!("{name}.dat"))).expect("corpus file");
        let ours = our_verdict(&bytes);
        // rsip must not be able to take the test down: a panic counts as a rejection.
        let theirs = std::panic::catch_unwind(|| rsip_verdict(&bytes))
            .unwrap_or_else(|_| Err("panicked".to_string()));
        if rsip::SipMessage::try_from(bytes.as_slice()).is_ok() {
            rsip_parse_ok += 1;
        }
        ours_ok += usize::from(ours.is_ok());
        rsip_typed_ok += usize::from(theirs.is_ok());
        println!(
            "{name:<12} {:<8} {}",
            if ours.is_ok() { "ok" } else { "REJECT" },
            match &theirs {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("reject ({})", first_line(e)),
            }
        );
        assert!(ours.is_ok(), "{name}: {ours:?}");
    }
    println!(
        "accepted: ours {ours_ok}/13; rsip {rsip_parse_ok}/13 parsed, {rsip_typed_ok}/13 with typed Via/From/To/Call-ID/CSeq"
    );
    assert_eq!(ours_ok, 13);
}
