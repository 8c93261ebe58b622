//! Publishing our presence (RFC 3903 PUBLISH of a PIDF document, `Event: presence`).
//!
//! - The first PUBLISH carries the document; the 2xx's `SIP-ETag` names the published state and
//!   its `Expires` the granted lifetime (§4.1, §11.3). Every PUBLISH of a publication shares
//!   its Call-ID and From tag and increments CSeq.
//! - Refresh (§4.2): before expiry (`max(expires / 2, expires − 30 s)`), no body,
//!   `SIP-If-Match: <etag>`. Modify (§4.3): the new document with `SIP-If-Match` — a status
//!   change while a PUBLISH is in flight is sent after it. Remove (§4.4): `Expires: 0` with
//!   `SIP-If-Match`.
//! - 412 Conditional Request Failed: the server lost our state; publish afresh with the
//!   document (§6). 423: retry with `Min-Expires`. 401/407: retry with credentials (twice at
//!   most per request). Other failures are reported; timeouts and 5xx are retried after 60 s.

use std::time::{Duration, Instant};

use dialtone_sip_message::{Method, NameAddr, Request, Response};

use super::context::Ctx;
use super::presence::{refresh_after, PubId, PublicationState, PublishConfig};
use super::UaEvent;
use crate::auth::{apply, Authenticator};
use crate::pidf::{self, PresenceStatus};
use crate::transaction::TransactionId;

/// Wait before trying again after a timeout or 5xx.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// Challenge retries per request.
const MAX_AUTH_RETRIES: u8 = 2;

/// What a PUBLISH carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The document (initial publication or modification).
    Document,
    /// Nothing: a refresh.
    Refresh,
    /// `Expires: 0`.
    Remove,
}

/// A PUBLISH in flight.
#[derive(Debug)]
struct Pending {
    tid: TransactionId,
    request: Request,
    kind: Kind,
    retries: u8,
}

/// One publication.
#[derive(Debug)]
pub(crate) struct Publication {
    id: PubId,
    config: PublishConfig,
    call_id: String,
    from_tag: String,
    cseq: u32,
    etag: Option<String>,
    expires: u32,
    auth: Option<Authenticator>,
    pending: Option<Pending>,
    /// The status changed while a PUBLISH was in flight.
    dirty: bool,
    removing: bool,
    wake: Option<Instant>,
    done: bool,
}

impl Publication {
    pub(crate) fn new(id: PubId, config: PublishConfig, ctx: &mut Ctx<'_>) -> Publication {
        Publication {
            id,
            call_id: ctx.call_id(),
            from_tag: ctx.tag(),
            cseq: 0,
            etag: None,
            expires: config.expires,
            auth: config.auth.clone().map(Authenticator::new),
            config,
            pending: None,
            dirty: false,
            removing: false,
            wake: None,
            done: false,
        }
    }

    pub(crate) fn id(&self) -> PubId {
        self.id
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.wake
    }

    pub(crate) fn owns(&self, tid: TransactionId) -> bool {
        self.pending.as_ref().is_some_and(|p| p.tid == tid)
    }

    pub(crate) fn start(&mut self, status: &PresenceStatus, ctx: &mut Ctx<'_>) {
        self.send(Kind::Document, Some(status), ctx);
    }

    /// Our status changed: modify the publication (after the PUBLISH in flight, if any).
    pub(crate) fn set_status(&mut self, status: &PresenceStatus, ctx: &mut Ctx<'_>) {
        if self.removing {
            return;
        }
        if self.pending.is_some() {
            self.dirty = true;
        } else {
            self.send(Kind::Document, Some(status), ctx);
        }
    }

    pub(crate) fn unpublish(&mut self, ctx: &mut Ctx<'_>) {
        self.removing = true;
        self.wake = None;
        if self.pending.is_some() {
            return; // sent when the PUBLISH in flight completes
        }
        match self.etag {
            Some(_) => self.send(Kind::Remove, None, ctx),
            None => self.finish(ctx),
        }
    }

    /// The refresh or retry timer.
    pub(crate) fn on_timer(&mut self, status: &PresenceStatus, ctx: &mut Ctx<'_>) {
        if self.wake.take().is_none() || self.pending.is_some() {
            return;
        }
        match self.etag {
            Some(_) => self.send(Kind::Refresh, None, ctx),
            None => self.send(Kind::Document, Some(status), ctx),
        }
    }

    fn build(&mut self, kind: Kind, status: Option<&PresenceStatus>, ctx: &mut Ctx<'_>) -> Request {
        self.cseq += 1;
        let aor = &self.config.aor;
        let mut req = Request::new(Method::Publish, aor.clone());
        if let Some(route) = &self.config.route {
            req.headers
                .push("Route", super::context::loose_route(route));
        }
        let mut from = NameAddr::new(aor.clone());
        from.set_tag(&self.from_tag);
        req.headers.push("From", from.to_string());
        req.headers
            .push("To", NameAddr::new(aor.clone()).to_string());
        req.headers.push("Call-ID", self.call_id.clone());
        req.headers.push("CSeq", format!("{} PUBLISH", self.cseq));
        req.headers.push("Event", "presence");
        let expires = if kind == Kind::Remove {
            0
        } else {
            self.expires
        };
        req.headers.push("Expires", expires.to_string());
        if let Some(etag) = &self.etag {
            req.headers.push("SIP-If-Match", etag.clone());
        }
        if let (Kind::Document, Some(status)) = (kind, status) {
            req.headers.push("Content-Type", "application/pidf+xml");
            req.body = pidf::write(&aor.to_string(), status).into_bytes();
        }
        if let Some(auth) = self.auth.as_mut().filter(|a| a.has_realms()) {
            let cnonce = ctx.cnonce();
            auth.authorize(&mut req, &cnonce);
        }
        req
    }

    fn send(&mut self, kind: Kind, status: Option<&PresenceStatus>, ctx: &mut Ctx<'_>) {
        let request = self.build(kind, status, ctx);
        self.transmit(request, kind, 0, ctx);
    }

    fn transmit(&mut self, request: Request, kind: Kind, retries: u8, ctx: &mut Ctx<'_>) {
        match ctx.send_request(self.config.dest, request) {
            Ok((tid, request)) => {
                self.pending = Some(Pending {
                    tid,
                    request,
                    kind,
                    retries,
                })
            }
            Err(e) => self.fail(500, &format!("cannot send PUBLISH: {e}"), ctx),
        }
    }

    pub(crate) fn on_response(
        &mut self,
        resp: Response,
        status: &PresenceStatus,
        ctx: &mut Ctx<'_>,
    ) {
        if resp.status < 200 {
            return;
        }
        let Some(sent) = self.pending.take() else {
            return;
        };
        match resp.status {
            200..=299 => self.on_success(&resp, sent.kind, status, ctx),
            401 | 407 if sent.retries < MAX_AUTH_RETRIES => {
                match self.authorized_retry(&sent.request, &resp, ctx) {
                    Some(retry) => self.transmit(retry, sent.kind, sent.retries + 1, ctx),
                    None => self.fail(resp.status, &resp.reason, ctx),
                }
            }
            412 if sent.request.headers.contains("SIP-If-Match") && !self.removing => {
                self.etag = None;
                self.send(Kind::Document, Some(status), ctx);
            }
            423 => {
                let min = resp
                    .headers
                    .get("Min-Expires")
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .filter(|m| *m > self.expires);
                match min {
                    Some(min) => {
                        self.expires = min;
                        let body = (sent.kind == Kind::Document).then_some(status);
                        self.send(sent.kind, body, ctx);
                    }
                    None => self.fail(423, &resp.reason, ctx),
                }
            }
            code => self.fail(code, &resp.reason, ctx),
        }
    }

    fn on_success(
        &mut self,
        resp: &Response,
        kind: Kind,
        status: &PresenceStatus,
        ctx: &mut Ctx<'_>,
    ) {
        if kind == Kind::Remove || self.removing {
            if kind != Kind::Remove && resp.headers.contains("SIP-ETag") {
                // The PUBLISH in flight when removal was asked succeeded: remove it now.
                self.etag = resp.headers.get("SIP-ETag").map(|e| e.trim().to_owned());
                return self.send(Kind::Remove, None, ctx);
            }
            return self.finish(ctx);
        }
        if let Some(etag) = resp.headers.get("SIP-ETag") {
            self.etag = Some(etag.trim().to_owned());
        }
        let granted = resp
            .headers
            .get("Expires")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(self.expires);
        self.wake = Some(ctx.now + refresh_after(granted));
        ctx.event(UaEvent::Publication {
            id: self.id,
            state: PublicationState::Published { expires: granted },
        });
        if std::mem::take(&mut self.dirty) {
            self.send(Kind::Document, Some(status), ctx);
        }
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
        self.cseq += 1;
        let mut retry = sent.clone();
        retry.headers.set("CSeq", format!("{} PUBLISH", self.cseq));
        apply(&mut retry, &headers);
        Some(retry)
    }

    /// No final response came.
    pub(crate) fn on_failure(&mut self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        self.pending = None;
        self.fail(code, reason, ctx);
    }

    fn fail(&mut self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        if self.removing {
            return self.finish(ctx);
        }
        ctx.event(UaEvent::Publication {
            id: self.id,
            state: PublicationState::Failed {
                code,
                reason: reason.to_owned(),
            },
        });
        self.wake = (code == 408 || code >= 500).then(|| ctx.now + RETRY_AFTER);
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) {
        self.done = true;
        self.wake = None;
        ctx.event(UaEvent::Publication {
            id: self.id,
            state: PublicationState::Removed,
        });
    }
}
