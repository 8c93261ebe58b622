//! Click-to-call links: the `sip:`, `sips:`, `tel:` and `callto:` URLs the OS hands to the app (a link clicked in a
//! browser, `dialtone-app sip:bob@example.com` typed in a shell), read into something [`crate::Phone::call`] accepts.
//!
//! Pure text handling, no I/O, so every rule is unit-tested here and the desktop shell only passes strings through.
//!
//! - `sip:` / `sips:` (RFC 3261 §19.1): parsed as a SIP URI. URI headers (`?Subject=...&Replaces=...`) are dropped: a
//!   link on a web page must not be able to put headers such as `Replaces` (RFC 3891) into our INVITE. A stray `//`
//!   after the scheme (`sip://bob@host`, written by some web pages) is tolerated.
//! - `tel:` (RFC 3966): visual separators (spaces, `-`, `.`, `(`, `)`) are removed, a leading `+` is kept (global
//!   numbers must then be E.164: 1–15 digits, not starting with 0), the `(0)` trunk prefix of written numbers
//!   (`+44 (0)20 7946 0958`) is dropped, `;ext=` is kept apart and other parameters (`phone-context`, `isub`) are
//!   ignored. Percent-escapes (`tel:+1%20555...`, as browsers pass them) are decoded first.
//! - `callto:` (the old NetMeeting/Skype scheme): a number becomes a `tel:` number, `user@host` a `sip:` URI, a bare
//!   name a user at the account's domain. `callto://` is accepted too.
//!
//! Anything else (other schemes, empty addresses, control characters, letters in numbers, over-long input) is a
//! [`DialLinkError`] with a message meant for people, never a panic.

use dialtone_sip_message::{Scheme, Uri};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest link accepted, in bytes (a real one is far shorter; this bounds the work done on garbage).
pub const MAX_LINK_LEN: usize = 2048;

/// Longest local (non-`+`) number accepted, in characters after the separators are removed.
const MAX_LOCAL_DIGITS: usize = 32;

/// The schemes Dialtone registers as the handler for.
pub const SCHEMES: [&str; 4] = ["sip", "sips", "tel", "callto"];

/// What the running app does with a link: call at once, or put the address in the dial field for the user to check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkAction {
    /// Place the call right away (the default).
    #[default]
    Dial,
    /// Fill in the dial field and let the user press Call.
    Prefill,
}

/// The scheme a link was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkScheme {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:`
    Tel,
    /// `callto:`
    Callto,
}

/// Whom a link calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialTarget {
    /// A SIP or SIPS URI, without URI headers.
    Sip(Uri),
    /// A telephone number: `+` and 1–15 digits (E.164), or local digits (with `*` and `#`).
    Tel {
        /// The number without separators, e.g. `+442079460958` or `1234`.
        number: String,
        /// The extension (`;ext=`), digits only, if the link had one.
        extension: Option<String>,
    },
    /// A bare user name (from `callto:name`), called at the account's domain.
    User(String),
}

/// A link that can be called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialLink {
    /// How the link was written.
    pub scheme: LinkScheme,
    /// Whom it calls.
    pub target: DialTarget,
}

impl DialLink {
    /// What to pass to [`crate::Phone::call`] (or to put in the dial field): `sip:bob@example.com`,
    /// `tel:+442079460958`, or a bare user name.
    pub fn call_target(&self) -> String {
        match &self.target {
            DialTarget::Sip(uri) => uri.to_string(),
            DialTarget::Tel { number, .. } => format!("tel:{number}"),
            DialTarget::User(user) => user.clone(),
        }
    }

    /// The extension to dial after the call is answered, if the link named one.
    pub fn extension(&self) -> Option<&str> {
        match &self.target {
            DialTarget::Tel { extension, .. } => extension.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for DialLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.call_target())?;
        if let Some(ext) = self.extension() {
            write!(f, " (extension {ext})")?;
        }
        Ok(())
    }
}

/// Why a link cannot be called. The `Display` text is shown to the user as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialLinkError {
    /// Nothing was given.
    #[error("the link is empty")]
    Empty,
    /// Longer than [`MAX_LINK_LEN`].
    #[error("the link is too long ({len} bytes; at most {MAX_LINK_LEN})")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// It contains control characters (line breaks, NUL...), which no address has.
    #[error("the link contains control characters")]
    ControlCharacter,
    /// There is no `scheme:` at the start.
    #[error("\"{0}\" is not a link (expected sip:, sips:, tel: or callto:)")]
    NotALink(String),
    /// A scheme Dialtone does not call.
    #[error("{0}: links cannot be called (Dialtone handles sip:, sips:, tel: and callto: links)")]
    UnsupportedScheme(String),
    /// The scheme is right but nothing follows it.
    #[error("the {0}: link has no address")]
    NoAddress(&'static str),
    /// A `tel:` (or numeric `callto:`) link whose number is not usable.
    #[error("\"{number}\" is not a telephone number: {why}")]
    BadNumber {
        /// The number as written (decoded).
        number: String,
        /// What is wrong with it.
        why: String,
    },
    /// A `sip:`/`sips:` (or `callto:user@host`) link that is not a valid SIP URI.
    #[error("\"{address}\" is not a valid SIP address: {why}")]
    BadSipAddress {
        /// The address as written.
        address: String,
        /// What the URI parser said.
        why: String,
    },
    /// A `callto:` name that is not a valid SIP user name.
    #[error("\"{name}\" is not a valid user name: {why}")]
    BadUser {
        /// The name as written.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// Percent-escapes that do not decode to UTF-8 text.
    #[error("the link has a broken %-escape")]
    BadEscape,
}

/// Reads one link.
pub fn parse(input: &str) -> Result<DialLink, DialLinkError> {
    if input.len() > MAX_LINK_LEN {
        return Err(DialLinkError::TooLong { len: input.len() });
    }
    let input = input.trim();
    if input.is_empty() {
        return Err(DialLinkError::Empty);
    }
    if input.chars().any(char::is_control) {
        return Err(DialLinkError::ControlCharacter);
    }
    let Some((scheme, rest)) = input.split_once(':') else {
        return Err(DialLinkError::NotALink(input.to_string()));
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(DialLinkError::NotALink(input.to_string()));
    }
    let lower = scheme.to_ascii_lowercase();
    match lower.as_str() {
        "sip" => sip_link(LinkScheme::Sip, "sip", rest),
        "sips" => sip_link(LinkScheme::Sips, "sips", rest),
        "tel" => {
            let rest = percent_decode(rest)?;
            let (number, extension) = tel_number(&rest, "tel")?;
            Ok(DialLink {
                scheme: LinkScheme::Tel,
                target: DialTarget::Tel { number, extension },
            })
        }
        "callto" => callto_link(rest),
        _ => Err(DialLinkError::UnsupportedScheme(lower)),
    }
}

/// The links among a program's arguments (`std::env::args()`: the program itself first, then what the OS or the user
/// passed). Options (`-x`, `--flag`) are not links and are skipped; every other argument is read as one, so a bad one
/// is reported instead of ignored.
pub fn from_args<I, S>(args: I) -> Vec<Result<DialLink, DialLinkError>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    args.into_iter()
        .skip(1)
        .filter(|a| {
            let a = a.as_ref().trim();
            !a.is_empty() && !a.starts_with('-')
        })
        .map(|a| parse(a.as_ref()))
        .collect()
}

fn strip_slashes(rest: &str) -> &str {
    rest.strip_prefix("//").unwrap_or(rest)
}

fn sip_link(scheme: LinkScheme, name: &'static str, rest: &str) -> Result<DialLink, DialLinkError> {
    let rest = strip_slashes(rest).trim();
    // Headers go, whatever they hold: only the address is taken from a link.
    let address = rest.split('?').next().unwrap_or("");
    if address.is_empty() {
        return Err(DialLinkError::NoAddress(name));
    }
    let text = format!("{name}:{address}");
    let mut uri = Uri::parse(&text).map_err(|e| DialLinkError::BadSipAddress {
        address: text.clone(),
        why: e.to_string(),
    })?;
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips) || uri.host.is_empty() {
        return Err(DialLinkError::BadSipAddress {
            address: text,
            why: "it names no host".into(),
        });
    }
    if uri.user.as_deref() == Some("") {
        return Err(DialLinkError::BadSipAddress {
            address: text,
            why: "the user part before @ is empty".into(),
        });
    }
    uri.headers.clear();
    uri.password = None;
    Ok(DialLink {
        scheme,
        target: DialTarget::Sip(uri),
    })
}

fn callto_link(rest: &str) -> Result<DialLink, DialLinkError> {
    let rest = percent_decode(strip_slashes(rest))?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(DialLinkError::NoAddress("callto"));
    }
    let numeric = rest
        .split(';')
        .next()
        .unwrap_or("")
        .chars()
        .all(|c| c.is_ascii_digit() || is_separator(c) || "+*#".contains(c));
    if numeric {
        let (number, extension) = tel_number(rest, "callto")?;
        return Ok(DialLink {
            scheme: LinkScheme::Callto,
            target: DialTarget::Tel { number, extension },
        });
    }
    if rest.contains('@') {
        let link = sip_link(LinkScheme::Callto, "sip", rest)?;
        return Ok(link);
    }
    let name = rest.split(['?', ';']).next().unwrap_or("").trim();
    dialtone_sip::validate::validate_user_part(name).map_err(|e| DialLinkError::BadUser {
        name: name.to_string(),
        why: e.to_string(),
    })?;
    Ok(DialLink {
        scheme: LinkScheme::Callto,
        target: DialTarget::User(name.to_string()),
    })
}

/// RFC 3966 visual separators, plus the spaces people write (not in the RFC, but in every printed number).
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\t' | '-' | '.' | '(' | ')')
}

/// A `tel:` number with its parameters: returns the number without separators and the extension, if any.
fn tel_number(text: &str, scheme: &'static str) -> Result<(String, Option<String>), DialLinkError> {
    let mut parts = text.split(';');
    let written = parts.next().unwrap_or("").trim();
    if written.is_empty() {
        return Err(DialLinkError::NoAddress(scheme));
    }
    let bad = |why: &str| DialLinkError::BadNumber {
        number: written.to_string(),
        why: why.to_string(),
    };
    let mut extension = None;
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if name.trim().eq_ignore_ascii_case("ext") {
            let ext: String = value.chars().filter(|c| !is_separator(*c)).collect();
            if ext.is_empty() || !ext.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad("the extension must be digits"));
            }
            extension = Some(ext);
        }
    }
    let global = written.starts_with('+');
    let body = if global { &written[1..] } else { written };
    // "+44 (0)20 ...": the bracketed trunk 0 is dialled only inside the country, never after the country code.
    let body = if global {
        body.replace("(0)", "")
    } else {
        body.to_string()
    };
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        if is_separator(c) {
            continue;
        }
        if c == '+' {
            return Err(bad("a + may only come first"));
        }
        if c.is_ascii_digit() || (!global && (c == '*' || c == '#')) {
            digits.push(c);
        } else if c.is_alphabetic() {
            return Err(bad("letters are not digits"));
        } else {
            return Err(bad(&format!("'{c}' has no place in a number")));
        }
    }
    if digits.is_empty() {
        return Err(bad("there are no digits"));
    }
    if global {
        if digits.len() > 15 {
            return Err(bad("an international (+) number has at most 15 digits"));
        }
        if digits.starts_with('0') {
            return Err(bad("no country code starts with 0"));
        }
        Ok((format!("+{digits}"), extension))
    } else {
        if digits.len() > MAX_LOCAL_DIGITS {
            return Err(bad("too many digits"));
        }
        Ok((digits, extension))
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8 without control characters.
fn percent_decode(text: &str) -> Result<String, DialLinkError> {
    if !text.contains('%') {
        return Ok(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(DialLinkError::BadEscape)?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).map_err(|_| DialLinkError::BadEscape)?;
    if decoded.chars().any(char::is_control) {
        return Err(DialLinkError::ControlCharacter);
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(link: &str) -> String {
        match parse(link) {
            Ok(l) => l.call_target(),
            Err(e) => panic!("{link:?} was refused: {e}"),
        }
    }

    fn refused(link: &str) -> DialLinkError {
        match parse(link) {
            Ok(l) => panic!("{link:?} was accepted as {l:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn sip_links_keep_the_address() {
        assert_eq!(target("sip:bob@example.com"), "sip:bob@example.com");
        assert_eq!(target("sip:bob@127.0.0.1:5070"), "sip:bob@127.0.0.1:5070");
        assert_eq!(target("SIP:bob@example.com"), "sip:bob@example.com");
        assert_eq!(target("  sip:bob@example.com\n"), "sip:bob@example.com");
        assert_eq!(
            target("sip:bob@example.com;transport=tcp"),
            "sip:bob@example.com;transport=tcp"
        );
        assert_eq!(
            target("sips:carol@pbx.example.org"),
            "sips:carol@pbx.example.org"
        );
        assert_eq!(target("sip:example.com"), "sip:example.com");
        assert_eq!(target("sip:[::1]:5060"), "sip:[::1]:5060");
        assert_eq!(
            target("sip:+15550100@gw.example.com;user=phone"),
            "sip:+15550100@gw.example.com;user=phone"
        );
        assert_eq!(
            parse("sips:carol@x").map(|l| l.scheme),
            Ok(LinkScheme::Sips)
        );
    }

    #[test]
    fn sip_links_lose_their_headers_and_password() {
        assert_eq!(
            target(
                "sip:bob@example.com?Subject=hi&Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2"
            ),
            "sip:bob@example.com"
        );
        assert_eq!(target("sip:bob:secret@example.com"), "sip:bob@example.com");
        assert_eq!(target("sip://bob@example.com"), "sip:bob@example.com");
    }

    #[test]
    fn bad_sip_links_are_refused() {
        assert_eq!(refused("sip:"), DialLinkError::NoAddress("sip"));
        assert_eq!(refused("sip:   "), DialLinkError::NoAddress("sip"));
        assert_eq!(refused("sip:?Subject=x"), DialLinkError::NoAddress("sip"));
        assert!(matches!(
            refused("sip:@example.com"),
            DialLinkError::BadSipAddress { .. }
        ));
        assert!(matches!(
            refused("sip:bob@"),
            DialLinkError::BadSipAddress { .. }
        ));
        assert!(matches!(
            refused("sip:bob@exa mple.com"),
            DialLinkError::BadSipAddress { .. }
        ));
        assert!(matches!(
            refused("sip:bob@host:99999"),
            DialLinkError::BadSipAddress { .. }
        ));
        assert!(matches!(
            refused("sips://"),
            DialLinkError::NoAddress("sips")
        ));
    }

    #[test]
    fn tel_links_lose_their_visual_separators() {
        assert_eq!(target("tel:+1-555-0100"), "tel:+15550100");
        assert_eq!(target("tel:+1 (555) 010-0199"), "tel:+15550100199");
        assert_eq!(target("tel:+49.30.1234567"), "tel:+49301234567");
        assert_eq!(target("TEL:+33 1 23 45 67 89"), "tel:+33123456789");
        assert_eq!(target("tel:+1\u{a0}555\u{a0}0100"), "tel:+15550100");
        assert_eq!(target("tel:(030) 123-456"), "tel:030123456");
        assert_eq!(target("tel:1234"), "tel:1234");
        assert_eq!(target("tel:*31#"), "tel:*31#");
        assert_eq!(target("tel:7042;phone-context=example.com"), "tel:7042");
    }

    #[test]
    fn tel_links_keep_e164_and_drop_the_written_trunk_zero() {
        assert_eq!(target("tel:+44 (0)20 7946 0958"), "tel:+442079460958");
        assert_eq!(target("tel:+442079460958"), "tel:+442079460958");
        // 15 digits is the E.164 maximum.
        assert_eq!(target("tel:+123456789012345"), "tel:+123456789012345");
        assert!(matches!(
            refused("tel:+1234567890123456"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:+0123"),
            DialLinkError::BadNumber { .. }
        ));
    }

    #[test]
    fn tel_links_are_percent_decoded_as_browsers_pass_them() {
        assert_eq!(target("tel:+1%20555%200100"), "tel:+15550100");
        assert_eq!(target("tel:%2B15550100"), "tel:+15550100");
        assert_eq!(refused("tel:+1%2"), DialLinkError::BadEscape);
        assert_eq!(refused("tel:+1%zz"), DialLinkError::BadEscape);
        assert_eq!(refused("tel:+1%ff%fe"), DialLinkError::BadEscape);
        assert_eq!(refused("tel:+1%0a555"), DialLinkError::ControlCharacter);
    }

    #[test]
    fn tel_extensions_are_kept_apart() {
        let link = parse("tel:+1-555-0100;ext=12").expect("parses");
        assert_eq!(link.call_target(), "tel:+15550100");
        assert_eq!(link.extension(), Some("12"));
        assert_eq!(link.to_string(), "tel:+15550100 (extension 12)");
        assert_eq!(
            parse("tel:+15550100;EXT=1-2").map(|l| l.extension().map(str::to_string)),
            Ok(Some("12".into()))
        );
        assert!(matches!(
            refused("tel:+15550100;ext=abc"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:+15550100;ext="),
            DialLinkError::BadNumber { .. }
        ));
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert_eq!(refused("tel:"), DialLinkError::NoAddress("tel"));
        assert_eq!(refused("tel:;ext=1"), DialLinkError::NoAddress("tel"));
        assert!(matches!(refused("tel:+"), DialLinkError::BadNumber { .. }));
        assert!(matches!(
            refused("tel:++15550100"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:+1-800-FLOWERS"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:abc"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:---"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:555+0100"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:+1*555"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:１２３"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused("tel:12/34"),
            DialLinkError::BadNumber { .. }
        ));
        assert!(matches!(
            refused(&format!("tel:{}", "1".repeat(40))),
            DialLinkError::BadNumber { .. }
        ));
    }

    #[test]
    fn callto_becomes_tel_or_sip() {
        assert_eq!(target("callto:+1 555 0100"), "tel:+15550100");
        assert_eq!(target("callto://+15550100"), "tel:+15550100");
        assert_eq!(target("callto:5550100"), "tel:5550100");
        assert_eq!(target("callto:bob@example.com"), "sip:bob@example.com");
        assert_eq!(target("callto://bob@example.com"), "sip:bob@example.com");
        assert_eq!(target("callto:echo123"), "echo123");
        assert_eq!(target("callto:bob%40example.com"), "sip:bob@example.com");
        assert_eq!(
            parse("callto:+15550100").map(|l| l.scheme),
            Ok(LinkScheme::Callto)
        );
        assert_eq!(refused("callto:"), DialLinkError::NoAddress("callto"));
        assert_eq!(refused("callto://"), DialLinkError::NoAddress("callto"));
        assert!(matches!(
            refused("callto:bo b"),
            DialLinkError::BadUser { .. }
        ));
        assert!(matches!(
            refused("callto:@"),
            DialLinkError::BadSipAddress { .. }
        ));
    }

    #[test]
    fn other_schemes_and_garbage_are_refused_with_a_message() {
        assert_eq!(refused(""), DialLinkError::Empty);
        assert_eq!(refused("   "), DialLinkError::Empty);
        assert!(matches!(refused("bob"), DialLinkError::NotALink(_)));
        assert!(matches!(refused(":bob"), DialLinkError::NotALink(_)));
        assert!(matches!(refused("1sip:bob@x"), DialLinkError::NotALink(_)));
        assert!(matches!(refused("+1 555 0100"), DialLinkError::NotALink(_)));
        assert_eq!(
            refused("mailto:bob@example.com"),
            DialLinkError::UnsupportedScheme("mailto".into())
        );
        assert_eq!(
            refused("HTTP://example.com"),
            DialLinkError::UnsupportedScheme("http".into())
        );
        assert_eq!(
            refused("javascript:alert(1)"),
            DialLinkError::UnsupportedScheme("javascript".into())
        );
        assert_eq!(
            refused("sip:bob@x\r\nVia: evil"),
            DialLinkError::ControlCharacter
        );
        assert_eq!(refused("sip:bob\0@x"), DialLinkError::ControlCharacter);
        let long = format!("sip:{}@example.com", "a".repeat(MAX_LINK_LEN));
        assert!(matches!(refused(&long), DialLinkError::TooLong { .. }));
        // Messages are for people: they name what was wrong.
        assert_eq!(
            refused("mailto:bob@example.com").to_string(),
            "mailto: links cannot be called (Dialtone handles sip:, sips:, tel: and callto: links)"
        );
        assert_eq!(
            refused("tel:+1-800-FLOWERS").to_string(),
            "\"+1-800-FLOWERS\" is not a telephone number: letters are not digits"
        );
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            "%",
            "%%",
            "tel:%",
            "tel:%e2%82",
            "sip:%",
            "sip:;;;",
            "sip:@",
            "sip::",
            "sip:[",
            "sip:[::1",
            "sip:bob@[::1",
            "callto:;",
            "callto:?",
            "callto:%00",
            "tel:;;;;",
            "tel:+;ext=",
            "sip:\u{202e}bob@x",
            "tel:+٣٣",
            "sips:bob@x;;=;",
            "sip:bob@x?",
            "callto://@@",
            "tel:((()))",
            "sip:bob@xn--ls8h.la",
            "\u{feff}sip:bob@x",
            "🙂:x",
            "tel:+1;ext=1;ext=2",
            "sip:a@b:0",
            "sip:a@b:-1",
        ];
        for s in samples {
            let _ = parse(s);
        }
        // Every prefix of some long links, byte by byte where it is a char boundary.
        for link in [
            "sip:bob:pw@[2001:db8::1]:5061;transport=tls?X=1",
            "tel:+44 (0)20 7946%200958;ext=12",
        ] {
            for end in (0..=link.len()).filter(|e| link.is_char_boundary(*e)) {
                let _ = parse(&link[..end]);
            }
        }
    }

    #[test]
    fn links_come_from_the_arguments_after_the_program() {
        let found = from_args([
            "/usr/bin/dialtone-app",
            "--automation",
            "sip:bob@127.0.0.1:5062",
            "",
            "mailto:x",
        ]);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].as_ref().map(DialLink::call_target),
            Ok("sip:bob@127.0.0.1:5062".to_string())
        );
        assert!(found[1].is_err());
        assert!(from_args(["dialtone-app"]).is_empty());
        assert!(from_args(Vec::<String>::new()).is_empty());
    }

    #[test]
    fn the_link_action_defaults_to_dial() {
        assert_eq!(LinkAction::default(), LinkAction::Dial);
        assert_eq!(
            serde_json::to_string(&LinkAction::Prefill).ok(),
            Some("\"prefill\"".into())
        );
        assert_eq!(
            serde_json::from_str::<LinkAction>("\"dial\"").ok(),
            Some(LinkAction::Dial)
        );
    }
}
