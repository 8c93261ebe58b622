//! Transaction matching keys: RFC 3261 §17.1.3 (responses to client transactions) and §17.2.3
//! (requests to server transactions), plus the dialog-level key that lets an ACK for a 2xx find
//! the INVITE server transaction in its RFC 6026 Accepted state.

use dialtone_sip_message::{Method, Request, Response, Via};

use super::error::{InboundError, TransactionError};
use crate::transport::TransportKind;

/// The RFC 3261 branch prefix (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The method part of a key, written as on the wire.
fn method_name(method: &Method) -> String {
    method.as_str().to_owned()
}

/// The branch of `via` if it carries the RFC 3261 magic cookie.
fn rfc3261_branch(via: &Via) -> Option<&str> {
    via.branch().filter(|b| b.starts_with(MAGIC_COOKIE))
}

/// A Via sent-by normalised for comparison: host case-folded, port defaulted from the
/// transport (RFC 3261 §18.2.2, §19.1.4).
pub(crate) fn sent_by(via: &Via) -> String {
    let port = via.port.unwrap_or_else(|| {
        TransportKind::from_via_name(&via.transport).map_or(5060, TransportKind::default_port)
    });
    format!("{}:{}", via.host.to_ascii_lowercase(), port)
}

/// Matches responses to client transactions: top-Via branch plus CSeq method (§17.1.3). The
/// method keeps a CANCEL's transaction apart from the INVITE's that shares its branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey {
    branch: String,
    method: String,
}

impl ClientKey {
    /// The key of a request the TU is sending.
    pub(crate) fn for_request(request: &Request) -> Result<ClientKey, TransactionError> {
        let via = request
            .top_via()
            .map_err(|_| TransactionError::MissingVia)?;
        let branch = rfc3261_branch(&via).ok_or(TransactionError::MissingBranch)?;
        Ok(ClientKey {
            branch: branch.to_owned(),
            method: method_name(&request.method),
        })
    }

    /// The key a received response carries, or `None` if it cannot match any of our
    /// transactions (we only send RFC 3261 branches).
    pub(crate) fn for_response(response: &Response) -> Result<Option<ClientKey>, InboundError> {
        let via = response.top_via().map_err(|_| InboundError::MissingVia)?;
        let cseq = response.cseq().map_err(|_| InboundError::MissingCSeq)?;
        Ok(rfc3261_branch(&via).map(|branch| ClientKey {
            branch: branch.to_owned(),
            method: method_name(&cseq.method),
        }))
    }

    /// The same branch with another method: a CANCEL's key to its INVITE's.
    pub(crate) fn with_method(&self, method: &Method) -> ClientKey {
        ClientKey {
            branch: self.branch.clone(),
            method: method_name(method),
        }
    }
}

/// Matches requests to server transactions (§17.2.3). An ACK carries the INVITE method in its
/// key so that it finds the INVITE transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ServerKey {
    /// Branch with the magic cookie: branch, sent-by and method.
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: String,
    },
    /// A pre-RFC 3261 peer: the request's identifying fields. The To tag is left out so that
    /// the INVITE (no tag) and its ACK (tag of our response) share a key.
    Rfc2543 {
        request_uri: String,
        call_id: String,
        from_tag: Option<String>,
        cseq: u32,
        method: String,
        top_via: String,
    },
}

impl ServerKey {
    /// The key of a received request.
    pub(crate) fn for_request(request: &Request) -> Result<ServerKey, InboundError> {
        let via = request.top_via().map_err(|_| InboundError::MissingVia)?;
        let cseq = request.cseq().map_err(|_| InboundError::MissingCSeq)?;
        let method = match request.method {
            Method::Ack => method_name(&Method::Invite),
            ref other => method_name(other),
        };
        if let Some(branch) = rfc3261_branch(&via) {
            return Ok(ServerKey::Rfc3261 {
                branch: branch.to_owned(),
                sent_by: sent_by(&via),
                method,
            });
        }
        Ok(ServerKey::Rfc2543 {
            request_uri: request.uri.to_string(),
            call_id: request.call_id().unwrap_or_default().to_owned(),
            from_tag: request
                .from()
                .ok()
                .and_then(|from| from.tag().map(str::to_owned)),
            cseq: cseq.seq,
            method,
            top_via: format!("{}/{}", via.transport, sent_by(&via)),
        })
    }

    /// The same transaction identity with another method: a CANCEL's key to its INVITE's
    /// (RFC 3261 §9.2).
    pub(crate) fn with_method(&self, new_method: &Method) -> ServerKey {
        let mut key = self.clone();
        match &mut key {
            ServerKey::Rfc3261 { method, .. } | ServerKey::Rfc2543 { method, .. } => {
                *method = method_name(new_method)
            }
        }
        key
    }
}

/// Finds the INVITE server transaction an ACK for a 2xx belongs to: that ACK has a branch of
/// its own (RFC 3261 §13.2.2.4), so it is matched like in the dialog, on Call-ID, From tag and
/// CSeq number (§12.2.1.1, §13.3.1.4); the To tag is checked by the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AckKey {
    call_id: String,
    from_tag: String,
    cseq: u32,
}

impl AckKey {
    /// The key of an INVITE or ACK; `None` if it lacks the fields (no From tag means a
    /// pre-RFC 3261 peer, whose ACK matches by [`ServerKey::Rfc2543`]).
    pub(crate) fn for_request(request: &Request) -> Option<AckKey> {
        let from = request.from().ok()?;
        Some(AckKey {
            call_id: request.call_id().ok()?.to_owned(),
            from_tag: from.tag()?.to_owned(),
            cseq: request.cseq().ok()?.seq,
        })
    }
}
