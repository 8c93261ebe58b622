//! Requests the client side derives from an INVITE it sent: the ACK for a non-2xx final
//! response (RFC 3261 §17.1.1.3) and the CANCEL (§9.1). Both repeat the INVITE's Request-URI,
//! Call-ID, From, CSeq number and Route set, and carry exactly one Via: the INVITE's top Via,
//! branch included, so they reach the same server transaction.

use dialtone_sip_message::{Method, Request, Response, Via};

/// Max-Forwards for a derived request when the INVITE had none (RFC 3261 §8.1.1.6).
const DEFAULT_MAX_FORWARDS: &str = "70";

/// The ACK for the non-2xx final `response` to `invite`: To is taken from the response, so it
/// carries the UAS's tag (§17.1.1.3).
pub(crate) fn build_ack(invite: &Request, top_via: &Via, response: &Response) -> Request {
    derive(invite, top_via, Method::Ack, response.headers.get("To"))
}

/// The CANCEL for `invite`: To is the INVITE's, without any tag a response may have added
/// (§9.1).
pub(crate) fn build_cancel(invite: &Request, top_via: &Via) -> Request {
    derive(invite, top_via, Method::Cancel, invite.headers.get("To"))
}

fn derive(invite: &Request, top_via: &Via, method: Method, to: Option<&str>) -> Request {
    // The layer refuses to send an INVITE without a parseable CSeq, so this always finds one.
    let seq = invite.cseq().map_or(0, |cseq| cseq.seq);
    let mut request = Request::new(method.clone(), invite.uri.clone());
    let headers = &mut request.headers;
    headers.push("Via", top_via.to_string());
    headers.push(
        "Max-Forwards",
        invite
            .headers
            .get("Max-Forwards")
            .unwrap_or(DEFAULT_MAX_FORWARDS),
    );
    for route in invite.headers.get_all("Route") {
        headers.push("Route", route);
    }
    if let Some(from) = invite.headers.get("From") {
        headers.push("From", from);
    }
    if let Some(to) = to {
        headers.push("To", to);
    }
    if let Some(call_id) = invite.headers.get("Call-ID") {
        headers.push("Call-ID", call_id);
    }
    headers.push("CSeq", format!("{seq} {}", method.as_str()));
    request
}
