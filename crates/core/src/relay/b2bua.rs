//! The relay's B2BUA for calls between a browser (WebRTC) and a plain-RTP phone: the
//! transaction user of the calls `dialtone-relay` hands over through its B2BUA seam
//! ([`dialtone_relay::b2bua`]), with the media joined by [`crate::webrtc::MediaBridge`].
//!
//! Browser → phone: the browser's offer is answered by a new peer connection (host candidates
//! on the media address, BUNDLE, rtcp-mux), a plain leg is bound and offered to each phone
//! target (Opus, PCMU, PCMA). The first 2xx wins (the other branches are CANCELled, RFC 3261
//! §9.1); its answer settles the codec, the bridge starts and the browser gets its 200.
//!
//! Phone → browser: the phone's offer is answered on a plain leg (488 when it has none of
//! Opus/PCMU/PCMA), one peer connection per browser target makes a WebRTC offer; the first
//! browser to answer wins, its answer is applied, the bridge starts and the phone gets its 200.
//!
//! Provisional responses become one 180 toward the caller (no early media). BYE on either leg
//! ends the other; CANCEL from the caller cancels leg B and answers 487. Re-INVITEs and UPDATEs
//! are answered with the description already in force (no renegotiation); OPTIONS and INFO
//! get 200. Leg A's 2xx is retransmitted over UDP until the ACK (§13.3.1.4).
//!
//! Slow steps (ports, peer connections, candidate gathering) run in tasks; their results come
//! back to the relay's driver as [`B2buaInput`]s, so the driver never waits on them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use dialtone_relay::b2bua::{B2buaEvent, B2buaFailure};
use dialtone_relay::{Binding, MemoryLocationStore, Relay};
use dialtone_sip::dialog::Dialog;
use dialtone_sip::random::{Random, Xorshift};
use dialtone_sip::transaction::TransactionId;
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip_message::{Message, Method, Request, Response};
use tokio::sync::mpsc;

use super::bridge_call::{contact_for, Branch, BridgeCall, Direction, Phase, Retransmit};
use super::bridge_setup::{self, Peer as PeerPair, SetupDone};
use super::report::RelayReport;
use super::selector::is_webrtc_binding;
use crate::webrtc::{
    is_webrtc_sdp, BridgeEvent, BridgePlan, BridgeStats, MediaBridge, MediaFormat, PlainMedia,
    WebRtcError,
};

type SipRelay = Relay<MemoryLocationStore>;

/// RFC 3261 T1 and T2 for leg A's 2xx retransmissions; 64·T1 until we give up.
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);

/// What the B2BUA's tasks hand back to the driver, per call.
pub(crate) enum B2buaInput {
    /// A setup step finished.
    Setup(SetupDone),
    /// The bridge reported something.
    Bridge(BridgeEvent),
    /// A stopped bridge's final counters.
    Stopped {
        call_id: String,
        reason: String,
        stats: BridgeStats,
        connected: bool,
    },
}

/// What a client transaction of ours is for.
#[derive(Debug, Clone, Copy)]
enum ClientKind {
    /// Leg B's INVITE on this branch.
    Invite(usize),
    /// A BYE or CANCEL whose answer does not matter.
    Other,
}

/// The bridged calls.
pub(crate) struct B2bua {
    ip: IpAddr,
    rng: Xorshift,
    next_key: u64,
    calls: HashMap<u64, BridgeCall>,
    call_ids: HashMap<String, u64>,
    clients: HashMap<TransactionId, (u64, ClientKind)>,
    /// INVITEs of ended calls still waiting for their final response (a 2xx racing our CANCEL
    /// is ACKed and hung up, RFC 3261 §15).
    orphans: HashMap<TransactionId, (Request, Peer)>,
    tx: mpsc::UnboundedSender<(u64, B2buaInput)>,
    reports: Vec<RelayReport>,
}

fn is_sdp(request: &Request) -> bool {
    !request.body.is_empty()
        && request
            .content_type()
            .is_none_or(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"))
}

fn ms(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

fn codec_name(format: &MediaFormat) -> String {
    format.codec.as_str().to_owned()
}

impl B2bua {
    /// A B2BUA putting media on `ip`; its tasks report on the returned receiver.
    pub(crate) fn new(
        ip: IpAddr,
        seed: u64,
    ) -> (B2bua, mpsc::UnboundedReceiver<(u64, B2buaInput)>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            B2bua {
                ip,
                rng: Xorshift::new(seed),
                next_key: 1,
                calls: HashMap::new(),
                call_ids: HashMap::new(),
                clients: HashMap::new(),
                orphans: HashMap::new(),
                tx,
                reports: Vec::new(),
            },
            rx,
        )
    }

    /// Reports produced since the last call.
    pub(crate) fn take_reports(&mut self) -> Vec<RelayReport> {
        std::mem::take(&mut self.reports)
    }

    fn token(&mut self) -> String {
        format!("{:016x}", self.rng.next_u64())
    }

    fn random_u32(&mut self) -> u32 {
        (self.rng.next_u64() >> 16) as u32
    }

    /// When [`B2bua::handle_timeout`] is next due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.calls
            .values()
            .filter_map(|c| c.retransmit.as_ref().map(|r| r.next))
            .min()
    }

    /// Retransmits leg A's 2xx where due; a call whose 2xx is never ACKed is ended (§13.3.1.4).
    pub(crate) fn handle_timeout(&mut self, relay: &mut SipRelay, now: Instant) {
        let mut unacked = Vec::new();
        for (key, call) in &mut self.calls {
            let Some(r) = call.retransmit.as_mut() else {
                continue;
            };
            if r.next > now {
                continue;
            }
            if now >= r.give_up {
                call.retransmit = None;
                unacked.push(*key);
                continue;
            }
            relay.send_stateless(call.a_flow, Message::Response(r.response.clone()));
            r.interval = (r.interval * 2).min(T2);
            r.next = now + r.interval;
        }
        for key in unacked {
            self.end(relay, now, key, 408, "no ACK for the 2xx", true, true);
        }
    }

    /// Handles one event of the relay's B2BUA seam.
    pub(crate) fn on_event(&mut self, relay: &mut SipRelay, now: Instant, event: B2buaEvent) {
        match event {
            B2buaEvent::Call {
                server,
                from,
                request,
                caller,
                callee,
                targets,
            } => self.on_call(relay, now, server, from, request, caller, callee, targets),
            B2buaEvent::Request {
                server,
                from: _,
                request,
            } => self.on_request(relay, now, server, request),
            B2buaEvent::Ack { request, .. } => {
                let Some(key) = self.key_of(&request) else {
                    return;
                };
                if let Some(call) = self.calls.get_mut(&key) {
                    if request.call_id().is_ok_and(|id| id == call.a_call_id) {
                        call.a_acked = true;
                        call.retransmit = None;
                    }
                }
            }
            B2buaEvent::Cancel {
                invite, request, ..
            } => {
                let Some(key) = self.key_of(&request) else {
                    return;
                };
                let pending = self
                    .calls
                    .get(&key)
                    .is_some_and(|c| !c.a_final && invite.is_none_or(|i| i == c.a_server));
                if pending {
                    self.end(relay, now, key, 487, "cancelled by the caller", false, true);
                }
            }
            B2buaEvent::Response { client, response } => {
                if self.orphans.contains_key(&client) {
                    self.on_orphan_response(relay, now, client, &response);
                } else if let Some((key, ClientKind::Invite(branch))) =
                    self.clients.get(&client).copied()
                {
                    // A 2xx keeps the entry: its retransmissions are ACKed again (§13.2.2.4).
                    if response.status >= 300 {
                        self.clients.remove(&client);
                    }
                    self.on_branch_response(relay, now, key, branch, response);
                } else if response.status >= 200 {
                    self.clients.remove(&client);
                }
            }
            B2buaEvent::Failed { client, reason } => {
                self.orphans.remove(&client);
                if let Some((key, ClientKind::Invite(branch))) = self.clients.remove(&client) {
                    let status = match reason {
                        B2buaFailure::Timeout => 408,
                        B2buaFailure::TransportError => 480,
                    };
                    self.branch_failed(relay, now, key, branch, status);
                }
            }
        }
    }

    /// A response to the INVITE of a call that has ended: a 2xx is ACKed and hung up at once.
    fn on_orphan_response(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        client: TransactionId,
        response: &Response,
    ) {
        if response.status < 200 {
            return;
        }
        let Some((invite, flow)) = self.orphans.remove(&client) else {
            return;
        };
        if response.status >= 300 {
            return;
        }
        let Ok(mut dialog) = Dialog::from_uac(&invite, response) else {
            return;
        };
        if let Some(via) = relay.new_via(flow.transport) {
            let mut ack = dialog.make_ack(1);
            prepend_via(&mut ack, via);
            relay.send_stateless(flow, Message::Request(ack));
        }
        send_bye(relay, now, &mut dialog, flow, &mut self.clients, 0);
    }

    fn key_of(&self, request: &Request) -> Option<u64> {
        request
            .call_id()
            .ok()
            .and_then(|id| self.call_ids.get(id))
            .copied()
    }

    #[allow(clippy::too_many_arguments)]
    fn on_call(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        server: TransactionId,
        from: Peer,
        request: Request,
        caller: String,
        callee: String,
        targets: Vec<Binding>,
    ) {
        let a_call_id = request.call_id().unwrap_or_default().to_owned();
        let key = self.next_key;
        self.next_key += 1;
        let direction = if is_webrtc_sdp(&request.body) {
            Direction::FromBrowser
        } else {
            Direction::ToBrowser
        };
        let wanted = direction == Direction::ToBrowser;
        let branches: Vec<Branch> = targets
            .into_iter()
            .filter(|t| is_webrtc_binding(t) == wanted)
            .map(Branch::new)
            .collect();
        let a_tag = self.token();
        let b_call_id = format!("b2b-{}", self.token());
        let b_tag = self.token();
        let call = BridgeCall {
            direction,
            phase: Phase::Preparing,
            started: now,
            caller: caller.clone(),
            callee: callee.clone(),
            a_server: server,
            a_flow: from,
            a_call_id: a_call_id.clone(),
            a_tag,
            a_contact: contact_for(relay.config(), from.transport),
            a_final: false,
            a_ringing: false,
            a_dialog: None,
            a_sdp: None,
            a_acked: false,
            retransmit: None,
            b_call_id: b_call_id.clone(),
            b_tag,
            branches,
            answered: None,
            b_dialog: None,
            b_sdp: None,
            plain: None,
            plain_pending: None,
            plain_media: None,
            peer: None,
            webrtc_format: None,
            bridge: None,
            answered_at: None,
            connected_at: None,
            established_reported: false,
            a_request: request,
        };
        self.reports.push(RelayReport::BridgeCall {
            call_id: a_call_id.clone(),
            caller,
            callee,
            direction: direction.name(),
            targets: call.branches.len(),
        });
        let offerless = !is_sdp(&call.a_request);
        let no_targets = call.branches.is_empty();
        let offer = call.a_request.body.clone();
        let browsers = call.branches.len();
        self.calls.insert(key, call);
        self.call_ids.insert(a_call_id, key);
        self.call_ids.insert(b_call_id.clone(), key);
        relay.claim_call_id(&b_call_id);
        if offerless {
            // Offer in the ACK would mean answering the browser before knowing the phone's
            // codec; not supported by the bridge.
            self.end(
                relay,
                now,
                key,
                488,
                "the bridge needs an offer in the INVITE",
                false,
                false,
            );
            return;
        }
        if no_targets {
            self.end(relay, now, key, 480, "no target to bridge to", false, false);
            return;
        }
        let (ip, tx) = (self.ip, self.tx.clone());
        let session_id = self.rng.next_u64() >> 1;
        match direction {
            Direction::FromBrowser => {
                let offer = String::from_utf8_lossy(&offer).into_owned();
                let ssrc = self.random_u32();
                tokio::spawn(async move {
                    let done = bridge_setup::from_browser(ip, offer, session_id, ssrc).await;
                    let _ = tx.send((key, B2buaInput::Setup(SetupDone::FromBrowser(done))));
                });
            }
            Direction::ToBrowser => {
                let ssrcs = (0..browsers).map(|_| self.random_u32()).collect();
                tokio::spawn(async move {
                    let done = bridge_setup::to_browser(ip, offer, session_id, ssrcs).await;
                    let _ = tx.send((key, B2buaInput::Setup(SetupDone::ToBrowser(done))));
                });
            }
        }
    }

    /// Handles what a task of ours reports for call `key`.
    pub(crate) fn on_input(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        key: u64,
        input: B2buaInput,
    ) {
        match input {
            B2buaInput::Setup(done) => self.on_setup(relay, now, key, done),
            B2buaInput::Bridge(BridgeEvent::Connected) => {
                if let Some(call) = self.calls.get_mut(&key) {
                    call.connected_at.get_or_insert(now);
                }
                self.maybe_established(key);
            }
            B2buaInput::Bridge(BridgeEvent::Ended(why)) => {
                let reason = format!("media bridge ended: {why:?}");
                self.end(relay, now, key, 500, &reason, true, true);
            }
            B2buaInput::Stopped {
                call_id,
                reason,
                stats,
                connected,
            } => self.reports.push(RelayReport::BridgeEnded {
                call_id,
                reason,
                connected,
                stats,
            }),
        }
    }

    fn on_setup(&mut self, relay: &mut SipRelay, now: Instant, key: u64, done: SetupDone) {
        let Some(call) = self.calls.get_mut(&key) else {
            // The call ended while this was being prepared: let go of what was made.
            release_setup(done);
            return;
        };
        match done {
            SetupDone::FromBrowser(Ok(ready)) => {
                let ready = *ready;
                call.plain = Some(ready.plain);
                call.plain_pending = Some(ready.pending);
                call.peer = Some(ready.peer);
                call.webrtc_format = Some(ready.format);
                call.a_sdp = Some(ready.answer);
                call.phase = Phase::Calling;
                let indexes: Vec<usize> = (0..call.branches.len()).collect();
                for i in indexes {
                    self.send_invite(relay, now, key, i, ready.offer.clone());
                }
            }
            SetupDone::ToBrowser(Ok(ready)) => {
                let ready = *ready;
                call.plain = Some(ready.plain);
                call.plain_media = Some(ready.media);
                call.a_sdp = Some(ready.answer);
                call.phase = Phase::Calling;
                for (i, offer) in ready.offers.into_iter().enumerate() {
                    match offer {
                        Ok((peer, sdp)) => {
                            if let Some(call) = self.calls.get_mut(&key) {
                                call.branches[i].peer = Some(peer);
                            }
                            self.send_invite(relay, now, key, i, sdp);
                        }
                        Err(e) => {
                            tracing::warn!("bridge: no WebRTC offer for a target: {e}");
                            self.branch_failed(relay, now, key, i, 500);
                        }
                    }
                }
            }
            SetupDone::FromBrowser(Err(e)) | SetupDone::ToBrowser(Err(e)) => {
                let status = setup_status(&e);
                self.end(relay, now, key, status, &e.to_string(), false, false);
            }
            SetupDone::Accepted { branch, result } => match result {
                Ok((peer, format)) => {
                    call.webrtc_format = Some(format);
                    call.peer = Some(peer);
                    self.connect(relay, now, key);
                    let _ = branch;
                }
                Err(e) => {
                    let reason = format!("the browser's answer failed: {e}");
                    self.end(relay, now, key, 500, &reason, false, true);
                }
            },
        }
    }

    fn send_invite(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        key: u64,
        index: usize,
        sdp: String,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let flow = call.branches[index].target.flow;
        let Some(via) = relay.new_via(flow.transport) else {
            self.branch_failed(relay, now, key, index, 480);
            return;
        };
        let mut invite = call.b_invite(relay.config(), index, &sdp);
        prepend_via(&mut invite, via);
        match relay.send_request(now, flow, invite.clone()) {
            Ok(client) => {
                call.branches[index].invite = Some(invite);
                call.branches[index].client = Some(client);
                self.clients
                    .insert(client, (key, ClientKind::Invite(index)));
            }
            Err(e) => {
                tracing::debug!("bridge: INVITE not sent: {e}");
                self.branch_failed(relay, now, key, index, 480);
            }
        }
    }

    fn on_branch_response(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        key: u64,
        branch: usize,
        response: Response,
    ) {
        let status = response.status;
        if status < 200 {
            if status > 100 {
                if let Some(call) = self.calls.get_mut(&key) {
                    if !call.a_ringing && !call.a_final {
                        call.a_ringing = true;
                        let ringing = call.a_response(180, "Ringing");
                        let server = call.a_server;
                        let _ = relay.respond(now, server, ringing);
                    }
                }
            }
            return;
        }
        if status >= 300 {
            self.branch_failed(relay, now, key, branch, status);
            return;
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(invite) = call.branches[branch].invite.clone() else {
            return;
        };
        let flow = call.branches[branch].target.flow;
        let Ok(dialog) = Dialog::from_uac(&invite, &response) else {
            tracing::debug!("bridge: a 2xx without a usable dialog; ignored");
            return;
        };
        // ACK every 2xx (retransmissions too), RFC 3261 §13.2.2.4.
        if let Some(via) = relay.new_via(flow.transport) {
            let mut ack = dialog.make_ack(1);
            prepend_via(&mut ack, via);
            relay.send_stateless(flow, Message::Request(ack));
        }
        match call.answered {
            Some(b) if b == branch => return, // a retransmission
            Some(_) => {
                // A second branch answered too: hang it up at once.
                let mut dialog = dialog;
                send_bye(relay, now, &mut dialog, flow, &mut self.clients, key);
                return;
            }
            None => {}
        }
        if call.phase == Phase::Preparing {
            return;
        }
        call.answered = Some(branch);
        call.answered_at = Some(now);
        call.b_dialog = Some(dialog);
        call.b_sdp = String::from_utf8(invite.body.clone()).ok();
        // CANCEL the other branches; drop their peer connections.
        for (i, b) in call.branches.iter_mut().enumerate() {
            if i == branch {
                continue;
            }
            if let (Some(client), None) = (b.client, b.status) {
                if let Ok(id) = relay.cancel(now, client) {
                    self.clients.insert(id, (key, ClientKind::Other));
                }
            }
            if let Some((peer, _)) = b.peer.take() {
                tokio::spawn(async move { peer.close().await });
            }
        }
        match call.direction {
            Direction::FromBrowser => {
                let settled = match (call.plain.as_mut(), call.plain_pending.take()) {
                    (Some(plain), Some(pending)) => plain.accept_answer(pending, &response.body),
                    _ => Err(WebRtcError::NoDescription),
                };
                match settled {
                    Ok(media) => {
                        call.plain_media = Some(media);
                        self.connect(relay, now, key);
                    }
                    Err(e) => {
                        let reason = format!("the phone's answer: {e}");
                        let status = setup_status(&e);
                        self.end(relay, now, key, status, &reason, false, true);
                    }
                }
            }
            Direction::ToBrowser => {
                call.phase = Phase::Accepting;
                let Some(peer) = call.branches[branch].peer.take() else {
                    self.end(relay, now, key, 500, "no peer connection", false, true);
                    return;
                };
                let answer = String::from_utf8_lossy(&response.body).into_owned();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = bridge_setup::accept(peer, answer).await;
                    let done = SetupDone::Accepted { branch, result };
                    let _ = tx.send((key, B2buaInput::Setup(done)));
                });
            }
        }
    }

    fn branch_failed(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        key: u64,
        branch: usize,
        status: u16,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.branches[branch].status.get_or_insert(status);
        if let Some((peer, _)) = call.branches[branch].peer.take() {
            tokio::spawn(async move { peer.close().await });
        }
        if call.phase != Phase::Preparing && call.all_branches_failed() {
            let (status, reason) = call.best_failure();
            self.end(relay, now, key, status, reason, false, false);
        }
    }

    /// Both legs' media are settled: start the bridge and answer leg A.
    fn connect(&mut self, relay: &mut SipRelay, now: Instant, key: u64) {
        let starts = (
            ((self.rng.next_u64() >> 48) as u16, self.random_u32()),
            ((self.rng.next_u64() >> 48) as u16, self.random_u32()),
        );
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let parts = (
            call.peer.take(),
            call.plain.take(),
            call.plain_media.clone(),
            call.webrtc_format.clone(),
            call.a_sdp.clone(),
        );
        let (Some((peer, peer_events)), Some(plain), Some(media), Some(format), Some(sdp)) = parts
        else {
            self.end(relay, now, key, 500, "bridge setup incomplete", false, true);
            return;
        };
        let plan = BridgePlan {
            plain: media,
            webrtc: format,
            start: starts,
        };
        let (events, mut bridge_events) = mpsc::unbounded_channel();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            while let Some(event) = bridge_events.recv().await {
                if tx.send((key, B2buaInput::Bridge(event))).is_err() {
                    return;
                }
            }
        });
        let bridge = match MediaBridge::start(peer, peer_events, plain.into_sockets(), plan, events)
        {
            Ok(bridge) => bridge,
            Err(e) => {
                let reason = e.to_string();
                self.end(relay, now, key, 500, &reason, false, true);
                return;
            }
        };
        call.bridge = Some(bridge);
        call.phase = Phase::Answered;
        let mut ok = call.a_response(200, "OK");
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = sdp.into_bytes();
        let contact = dialtone_sip_message::NameAddr::parse(
            call.a_contact.trim_start_matches('<').trim_end_matches('>'),
        )
        .ok();
        call.a_dialog = Dialog::from_uas(&call.a_request, &call.a_tag, contact).ok();
        call.a_final = true;
        if call.a_flow.transport == TransportKind::Udp {
            call.retransmit = Some(Retransmit {
                response: ok.clone(),
                next: now + T1,
                interval: T1,
                give_up: now + T1 * 64,
            });
        }
        let server = call.a_server;
        if let Err(e) = relay.respond(now, server, ok) {
            tracing::debug!("bridge: 200 to the caller not sent: {e}");
        }
        self.maybe_established(key);
    }

    /// Reports the call established once leg A has its 2xx and ICE/DTLS are up.
    fn maybe_established(&mut self, key: u64) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (Some(answered), Some(connected), Some(bridge)) =
            (call.answered_at, call.connected_at, call.bridge.as_ref())
        else {
            return;
        };
        if call.established_reported || call.phase != Phase::Answered {
            return;
        }
        call.established_reported = true;
        let done = connected.max(answered);
        let (webrtc, plain): (Option<&MediaFormat>, Option<&PlainMedia>) =
            (call.webrtc_format.as_ref(), call.plain_media.as_ref());
        self.reports.push(RelayReport::BridgeEstablished {
            call_id: call.a_call_id.clone(),
            setup_ms: ms(done.saturating_duration_since(call.started)),
            answer_to_media_ms: ms(connected.saturating_duration_since(answered)),
            webrtc_codec: webrtc.map(codec_name).unwrap_or_default(),
            plain_codec: plain.map(|p| codec_name(&p.format)).unwrap_or_default(),
            transcoding: bridge.is_transcoding(),
            plain_remote: plain.map(|p| p.remote),
        });
    }

    fn on_request(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        server: TransactionId,
        request: Request,
    ) {
        let Some(key) = self.key_of(&request) else {
            let response = Response::for_request(&request, 481, "Call/Transaction Does Not Exist");
            let _ = relay.respond(now, server, response);
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let from_a = request.call_id().is_ok_and(|id| id == call.a_call_id);
        let reply = |status: u16, reason: &str| {
            let mut r = Response::for_request(&request, status, reason);
            if !r.headers.get("To").is_some_and(|t| t.contains("tag=")) {
                if let Ok(mut to) = request.to() {
                    to.set_tag(&call.a_tag);
                    r.headers.set("To", to.to_string());
                }
            }
            r
        };
        match request.method {
            Method::Bye => {
                let ok = reply(200, "OK");
                let _ = relay.respond(now, server, ok);
                let reason = if from_a {
                    "hung up by the caller"
                } else {
                    "hung up by the callee"
                };
                self.end(relay, now, key, 487, reason, !from_a, from_a);
            }
            Method::Invite | Method::Update => {
                let sdp = if from_a {
                    call.a_sdp.clone()
                } else {
                    call.b_sdp.clone()
                };
                let contact = if from_a {
                    call.a_contact.clone()
                } else {
                    contact_for(
                        relay.config(),
                        call.branches[call.answered.unwrap_or(0)]
                            .target
                            .flow
                            .transport,
                    )
                };
                let mut ok = reply(200, "OK");
                ok.headers.push("Contact", contact);
                let with_body = request.method == Method::Invite || is_sdp(&request);
                if let (true, Some(sdp)) = (with_body, sdp) {
                    ok.headers.push("Content-Type", "application/sdp");
                    ok.body = sdp.into_bytes();
                }
                let _ = relay.respond(now, server, ok);
            }
            Method::Options | Method::Info | Method::Notify => {
                let ok = reply(200, "OK");
                let _ = relay.respond(now, server, ok);
            }
            _ => {
                let refused = reply(501, "Not Implemented");
                let _ = relay.respond(now, server, refused);
            }
        }
    }

    /// Ends call `key`: leg A gets `status` if it has no final response yet, else a BYE when
    /// `bye_a`; leg B's answered branch gets a BYE when `bye_b`, pending branches a CANCEL.
    #[allow(clippy::too_many_arguments)]
    fn end(
        &mut self,
        relay: &mut SipRelay,
        now: Instant,
        key: u64,
        status: u16,
        reason: &str,
        bye_a: bool,
        bye_b: bool,
    ) {
        let Some(mut call) = self.calls.remove(&key) else {
            return;
        };
        self.call_ids.remove(&call.a_call_id);
        self.call_ids.remove(&call.b_call_id);
        self.clients.retain(|_, (k, _)| *k != key);
        relay.release_call_id(&call.a_call_id);
        relay.release_call_id(&call.b_call_id);
        if !call.a_final {
            let response = call.a_response(status, dialtone_sip_message::default_reason(status));
            let _ = relay.respond(now, call.a_server, response);
            self.reports.push(RelayReport::BridgeFailed {
                call_id: call.a_call_id.clone(),
                status,
                reason: reason.to_owned(),
            });
        } else if bye_a {
            if let Some(dialog) = call.a_dialog.as_mut() {
                send_bye(relay, now, dialog, call.a_flow, &mut self.clients, key);
            }
        }
        for (i, branch) in call.branches.iter_mut().enumerate() {
            if call.answered == Some(i) {
                if let (true, Some(dialog)) = (bye_b, call.b_dialog.as_mut()) {
                    send_bye(
                        relay,
                        now,
                        dialog,
                        branch.target.flow,
                        &mut self.clients,
                        key,
                    );
                }
            } else if let (Some(client), None) = (branch.client, branch.status) {
                let _ = relay.cancel(now, client);
                if let Some(invite) = branch.invite.take() {
                    self.orphans.insert(client, (invite, branch.target.flow));
                }
            }
            if let Some((peer, _)) = branch.peer.take() {
                tokio::spawn(async move { peer.close().await });
            }
        }
        if let Some((peer, _)) = call.peer.take() {
            tokio::spawn(async move { peer.close().await });
        }
        if let Some(bridge) = call.bridge.take() {
            let tx = self.tx.clone();
            let call_id = call.a_call_id.clone();
            let reason = reason.to_owned();
            let connected = call.connected_at.is_some();
            tokio::spawn(async move {
                let stats = bridge.stop().await;
                let _ = tx.send((
                    key,
                    B2buaInput::Stopped {
                        call_id,
                        reason,
                        stats,
                        connected,
                    },
                ));
            });
        }
    }
}

/// Puts `via` on top of the request's headers (RFC 3261 §8.1.1.7).
fn prepend_via(request: &mut Request, via: String) {
    let mut headers = dialtone_sip_message::Headers::new();
    headers.push("Via", via);
    for (name, value) in request.headers.iter() {
        headers.push(name, value);
    }
    request.headers = headers;
}

/// Sends a BYE in `dialog` to `flow` (RFC 3261 §15.1.1).
fn send_bye(
    relay: &mut SipRelay,
    now: Instant,
    dialog: &mut Dialog,
    flow: Peer,
    clients: &mut HashMap<TransactionId, (u64, ClientKind)>,
    key: u64,
) {
    let Some(via) = relay.new_via(flow.transport) else {
        return;
    };
    let mut bye = dialog.make_request(Method::Bye);
    prepend_via(&mut bye, via);
    match relay.send_request(now, flow, bye) {
        Ok(id) => {
            clients.insert(id, (key, ClientKind::Other));
        }
        Err(e) => tracing::debug!("bridge: BYE not sent: {e}"),
    }
}

/// The status for a setup failure: 488 when the SDP is the problem, 500 otherwise.
fn setup_status(error: &WebRtcError) -> u16 {
    match error {
        WebRtcError::NoCommonCodec | WebRtcError::Sdp(_) | WebRtcError::NoOpus => 488,
        _ => 500,
    }
}

/// Closes the peer connections a finished setup step made for a call that is gone.
fn release_setup(done: SetupDone) {
    let mut peers: Vec<PeerPair> = Vec::new();
    match done {
        SetupDone::FromBrowser(Ok(ready)) => peers.push(ready.peer),
        SetupDone::ToBrowser(Ok(ready)) => {
            peers.extend(
                ready
                    .offers
                    .into_iter()
                    .filter_map(Result::ok)
                    .map(|(p, _)| p),
            );
        }
        SetupDone::Accepted {
            result: Ok((peer, _)),
            ..
        } => peers.push(peer),
        _ => {}
    }
    for (peer, _) in peers {
        tokio::spawn(async move { peer.close().await });
    }
}
