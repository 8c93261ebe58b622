//! The ordered header field list of a message (RFC 3261 §7.3).
//!
//! Names are kept as written; lookups are case-insensitive and treat compact forms
//! (RFC 3261 §7.3.3, §20; RFC 3265, 3515, 3892, 4028, 3841, 4474) as equal to the
//! long names. Values are stored unfolded: each `CRLF 1*WSP` became one SP.

use std::fmt;

/// Compact form letter → long name.
const COMPACT: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("f", "From"),
    ("t", "To"),
    ("v", "Via"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("e", "Content-Encoding"),
    ("k", "Supported"),
    ("s", "Subject"),
    ("o", "Event"),
    ("u", "Allow-Events"),
    ("r", "Refer-To"),
    ("b", "Referred-By"),
    ("x", "Session-Expires"),
    ("a", "Accept-Contact"),
    ("j", "Reject-Contact"),
    ("d", "Request-Disposition"),
    ("y", "Identity"),
    ("n", "Identity-Info"),
];

/// The long form of a header name (compact letters expanded), case preserved otherwise.
pub fn canonical_name(name: &str) -> &str {
    if name.len() == 1 {
        for (short, long) in COMPACT {
            if short.eq_ignore_ascii_case(name) {
                return long;
            }
        }
    }
    name
}

/// True when two header names denote the same header field.
pub fn same_name(a: &str, b: &str) -> bool {
    canonical_name(a).eq_ignore_ascii_case(canonical_name(b))
}

/// Ordered `(name as written, value)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Headers::default()
    }

    /// First value of `name` (case-insensitive; compact forms match long names).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| same_name(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Every line with that name, in order (a line may itself hold a comma list).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| same_name(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Append a line.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.entries.push((name.to_string(), value.into()));
    }

    /// Replace all lines of that name with one line at the position of the first
    /// (appended if there was none).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.entries.iter().position(|(n, _)| same_name(n, name)) {
            Some(first) => {
                self.entries[first] = (name.to_string(), value);
                let mut i = 0;
                self.entries.retain(|(n, _)| {
                    let keep = i <= first || !same_name(n, name);
                    i += 1;
                    keep
                });
            }
            None => self.push(name, value),
        }
    }

    /// Remove every line of that name.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|(n, _)| !same_name(n, name));
    }

    /// True if at least one line has that name.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All lines in order as `(name as written, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no lines.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for Headers {
    /// `Name: value\r\n` per line; CR/LF inside names or values become SP so a
    /// value can never inject a header line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in &self.entries {
            write_line(f, n, v)?;
        }
        Ok(())
    }
}

/// Write one header line, neutralising CR and LF.
pub(crate) fn write_line(w: &mut impl fmt::Write, name: &str, value: &str) -> fmt::Result {
    for c in name.chars() {
        w.write_char(if c == '\r' || c == '\n' { ' ' } else { c })?;
    }
    w.write_str(": ")?;
    for c in value.chars() {
        w.write_char(if c == '\r' || c == '\n' { ' ' } else { c })?;
    }
    w.write_str("\r\n")
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}
