//! Dialogs (RFC 3261 §12): the peer-to-peer relationship an INVITE sets up, identified by
//! Call-ID + local tag + remote tag.
//!
//! A [`Dialog`] holds the state of §12.1: local/remote URIs and tags, local and remote CSeq,
//! remote target (from Contact), route set (from Record-Route) and the `secure` flag. It is
//! created by the UAC from a 1xx-with-To-tag or 2xx response ([`Dialog::from_uac`], §12.1.2) and
//! by the UAS from the request it answers ([`Dialog::from_uas`], §12.1.1). It builds in-dialog
//! requests with loose or strict routing ([`Dialog::make_request`], §12.2.1.1), the ACK for a 2xx
//! ([`Dialog::make_ack`], §13.2.2.4), and checks incoming in-dialog requests
//! ([`Dialog::handle_request`], §12.2.2: CSeq order, target refresh).
//!
//! Dialog requests carry no Via: the caller adds its own (with a fresh branch) before handing
//! the request to the transaction layer.

use std::fmt;

use dialtone_sip_message::{CSeq, Method, NameAddr, ParseError, Request, Response, Scheme, Uri};

/// Why a dialog could not be created or a request in it was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog needs is missing or unparsable.
    #[error("cannot build dialog state: {header} is missing or malformed")]
    BadHeader {
        /// Header name.
        header: &'static str,
    },
    /// The response does not create a dialog (100, no To tag, or a final non-2xx).
    #[error("a {status} response does not create a dialog")]
    NoDialog {
        /// Status of the response.
        status: u16,
    },
    /// An in-dialog request with a CSeq lower than the last one seen (§12.2.2: answer 500).
    #[error("request CSeq {got} is lower than the last one in this dialog ({last})")]
    OutOfOrder {
        /// CSeq of the request.
        got: u32,
        /// Highest CSeq seen from the peer.
        last: u32,
    },
}

impl DialogError {
    /// The status a UAS answers an incoming request with when this error is about that request.
    pub fn status(&self) -> u16 {
        match self {
            DialogError::OutOfOrder { .. } => 500,
            DialogError::BadHeader { .. } | DialogError::NoDialog { .. } => 400,
        }
    }
}

/// Dialog identifier (§12): Call-ID, local tag, remote tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag (From tag as UAC, To tag as UAS).
    pub local_tag: String,
    /// The peer's tag; empty for an RFC 2543 peer that sent none.
    pub remote_tag: String,
}

impl DialogId {
    /// The id an incoming in-dialog request belongs to (we are its UAS): To tag is ours.
    pub fn for_incoming_request(req: &Request) -> Option<DialogId> {
        Some(DialogId {
            call_id: req.call_id().ok()?.to_owned(),
            local_tag: req.to().ok()?.tag()?.to_owned(),
            remote_tag: req.from().ok()?.tag().unwrap_or_default().to_owned(),
        })
    }

    /// The id a response to one of our requests belongs to (we are its UAC): From tag is ours.
    pub fn for_response(resp: &Response) -> Option<DialogId> {
        Some(DialogId {
            call_id: resp.call_id().ok()?.to_owned(),
            local_tag: resp.from().ok()?.tag()?.to_owned(),
            remote_tag: resp.to().ok()?.tag()?.to_owned(),
        })
    }
}

impl fmt::Display for DialogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};local-tag={};remote-tag={}",
            self.call_id, self.local_tag, self.remote_tag
        )
    }
}

/// Early (after a 1xx with To tag) or confirmed (after a 2xx) (§12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// One dialog's state (§12.1).
#[derive(Debug, Clone)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    local_uri: NameAddr,
    remote_uri: NameAddr,
    local_seq: u32,
    remote_seq: Option<u32>,
    remote_target: Uri,
    route_set: Vec<NameAddr>,
    secure: bool,
    local_contact: Option<NameAddr>,
}

impl Dialog {
    /// UAC side (§12.1.2): `request` is the dialog-creating request we sent, `response` a 2xx or
    /// a 101–199 with a To tag. Route set = Record-Route of the response, reversed.
    pub fn from_uac(request: &Request, response: &Response) -> Result<Dialog, DialogError> {
        let status = response.status;
        let creates = (101..200).contains(&status) || (200..300).contains(&status);
        let to = response.to().map_err(|_| bad("To"))?;
        let remote_tag = match to.tag() {
            Some(t) if creates => t.to_owned(),
            _ => return Err(DialogError::NoDialog { status }),
        };
        let from = request.from().map_err(|_| bad("From"))?;
        let local_tag = from.tag().ok_or_else(|| bad("From tag"))?.to_owned();
        let call_id = request.call_id().map_err(|_| bad("Call-ID"))?.to_owned();
        let cseq = request.cseq().map_err(|_| bad("CSeq"))?;
        let mut route_set = response.record_routes().map_err(|_| bad("Record-Route"))?;
        route_set.reverse();
        let remote_target = first_contact(response)?.unwrap_or_else(|| request.uri.clone());
        Ok(Dialog {
            id: DialogId {
                call_id,
                local_tag,
                remote_tag,
            },
            state: if status >= 200 {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_uri: from,
            remote_uri: to,
            local_seq: cseq.seq,
            remote_seq: None,
            remote_target,
            route_set,
            secure: is_secure(request),
            local_contact: request.contacts().ok().and_then(|c| c.into_iter().next()),
        })
    }

    /// UAS side (§12.1.1): `request` is the dialog-creating request we answer, `local_tag` the
    /// To tag we put in our responses, `local_contact` the Contact of those responses. Route set
    /// = Record-Route of the request, in order. Our own CSeq space starts at 1.
    pub fn from_uas(
        request: &Request,
        local_tag: &str,
        local_contact: Option<NameAddr>,
    ) -> Result<Dialog, DialogError> {
        let from = request.from().map_err(|_| bad("From"))?;
        let mut to = request.to().map_err(|_| bad("To"))?;
        to.set_tag(local_tag);
        let call_id = request.call_id().map_err(|_| bad("Call-ID"))?.to_owned();
        let cseq = request.cseq().map_err(|_| bad("CSeq"))?;
        let route_set = request.record_routes().map_err(|_| bad("Record-Route"))?;
        let remote_target = first_contact_req(request)?.ok_or_else(|| bad("Contact"))?;
        Ok(Dialog {
            id: DialogId {
                call_id,
                local_tag: local_tag.to_owned(),
                remote_tag: from.tag().unwrap_or_default().to_owned(),
            },
            state: DialogState::Confirmed,
            local_uri: to,
            remote_uri: from,
            local_seq: 0,
            remote_seq: Some(cseq.seq),
            remote_target,
            route_set,
            secure: is_secure(request),
            local_contact,
        })
    }

    /// Subscriber side, when a NOTIFY arrives before the 2xx to our SUBSCRIBE (RFC 6665
    /// §4.1.2.4): `subscribe` is the request we sent, `notify` the NOTIFY that creates the
    /// dialog. We are the UAS of the NOTIFY: its Record-Route in order is the route set, its
    /// Contact the remote target; our CSeq space continues from the SUBSCRIBE's.
    pub fn from_notify(subscribe: &Request, notify: &Request) -> Result<Dialog, DialogError> {
        let local_uri = subscribe.from().map_err(|_| bad("From"))?;
        let local_tag = local_uri.tag().ok_or_else(|| bad("From tag"))?.to_owned();
        let remote_uri = notify.from().map_err(|_| bad("From"))?;
        let remote_tag = remote_uri.tag().ok_or_else(|| bad("From tag"))?.to_owned();
        let call_id = subscribe.call_id().map_err(|_| bad("Call-ID"))?.to_owned();
        let local_seq = subscribe.cseq().map_err(|_| bad("CSeq"))?.seq;
        let remote_seq = notify.cseq().map_err(|_| bad("CSeq"))?.seq;
        let route_set = notify.record_routes().map_err(|_| bad("Record-Route"))?;
        let remote_target = first_contact_req(notify)?.ok_or_else(|| bad("Contact"))?;
        Ok(Dialog {
            id: DialogId {
                call_id,
                local_tag,
                remote_tag,
            },
            state: DialogState::Confirmed,
            local_uri,
            remote_uri,
            local_seq,
            remote_seq: Some(remote_seq),
            remote_target,
            route_set,
            secure: is_secure(subscribe),
            local_contact: subscribe.contacts().ok().and_then(|c| c.into_iter().next()),
        })
    }

    /// The dialog id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Early or confirmed.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Our URI (with our tag).
    pub fn local_uri(&self) -> &NameAddr {
        &self.local_uri
    }

    /// The peer's URI (with its tag).
    pub fn remote_uri(&self) -> &NameAddr {
        &self.remote_uri
    }

    /// The last CSeq we used (0 before our first request as UAS).
    pub fn local_seq(&self) -> u32 {
        self.local_seq
    }

    /// The highest CSeq seen from the peer.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Where in-dialog requests go (the peer's Contact).
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The route set, in the order requests carry it.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    /// Whether the dialog was set up over SIPS (§12.1.1).
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The Contact we put on target-refresh requests and dialog-making responses.
    pub fn local_contact(&self) -> Option<&NameAddr> {
        self.local_contact.as_ref()
    }

    /// Sets the Contact we put on target-refresh requests (e.g. after a NAT rewrite).
    pub fn set_local_contact(&mut self, contact: NameAddr) {
        self.local_contact = Some(contact);
    }

    /// The URI of the next hop for requests in this dialog: the first route, else the remote
    /// target (§8.1.2 applied to §12.2.1.1).
    pub fn next_hop(&self) -> &Uri {
        self.route_set
            .first()
            .map(|r| &r.uri)
            .unwrap_or(&self.remote_target)
    }

    /// Takes in a response to a request in this dialog (or to the dialog-creating INVITE). A 2xx
    /// to the initial INVITE confirms an early dialog and re-reads the route set from it
    /// (§13.2.2.4); a 2xx to a target refresh (INVITE, UPDATE) replaces the remote target with
    /// its Contact (§12.2.1.2).
    pub fn handle_response(&mut self, response: &Response) -> Result<(), DialogError> {
        let cseq = response.cseq().map_err(|_| bad("CSeq"))?;
        if !(200..300).contains(&response.status) {
            return Ok(());
        }
        if self.state == DialogState::Early && cseq.method == Method::Invite {
            let mut route_set = response.record_routes().map_err(|_| bad("Record-Route"))?;
            route_set.reverse();
            self.route_set = route_set;
            if let Ok(to) = response.to() {
                self.remote_uri = to;
            }
            self.state = DialogState::Confirmed;
        }
        if is_target_refresh(&cseq.method) {
            if let Some(target) = first_contact(response)? {
                self.remote_target = target;
            }
        }
        Ok(())
    }

    /// Checks an incoming in-dialog request (§12.2.2): refuses a CSeq lower than the last one
    /// (answer [`DialogError::status`], 500), records the CSeq, and applies a target refresh
    /// (INVITE/UPDATE with Contact). ACK and CANCEL share their INVITE's CSeq and are accepted.
    pub fn handle_request(&mut self, request: &Request) -> Result<(), DialogError> {
        let CSeq { seq, method } = request.cseq().map_err(|_| bad("CSeq"))?;
        if let Some(last) = self.remote_seq {
            if seq < last {
                return Err(DialogError::OutOfOrder { got: seq, last });
            }
        }
        if !matches!(method, Method::Ack | Method::Cancel) {
            self.remote_seq = Some(seq);
        }
        if is_target_refresh(&method) {
            if let Some(target) = first_contact_req(request)? {
                self.remote_target = target;
            }
        }
        Ok(())
    }

    /// Builds the next in-dialog request of `method` (§12.2.1.1): To/From/Call-ID from the
    /// dialog, CSeq = local CSeq + 1, Max-Forwards 70, our Contact on target-refresh methods, and
    /// Request-URI/Route from the route set (loose routing when the first route has `lr`, strict
    /// otherwise). No Via (the caller adds it).
    pub fn make_request(&mut self, method: Method) -> Request {
        self.local_seq = self.local_seq.wrapping_add(1);
        self.build(method.clone(), self.local_seq, method)
    }

    /// Builds the ACK for a 2xx to the INVITE with CSeq `invite_cseq` (§13.2.2.4): same CSeq
    /// number, method ACK, routed like any in-dialog request. Does not change the local CSeq.
    pub fn make_ack(&self, invite_cseq: u32) -> Request {
        self.build(Method::Ack, invite_cseq, Method::Ack)
    }

    fn build(&self, method: Method, seq: u32, cseq_method: Method) -> Request {
        let (uri, routes) = self.request_target();
        let mut req = Request::new(method.clone(), uri);
        for route in routes {
            req.headers.push("Route", route);
        }
        req.headers.push("Max-Forwards", "70");
        req.headers.push("From", self.local_uri.to_string());
        req.headers.push("To", self.remote_uri.to_string());
        req.headers.push("Call-ID", self.id.call_id.clone());
        req.headers.push(
            "CSeq",
            CSeq {
                seq,
                method: cseq_method,
            }
            .to_string(),
        );
        if is_target_refresh(&method) {
            if let Some(contact) = &self.local_contact {
                req.headers.push("Contact", contact.to_string());
            }
        }
        req
    }

    /// Request-URI and Route values per §12.2.1.1.
    fn request_target(&self) -> (Uri, Vec<String>) {
        match self.route_set.first() {
            None => (self.remote_target.clone(), Vec::new()),
            Some(first) if first.uri.param("lr").is_some() => (
                self.remote_target.clone(),
                self.route_set.iter().map(|r| r.to_string()).collect(),
            ),
            Some(first) => {
                // Strict router: it gets the Request-URI; the remote target goes last in Route.
                let mut uri = first.uri.clone();
                uri.headers.clear();
                uri.params
                    .retain(|(n, _)| !n.eq_ignore_ascii_case("method"));
                let mut routes: Vec<String> = self
                    .route_set
                    .iter()
                    .skip(1)
                    .map(|r| r.to_string())
                    .collect();
                routes.push(format!("<{}>", self.remote_target));
                (uri, routes)
            }
        }
    }
}

fn bad(header: &'static str) -> DialogError {
    DialogError::BadHeader { header }
}

fn is_secure(request: &Request) -> bool {
    request.uri.scheme == Scheme::Sips
}

fn is_target_refresh(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
    )
}

fn first_contact(response: &Response) -> Result<Option<Uri>, DialogError> {
    contact_uri(response.contacts())
}

fn first_contact_req(request: &Request) -> Result<Option<Uri>, DialogError> {
    contact_uri(request.contacts())
}

fn contact_uri(contacts: Result<Vec<NameAddr>, ParseError>) -> Result<Option<Uri>, DialogError> {
    let contacts = contacts.map_err(|_| bad("Contact"))?;
    Ok(contacts.into_iter().next().map(|c| c.uri))
}
