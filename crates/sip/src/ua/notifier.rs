//! Serving our presence to watchers (RFC 6665 notifier, RFC 3856 `presence` package), so
//! another phone can SUBSCRIBE to us directly.
//!
//! - A SUBSCRIBE outside any dialog with `Event: presence` is accepted — everyone may watch —
//!   with 200, our To tag and Contact, and the granted `Expires` (asked, default and at most
//!   3600 s; below 60 s but not 0: 423 with `Min-Expires: 60`). Another event package gets 489
//!   with `Allow-Events: presence`; an `Accept` without PIDF gets 406.
//! - A NOTIFY follows every accepted SUBSCRIBE at once (§4.2.1.2), and every status change
//!   ([`super::UserAgent::set_presence`]): `Subscription-State: active;expires=<left>` and our
//!   PIDF document for the entity the watcher subscribed to (its To URI).
//! - A refresh (SUBSCRIBE in the dialog) re-times the subscription; `Expires: 0` ends it, and so
//!   does running out: a last NOTIFY with `terminated;reason=timeout` (§4.2.2). A NOTIFY
//!   answered with an error (481 and the like, §4.2.2) or not at all ends it silently.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Method, Request, Response};

use super::accept::local_contact;
use super::context::{resolve, Ctx};
use super::incoming::respond;
use crate::dialog::{Dialog, DialogId};
use crate::pidf::{self, PresenceStatus};
use crate::transaction::TransactionId;
use crate::transport::Peer;

/// Longest subscription we grant, and the default.
const MAX_EXPIRES: u32 = 3600;
/// Shortest subscription we grant (besides 0, a one-off fetch).
const MIN_EXPIRES: u32 = 60;

/// One watcher of our presence.
#[derive(Debug)]
pub(crate) struct Watcher {
    dialog: Dialog,
    /// Where the SUBSCRIBE came from: NOTIFYs go there when the dialog's target has no IP.
    source: Peer,
    /// The PIDF entity: the URI the watcher subscribed to.
    entity: String,
    expires_at: Instant,
    notifies: Vec<TransactionId>,
    done: bool,
}

/// What a SUBSCRIBE asks for, or how to refuse it.
fn check(request: &Request) -> Result<u32, (u16, Vec<(String, String)>)> {
    let event = request.headers.get("Event").unwrap_or_default();
    let package = event.split(';').next().unwrap_or_default().trim();
    if !package.eq_ignore_ascii_case("presence") {
        let allow = vec![("Allow-Events".to_owned(), "presence".to_owned())];
        return Err((489, allow));
    }
    let accepts_pidf = !request.headers.contains("Accept")
        || request
            .headers
            .get_all("Accept")
            .flat_map(|l| l.split(','))
            .map(super::incoming::media_type)
            .any(|t| t == "application/pidf+xml" || t == "application/*" || t == "*/*");
    if !accepts_pidf {
        let accept = vec![("Accept".to_owned(), "application/pidf+xml".to_owned())];
        return Err((406, accept));
    }
    let asked = request
        .headers
        .get("Expires")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(MAX_EXPIRES);
    if asked != 0 && asked < MIN_EXPIRES {
        let min = vec![("Min-Expires".to_owned(), MIN_EXPIRES.to_string())];
        return Err((423, min));
    }
    Ok(asked.min(MAX_EXPIRES))
}

/// The 200 to a SUBSCRIBE: our tag (the dialog's), Contact, granted Expires.
fn accepted(request: &Request, dialog: &Dialog, expires: u32) -> Response {
    let mut ok = Response::for_request(request, 200, "OK");
    ok.headers.set("To", dialog.local_uri().to_string());
    if let Some(contact) = dialog.local_contact() {
        ok.headers.push("Contact", contact.to_string());
    }
    ok.headers.push("Expires", expires.to_string());
    ok
}

impl Watcher {
    /// A SUBSCRIBE outside any dialog (server transaction `tid`, from `source`): accepted (and
    /// notified) or refused. `None` when no subscription results.
    pub(crate) fn subscribe(
        tid: TransactionId,
        source: Peer,
        request: &Request,
        status: &PresenceStatus,
        ctx: &mut Ctx<'_>,
    ) -> Option<Watcher> {
        let expires = match check(request) {
            Ok(expires) => expires,
            Err((status, extra)) => {
                respond(ctx, tid, request, status, Some(&extra));
                return None;
            }
        };
        let tag = ctx.tag();
        let contact = local_contact(request, source, ctx);
        let dialog = match Dialog::from_uas(request, &tag, Some(contact)) {
            Ok(dialog) => dialog,
            Err(e) => {
                respond(ctx, tid, request, e.status(), None);
                return None;
            }
        };
        let ok = accepted(request, &dialog, expires);
        ctx.respond(tid, ok);
        let entity = request
            .to()
            .map(|to| to.uri.to_string())
            .unwrap_or_else(|_| request.uri.to_string());
        let mut watcher = Watcher {
            dialog,
            source,
            entity,
            expires_at: ctx.now + Duration::from_secs(u64::from(expires)),
            notifies: Vec::new(),
            done: false,
        };
        let state = (expires == 0).then_some("timeout");
        watcher.notify(status, state, ctx);
        Some(watcher)
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.expires_at
    }

    pub(crate) fn owns(&self, tid: TransactionId) -> bool {
        self.notifies.contains(&tid)
    }

    /// Whether `request` (with a To tag) is in this watcher's dialog.
    pub(crate) fn matches(&self, request: &Request) -> bool {
        !self.done && DialogId::for_incoming_request(request).as_ref() == Some(self.dialog.id())
    }

    /// A SUBSCRIBE in the dialog: refresh, or `Expires: 0` to stop.
    pub(crate) fn on_subscribe(
        &mut self,
        tid: TransactionId,
        request: &Request,
        status: &PresenceStatus,
        ctx: &mut Ctx<'_>,
    ) {
        if let Err(e) = self.dialog.handle_request(request) {
            return respond(ctx, tid, request, e.status(), None);
        }
        let expires = match check(request) {
            Ok(expires) => expires,
            Err((status, extra)) => return respond(ctx, tid, request, status, Some(&extra)),
        };
        let ok = accepted(request, &self.dialog, expires);
        ctx.respond(tid, ok);
        self.expires_at = ctx.now + Duration::from_secs(u64::from(expires));
        let state = (expires == 0).then_some("timeout");
        self.notify(status, state, ctx);
    }

    /// Sends a NOTIFY with our status; `terminated` gives the reason that ends the
    /// subscription.
    pub(crate) fn notify(
        &mut self,
        status: &PresenceStatus,
        terminated: Option<&str>,
        ctx: &mut Ctx<'_>,
    ) {
        if self.done {
            return;
        }
        let mut notify = self.dialog.make_request(Method::Notify);
        notify.headers.push("Event", "presence");
        let state = match terminated {
            Some(reason) => {
                self.done = true;
                format!("terminated;reason={reason}")
            }
            None => {
                let left = self.expires_at.saturating_duration_since(ctx.now).as_secs();
                format!("active;expires={left}")
            }
        };
        notify.headers.push("Subscription-State", state);
        notify.headers.push("Content-Type", "application/pidf+xml");
        notify.body = pidf::write(&self.entity, status).into_bytes();
        let dest = resolve(self.dialog.next_hop(), self.source);
        match ctx.send_request(dest, notify) {
            Ok((tid, _)) => self.notifies.push(tid),
            Err(_) => self.done = true,
        }
    }

    /// The subscription ran out.
    pub(crate) fn on_timer(&mut self, status: &PresenceStatus, ctx: &mut Ctx<'_>) {
        if self.expires_at <= ctx.now {
            self.notify(status, Some("timeout"), ctx);
        }
    }

    /// A final response to one of our NOTIFYs (`None`: no answer).
    pub(crate) fn on_response(&mut self, tid: TransactionId, status: Option<u16>) {
        match status {
            Some(s) if s < 200 => return,
            Some(200..=299) => {}
            _ => self.done = true,
        }
        self.notifies.retain(|t| *t != tid);
    }
}
