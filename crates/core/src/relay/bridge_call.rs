//! One call taken over by the relay's B2BUA (RFC 3261 §6 "back-to-back user agent"): leg A is
//! the caller's INVITE, answered by us as a UAS (§12.1.1); leg B is our own INVITE to each
//! target as a UAC (§12.1.2). The state and the messages of both legs live here; the decisions
//! are in [`super::b2bua`].

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dialtone_relay::{Binding, RelayConfig};
use dialtone_sdp::PendingOffer;
use dialtone_sip::dialog::Dialog;
use dialtone_sip::transaction::TransactionId;
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip_message::{Method, Request, Response};

use super::bridge_setup::Peer as WebRtcPeerPair;
use crate::webrtc::{MediaBridge, PlainLeg, PlainMedia};

/// Methods we accept in dialogs (the `Allow` header).
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO";

/// Which way the call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// A browser (WebRTC offer) calls plain-RTP phones.
    FromBrowser,
    /// A plain-RTP phone calls browsers.
    ToBrowser,
}

impl Direction {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Direction::FromBrowser => "browser_to_phone",
            Direction::ToBrowser => "phone_to_browser",
        }
    }
}

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Ports and peer connections are being set up; leg B not called yet.
    Preparing,
    /// Leg B's INVITEs are out.
    Calling,
    /// A browser answered; its answer is being applied.
    Accepting,
    /// Leg A has its 2xx; media is bridged.
    Answered,
}

/// One INVITE of leg B (one per target binding).
pub(crate) struct Branch {
    /// The callee's binding.
    pub target: Binding,
    /// The INVITE sent, once sent.
    pub invite: Option<Request>,
    /// Its client transaction.
    pub client: Option<TransactionId>,
    /// The peer connection made for this browser target (phone → browser calls).
    pub peer: Option<WebRtcPeerPair>,
    /// The final status, once known (timeouts count as 408, transport errors as 480).
    pub status: Option<u16>,
}

impl Branch {
    pub(crate) fn new(target: Binding) -> Branch {
        Branch {
            target,
            invite: None,
            client: None,
            peer: None,
            status: None,
        }
    }
}

/// Leg A's 2xx, sent again until the ACK arrives (RFC 3261 §13.3.1.4; unreliable transports).
pub(crate) struct Retransmit {
    pub response: Response,
    pub next: Instant,
    pub interval: Duration,
    pub give_up: Instant,
}

/// A call bridged by the B2BUA.
pub(crate) struct BridgeCall {
    pub direction: Direction,
    pub phase: Phase,
    /// When the caller's INVITE arrived.
    pub started: Instant,
    pub caller: String,
    pub callee: String,
    // Leg A.
    pub a_server: TransactionId,
    pub a_flow: Peer,
    pub a_request: Request,
    pub a_call_id: String,
    pub a_tag: String,
    /// Our Contact toward leg A.
    pub a_contact: String,
    /// Whether leg A has had its final response.
    pub a_final: bool,
    pub a_ringing: bool,
    pub a_dialog: Option<Dialog>,
    /// The SDP we answer leg A with (kept for re-INVITEs that change nothing).
    pub a_sdp: Option<String>,
    pub a_acked: bool,
    pub retransmit: Option<Retransmit>,
    // Leg B.
    pub b_call_id: String,
    pub b_tag: String,
    pub branches: Vec<Branch>,
    pub answered: Option<usize>,
    pub b_dialog: Option<Dialog>,
    /// The SDP we offered leg B (the answered branch's).
    pub b_sdp: Option<String>,
    // Media.
    pub plain: Option<PlainLeg>,
    pub plain_pending: Option<PendingOffer>,
    pub plain_media: Option<PlainMedia>,
    /// The browser caller's peer connection (browser → phone calls).
    pub peer: Option<WebRtcPeerPair>,
    pub webrtc_format: Option<crate::webrtc::MediaFormat>,
    pub bridge: Option<MediaBridge>,
    pub answered_at: Option<Instant>,
    pub connected_at: Option<Instant>,
    pub established_reported: bool,
}

/// Our Contact for requests and responses over `transport`: the relay's listener of that kind
/// (the first listener if there is none).
pub(crate) fn contact_for(config: &RelayConfig, transport: TransportKind) -> String {
    let listener = config
        .listeners
        .iter()
        .find(|l| l.transport == transport)
        .or_else(|| config.listeners.first());
    match listener {
        Some(l) => {
            let param = match l.transport {
                TransportKind::Udp => String::new(),
                other => format!(";transport={}", other.via_name().to_ascii_lowercase()),
            };
            format!("<sip:b2bua@{}:{}{param}>", l.host(), l.addr.port())
        }
        None => format!("<sip:b2bua@{}>", config.domain),
    }
}

/// `sip:USER@DOMAIN` with the domain in brackets when it is an IPv6 address.
fn aor(user: &str, domain: &str) -> String {
    match domain.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("sip:{user}@[{v6}]"),
        _ => format!("sip:{user}@{domain}"),
    }
}

impl BridgeCall {
    /// A response to leg A's INVITE with our To tag, and our Contact on 1xx/2xx.
    pub(crate) fn a_response(&self, status: u16, reason: &str) -> Response {
        let mut response = Response::for_request(&self.a_request, status, reason);
        if status > 100 {
            if let Ok(mut to) = self.a_request.to() {
                to.set_tag(&self.a_tag);
                response.headers.set("To", to.to_string());
            }
        }
        if (101..300).contains(&status) {
            for rr in self.a_request.headers.get_all("Record-Route") {
                response.headers.push("Record-Route", rr);
            }
            response.headers.push("Contact", self.a_contact.clone());
            response.headers.push("Allow", ALLOW);
        }
        response
    }

    /// Leg B's INVITE to branch `index` (no Via: the caller adds the relay's).
    pub(crate) fn b_invite(&self, config: &RelayConfig, index: usize, sdp: &str) -> Request {
        let target = &self.branches[index].target;
        let mut invite = Request::new(Method::Invite, target.contact.uri.clone());
        let max_forwards = self
            .a_request
            .max_forwards()
            .ok()
            .flatten()
            .unwrap_or(70)
            .saturating_sub(1);
        invite
            .headers
            .push("Max-Forwards", max_forwards.to_string());
        let display = self
            .a_request
            .from()
            .ok()
            .and_then(|f| f.display_name)
            .map(|d| format!("\"{}\" ", d.replace(['"', '\\'], "")))
            .unwrap_or_default();
        invite.headers.push(
            "From",
            format!(
                "{display}<{}>;tag={}",
                aor(&self.caller, &config.domain),
                self.b_tag
            ),
        );
        invite
            .headers
            .push("To", format!("<{}>", aor(&self.callee, &config.domain)));
        invite.headers.push("Call-ID", self.b_call_id.clone());
        invite.headers.push("CSeq", "1 INVITE");
        invite
            .headers
            .push("Contact", contact_for(config, target.flow.transport));
        invite.headers.push("Allow", ALLOW);
        invite.headers.push("Content-Type", "application/sdp");
        invite.body = sdp.as_bytes().to_vec();
        invite
    }

    /// Whether every branch that was called has its final response.
    pub(crate) fn all_branches_failed(&self) -> bool {
        self.answered.is_none() && self.branches.iter().all(|b| b.status.is_some())
    }

    /// The status leg A gets when every branch failed (RFC 3261 §16.7 step 6, simplified): a
    /// 6xx first, then 486 Busy, else the lowest final status.
    pub(crate) fn best_failure(&self) -> (u16, &'static str) {
        let statuses: Vec<u16> = self.branches.iter().filter_map(|b| b.status).collect();
        let pick = statuses
            .iter()
            .copied()
            .find(|s| *s >= 600)
            .or_else(|| statuses.iter().copied().find(|s| *s == 486))
            .or_else(|| statuses.iter().copied().min())
            .unwrap_or(480);
        // 401/407 from a callee mean nothing to the caller; 503 would make it try elsewhere.
        let status = match pick {
            401 | 407 => 480,
            503 => 500,
            s => s,
        };
        (status, dialtone_sip_message::default_reason(status))
    }
}
