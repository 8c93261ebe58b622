//! The registrar (RFC 3261 §10.3): processes an authenticated REGISTER against the
//! [`LocationStore`] and yields the answer.
//!
//! Steps as numbered in §10.3: the caller has done 1–5 (domain, Require, authentication and
//! the authorisation of the authenticated user for the To address-of-record). Here: 6 (Contact
//! `*` only with `Expires: 0`, alone), 7 (expiry from the contact's `expires` parameter, else
//! the Expires header, else the default; 423 with Min-Expires below the minimum; lifetimes cut
//! to the maximum; Call-ID/CSeq ordering per binding) and 8 (200 listing every current binding
//! with its remaining `expires`). Each binding remembers the flow the REGISTER arrived over.

use std::time::{Duration, Instant};

use dialtone_sip::transport::Peer;
use dialtone_sip_message::Request;

use crate::config::RegistrarConfig;
use crate::event::{RelayEvent, UnregisterReason};
use crate::location::{Binding, BindingKey, LocationStore};

/// The registrar's answer: status, reason and extra header lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) reason: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(status: u16, reason: &'static str) -> Reply {
        Reply {
            status,
            reason,
            headers: Vec::new(),
        }
    }
}

/// Applies `request` (from `flow`, authenticated for `aor`) to `store`.
pub(crate) fn register(
    config: &RegistrarConfig,
    now: Instant,
    flow: Peer,
    request: &Request,
    aor: &str,
    store: &mut dyn LocationStore,
    events: &mut Vec<RelayEvent>,
) -> Reply {
    let lines: Vec<&str> = request.headers.get_all("Contact").collect();
    let expires_header = request.expires();
    let (Ok(call_id), Ok(cseq)) = (request.call_id(), request.cseq()) else {
        return Reply::new(400, "Bad Request");
    };

    if lines.iter().any(|l| l.trim() == "*") {
        if lines.len() != 1 || expires_header != Some(0) {
            return Reply::new(400, "Invalid wildcard Contact");
        }
        for binding in store.bindings(aor, now) {
            if store.remove(aor, &binding.key()).is_some() {
                events.push(RelayEvent::Unregistered {
                    aor: aor.to_owned(),
                    contact: binding.contact.uri,
                    reason: UnregisterReason::Request,
                });
            }
        }
        return ok(store, aor, now);
    }

    let Ok(contacts) = request.contacts() else {
        return Reply::new(400, "Malformed Contact");
    };
    let mut plan = Vec::with_capacity(contacts.len());
    for mut contact in contacts {
        let expires = match contact.param("expires") {
            Some(Some(v)) => v.parse::<u32>().ok(),
            _ => None,
        }
        .or(expires_header)
        .unwrap_or(config.default_expires);
        if expires != 0 && expires < config.min_expires {
            let mut reply = Reply::new(423, "Interval Too Brief");
            reply
                .headers
                .push(("Min-Expires", config.min_expires.to_string()));
            return reply;
        }
        contact
            .params
            .retain(|(name, _)| !name.eq_ignore_ascii_case("expires"));
        plan.push((contact, expires.min(config.max_expires)));
    }

    let existing = store.bindings(aor, now);
    for (contact, _) in &plan {
        let key = BindingKey::of(contact);
        let stale = existing
            .iter()
            .any(|b| b.key() == key && b.call_id == call_id && b.cseq >= cseq.seq);
        if stale {
            return Reply::new(400, "Out-of-order REGISTER");
        }
    }
    let added = plan
        .iter()
        .filter(|(c, expires)| {
            let key = BindingKey::of(c);
            *expires > 0 && !existing.iter().any(|b| b.key() == key)
        })
        .count();
    if existing.len() + added > config.max_contacts {
        return Reply::new(403, "Too many contacts");
    }

    for (contact, expires) in plan {
        let key = BindingKey::of(&contact);
        if expires == 0 {
            if let Some(gone) = store.remove(aor, &key) {
                events.push(RelayEvent::Unregistered {
                    aor: aor.to_owned(),
                    contact: gone.contact.uri,
                    reason: UnregisterReason::Request,
                });
            }
            continue;
        }
        events.push(RelayEvent::Registered {
            aor: aor.to_owned(),
            contact: contact.uri.clone(),
            flow,
            expires,
        });
        store.put(
            aor,
            Binding {
                contact,
                flow,
                expires_at: now + Duration::from_secs(u64::from(expires)),
                call_id: call_id.to_owned(),
                cseq: cseq.seq,
            },
        );
    }
    ok(store, aor, now)
}

/// 200 listing every live binding with its remaining lifetime (§10.3 step 8).
fn ok(store: &dyn LocationStore, aor: &str, now: Instant) -> Reply {
    let mut reply = Reply::new(200, "OK");
    for binding in store.bindings(aor, now) {
        let remaining = binding
            .expires_at
            .saturating_duration_since(now)
            .as_secs()
            .max(1);
        let mut contact = binding.contact;
        contact.set_param("expires", Some(&remaining.to_string()));
        reply.headers.push(("Contact", contact.to_string()));
    }
    reply
}
