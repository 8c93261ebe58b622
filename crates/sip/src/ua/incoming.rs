//! Requests outside any usage (RFC 3261 §8.2): OPTIONS (§11.2), methods we do not allow (405
//! with Allow, §8.2.1), methods we do not know (501, §8.2.1), in-dialog requests for no dialog
//! (481, §12.2.2), and requests that fail validation (§8.2.2–§8.2.3).

use dialtone_sip_message::{
    default_reason, Message, Method, Rejection, Request, Response, UasPolicy,
};

use super::context::Ctx;
use super::ALLOWED_METHODS;
use crate::transaction::{TransactionId, TransactionLayer};
use crate::transport::Peer;

/// `policy` with its body types narrowed to what `request`'s method carries here (§8.2.3): SDP
/// for INVITE/UPDATE/PRACK, DTMF for INFO, text for MESSAGE (any `text/*`; the charset is
/// checked later), sipfrag and PIDF for NOTIFY; other methods keep the configured list.
pub(crate) fn policy_for(policy: &UasPolicy, request: &Request) -> UasPolicy {
    let wanted: Vec<String> = match &request.method {
        Method::Invite | Method::Update | Method::Prack => vec!["application/sdp".into()],
        Method::Info => vec!["application/dtmf-relay".into(), "application/dtmf".into()],
        Method::Notify => vec!["message/sipfrag".into(), "application/pidf+xml".into()],
        Method::Message => {
            let mut types = vec!["text/plain".to_owned()];
            let own = media_type(request.content_type().unwrap_or_default());
            if own.starts_with("text/") && own != "text/plain" {
                types.push(own);
            }
            types
        }
        _ => return policy.clone(),
    };
    let accept = wanted
        .into_iter()
        .filter(|t| {
            let text = t.starts_with("text/") && policy_accepts(policy, "text/plain");
            text || policy_accepts(policy, t)
        })
        .collect();
    UasPolicy {
        accept,
        ..policy.clone()
    }
}

fn policy_accepts(policy: &UasPolicy, media: &str) -> bool {
    policy.accept.iter().any(|a| a.eq_ignore_ascii_case(media))
}

/// `type/subtype` of a Content-Type value, lower-cased, parameters dropped.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Answers `request` (server transaction `id`) with `status`, adding a To tag when the request
/// had none (§8.2.6.2) and any `extra` headers.
pub(crate) fn respond(
    ctx: &mut Ctx<'_>,
    id: TransactionId,
    request: &Request,
    status: u16,
    extra: Option<&[(String, String)]>,
) {
    let mut response = Response::for_request(request, status, default_reason(status));
    add_to_tag(ctx, &mut response);
    for (name, value) in extra.unwrap_or_default() {
        response.headers.push(name, value.clone());
    }
    if status == 405 {
        response.headers.push("Allow", ALLOWED_METHODS);
    }
    ctx.respond(id, response);
}

/// Adds a To tag to `response` unless it has one.
pub(crate) fn add_to_tag(ctx: &mut Ctx<'_>, response: &mut Response) {
    if let Ok(mut to) = response.to() {
        if to.tag().is_none() {
            to.set_tag(&ctx.tag());
            response.headers.set("To", to.to_string());
        }
    }
}

/// Answers a request that failed [`dialtone_sip_message::validate_request`].
pub(crate) fn reject(ctx: &mut Ctx<'_>, id: TransactionId, request: &Request, rej: &Rejection) {
    let mut response = Response::for_request(request, rej.status, &rej.reason);
    add_to_tag(ctx, &mut response);
    for (name, value) in &rej.extra_headers {
        response.headers.push(name, value.clone());
    }
    ctx.respond(id, response);
}

/// A request the transaction layer could not place (no CSeq): answered statelessly.
pub(crate) fn reject_stateless(
    tl: &mut TransactionLayer,
    from: Peer,
    request: &Request,
    status: u16,
    reason: &str,
) {
    let response = Response::for_request(request, status, reason);
    tl.send_stateless(from, Message::Response(response));
}

/// The response to `OPTIONS` (§11.2): what we allow, accept and support.
pub(crate) fn options_response(ctx: &mut Ctx<'_>, request: &Request) -> Response {
    let mut response = Response::for_request(request, 200, "OK");
    add_to_tag(ctx, &mut response);
    response.headers.push("Allow", ALLOWED_METHODS);
    response
        .headers
        .push("Accept", ctx.config.policy.accept.join(", "));
    response
        .headers
        .push("Supported", ctx.config.policy.supported.join(", "));
    response
}

/// A request without To tag that is not an INVITE (INVITEs create calls).
pub(crate) fn out_of_dialog(ctx: &mut Ctx<'_>, id: TransactionId, request: &Request) {
    match &request.method {
        Method::Options => {
            let response = options_response(ctx, request);
            ctx.respond(id, response);
        }
        // Only meaningful inside a dialog.
        Method::Bye | Method::Info | Method::Update | Method::Prack | Method::Notify => {
            respond(ctx, id, request, 481, None)
        }
        Method::Message => super::message::receive(ctx, id, request, None),
        Method::Refer => {
            // We only carry out transfers of our own calls (RFC 3515 allows more).
            let mut r = Response::for_request(request, 403, "REFER Only Inside A Call");
            add_to_tag(ctx, &mut r);
            ctx.respond(id, r);
        }
        Method::Extension(_) => respond(ctx, id, request, 501, None),
        _ => respond(ctx, id, request, 405, None),
    }
}
