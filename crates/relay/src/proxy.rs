//! The stateful proxy core (RFC 3261 §16): routing initial requests to the callee's bindings
//! (parallel forking, §16.6), loose routing of in-dialog requests (§16.12) over the flows named
//! by our Record-Route tokens, response contexts choosing the best final response (§16.7),
//! CANCEL (§16.10), stateless forwarding of ACKs for 2xx and of late 2xx retransmissions, and
//! Timer C (§16.6 step 11). Media anchoring rewrites the SDP of calls on the way through.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use dialtone_sip::transaction::{new_branch, TransactionId, MAGIC_COOKIE};
use dialtone_sip::transport::Peer;
use dialtone_sip_message::{Message, Method, NameAddr, Request, Response, Uri};

use crate::b2bua::{B2buaEvent, CallMode, CallSetup};
use crate::digest::strip_own_credentials;
use crate::event::{RelayEvent, RelayOutput};
use crate::location::LocationStore;
use crate::media::{MediaError, MediaSessionId, Side};
use crate::relay::Relay;
use crate::routing::{self, peer_for_uri, prepend};
use crate::users::hex;

/// One forwarded copy of a request.
#[derive(Debug)]
struct Branch {
    id: TransactionId,
    /// A final response (or failure) arrived.
    done: bool,
    /// The client transaction ended.
    terminated: bool,
    /// Timer C deadline (INVITE only).
    timer_c: Option<Instant>,
    /// Timer C fired and the branch was cancelled; the next deadline gives up on it.
    timer_c_fired: bool,
}

/// The response context of one forwarded request (§16.7).
#[derive(Debug)]
struct Context {
    /// The request as received, for responses we generate.
    request: Request,
    call_id: String,
    /// Which party of a known call sent the request (its responses come from the other).
    sender: Option<Side>,
    /// The initial INVITE of a call.
    initial_invite: bool,
    branches: Vec<Branch>,
    best: Option<Response>,
    /// Challenges collected from 401/407 branch responses (§16.7 step 7).
    challenges: Vec<(String, String)>,
    /// A final response went upstream.
    final_sent: bool,
    /// The server transaction ended.
    server_gone: bool,
}

/// A call the proxy tracks for its media and its end.
#[derive(Debug)]
struct Call {
    /// From tag of the caller: tells the sides apart in in-dialog requests.
    caller_tag: String,
    media: Option<MediaSessionId>,
    /// When its INVITE arrived (calls without media are forgotten after [`MAX_CALL_AGE`]).
    started: Instant,
}

/// A call without anchored media whose BYE never came through is forgotten after this long.
const MAX_CALL_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The proxy's tables.
#[derive(Debug, Default)]
pub(crate) struct ProxyState {
    /// Response contexts by server transaction.
    contexts: HashMap<TransactionId, Context>,
    /// Server transaction of each client transaction (branch).
    branches: HashMap<TransactionId, TransactionId>,
    /// Calls by Call-ID.
    calls: HashMap<String, Call>,
    /// Every running Timer C as (deadline, server transaction, branch), so the next deadline
    /// and the due branches are found without scanning every context (contexts linger until
    /// their transactions end, tens of seconds after the call was set up). Changed only through
    /// [`set_timer_c`].
    timer_c: BTreeSet<(Instant, TransactionId, TransactionId)>,
}

/// Sets (or stops, with `None`) Timer C of `branch` of the context of `server`, keeping the
/// index in step.
fn set_timer_c(
    index: &mut BTreeSet<(Instant, TransactionId, TransactionId)>,
    server: TransactionId,
    branch: &mut Branch,
    at: Option<Instant>,
) {
    if let Some(old) = branch.timer_c {
        index.remove(&(old, server, branch.id));
    }
    if let Some(new) = at {
        index.insert((new, server, branch.id));
    }
    branch.timer_c = at;
}

impl ProxyState {
    /// The earliest Timer C deadline.
    pub(crate) fn next_timer_c(&self) -> Option<Instant> {
        self.timer_c.first().map(|&(at, _, _)| at)
    }
}

/// Where an initial request goes.
enum Target {
    /// A user of our domain.
    Local(String),
    /// A configured outside domain's next hop.
    Outside(Peer),
}

/// Rank of a final response for §16.7 step 6: any 6xx first, then the lowest class; within 4xx
/// the responses a client can act on (auth, 415, 420, 484) first.
fn rank(status: u16) -> u32 {
    let status = u32::from(status);
    if status >= 600 {
        return 0;
    }
    let preferred = matches!(status, 401 | 407 | 415 | 420 | 484);
    (status / 100) * 1000 + if preferred { 0 } else { status }
}

fn is_sdp(message_type: Option<&str>, body: &[u8]) -> bool {
    !body.is_empty()
        && message_type.is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"))
        })
}

impl<S: LocationStore> Relay<S> {
    /// An initial request (no To tag) other than REGISTER.
    pub(crate) fn route_initial(
        &mut self,
        now: Instant,
        id: TransactionId,
        from: Peer,
        mut request: Request,
        max_forwards: Option<u8>,
    ) {
        // No open relay: decide where it goes before spending anything on it.
        let next_route = request.routes().ok().and_then(|r| r.into_iter().next());
        let target = if let Some(route) = next_route {
            self.config
                .forward_domain(&route.uri.host)
                .map(Target::Outside)
        } else if self.config.is_us(&request.uri) {
            match request.uri.user.clone() {
                Some(user) => Some(Target::Local(user)),
                None => {
                    self.reply(now, id, &request, 404, "Not Found", Vec::new());
                    return;
                }
            }
        } else {
            self.config
                .forward_domain(&request.uri.host)
                .map(Target::Outside)
        };
        let Some(target) = target else {
            self.reply(now, id, &request, 403, "Relaying denied", Vec::new());
            return;
        };
        let Some(caller) = self.authenticate(now, id, from, &request, true) else {
            return;
        };
        let genuine_from = request.from().is_ok_and(|f| {
            f.uri.user.as_deref() == Some(caller.as_str()) && self.config.is_our_host(&f.uri.host)
        });
        if !genuine_from {
            self.reply(
                now,
                id,
                &request,
                403,
                "From does not match credentials",
                Vec::new(),
            );
            return;
        }
        strip_own_credentials(&mut request, self.users.realm());

        let (callee, targets): (String, Vec<(Option<Uri>, Peer)>) = match target {
            Target::Outside(next_hop) => (request.uri.host.clone(), vec![(None, next_hop)]),
            Target::Local(callee) => {
                if !self.users.contains(&callee) {
                    self.reply(now, id, &request, 404, "Not Found", Vec::new());
                    return;
                }
                let bindings = self.location.bindings(&callee, now);
                if bindings.is_empty() {
                    self.reply(
                        now,
                        id,
                        &request,
                        480,
                        "Temporarily Unavailable",
                        Vec::new(),
                    );
                    return;
                }
                if request.method == Method::Invite {
                    let call_id = request.call_id().unwrap_or_default().to_owned();
                    let setup = CallSetup {
                        call_id: &call_id,
                        caller: &caller,
                        caller_flow: from,
                        callee: &callee,
                        targets: &bindings,
                        offer: is_sdp(request.content_type(), &request.body)
                            .then_some(request.body.as_slice()),
                    };
                    if self.selector.select(&setup) == CallMode::B2bua {
                        self.claimed.insert(call_id);
                        self.event(RelayEvent::B2bua(B2buaEvent::Call {
                            server: id,
                            from,
                            request,
                            caller,
                            callee,
                            targets: bindings,
                        }));
                        return;
                    }
                }
                let targets = bindings
                    .into_iter()
                    .map(|b| (Some(b.contact.uri), b.flow))
                    .collect();
                (callee, targets)
            }
        };
        self.fork(
            now,
            id,
            from,
            request,
            max_forwards,
            caller,
            callee,
            targets,
        );
    }

    /// Forwards an authenticated initial request to every target (§16.6), record-routing
    /// dialog-creating methods and anchoring an INVITE's media.
    #[allow(clippy::too_many_arguments)]
    fn fork(
        &mut self,
        now: Instant,
        id: TransactionId,
        from: Peer,
        request: Request,
        max_forwards: Option<u8>,
        caller: String,
        callee: String,
        targets: Vec<(Option<Uri>, Peer)>,
    ) {
        let call_id = request.call_id().unwrap_or_default().to_owned();
        let invite = request.method == Method::Invite;
        let record_route = matches!(
            request.method,
            Method::Invite | Method::Subscribe | Method::Refer | Method::Notify
        );
        let mut base = request.clone();
        set_max_forwards(&mut base, max_forwards);
        if invite {
            let caller_tag = request
                .from()
                .ok()
                .and_then(|f| f.tag().map(str::to_owned))
                .unwrap_or_default();
            let media = self
                .media
                .is_enabled()
                .then(|| self.media.create_session(now));
            let call = Call {
                caller_tag,
                media,
                started: now,
            };
            self.proxy.calls.insert(call_id.clone(), call);
            if let Err(MediaError::NoPorts) = self.anchor(now, &call_id, Side::Caller, &mut base) {
                self.end_call(&call_id);
                self.reply(now, id, &request, 503, "Media relay full", Vec::new());
                return;
            }
        }
        let mut context = Context {
            request,
            call_id: call_id.clone(),
            sender: invite.then_some(Side::Caller),
            initial_invite: invite,
            branches: Vec::new(),
            best: None,
            challenges: Vec::new(),
            final_sent: false,
            server_gone: false,
        };
        for (uri, dest) in targets {
            let mut copy = base.clone();
            if let Some(uri) = uri {
                copy.uri = uri;
            }
            if record_route {
                let toward_caller = self.tokens.encode(from, &call_id);
                let toward_callee = self.tokens.encode(dest, &call_id);
                let entries = (
                    self.config.record_route(from.transport, &toward_caller),
                    self.config.record_route(dest.transport, &toward_callee),
                );
                let (Some(caller_side), Some(callee_side)) = entries else {
                    continue;
                };
                // The entry facing the callee ends up on top (RFC 5658 double Record-Route).
                prepend(&mut copy.headers, "Record-Route", caller_side);
                prepend(&mut copy.headers, "Record-Route", callee_side);
            }
            self.send_branch(now, id, &mut context, copy, dest);
        }
        if context.branches.is_empty() {
            if invite {
                self.end_call(&call_id);
            }
            let request = context.request;
            self.reply(now, id, &request, 503, "No route to the callee", Vec::new());
            return;
        }
        let targets = context.branches.len();
        self.proxy.contexts.insert(id, context);
        self.event(RelayEvent::CallRouted {
            call_id,
            caller,
            callee,
            targets,
        });
    }

    /// Sends one branch: our Via on top, a client transaction to `dest`.
    fn send_branch(
        &mut self,
        now: Instant,
        server: TransactionId,
        context: &mut Context,
        mut request: Request,
        dest: Peer,
    ) {
        let branch = new_branch(&mut &mut *self.rng);
        let Some(via) = self.config.via(dest.transport, &branch) else {
            return;
        };
        prepend(&mut request.headers, "Via", via);
        let invite = request.method == Method::Invite;
        if let Ok(client) = self.layer.send_request(now, dest, request) {
            self.proxy.branches.insert(client, server);
            let mut branch = Branch {
                id: client,
                done: false,
                terminated: false,
                timer_c: None,
                timer_c_fired: false,
            };
            let timer_c = invite.then(|| now + self.config.timer_c);
            set_timer_c(&mut self.proxy.timer_c, server, &mut branch, timer_c);
            context.branches.push(branch);
        }
    }

    /// A request with a To tag: loose routing along the dialog's route set (§16.12). Only
    /// dialogs we record-routed are served: the last Route entry we popped must carry a flow
    /// token we minted for this Call-ID.
    pub(crate) fn route_in_dialog(
        &mut self,
        now: Instant,
        id: TransactionId,
        mut request: Request,
        popped: Option<NameAddr>,
        max_forwards: Option<u8>,
    ) {
        let call_id = request.call_id().unwrap_or_default().to_owned();
        let Some(popped) = popped else {
            self.reply(now, id, &request, 403, "Relaying denied", Vec::new());
            return;
        };
        let token_flow = popped
            .uri
            .user
            .as_deref()
            .and_then(|token| self.tokens.decode(token, &call_id));
        let Some(token_flow) = token_flow else {
            let reason = "Call/Transaction Does Not Exist";
            self.reply(now, id, &request, 481, reason, Vec::new());
            return;
        };
        let next_route = request.routes().ok().and_then(|r| r.into_iter().next());
        let dest = match next_route {
            Some(route) => match peer_for_uri(&route.uri) {
                Some(peer) => peer,
                None => {
                    self.reply(now, id, &request, 404, "Next hop unknown", Vec::new());
                    return;
                }
            },
            None => token_flow,
        };
        let original = request.clone();
        set_max_forwards(&mut request, max_forwards);
        let sender = self.side_of(&call_id, &request);
        if let Some(side) = sender {
            // A failed rewrite leaves the body as it was; the call still goes through.
            let _ = self.anchor(now, &call_id, side, &mut request);
        }
        let mut context = Context {
            request: original,
            call_id: call_id.clone(),
            sender,
            initial_invite: false,
            branches: Vec::new(),
            best: None,
            challenges: Vec::new(),
            final_sent: false,
            server_gone: false,
        };
        let bye = request.method == Method::Bye;
        self.send_branch(now, id, &mut context, request, dest);
        if context.branches.is_empty() {
            let request = context.request;
            self.reply(now, id, &request, 503, "No route", Vec::new());
            return;
        }
        self.proxy.contexts.insert(id, context);
        if bye {
            self.end_call(&call_id);
        }
    }

    /// An ACK outside any transaction of ours (for a 2xx): forwarded statelessly along the
    /// dialog's route (§16.11), with a branch derived from the incoming one so that
    /// retransmissions keep theirs.
    pub(crate) fn on_ack(&mut self, now: Instant, from: Peer, mut ack: Request) {
        let Ok(call_id) = ack.call_id().map(str::to_owned) else {
            return;
        };
        if self.claimed.contains(&call_id) {
            let event = B2buaEvent::Ack { from, request: ack };
            self.event(RelayEvent::B2bua(event));
            return;
        }
        let drop = |relay: &mut Relay<S>, reason: &str| {
            relay.event(RelayEvent::Dropped {
                from,
                reason: reason.to_owned(),
            })
        };
        let Ok(Some(popped)) = routing::pop_own_routes(&self.config, &mut ack) else {
            return drop(self, "ACK not routed through the relay");
        };
        let Some(token_flow) = popped
            .uri
            .user
            .as_deref()
            .and_then(|token| self.tokens.decode(token, &call_id))
        else {
            return drop(self, "ACK with an unknown Record-Route token");
        };
        let dest = match ack.routes().ok().and_then(|r| r.into_iter().next()) {
            Some(route) => match peer_for_uri(&route.uri) {
                Some(peer) => peer,
                None => return drop(self, "ACK next hop unknown"),
            },
            None => token_flow,
        };
        let max_forwards = ack.max_forwards().ok().flatten();
        if max_forwards == Some(0) {
            return drop(self, "ACK out of hops");
        }
        set_max_forwards(&mut ack, max_forwards);
        if let Some(side) = self.side_of(&call_id, &ack) {
            let _ = self.anchor(now, &call_id, side, &mut ack);
        }
        let incoming = ack
            .top_via()
            .ok()
            .and_then(|v| v.branch().map(str::to_owned))
            .unwrap_or_default();
        let mac = self.tokens.mac(&[incoming.as_bytes(), call_id.as_bytes()]);
        let branch = format!("{MAGIC_COOKIE}{}", hex(&mac[..8]));
        let Some(via) = self.config.via(dest.transport, &branch) else {
            return drop(self, "no listener for the ACK's transport");
        };
        prepend(&mut ack.headers, "Via", via);
        self.layer.send_stateless(dest, Message::Request(ack));
    }

    /// CANCEL (§16.10): answered here; the branches of the INVITE it matches are cancelled, and
    /// their 487s make the INVITE's final response.
    pub(crate) fn on_cancel(
        &mut self,
        now: Instant,
        id: TransactionId,
        invite: Option<TransactionId>,
        from: Peer,
        request: Request,
    ) {
        let Some(invite) = invite else {
            let reason = "Call/Transaction Does Not Exist";
            self.reply(now, id, &request, 481, reason, Vec::new());
            return;
        };
        self.reply(now, id, &request, 200, "OK", Vec::new());
        if request
            .call_id()
            .is_ok_and(|call_id| self.claimed.contains(call_id))
        {
            let event = B2buaEvent::Cancel {
                invite: Some(invite),
                from,
                request,
            };
            self.event(RelayEvent::B2bua(event));
            return;
        }
        let pending: Vec<TransactionId> = self
            .proxy
            .contexts
            .get(&invite)
            .map(|c| {
                c.branches
                    .iter()
                    .filter(|b| !b.done)
                    .map(|b| b.id)
                    .collect()
            })
            .unwrap_or_default();
        for branch in pending {
            // Fails only for a branch that is already past cancelling; its final response
            // settles the context anyway.
            let _ = self.layer.cancel(now, branch);
        }
    }

    /// A response on branch `client` (§16.7).
    pub(crate) fn on_branch_response(
        &mut self,
        now: Instant,
        client: TransactionId,
        mut response: Response,
    ) {
        let Some(&server) = self.proxy.branches.get(&client) else {
            return;
        };
        if !routing::pop_via(&mut response.headers) {
            return;
        }
        let status = response.status;
        let timer_c = self.config.timer_c;
        let Some(context) = self.proxy.contexts.get_mut(&server) else {
            return;
        };
        let Some(branch) = context.branches.iter_mut().find(|b| b.id == client) else {
            return;
        };
        if status < 200 {
            if branch.timer_c.is_some() && !branch.timer_c_fired {
                set_timer_c(&mut self.proxy.timer_c, server, branch, Some(now + timer_c));
            }
            if status == 100 || context.final_sent {
                return;
            }
        } else {
            branch.done = true;
            set_timer_c(&mut self.proxy.timer_c, server, branch, None);
        }
        let call_id = context.call_id.clone();
        let responder = context.sender.map(Side::other);
        let initial_invite = context.initial_invite;

        if status >= 300 {
            if context.final_sent {
                return;
            }
            if matches!(status, 401 | 407) {
                for name in ["WWW-Authenticate", "Proxy-Authenticate"] {
                    for value in response.headers.get_all(name) {
                        context.challenges.push((name.to_owned(), value.to_owned()));
                    }
                }
            }
            let better = context
                .best
                .as_ref()
                .is_none_or(|best| rank(status) < rank(best.status));
            if better {
                context.best = Some(response);
            }
            if status >= 600 {
                self.cancel_pending(now, server);
            }
            self.finish_if_done(now, server);
            return;
        }

        if let Some(side) = responder {
            let _ = self.anchor(now, &call_id, side, &mut response);
        }
        if status >= 200 {
            if let Some(context) = self.proxy.contexts.get_mut(&server) {
                context.final_sent = true;
            }
            if initial_invite {
                self.cancel_pending(now, server);
            }
        }
        if self
            .layer
            .send_response(now, server, response.clone())
            .is_err()
            && status >= 200
        {
            // The server transaction is gone (e.g. a 2xx retransmission after Timer L):
            // forward statelessly along the Via (§16.7 step 5).
            if let Some(dest) = routing::response_peer(&response.headers) {
                self.out.push_back(RelayOutput::Transmit {
                    dest,
                    message: Message::Response(response),
                });
            }
        }
    }

    /// Branch `client` failed without a response: it counts as `status` (§16.7: 408 for a
    /// timeout).
    pub(crate) fn on_branch_failure(
        &mut self,
        now: Instant,
        client: TransactionId,
        status: u16,
        reason: &str,
    ) {
        let Some(&server) = self.proxy.branches.get(&client) else {
            return;
        };
        let Some(request) = self.proxy.contexts.get(&server).map(|c| c.request.clone()) else {
            return;
        };
        let response = self.response(&request, status, reason);
        let Some(context) = self.proxy.contexts.get_mut(&server) else {
            return;
        };
        let Some(branch) = context.branches.iter_mut().find(|b| b.id == client) else {
            return;
        };
        if branch.done {
            return;
        }
        branch.done = true;
        set_timer_c(&mut self.proxy.timer_c, server, branch, None);
        if !context.final_sent
            && context
                .best
                .as_ref()
                .is_none_or(|best| rank(status) < rank(best.status))
        {
            context.best = Some(response);
        }
        self.finish_if_done(now, server);
    }

    /// Once every branch has a final response and none went upstream, sends the best (§16.7
    /// step 6: 503 becomes 500; step 7: challenges of all branches are merged).
    fn finish_if_done(&mut self, now: Instant, server: TransactionId) {
        let Some(context) = self.proxy.contexts.get_mut(&server) else {
            return;
        };
        if context.final_sent || context.branches.iter().any(|b| !b.done) {
            return;
        }
        let Some(mut best) = context.best.take() else {
            return;
        };
        context.final_sent = true;
        if best.status == 503 {
            best.status = 500;
            best.reason = "Server Internal Error".to_owned();
        }
        if matches!(best.status, 401 | 407) && !context.challenges.is_empty() {
            best.headers.remove("WWW-Authenticate");
            best.headers.remove("Proxy-Authenticate");
            for (name, value) in &context.challenges {
                best.headers.push(name, value.clone());
            }
        }
        let call_id = context.call_id.clone();
        let initial_invite = context.initial_invite;
        // The server transaction may have failed meanwhile; nothing to send to then.
        let _ = self.layer.send_response(now, server, best);
        if initial_invite {
            self.end_call(&call_id);
        }
    }

    /// CANCELs every branch of `server` still waiting for a final response.
    fn cancel_pending(&mut self, now: Instant, server: TransactionId) {
        let pending: Vec<TransactionId> = self
            .proxy
            .contexts
            .get(&server)
            .map(|c| {
                c.branches
                    .iter()
                    .filter(|b| !b.done)
                    .map(|b| b.id)
                    .collect()
            })
            .unwrap_or_default();
        for branch in pending {
            let _ = self.layer.cancel(now, branch);
        }
    }

    /// Timer C fired on branches: they are cancelled (§16.6 step 11, §16.8). A branch that
    /// still has no final response 64·T1 later counts as a 408 (§16.8: "as if the transaction
    /// received a 408").
    pub(crate) fn fire_timer_c(&mut self, now: Instant) {
        let grace = self.config.timers.transaction_timeout();
        let mut cancel = Vec::new();
        let mut give_up = Vec::new();
        let due: Vec<(Instant, TransactionId, TransactionId)> = self
            .proxy
            .timer_c
            .iter()
            .take_while(|&&(at, _, _)| at <= now)
            .copied()
            .collect();
        for (at, server, id) in due {
            let Some(context) = self.proxy.contexts.get_mut(&server) else {
                self.proxy.timer_c.remove(&(at, server, id));
                continue;
            };
            let Some(branch) = context.branches.iter_mut().find(|b| b.id == id) else {
                self.proxy.timer_c.remove(&(at, server, id));
                continue;
            };
            if branch.timer_c_fired {
                set_timer_c(&mut self.proxy.timer_c, server, branch, None);
                give_up.push(branch.id);
            } else {
                branch.timer_c_fired = true;
                set_timer_c(&mut self.proxy.timer_c, server, branch, Some(now + grace));
                cancel.push(branch.id);
            }
        }
        for branch in cancel {
            let _ = self.layer.cancel(now, branch);
        }
        for branch in give_up {
            self.on_branch_failure(now, branch, 408, "Request Timeout");
        }
        self.drain(now);
    }

    /// Transaction `id` ended: forget it, and its context once nothing of it is left.
    pub(crate) fn on_terminated(&mut self, id: TransactionId) {
        let server = match self.proxy.branches.remove(&id) {
            Some(server) => {
                if let Some(context) = self.proxy.contexts.get_mut(&server) {
                    if let Some(branch) = context.branches.iter_mut().find(|b| b.id == id) {
                        branch.terminated = true;
                    }
                }
                server
            }
            None => {
                if let Some(context) = self.proxy.contexts.get_mut(&id) {
                    context.server_gone = true;
                }
                id
            }
        };
        let finished = self
            .proxy
            .contexts
            .get(&server)
            .is_some_and(|c| c.server_gone && c.branches.iter().all(|b| b.terminated));
        if finished {
            if let Some(context) = self.proxy.contexts.remove(&server) {
                for branch in &context.branches {
                    if let Some(at) = branch.timer_c {
                        self.proxy.timer_c.remove(&(at, server, branch.id));
                    }
                }
            }
        }
    }

    /// Which party of call `call_id` sent `request` (by its From tag).
    fn side_of(&self, call_id: &str, request: &Request) -> Option<Side> {
        let call = self.proxy.calls.get(call_id)?;
        let tag = request.from().ok()?.tag()?.to_owned();
        Some(if tag == call.caller_tag {
            Side::Caller
        } else {
            Side::Callee
        })
    }

    /// Rewrites the SDP body of a message from `side` of call `call_id` through the media
    /// relay, when the call's media is anchored. Bodies that are not SDP are left alone.
    fn anchor<M: Body>(
        &mut self,
        now: Instant,
        call_id: &str,
        side: Side,
        message: &mut M,
    ) -> Result<(), MediaError> {
        let Some(session) = self.proxy.calls.get(call_id).and_then(|c| c.media) else {
            return Ok(());
        };
        if !is_sdp(message.content_type(), message.body()) {
            return Ok(());
        }
        let Ok(text) = std::str::from_utf8(message.body()) else {
            return Ok(());
        };
        let rewritten = self.media.rewrite_sdp(now, session, side, text)?;
        message.set_body(rewritten.into_bytes());
        Ok(())
    }

    /// Forgets calls whose media session the media relay released on its own (inactivity,
    /// setup timeout) and media-less calls older than a day.
    pub(crate) fn forget_calls(&mut self, now: Instant, released: &[MediaSessionId]) {
        let gone: Vec<String> = self
            .proxy
            .calls
            .iter()
            .filter(|(_, call)| match call.media {
                Some(session) => released.contains(&session),
                None => now.saturating_duration_since(call.started) >= MAX_CALL_AGE,
            })
            .map(|(call_id, _)| call_id.clone())
            .collect();
        for call_id in gone {
            self.proxy.calls.remove(&call_id);
            self.event(RelayEvent::CallEnded { call_id });
        }
    }

    /// The call is over: its media session is released.
    fn end_call(&mut self, call_id: &str) {
        if let Some(call) = self.proxy.calls.remove(call_id) {
            if let Some(session) = call.media {
                self.media.release(session);
            }
            self.event(RelayEvent::CallEnded {
                call_id: call_id.to_owned(),
            });
        }
    }
}

/// Max-Forwards decremented (§16.6 step 3), or 70 when the request had none.
fn set_max_forwards(request: &mut Request, max_forwards: Option<u8>) {
    let value = max_forwards.map_or(70, |m| m.saturating_sub(1));
    request.headers.set("Max-Forwards", value.to_string());
}

/// Requests and responses alike carry an SDP body.
trait Body {
    fn content_type(&self) -> Option<&str>;
    fn body(&self) -> &[u8];
    fn set_body(&mut self, body: Vec<u8>);
}

impl Body for Request {
    fn content_type(&self) -> Option<&str> {
        Request::content_type(self)
    }
    fn body(&self) -> &[u8] {
        &self.body
    }
    fn set_body(&mut self, body: Vec<u8>) {
        self.body = body;
    }
}

impl Body for Response {
    fn content_type(&self) -> Option<&str> {
        Response::content_type(self)
    }
    fn body(&self) -> &[u8] {
        &self.body
    }
    fn set_body(&mut self, body: Vec<u8>) {
        self.body = body;
    }
}
