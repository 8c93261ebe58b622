//! Instant messages (RFC 3428 MESSAGE), outside any call and inside one.
//!
//! Sending: [`UserAgent::send_message`] (a request of its own: fresh Call-ID and From tag, no
//! Contact, §4) or [`UserAgent::send_message_in_call`] (in the call's dialog). 401/407 are
//! answered with the configured credentials (twice at most); the outcome — the final status,
//! 408 for no answer — is reported as [`UaEvent::MessageResult`]. Over UDP a request larger than
//! 1300 bytes is not sent but reported as 513 (§9: no fragmentation on congestion-unsafe
//! transports).
//!
//! Receiving: a MESSAGE in or out of a call gets 200 and [`UaEvent::MessageReceived`] when its
//! body is text (`text/*`) in UTF-8; other types get 415 (with Accept), other charsets 415,
//! bytes that are not UTF-8 400. A MESSAGE without body gets 200 and no event.

use std::fmt;
use std::time::Instant;

use dialtone_sip_message::{Method, NameAddr, Request, Response, Uri};

use super::call::{Call, Phase};
use super::context::Ctx;
use super::incoming::{media_type, respond};
use super::request::{Outcome, Purpose};
use super::{CallId, UaError, UaEvent, UserAgent};
use crate::auth::{apply, Authenticator, Credentials};
use crate::transaction::TransactionId;
use crate::transport::{Peer, TransportKind};

/// Largest MESSAGE we send over UDP (RFC 3428 §9).
const MAX_UDP_MESSAGE: usize = 1300;
/// At most this many challenge retries for one MESSAGE.
const MAX_AUTH_RETRIES: u8 = 2;

/// Handle of a MESSAGE we send, echoed in [`UaEvent::MessageResult`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub(crate) u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "msg{}", self.0)
    }
}

/// A MESSAGE outside any call.
#[derive(Debug, Clone)]
pub struct MessageConfig {
    /// Request-URI and To: the recipient.
    pub target: Uri,
    /// Our identity (From); a tag is added.
    pub from: NameAddr,
    /// The body.
    pub body: Vec<u8>,
    /// Its Content-Type.
    pub content_type: String,
    /// Where the request goes (the outbound proxy or the target, resolved by the runtime).
    pub dest: Peer,
    /// Credentials for 401/407 challenges.
    pub auth: Option<Credentials>,
    /// Outbound proxy, sent as `Route: <uri;lr>`.
    pub route: Option<Uri>,
}

impl MessageConfig {
    /// A `text/plain; charset=UTF-8` message to `target`, no auth, no proxy.
    pub fn text(target: Uri, from: NameAddr, text: &str, dest: Peer) -> MessageConfig {
        MessageConfig {
            target,
            from,
            body: text.as_bytes().to_vec(),
            content_type: "text/plain;charset=UTF-8".to_owned(),
            dest,
            auth: None,
            route: None,
        }
    }
}

/// One MESSAGE of ours outside any call, until its final response.
#[derive(Debug)]
pub(crate) struct Pager {
    id: MessageId,
    dest: Peer,
    request: Request,
    tid: TransactionId,
    auth: Option<Authenticator>,
    retries: u8,
}

impl Pager {
    pub(crate) fn owns(&self, tid: TransactionId) -> bool {
        self.tid == tid
    }

    /// A final response (`true`: done) or a provisional one (`false`).
    pub(crate) fn on_response(&mut self, resp: Response, ctx: &mut Ctx<'_>) -> bool {
        if resp.status < 200 {
            return false;
        }
        if matches!(resp.status, 401 | 407) && self.retries < MAX_AUTH_RETRIES {
            if let Some(retry) = self.authorized_retry(&resp, ctx) {
                if let Ok((tid, sent)) = ctx.send_request(self.dest, retry) {
                    self.tid = tid;
                    self.request = sent;
                    self.retries += 1;
                    return false;
                }
            }
        }
        result(ctx, self.id, resp.status, &resp.reason);
        true
    }

    fn authorized_retry(&mut self, resp: &Response, ctx: &mut Ctx<'_>) -> Option<Request> {
        let cnonce = ctx.cnonce();
        let headers = self
            .auth
            .as_mut()?
            .handle_challenge(&self.request, resp, &cnonce)
            .ok()?;
        let mut retry = self.request.clone();
        let seq = retry.cseq().map(|c| c.seq).unwrap_or(1).wrapping_add(1);
        retry.headers.set("CSeq", format!("{seq} MESSAGE"));
        apply(&mut retry, &headers);
        Some(retry)
    }

    /// No final response came.
    pub(crate) fn on_failure(&self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        result(ctx, self.id, code, reason);
    }
}

fn result(ctx: &mut Ctx<'_>, id: MessageId, code: u16, reason: &str) {
    ctx.event(UaEvent::MessageResult {
        id,
        code,
        reason: reason.to_owned(),
    });
}

/// Whether `request` may go to `dest` (§9).
fn fits(request: &Request, dest: Peer) -> bool {
    dest.transport != TransportKind::Udp || request.to_bytes().len() <= MAX_UDP_MESSAGE
}

impl UserAgent {
    /// Sends a MESSAGE outside any call (RFC 3428); its outcome arrives as
    /// [`UaEvent::MessageResult`] with the returned id.
    pub fn send_message(&mut self, now: Instant, config: MessageConfig) -> MessageId {
        let id = MessageId(self.allocate());
        let (mut ctx, usages) = self.split(now);
        let mut from = config.from.clone();
        from.set_tag(&ctx.tag());
        let mut request = Request::new(Method::Message, config.target.clone());
        if let Some(route) = &config.route {
            let mut route = route.clone();
            if route.param("lr").is_none() {
                route.set_param("lr", None);
            }
            request.headers.push("Route", format!("<{route}>"));
        }
        request.headers.push("From", from.to_string());
        request
            .headers
            .push("To", NameAddr::new(config.target.clone()).to_string());
        request.headers.push("Call-ID", ctx.call_id());
        request.headers.push("CSeq", "1 MESSAGE");
        request
            .headers
            .push("Content-Type", config.content_type.clone());
        request.body = config.body;
        let stamped = ctx.stamp(config.dest, request.clone());
        if !fits(&stamped, config.dest) {
            result(&mut ctx, id, 513, "Message Too Large");
        } else {
            match ctx.send_request(config.dest, request) {
                Ok((tid, sent)) => usages.pagers.push(Pager {
                    id,
                    dest: config.dest,
                    request: sent,
                    tid,
                    auth: config.auth.map(Authenticator::new),
                    retries: 0,
                }),
                Err(e) => result(&mut ctx, id, 503, &format!("cannot send: {e}")),
            }
        }
        self.pump(now);
        id
    }

    /// Sends a MESSAGE inside call `id` (in its dialog); the outcome arrives as
    /// [`UaEvent::MessageResult`].
    pub fn send_message_in_call(
        &mut self,
        now: Instant,
        id: CallId,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<MessageId, UaError> {
        let msg = MessageId(self.allocate());
        self.with_call(now, id, |call, ctx| {
            call.send_message(msg, content_type, body, ctx)
        })?;
        Ok(msg)
    }
}

impl Call {
    fn send_message(
        &mut self,
        msg: MessageId,
        content_type: &str,
        body: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), UaError> {
        let wrong = UaError::WrongState {
            call: self.id,
            command: "send_message_in_call",
        };
        if self.phase != Phase::Confirmed {
            return Err(wrong);
        }
        let Some(dialog) = &mut self.dialog else {
            return Err(wrong);
        };
        let mut request = dialog.make_request(Method::Message);
        request.headers.push("Content-Type", content_type);
        request.body = body;
        if !self.send_in_dialog(request, Purpose::Message(msg), ctx) {
            result(ctx, msg, 503, "cannot send");
        }
        Ok(())
    }

    /// How one of our in-call MESSAGEs ended.
    pub(crate) fn on_message_outcome(
        &mut self,
        msg: MessageId,
        outcome: Outcome,
        ctx: &mut Ctx<'_>,
    ) {
        result(ctx, msg, outcome.status(), outcome.reason());
        self.on_dialog_error(outcome.status(), ctx);
    }
}

/// A MESSAGE for us (server transaction `tid`), in call `call` or outside any. Its media type
/// was already checked to be text.
pub(crate) fn receive(
    ctx: &mut Ctx<'_>,
    tid: TransactionId,
    request: &Request,
    call: Option<CallId>,
) {
    if request.body.is_empty() {
        return respond(ctx, tid, request, 200, None);
    }
    let content_type = request.content_type().unwrap_or("text/plain").to_owned();
    let charset = content_type.split(';').skip(1).find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    });
    if charset.is_some_and(|c| c != "utf-8" && c != "us-ascii") {
        let accept = [("Accept".to_owned(), "text/plain;charset=UTF-8".to_owned())];
        return respond(ctx, tid, request, 415, Some(&accept));
    }
    if !media_type(&content_type).starts_with("text/") {
        let accept = [("Accept".to_owned(), "text/plain".to_owned())];
        return respond(ctx, tid, request, 415, Some(&accept));
    }
    let Ok(body) = String::from_utf8(request.body.clone()) else {
        let mut bad = Response::for_request(request, 400, "Body Is Not UTF-8");
        super::incoming::add_to_tag(ctx, &mut bad);
        return ctx.respond(tid, bad);
    };
    let Ok(from) = request.from() else {
        return respond(ctx, tid, request, 400, None);
    };
    respond(ctx, tid, request, 200, None);
    ctx.event(UaEvent::MessageReceived {
        from,
        call,
        content_type,
        body,
    });
}
