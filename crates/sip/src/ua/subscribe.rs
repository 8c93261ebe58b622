//! Watching someone's presence (RFC 6665 subscriber, RFC 3856 `presence` package).
//!
//! - SUBSCRIBE carries `Event: presence`, `Accept: application/pidf+xml`, `Expires` (3600 s by
//!   default) and our Contact. The dialog comes from its 2xx, or from a NOTIFY that overtakes
//!   the 2xx (§4.1.2.4). 401/407: retried with credentials (twice at most per request); 423:
//!   retried with `Min-Expires`; other failures end the subscription.
//! - Every NOTIFY gets 200. Its `Subscription-State` is reported as
//!   [`SubscriptionState`] (`active;expires=N` also re-times our refresh); its PIDF body as
//!   [`UaEvent::PresenceChanged`] — an empty body of an active subscription means nothing is
//!   known, reported as closed. A body that is not PIDF is answered 200 and ignored.
//! - Refresh before expiry (`max(expires / 2, expires − 30 s)`), in the dialog (§4.1.2.1).
//! - `terminated;reason=deactivated` or `timeout` (§4.1.3): subscribe afresh at once; any other
//!   reason ends the subscription. A refresh answered 481 also subscribes afresh.
//! - Unsubscribe: SUBSCRIBE with `Expires: 0` in the dialog (§4.1.2.3); the subscription ends
//!   when it is answered (a later NOTIFY finds no subscription: 481).

use std::time::Instant;

use dialtone_sip_message::{Method, Request, Response};

use super::context::{loose_route, resolve, Ctx};
use super::incoming::respond;
use super::presence::{refresh_after, SubId, SubscribeConfig, SubscriptionState};
use super::UaEvent;
use crate::auth::{apply, Authenticator};
use crate::dialog::{Dialog, DialogId};
use crate::pidf;
use crate::transaction::TransactionId;

/// Challenge retries per request.
const MAX_AUTH_RETRIES: u8 = 2;
/// Fresh subscriptions after `deactivated`/`timeout`/481 before giving up.
const MAX_RESTARTS: u8 = 3;

/// A SUBSCRIBE in flight.
#[derive(Debug)]
struct Pending {
    tid: TransactionId,
    request: Request,
    retries: u8,
}

/// One subscription.
#[derive(Debug)]
pub(crate) struct Subscription {
    id: SubId,
    config: SubscribeConfig,
    call_id: String,
    from_tag: String,
    /// CSeq of the SUBSCRIBEs sent before there is a dialog.
    cseq: u32,
    /// The last SUBSCRIBE sent outside the dialog (to build the dialog from a NOTIFY).
    initial: Option<Request>,
    dialog: Option<Dialog>,
    auth: Option<Authenticator>,
    pending: Option<Pending>,
    expires: u32,
    state: Option<SubscriptionState>,
    refresh_at: Option<Instant>,
    unsubscribing: bool,
    restarts: u8,
    done: bool,
}

impl Subscription {
    pub(crate) fn new(id: SubId, config: SubscribeConfig, ctx: &mut Ctx<'_>) -> Subscription {
        Subscription {
            id,
            call_id: ctx.call_id(),
            from_tag: ctx.tag(),
            cseq: 0,
            initial: None,
            dialog: None,
            auth: config.auth.clone().map(Authenticator::new),
            expires: config.expires,
            config,
            pending: None,
            state: None,
            refresh_at: None,
            unsubscribing: false,
            restarts: 0,
            done: false,
        }
    }

    pub(crate) fn id(&self) -> SubId {
        self.id
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.refresh_at
    }

    pub(crate) fn owns(&self, tid: TransactionId) -> bool {
        self.pending.as_ref().is_some_and(|p| p.tid == tid)
    }

    /// Whether `notify` is for this subscription: our Call-ID and tag, and the dialog's peer
    /// once there is one.
    pub(crate) fn matches(&self, notify: &Request) -> bool {
        let Some(id) = DialogId::for_incoming_request(notify) else {
            return false;
        };
        id.call_id == self.call_id
            && id.local_tag == self.from_tag
            && !matches!(&self.dialog, Some(d) if d.id().remote_tag != id.remote_tag)
    }

    pub(crate) fn start(&mut self, ctx: &mut Ctx<'_>) {
        self.cseq += 1;
        let mut req = Request::new(Method::Subscribe, self.config.target.clone());
        if let Some(route) = &self.config.route {
            req.headers.push("Route", loose_route(route));
        }
        let mut from = self.config.from.clone();
        from.set_tag(&self.from_tag);
        req.headers.push("From", from.to_string());
        let to = dialtone_sip_message::NameAddr::new(self.config.target.clone());
        req.headers.push("To", to.to_string());
        req.headers.push("Call-ID", self.call_id.clone());
        req.headers.push("CSeq", format!("{} SUBSCRIBE", self.cseq));
        req.headers
            .push("Contact", format!("<{}>", self.config.contact));
        self.add_package(&mut req, self.expires, ctx);
        self.transmit(self.config.dest, req, 0, ctx);
    }

    fn add_package(&mut self, req: &mut Request, expires: u32, ctx: &mut Ctx<'_>) {
        req.headers.push("Event", "presence");
        req.headers.push("Accept", "application/pidf+xml");
        req.headers.push("Expires", expires.to_string());
        req.headers.push("Allow", super::ALLOWED_METHODS);
        if let Some(auth) = self.auth.as_mut().filter(|a| a.has_realms()) {
            let cnonce = ctx.cnonce();
            auth.authorize(req, &cnonce);
        }
    }

    /// SUBSCRIBE in the dialog with `expires` (0 to unsubscribe).
    fn send_in_dialog(&mut self, expires: u32, ctx: &mut Ctx<'_>) {
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        let mut req = dialog.make_request(Method::Subscribe);
        let dest = resolve(dialog.next_hop(), self.config.dest);
        self.add_package(&mut req, expires, ctx);
        self.transmit(dest, req, 0, ctx);
    }

    fn transmit(
        &mut self,
        dest: crate::transport::Peer,
        request: Request,
        retries: u8,
        ctx: &mut Ctx<'_>,
    ) {
        match ctx.send_request(dest, request) {
            Ok((tid, request)) => {
                if self.dialog.is_none() {
                    self.initial = Some(request.clone());
                }
                self.pending = Some(Pending {
                    tid,
                    request,
                    retries,
                });
            }
            Err(e) => self.terminate(format!("cannot send SUBSCRIBE: {e}"), ctx),
        }
    }

    pub(crate) fn unsubscribe(&mut self, ctx: &mut Ctx<'_>) {
        self.unsubscribing = true;
        self.refresh_at = None;
        if self.pending.is_some() {
            return; // decided when the SUBSCRIBE in flight is answered
        }
        match self.dialog {
            Some(_) => self.send_in_dialog(0, ctx),
            None => self.terminate("unsubscribed".to_owned(), ctx),
        }
    }

    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        if self.refresh_at.take().is_none() || self.pending.is_some() {
            return;
        }
        match self.dialog {
            Some(_) => self.send_in_dialog(self.expires, ctx),
            None => self.restart(ctx),
        }
    }

    /// Subscribes afresh: new Call-ID and tag, no dialog.
    fn restart(&mut self, ctx: &mut Ctx<'_>) {
        if self.restarts >= MAX_RESTARTS {
            return self.terminate("giveup".to_owned(), ctx);
        }
        self.restarts += 1;
        self.call_id = ctx.call_id();
        self.from_tag = ctx.tag();
        self.dialog = None;
        self.initial = None;
        self.cseq = 0;
        self.start(ctx);
    }

    pub(crate) fn on_response(&mut self, resp: Response, ctx: &mut Ctx<'_>) {
        if resp.status < 200 {
            return;
        }
        let Some(sent) = self.pending.take() else {
            return;
        };
        let in_dialog = sent.request.to().ok().is_some_and(|to| to.tag().is_some());
        match resp.status {
            200..=299 => self.on_success(&sent.request, &resp, ctx),
            _ if self.unsubscribing => self.terminate("unsubscribed".to_owned(), ctx),
            401 | 407 if sent.retries < MAX_AUTH_RETRIES => {
                match self.authorized_retry(&sent.request, &resp, ctx) {
                    Some(retry) => {
                        let dest = self
                            .dialog
                            .as_ref()
                            .map(|d| resolve(d.next_hop(), self.config.dest))
                            .unwrap_or(self.config.dest);
                        self.transmit(dest, retry, sent.retries + 1, ctx);
                    }
                    None => self.terminate(status_reason(&resp), ctx),
                }
            }
            423 => match min_expires(&resp).filter(|m| *m > self.expires) {
                Some(min) => {
                    self.expires = min;
                    match self.dialog {
                        Some(_) => self.send_in_dialog(min, ctx),
                        None => self.start(ctx),
                    }
                }
                None => self.terminate(status_reason(&resp), ctx),
            },
            481 if in_dialog => self.restart(ctx),
            _ => self.terminate(status_reason(&resp), ctx),
        }
    }

    fn on_success(&mut self, sent: &Request, resp: &Response, ctx: &mut Ctx<'_>) {
        match &mut self.dialog {
            Some(dialog) => {
                let _ = dialog.handle_response(resp);
            }
            None => self.dialog = Dialog::from_uac(sent, resp).ok(),
        }
        if self.unsubscribing {
            if sent.headers.get("Expires").map(str::trim) != Some("0") && self.dialog.is_some() {
                return self.send_in_dialog(0, ctx);
            }
            return self.terminate("unsubscribed".to_owned(), ctx);
        }
        let granted = resp
            .headers
            .get("Expires")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(self.expires);
        self.refresh_at = Some(ctx.now + refresh_after(granted));
    }

    fn authorized_retry(
        &mut self,
        sent: &Request,
        resp: &Response,
        ctx: &mut Ctx<'_>,
    ) -> Option<Request> {
        let cnonce = ctx.cnonce();
        let headers = self
            .auth
            .as_mut()?
            .handle_challenge(sent, resp, &cnonce)
            .ok()?;
        let seq = match &mut self.dialog {
            Some(dialog) => dialog.make_request(Method::Subscribe).cseq().ok()?.seq,
            None => {
                self.cseq += 1;
                self.cseq
            }
        };
        let mut retry = sent.clone();
        retry.headers.set("CSeq", format!("{seq} SUBSCRIBE"));
        apply(&mut retry, &headers);
        Some(retry)
    }

    /// No final response came.
    pub(crate) fn on_failure(&mut self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        self.pending = None;
        if self.unsubscribing {
            return self.terminate("unsubscribed".to_owned(), ctx);
        }
        self.terminate(format!("{code} {reason}"), ctx);
    }

    /// A NOTIFY for this subscription (server transaction `tid`).
    pub(crate) fn on_notify(&mut self, tid: TransactionId, notify: &Request, ctx: &mut Ctx<'_>) {
        let package = notify.headers.get("Event").unwrap_or_default();
        let package = package.split(';').next().unwrap_or_default().trim();
        if !package.eq_ignore_ascii_case("presence") {
            let allow = [("Allow-Events".to_owned(), "presence".to_owned())];
            return respond(ctx, tid, notify, 489, Some(&allow));
        }
        match &mut self.dialog {
            Some(dialog) => {
                if let Err(e) = dialog.handle_request(notify) {
                    return respond(ctx, tid, notify, e.status(), None);
                }
            }
            None => {
                let dialog = self
                    .initial
                    .as_ref()
                    .and_then(|s| Dialog::from_notify(s, notify).ok());
                let Some(dialog) = dialog else {
                    return respond(ctx, tid, notify, 400, None);
                };
                self.dialog = Some(dialog);
            }
        }
        respond(ctx, tid, notify, 200, None);
        let (state, expires, reason) = subscription_state(notify);
        match state.as_str() {
            "active" => {
                let expires = expires.unwrap_or(self.expires);
                if self.pending.is_none() && !self.unsubscribing {
                    let at = ctx.now + refresh_after(expires);
                    self.refresh_at = Some(self.refresh_at.map_or(at, |r| r.min(at)));
                }
                self.report(SubscriptionState::Active { expires }, ctx);
                self.restarts = 0;
                self.report_presence(notify, true, ctx);
            }
            "pending" => self.report(SubscriptionState::Pending, ctx),
            _ => {
                // terminated (or unknown, §4.1.3: treat as terminated).
                self.report_presence(notify, false, ctx);
                let reason = reason.unwrap_or_else(|| "terminated".to_owned());
                if self.unsubscribing {
                    return self.terminate("unsubscribed".to_owned(), ctx);
                }
                match reason.as_str() {
                    "deactivated" | "timeout" => {
                        self.pending = None;
                        self.restart(ctx)
                    }
                    _ => self.terminate(reason, ctx),
                }
            }
        }
    }

    /// Reports the NOTIFY's PIDF; an empty body as closed when `empty_is_closed`.
    fn report_presence(&mut self, notify: &Request, empty_is_closed: bool, ctx: &mut Ctx<'_>) {
        let target = self.config.target.to_string();
        let (entity, open, note) = if notify.body.is_empty() {
            if !empty_is_closed {
                return;
            }
            (target, false, None)
        } else {
            let Some(doc) = std::str::from_utf8(&notify.body)
                .ok()
                .and_then(|t| pidf::read(t).ok())
            else {
                return;
            };
            let entity = if doc.entity.is_empty() {
                target
            } else {
                doc.entity
            };
            (entity, doc.open, doc.note)
        };
        ctx.event(UaEvent::PresenceChanged {
            id: self.id,
            entity,
            open,
            note,
        });
    }

    fn report(&mut self, state: SubscriptionState, ctx: &mut Ctx<'_>) {
        if self.state.as_ref() == Some(&state) {
            return;
        }
        self.state = Some(state.clone());
        ctx.event(UaEvent::Subscription { id: self.id, state });
    }

    fn terminate(&mut self, reason: String, ctx: &mut Ctx<'_>) {
        if self.done {
            return;
        }
        self.done = true;
        self.refresh_at = None;
        self.report(SubscriptionState::Terminated { reason }, ctx);
    }
}

fn status_reason(resp: &Response) -> String {
    format!("{} {}", resp.status, resp.reason)
}

fn min_expires(resp: &Response) -> Option<u32> {
    resp.headers
        .get("Min-Expires")
        .and_then(|v| v.trim().parse().ok())
}

/// `Subscription-State: state *(;param)`: the state (lower-cased), `expires` and `reason`.
fn subscription_state(notify: &Request) -> (String, Option<u32>, Option<String>) {
    let value = notify.headers.get("Subscription-State").unwrap_or_default();
    let mut parts = value.split(';');
    let state = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let (mut expires, mut reason) = (None, None);
    for part in parts {
        let Some((name, val)) = part.split_once('=') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "expires" => expires = val.trim().parse().ok(),
            "reason" => reason = Some(val.trim().to_ascii_lowercase()),
            _ => {}
        }
    }
    (state, expires, reason)
}
