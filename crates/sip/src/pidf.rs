//! A small PIDF (RFC 3863, `application/pidf+xml`) writer and reader for presence: whether a
//! presentity is `open` (reachable) or `closed`, and its free-text note.
//!
//! [`write()`] produces one `<tuple>` with `<status><basic>` and an optional `<note>`, with
//! the entity and note XML-escaped. [`read()`] is a forgiving, non-validating scan, not a full XML
//! parser: it finds the `presence` root (any namespace prefix) and its `entity`, every
//! `<basic>` (open if any tuple is open, RFC 3863 §4.1.4), and the first `<note>` anywhere —
//! tuple, presence or RPID person note (RFC 4480). Comments, processing instructions, CDATA and
//! the predefined and numeric character references are understood; elements of other
//! namespaces are skipped. Input over 64 KiB or nested deeper than 32 elements is refused.
//!
//! ```
//! use dialtone_sip::pidf::{read, write, PresenceStatus};
//!
//! let doc = write("sip:alice@example.com", &PresenceStatus::open(Some("At lunch <back at 2>")));
//! let back = read(&doc).unwrap();
//! assert_eq!(back.entity, "sip:alice@example.com");
//! assert!(back.open);
//! assert_eq!(back.note.as_deref(), Some("At lunch <back at 2>"));
//! ```

/// Largest document [`read()`] accepts.
const MAX_LEN: usize = 64 * 1024;
/// Deepest element nesting [`read()`] accepts.
const MAX_DEPTH: usize = 32;

/// A presence status: the state of a presentity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceStatus {
    /// `open`: able to communicate; `closed`: not.
    pub open: bool,
    /// A human-readable note ("In a meeting").
    pub note: Option<String>,
}

impl PresenceStatus {
    /// Open, with `note`.
    pub fn open(note: Option<&str>) -> PresenceStatus {
        PresenceStatus {
            open: true,
            note: note.map(str::to_owned),
        }
    }

    /// Closed, with `note`.
    pub fn closed(note: Option<&str>) -> PresenceStatus {
        PresenceStatus {
            open: false,
            note: note.map(str::to_owned),
        }
    }
}

/// What [`read()`] found in a PIDF document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidfDocument {
    /// The `entity` attribute of `<presence>` (the presentity's URI).
    pub entity: String,
    /// Open if any tuple's `<basic>` is `open`; closed otherwise (also with no tuple).
    pub open: bool,
    /// The first note in the document.
    pub note: Option<String>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PidfError {
    /// More than 64 KiB.
    #[error("document too large")]
    TooLarge,
    /// Nested deeper than the limit.
    #[error("elements nested too deep")]
    TooDeep,
    /// Broken markup (unterminated tag, comment or reference).
    #[error("malformed XML: {0}")]
    Malformed(&'static str),
    /// No `<presence>` root element.
    #[error("not a PIDF document (no presence element)")]
    NotPidf,
}

/// Escapes text or an attribute value for XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even as references.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A PIDF document for `entity` (a SIP URI) in `presence`.
pub fn write(entity: &str, presence: &PresenceStatus) -> String {
    let basic = if presence.open { "open" } else { "closed" };
    let note = presence
        .note
        .as_deref()
        .map(|n| format!("<note>{}</note>", escape(n)))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"{}\">\r\n\
         <tuple id=\"dialtone\"><status><basic>{basic}</basic></status>{note}</tuple>\r\n\
         </presence>\r\n",
        escape(entity)
    )
}

/// Reads a PIDF document. See the [module documentation](self) for what is understood.
pub fn read(xml: &str) -> Result<PidfDocument, PidfError> {
    if xml.len() > MAX_LEN {
        return Err(PidfError::TooLarge);
    }
    let mut stack: Vec<String> = Vec::new();
    let mut doc: Option<PidfDocument> = None;
    let mut text = String::new();
    let mut rest = xml;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            text.push_str(&unescape(rest)?);
            break;
        };
        text.push_str(&unescape(&rest[..lt])?);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or(PidfError::Malformed("comment"))?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").ok_or(PidfError::Malformed("CDATA"))?;
            text.push_str(&after[..end]);
            rest = &after[end + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = rest.find('>').ok_or(PidfError::Malformed("declaration"))?;
            rest = &rest[end + 1..];
        } else {
            let end = tag_end(rest).ok_or(PidfError::Malformed("tag"))?;
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let name = local_name(name.trim());
                close(&mut stack, name, &mut text, doc.as_mut());
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = local_name(tag.split_whitespace().next().unwrap_or_default());
            if name == "presence" && stack.is_empty() {
                doc = Some(PidfDocument {
                    entity: attribute(tag, "entity")?.unwrap_or_default(),
                    open: false,
                    note: None,
                });
            }
            text.clear();
            if !self_closing {
                if stack.len() >= MAX_DEPTH {
                    return Err(PidfError::TooDeep);
                }
                stack.push(name.to_owned());
            }
        }
    }
    doc.ok_or(PidfError::NotPidf)
}

/// Leaves element `name`, using the text it held.
fn close(stack: &mut Vec<String>, name: &str, text: &mut String, doc: Option<&mut PidfDocument>) {
    if stack.last().map(String::as_str) == Some(name) {
        stack.pop();
    }
    if let Some(doc) = doc {
        match name {
            "basic"
                if stack.iter().any(|e| e == "status")
                    && text.trim().eq_ignore_ascii_case("open") =>
            {
                doc.open = true;
            }
            "note" if doc.note.is_none() => {
                let note = text.trim();
                if !note.is_empty() {
                    doc.note = Some(note.to_owned());
                }
            }
            _ => {}
        }
    }
    text.clear();
}

/// The index of the `>` closing the tag at the start of `s`, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// `prefix:name` → `name`.
fn local_name(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

/// The value of attribute `name` in a start tag's text, unescaped.
fn attribute(tag: &str, name: &str) -> Result<Option<String>, PidfError> {
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].split_whitespace().last().unwrap_or_default();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return Err(PidfError::Malformed("attribute"));
        };
        let body = &after[1..];
        let close = body.find(q).ok_or(PidfError::Malformed("attribute"))?;
        if local_name(key) == name {
            return unescape(&body[..close]).map(Some);
        }
        rest = &body[close + 1..];
    }
    Ok(None)
}

/// Replaces the predefined entities and numeric character references.
fn unescape(s: &str) -> Result<String, PidfError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after
            .find(';')
            .filter(|&i| i <= 10)
            .ok_or(PidfError::Malformed("reference"))?;
        let name = &after[..semi];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                };
                code.and_then(char::from_u32)
            }
        };
        out.push(c.ok_or(PidfError::Malformed("reference"))?);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_documents_that_read_back() {
        let p = PresenceStatus::closed(Some("R&D \"lab\" <2> 'x'"));
        let doc = write("sip:a&b@example.com", &p);
        assert!(doc.contains("entity=\"sip:a&amp;b@example.com\""));
        assert!(doc.contains("<note>R&amp;D &quot;lab&quot; &lt;2&gt; &apos;x&apos;</note>"));
        assert!(doc.contains("<basic>closed</basic>"));
        let back = read(&doc).unwrap();
        assert_eq!(back.entity, "sip:a&b@example.com");
        assert!(!back.open);
        assert_eq!(back.note.as_deref(), Some("R&D \"lab\" <2> 'x'"));
        let plain = write("sip:a@b", &PresenceStatus::open(None));
        assert!(!plain.contains("note"));
        assert_eq!(read(&plain).unwrap().note, None);
    }

    #[test]
    fn reads_prefixed_multi_tuple_rpid_documents() {
        let doc = r#"<?xml version='1.0' encoding='UTF-8'?>
<!-- from a presence server -->
<pr:presence xmlns:pr="urn:ietf:params:xml:ns:pidf"
    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity='sip:bob@example.com'>
  <pr:tuple id="a1"><pr:status><pr:basic>closed</pr:basic></pr:status></pr:tuple>
  <pr:tuple id="a2"><pr:status><pr:basic> open </pr:basic></pr:status>
    <pr:contact priority="0.8">sip:bob@192.0.2.1</pr:contact></pr:tuple>
  <dm:person id="p1"><rpid:activities><rpid:on-the-phone/></rpid:activities>
    <dm:note xml:lang="en"><![CDATA[On the <phone>]]> &#x263A;&#33;</dm:note></dm:person>
</pr:presence>"#;
        let got = read(doc).unwrap();
        assert_eq!(got.entity, "sip:bob@example.com");
        assert!(got.open);
        assert_eq!(got.note.as_deref(), Some("On the <phone> ☺!"));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(read("hello"), Err(PidfError::NotPidf));
        assert_eq!(read("<other/>"), Err(PidfError::NotPidf));
        assert_eq!(
            read("<presence entity=\"x\"><tuple"),
            Err(PidfError::Malformed("tag"))
        );
        assert_eq!(
            read("<presence entity=\"&bogus;\"/>"),
            Err(PidfError::Malformed("reference"))
        );
        assert_eq!(
            read("<presence entity=x/>"),
            Err(PidfError::Malformed("attribute"))
        );
        assert_eq!(read(&"x".repeat(MAX_LEN + 1)), Err(PidfError::TooLarge));
        let deep = format!("<presence entity=\"x\">{}", "<a>".repeat(40));
        assert_eq!(read(&deep), Err(PidfError::TooDeep));
        // A closing tag for nothing, stray text and an empty presence are tolerated.
        let odd = read("junk</x><presence entity=\"e\"></presence>").unwrap();
        assert!(!odd.open);
        // Arbitrary bytes never panic.
        for s in [
            "<",
            "<!--",
            "<![CDATA[",
            "&#xD800;",
            "<a b='>",
            "<presence entity=\"\u{1F600}\"/>",
        ] {
            let _ = read(s);
        }
    }
}
