//! The Replaces header (RFC 3891): which dialog a new INVITE takes the place of — the last step
//! of an attended transfer (RFC 5589 §7).
//!
//! `Replaces: call-id;to-tag=...;from-tag=...[;early-only]` names the dialog as seen by the UA
//! that receives the INVITE: `to-tag` is that UA's tag, `from-tag` the other party's (§6.1). The
//! transferor writes it into the Refer-To URI as an escaped URI header
//! (`<sip:target?Replaces=call%40host%3Bto-tag%3D...>`, RFC 3261 §19.1.1); the transferee copies
//! it into the INVITE it sends to the target.
//!
//! On receipt (§3) an INVITE with Replaces matching a confirmed dialog, or an early dialog we
//! initiated, is accepted: the call is reported with `replaces` set, the application answers
//! it at once (no ringing), and when it is confirmed the old call ends — BYE, or CANCEL if it was
//! our unanswered call — with [`EndReason::Replaced`]. No match: 481; `early-only` with a
//! confirmed dialog: 486; an early dialog the other side initiated: 481.

use std::time::Instant;

use dialtone_sip_message::Request;

use super::call::{Call, CallState, EndReason, Phase, Role};
use super::context::Ctx;
use super::{CallId, UserAgent};
use crate::dialog::{Dialog, DialogId};

/// A parsed Replaces header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replaces {
    pub call_id: String,
    /// The receiver's tag.
    pub to_tag: String,
    /// The other party's tag.
    pub from_tag: String,
    pub early_only: bool,
}

impl Replaces {
    /// Parses a header value; `None` when the Call-ID or a tag is missing.
    pub(crate) fn parse(value: &str) -> Option<Replaces> {
        let mut parts = value.split(';');
        let call_id = parts.next()?.trim();
        if call_id.is_empty() {
            return None;
        }
        let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
        for part in parts {
            let (name, val) = part.split_once('=').unwrap_or((part, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "to-tag" => to_tag = Some(val.trim().to_owned()),
                "from-tag" => from_tag = Some(val.trim().to_owned()),
                "early-only" => early_only = true,
                _ => {}
            }
        }
        Some(Replaces {
            call_id: call_id.to_owned(),
            to_tag: to_tag?,
            from_tag: from_tag?,
            early_only,
        })
    }

    /// The Replaces naming `dialog` (ours) for the peer of that dialog: its tag is our remote
    /// tag.
    pub(crate) fn for_peer_of(dialog: &Dialog) -> Replaces {
        let id = dialog.id();
        Replaces {
            call_id: id.call_id.clone(),
            to_tag: id.remote_tag.clone(),
            from_tag: id.local_tag.clone(),
            early_only: false,
        }
    }

    /// Whether it names dialog `id` of ours (we receive the INVITE: `to-tag` is our tag).
    pub(crate) fn names(&self, id: &DialogId) -> bool {
        self.call_id == id.call_id && self.to_tag == id.local_tag && self.from_tag == id.remote_tag
    }

    /// The header value.
    pub(crate) fn to_header(&self) -> String {
        let mut v = format!(
            "{};to-tag={};from-tag={}",
            self.call_id, self.to_tag, self.from_tag
        );
        if self.early_only {
            v.push_str(";early-only");
        }
        v
    }
}

/// Escapes a URI header value (RFC 3261 §25.1 `hvalue`: `hnv-unreserved` and `unreserved`
/// stay, everything else becomes `%XX`).
pub(crate) fn escape_hvalue(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undoes `%XX` escapes; a malformed escape stays as written.
pub(crate) fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What to do with an INVITE carrying Replaces.
pub(crate) enum Verdict {
    /// Take the call in place of this one.
    Replace(CallId),
    /// Refuse with this status.
    Refuse(u16),
}

/// Decides on `invite`'s Replaces header against our `calls` (§3); `None` without one.
pub(crate) fn judge(invite: &Request, calls: &[Call]) -> Option<Verdict> {
    let value = invite.headers.get("Replaces")?;
    let Some(replaces) = Replaces::parse(value) else {
        return Some(Verdict::Refuse(400));
    };
    let target = calls.iter().find(|c| {
        c.phase != Phase::Ended && c.dialog.as_ref().is_some_and(|d| replaces.names(d.id()))
    });
    let verdict = match target {
        None => Verdict::Refuse(481),
        Some(c) => match (c.role, c.phase) {
            (_, Phase::Confirmed) if replaces.early_only => Verdict::Refuse(486),
            (_, Phase::Confirmed) | (Role::Uac, Phase::Calling) => Verdict::Replace(c.id),
            _ => Verdict::Refuse(481),
        },
    };
    Some(verdict)
}

impl UserAgent {
    /// Ends the calls replaced by calls that are now confirmed (§3); `true` if it did.
    pub(crate) fn settle_replacements(&mut self, now: Instant) -> bool {
        let done: Vec<CallId> = self
            .usages
            .calls
            .iter_mut()
            .filter(|c| c.phase == Phase::Confirmed)
            .filter_map(|c| c.replaces.take())
            .collect();
        if done.is_empty() {
            return false;
        }
        let (mut ctx, usages) = self.split(now);
        for old in done {
            if let Some(call) = usages.calls.iter_mut().find(|c| c.id == old) {
                call.end_replaced(&mut ctx);
            }
        }
        true
    }
}

impl Call {
    /// This call was replaced by a new one (§3): BYE, or CANCEL if still unanswered.
    fn end_replaced(&mut self, ctx: &mut Ctx<'_>) {
        match (self.role, self.phase) {
            (Role::Uac, Phase::Calling) => self.cancel_invite(EndReason::Replaced, ctx),
            (_, Phase::Confirmed) => self.send_bye(EndReason::Replaced, ctx),
            (_, Phase::Ended) => {}
            _ => self.end(
                CallState::Finished {
                    reason: EndReason::Replaced,
                },
                ctx,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_the_header() {
        let r = Replaces::parse("abc@host;to-tag=7743;from-tag=6472;early-only").unwrap();
        assert_eq!(r.call_id, "abc@host");
        assert_eq!(r.to_tag, "7743");
        assert_eq!(r.from_tag, "6472");
        assert!(r.early_only);
        assert_eq!(
            r.to_header(),
            "abc@host;to-tag=7743;from-tag=6472;early-only"
        );
        assert!(Replaces::parse("abc;to-tag=1").is_none());
        assert!(Replaces::parse(";to-tag=1;from-tag=2").is_none());
    }

    #[test]
    fn escapes_for_a_uri_header_and_back() {
        let v = "a@b;to-tag=1;from-tag=2 %";
        let e = escape_hvalue(v);
        assert_eq!(e, "a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2%20%25");
        assert_eq!(unescape(&e), v);
        assert_eq!(unescape("%zz%4"), "%zz%4");
    }
}
