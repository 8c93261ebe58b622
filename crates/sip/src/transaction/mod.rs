//! The RFC 3261 §17 transaction layer, sans-IO.
//!
//! [`TransactionLayer`] owns every client and server transaction of a user agent. The driver
//! feeds it received messages ([`TransactionLayer::handle_message`]), the TU's requests and
//! responses ([`TransactionLayer::send_request`], [`TransactionLayer::send_response`]) and the
//! passing of time ([`TransactionLayer::handle_timeout`]); after each input it drains
//! [`TransactionLayer::poll_output`] — transmissions and events for the TU — and sleeps until
//! [`TransactionLayer::poll_timeout`]. Time is an `Instant` passed in; the layer never reads a
//! clock, opens a socket or draws randomness of its own.
//!
//! Matching follows §17.1.3 (a response matches the client transaction whose request had the
//! same top-Via branch and whose method is the CSeq method) and §17.2.3 (a request matches the
//! server transaction with the same branch, sent-by and method, an ACK the INVITE's; requests
//! without the `z9hG4bK` cookie are matched on their RFC 2543 identity). CANCEL is a
//! transaction of its own, linked to the INVITE for the TU (§9). The four machines follow
//! RFC 3261 figures 5–8 with the RFC 6026 Accepted states.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use dialtone_sip::random::Xorshift;
//! use dialtone_sip::timer::TimerConfig;
//! use dialtone_sip::transaction::{new_branch, TransactionLayer, TransactionOutput};
//! use dialtone_sip::transport::{Peer, TransportKind};
//! use dialtone_sip_message::{Method, Request, Uri};
//!
//! /// `start` comes from the driver's clock; the layer only ever compares instants.
//! fn ping(start: Instant) {
//!     let mut rng = Xorshift::new(7);
//!     let mut layer = TransactionLayer::new(TimerConfig::default());
//!     let server = Peer::new(TransportKind::Udp, "127.0.0.1:5060".parse().unwrap());
//!
//!     let uri = Uri::parse("sip:bob@127.0.0.1").unwrap();
//!     let mut options = Request::new(Method::Options, uri);
//!     let via = format!("SIP/2.0/UDP 127.0.0.1:5070;branch={}", new_branch(&mut rng));
//!     options.headers.push("Via", via);
//!     options.headers.push("From", "<sip:alice@127.0.0.1>;tag=1");
//!     options.headers.push("To", "<sip:bob@127.0.0.1>");
//!     options.headers.push("Call-ID", "abc");
//!     options.headers.push("CSeq", "1 OPTIONS");
//!     layer.send_request(start, server, options).unwrap();
//!
//!     // Drain: the request goes out at once ...
//!     while let Some(output) = layer.poll_output() {
//!         if let TransactionOutput::Transmit { dest, message } = output {
//!             let _bytes = (dest, message.to_bytes()); // hand to the socket
//!         }
//!     }
//!     // ... and Timer E asks to be woken after T1.
//!     assert_eq!(layer.poll_timeout(), Some(start + Duration::from_millis(500)));
//!     layer.handle_timeout(start + Duration::from_millis(500)); // retransmits
//! }
//! # let _ = ping;
//! ```

pub mod client_invite;
pub mod client_non_invite;
mod derived_request;
mod error;
mod key;
mod output;
mod received;
pub mod server_invite;
pub mod server_non_invite;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use dialtone_sip_message::{Message, Method, Request, Response};

pub use self::client_invite::ClientInviteState;
pub use self::client_non_invite::ClientNonInviteState;
pub use self::error::{InboundError, TransactionError};
pub use self::key::MAGIC_COOKIE;
pub use self::output::{TransactionEvent, TransactionId, TransactionOutput};
pub use self::server_invite::ServerInviteState;
pub use self::server_non_invite::ServerNonInviteState;

use self::client_invite::ClientInvite;
use self::client_non_invite::ClientNonInvite;
use self::key::{AckKey, ClientKey, ServerKey};
use self::output::Outbox;
use self::server_invite::ServerInvite;
use self::server_non_invite::ServerNonInvite;
use crate::random::Random;
use crate::timer::{Timer, TimerConfig, TimerTable};
use crate::transport::Peer;

/// A fresh RFC 3261 branch: the magic cookie `z9hG4bK` followed by 64 random bits in hex
/// (§8.1.1.7). Put it in the top Via before [`TransactionLayer::send_request`].
pub fn new_branch(rng: &mut impl Random) -> String {
    format!("{MAGIC_COOKIE}{:016x}", rng.next_u64())
}

/// Where a live transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// An INVITE client transaction (RFC 3261 Figure 5).
    ClientInvite(ClientInviteState),
    /// A non-INVITE client transaction (RFC 3261 Figure 6).
    ClientNonInvite(ClientNonInviteState),
    /// An INVITE server transaction (RFC 3261 Figure 7).
    ServerInvite(ServerInviteState),
    /// A non-INVITE server transaction (RFC 3261 Figure 8).
    ServerNonInvite(ServerNonInviteState),
    /// A CANCEL held back until its INVITE gets a provisional response (RFC 3261 §9.1).
    CancelAwaitingProvisional,
}

/// One of the four machines.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)] // RFC 3261 §17 names them so.
enum Machine {
    ClientInvite(ClientInvite),
    ClientNonInvite(ClientNonInvite),
    ServerInvite(ServerInvite),
    ServerNonInvite(ServerNonInvite),
}

impl Machine {
    fn state(&self) -> TransactionState {
        match self {
            Machine::ClientInvite(m) => TransactionState::ClientInvite(m.state()),
            Machine::ClientNonInvite(m) => TransactionState::ClientNonInvite(m.state()),
            Machine::ServerInvite(m) => TransactionState::ServerInvite(m.state()),
            Machine::ServerNonInvite(m) => TransactionState::ServerNonInvite(m.state()),
        }
    }

    fn is_terminated(&self) -> bool {
        matches!(
            self.state(),
            TransactionState::ClientInvite(ClientInviteState::Terminated)
                | TransactionState::ClientNonInvite(ClientNonInviteState::Terminated)
                | TransactionState::ServerInvite(ServerInviteState::Terminated)
                | TransactionState::ServerNonInvite(ServerNonInviteState::Terminated)
        )
    }

    fn dest(&self) -> Peer {
        match self {
            Machine::ClientInvite(m) => m.dest(),
            Machine::ClientNonInvite(m) => m.dest(),
            Machine::ServerInvite(m) => m.dest(),
            Machine::ServerNonInvite(m) => m.dest(),
        }
    }

    fn request(&self) -> &Request {
        match self {
            Machine::ClientInvite(m) => m.request(),
            Machine::ClientNonInvite(m) => m.request(),
            Machine::ServerInvite(m) => m.request(),
            Machine::ServerNonInvite(m) => m.request(),
        }
    }

    fn timers(&self) -> &TimerTable {
        match self {
            Machine::ClientInvite(m) => m.timers(),
            Machine::ClientNonInvite(m) => m.timers(),
            Machine::ServerInvite(m) => m.timers(),
            Machine::ServerNonInvite(m) => m.timers(),
        }
    }

    fn timers_mut(&mut self) -> &mut TimerTable {
        match self {
            Machine::ClientInvite(m) => m.timers_mut(),
            Machine::ClientNonInvite(m) => m.timers_mut(),
            Machine::ServerInvite(m) => m.timers_mut(),
            Machine::ServerNonInvite(m) => m.timers_mut(),
        }
    }

    fn on_timer(&mut self, now: Instant, timer: Timer, out: &mut Outbox) {
        match self {
            Machine::ClientInvite(m) => m.on_timer(now, timer, out),
            Machine::ClientNonInvite(m) => m.on_timer(now, timer, out),
            Machine::ServerInvite(m) => m.on_timer(now, timer, out),
            Machine::ServerNonInvite(m) => m.on_timer(timer),
        }
    }

    fn on_transport_error(&mut self, out: &mut Outbox) {
        match self {
            Machine::ClientInvite(m) => m.on_transport_error(out),
            Machine::ClientNonInvite(m) => m.on_transport_error(out),
            Machine::ServerInvite(m) => m.on_transport_error(out),
            Machine::ServerNonInvite(m) => m.on_transport_error(out),
        }
    }
}

/// A live transaction and the index entries that lead to it.
#[derive(Debug)]
struct Slot {
    machine: Machine,
    client_key: Option<ClientKey>,
    server_key: Option<ServerKey>,
    ack_key: Option<AckKey>,
    /// The machine's earliest timer deadline as entered in [`TransactionLayer::deadlines`].
    indexed: Option<Instant>,
}

/// A CANCEL waiting for its INVITE's first provisional response (RFC 3261 §9.1).
#[derive(Debug)]
struct DeferredCancel {
    id: TransactionId,
    dest: Peer,
    request: Request,
    key: ClientKey,
}

/// All transactions of one SIP element. See the [module documentation](self) for the driving
/// loop.
#[derive(Debug)]
pub struct TransactionLayer {
    config: TimerConfig,
    next_id: u64,
    slots: BTreeMap<TransactionId, Slot>,
    client_keys: HashMap<ClientKey, TransactionId>,
    server_keys: HashMap<ServerKey, TransactionId>,
    ack_keys: HashMap<AckKey, TransactionId>,
    /// Deferred CANCELs by the id of the INVITE client transaction they cancel.
    deferred_cancels: BTreeMap<TransactionId, DeferredCancel>,
    /// Every live transaction's earliest timer deadline, so that finding the next deadline and
    /// the due transactions does not scan every transaction (a relay keeps thousands in their
    /// wait states). Updated in `drive`, which follows every change to a machine.
    deadlines: BTreeSet<(Instant, TransactionId)>,
    out: Outbox,
}

impl Default for TransactionLayer {
    fn default() -> TransactionLayer {
        TransactionLayer::new(TimerConfig::default())
    }
}

impl TransactionLayer {
    /// An empty layer using the timer values in `config`.
    pub fn new(config: TimerConfig) -> TransactionLayer {
        TransactionLayer {
            config,
            next_id: 0,
            slots: BTreeMap::new(),
            client_keys: HashMap::new(),
            server_keys: HashMap::new(),
            ack_keys: HashMap::new(),
            deferred_cancels: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            out: Outbox::default(),
        }
    }

    /// The timer values in use.
    pub fn config(&self) -> &TimerConfig {
        &self.config
    }

    /// Number of live transactions, deferred CANCELs included.
    pub fn len(&self) -> usize {
        self.slots.len() + self.deferred_cancels.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The state of transaction `id`, or `None` once it has terminated.
    pub fn state(&self, id: TransactionId) -> Option<TransactionState> {
        if let Some(slot) = self.slots.get(&id) {
            return Some(slot.machine.state());
        }
        self.deferred_cancel(id)
            .map(|_| TransactionState::CancelAwaitingProvisional)
    }

    /// The request that created transaction `id` (for a server transaction: as received, with
    /// the stamped top Via), or `None` once it has terminated.
    pub fn request(&self, id: TransactionId) -> Option<&Request> {
        if let Some(slot) = self.slots.get(&id) {
            return Some(slot.machine.request());
        }
        self.deferred_cancel(id).map(|cancel| &cancel.request)
    }

    /// The next output. Drain until `None` after every input.
    pub fn poll_output(&mut self) -> Option<TransactionOutput> {
        self.out.pop()
    }

    /// When [`TransactionLayer::handle_timeout`] must next be called, if any timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|&(at, _)| at)
    }

    /// Fires every timer due at `now`, earliest first.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<TransactionId> = self
            .deadlines
            .range(..=(now, TransactionId(u64::MAX)))
            .map(|&(_, id)| id)
            .collect();
        for id in due {
            self.drive(now, id);
        }
    }

    /// A message arrived from `from`. Retransmissions are absorbed or answered; anything new
    /// surfaces as a [`TransactionEvent`]. An error means the message was dropped; the driver
    /// may log it (and, for a request without a parseable CSeq, answer 400 statelessly).
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Peer,
        message: Message,
    ) -> Result<(), InboundError> {
        match message {
            Message::Request(request) => self.handle_request(now, from, request),
            Message::Response(response) => self.handle_response(now, response),
        }
    }

    /// Starts a client transaction sending `request` to `dest` and returns its id.
    ///
    /// The TU builds the request completely, including a top Via whose branch comes from
    /// [`new_branch`]. ACK is refused (it is no transaction: see
    /// [`TransactionLayer::send_stateless`]). A CANCEL for an INVITE that has not had a
    /// provisional response yet is held back until one arrives, and dropped (reported as
    /// [`TransactionEvent::Terminated`]) if a final response comes first (RFC 3261 §9.1).
    pub fn send_request(
        &mut self,
        now: Instant,
        dest: Peer,
        request: Request,
    ) -> Result<TransactionId, TransactionError> {
        if request.method == Method::Ack {
            return Err(TransactionError::AckIsNotATransaction);
        }
        let top_via = request
            .top_via()
            .map_err(|_| TransactionError::MissingVia)?;
        let key = ClientKey::for_request(&request)?;
        request.cseq().map_err(|_| TransactionError::MissingCSeq)?;
        if self.client_keys.contains_key(&key) {
            return Err(TransactionError::DuplicateBranch);
        }
        let id = self.allocate_id();
        self.client_keys.insert(key.clone(), id);

        if request.method == Method::Cancel {
            let invite = self
                .client_keys
                .get(&key.with_method(&Method::Invite))
                .copied();
            if let Some(invite) = invite {
                let calling = TransactionState::ClientInvite(ClientInviteState::Calling);
                if self.state(invite) == Some(calling) {
                    let cancel = DeferredCancel {
                        id,
                        dest,
                        request,
                        key,
                    };
                    self.deferred_cancels.insert(invite, cancel);
                    return Ok(id);
                }
            }
        }

        let config = self.config;
        let machine = if request.method == Method::Invite {
            Machine::ClientInvite(ClientInvite::start(
                id,
                now,
                dest,
                request,
                top_via,
                config,
                &mut self.out,
            ))
        } else {
            Machine::ClientNonInvite(ClientNonInvite::start(
                id,
                now,
                dest,
                request,
                config,
                &mut self.out,
            ))
        };
        self.insert(id, machine, Some(key), None, None);
        self.drive(now, id);
        Ok(id)
    }

    /// Cancels the INVITE client transaction `invite`: builds the CANCEL of RFC 3261 §9.1
    /// (same Request-URI, Call-ID, From, To, CSeq number, Route set and top Via as the INVITE)
    /// and sends it in a transaction of its own, whose id is returned — held back until the
    /// INVITE has a provisional response. The INVITE's own 487 arrives on `invite`.
    pub fn cancel(
        &mut self,
        now: Instant,
        invite: TransactionId,
    ) -> Result<TransactionId, TransactionError> {
        let Some(slot) = self.slots.get(&invite) else {
            return Err(TransactionError::UnknownTransaction(invite));
        };
        let Machine::ClientInvite(machine) = &slot.machine else {
            return Err(TransactionError::NotCancellable(invite));
        };
        if !matches!(
            machine.state(),
            ClientInviteState::Calling | ClientInviteState::Proceeding
        ) {
            return Err(TransactionError::NotCancellable(invite));
        }
        let request = derived_request::build_cancel(machine.request(), machine.top_via());
        let dest = machine.dest();
        self.send_request(now, dest, request)
    }

    /// The TU answers server transaction `id` with `response`.
    ///
    /// The TU builds the response (e.g. with `Response::for_request` on
    /// [`TransactionLayer::request`], adding a To tag). After a 2xx to an INVITE, the TU
    /// retransmits that 2xx itself until the ACK arrives (RFC 3261 §13.3.1.4), through this
    /// same call, while the transaction is Accepted.
    pub fn send_response(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Response,
    ) -> Result<(), TransactionError> {
        if !(100..=699).contains(&response.status) {
            return Err(TransactionError::InvalidStatus(response.status));
        }
        let Some(slot) = self.slots.get_mut(&id) else {
            return Err(match self.deferred_cancel(id) {
                Some(_) => TransactionError::NotAServerTransaction(id),
                None => TransactionError::UnknownTransaction(id),
            });
        };
        match &mut slot.machine {
            Machine::ServerInvite(m) => m.send_response(now, response, &mut self.out)?,
            Machine::ServerNonInvite(m) => m.send_response(now, response, &mut self.out)?,
            Machine::ClientInvite(_) | Machine::ClientNonInvite(_) => {
                return Err(TransactionError::NotAServerTransaction(id))
            }
        }
        self.drive(now, id);
        Ok(())
    }

    /// Sends `message` outside any transaction: the ACK for a 2xx (RFC 3261 §13.2.2.4), or a
    /// response the core sends statelessly (§8.2.6, e.g. a 400 for an unparseable request).
    pub fn send_stateless(&mut self, dest: Peer, message: Message) {
        self.out.transmit(dest, message);
    }

    /// The transport failed to reach `dest` (connection refused or lost, ICMP unreachable):
    /// every transaction sending to `dest` reports [`TransactionEvent::TransportError`] and
    /// terminates (RFC 3261 §17.1.4, §17.2.4).
    pub fn handle_transport_error(&mut self, now: Instant, dest: Peer) {
        let failed: Vec<TransactionId> = self
            .slots
            .iter()
            .filter(|(_, slot)| slot.machine.dest() == dest)
            .map(|(&id, _)| id)
            .collect();
        for id in failed {
            if let Some(slot) = self.slots.get_mut(&id) {
                slot.machine.on_transport_error(&mut self.out);
            }
            self.drive(now, id);
        }
    }

    fn handle_request(
        &mut self,
        now: Instant,
        from: Peer,
        mut request: Request,
    ) -> Result<(), InboundError> {
        let top_via = received::stamp(&mut request, from)?;
        let key = ServerKey::for_request(&request)?;
        if request.method == Method::Ack {
            self.handle_ack(now, from, &key, request);
            return Ok(());
        }
        if let Some(&id) = self.server_keys.get(&key) {
            if let Some(slot) = self.slots.get_mut(&id) {
                match &mut slot.machine {
                    Machine::ServerInvite(m) => m.on_retransmission(&mut self.out),
                    Machine::ServerNonInvite(m) => m.on_retransmission(&mut self.out),
                    Machine::ClientInvite(_) | Machine::ClientNonInvite(_) => {}
                }
            }
            self.drive(now, id);
            return Ok(());
        }

        let id = self.allocate_id();
        let dest = received::response_dest(&top_via, from);
        let config = self.config;
        let (machine, ack_key, event) = match request.method {
            Method::Invite => (
                Machine::ServerInvite(ServerInvite::start(id, now, dest, request.clone(), config)),
                AckKey::for_request(&request),
                TransactionEvent::Request { id, from, request },
            ),
            Method::Cancel => {
                let invite = self
                    .server_keys
                    .get(&key.with_method(&Method::Invite))
                    .copied();
                (
                    Machine::ServerNonInvite(ServerNonInvite::start(
                        id,
                        dest,
                        request.clone(),
                        config,
                    )),
                    None,
                    TransactionEvent::Cancel {
                        id,
                        invite,
                        from,
                        request,
                    },
                )
            }
            _ => (
                Machine::ServerNonInvite(ServerNonInvite::start(id, dest, request.clone(), config)),
                None,
                TransactionEvent::Request { id, from, request },
            ),
        };
        self.insert(id, machine, None, Some(key), ack_key);
        self.out.event(event);
        self.drive(now, id);
        Ok(())
    }

    /// An ACK: for a non-2xx it matches the INVITE transaction by branch; for a 2xx it has a
    /// branch of its own and is matched to an Accepted INVITE transaction by dialog fields.
    fn handle_ack(&mut self, now: Instant, from: Peer, key: &ServerKey, ack: Request) {
        let by_branch = self.server_keys.get(key).copied();
        let id = by_branch.or_else(|| {
            let id = *self.ack_keys.get(&AckKey::for_request(&ack)?)?;
            match &self.slots.get(&id)?.machine {
                Machine::ServerInvite(m) if m.accepts_ack_for_2xx(&ack) => Some(id),
                _ => None,
            }
        });
        let slot = id.and_then(|id| Some((id, self.slots.get_mut(&id)?)));
        match slot {
            Some((id, slot)) => {
                if let Machine::ServerInvite(m) = &mut slot.machine {
                    m.on_ack(now, from, ack, &mut self.out);
                }
                self.drive(now, id);
            }
            None => self
                .out
                .event(TransactionEvent::StrayAck { from, request: ack }),
        }
    }

    fn handle_response(&mut self, now: Instant, response: Response) -> Result<(), InboundError> {
        let status = response.status;
        if !(100..=699).contains(&status) {
            return Err(InboundError::InvalidStatus(status));
        }
        let key = ClientKey::for_response(&response)?;
        let id = key.and_then(|key| self.client_keys.get(&key).copied());
        let Some((id, slot)) = id.and_then(|id| Some((id, self.slots.get_mut(&id)?))) else {
            return Err(InboundError::StrayResponse { status });
        };
        match &mut slot.machine {
            Machine::ClientInvite(m) => m.on_response(now, response, &mut self.out),
            Machine::ClientNonInvite(m) => m.on_response(now, response, &mut self.out),
            Machine::ServerInvite(_) | Machine::ServerNonInvite(_) => {
                return Err(InboundError::StrayResponse { status })
            }
        }
        self.drive(now, id);
        Ok(())
    }

    fn allocate_id(&mut self) -> TransactionId {
        self.next_id += 1;
        TransactionId(self.next_id)
    }

    fn deferred_cancel(&self, id: TransactionId) -> Option<&DeferredCancel> {
        self.deferred_cancels
            .values()
            .find(|cancel| cancel.id == id)
    }

    fn insert(
        &mut self,
        id: TransactionId,
        machine: Machine,
        client_key: Option<ClientKey>,
        server_key: Option<ServerKey>,
        ack_key: Option<AckKey>,
    ) {
        if let Some(key) = &server_key {
            self.server_keys.insert(key.clone(), id);
        }
        if let Some(key) = &ack_key {
            self.ack_keys.insert(key.clone(), id);
        }
        let slot = Slot {
            machine,
            client_key,
            server_key,
            ack_key,
            indexed: None,
        };
        self.slots.insert(id, slot);
    }

    /// After any input to transaction `id`: fire its timers that are due (zero-length waits on
    /// reliable transports fire here at once), release or drop a deferred CANCEL, and forget
    /// the transaction if it terminated.
    fn drive(&mut self, now: Instant, id: TransactionId) {
        while let Some(slot) = self.slots.get_mut(&id) {
            let Some(timer) = slot.machine.timers_mut().pop_expired(now) else {
                break;
            };
            slot.machine.on_timer(now, timer, &mut self.out);
        }
        if self.deferred_cancels.contains_key(&id) {
            self.settle_deferred_cancel(now, id);
        }
        self.reindex(id);
        self.reap(id);
    }

    /// Brings transaction `id`'s entry in [`TransactionLayer::deadlines`] up to date.
    fn reindex(&mut self, id: TransactionId) {
        let Some(slot) = self.slots.get_mut(&id) else {
            return;
        };
        let next = slot.machine.timers().poll_timeout();
        if next == slot.indexed {
            return;
        }
        if let Some(old) = slot.indexed {
            self.deadlines.remove(&(old, id));
        }
        if let Some(at) = next {
            self.deadlines.insert((at, id));
        }
        slot.indexed = next;
    }

    /// Sends the CANCEL waiting on INVITE `invite` once it is Proceeding; drops it once the
    /// INVITE is past the point where cancelling makes sense (RFC 3261 §9.1).
    fn settle_deferred_cancel(&mut self, now: Instant, invite: TransactionId) {
        let state = self.slots.get(&invite).map(|slot| slot.machine.state());
        match state {
            Some(TransactionState::ClientInvite(ClientInviteState::Calling)) => {}
            Some(TransactionState::ClientInvite(ClientInviteState::Proceeding)) => {
                if let Some(cancel) = self.deferred_cancels.remove(&invite) {
                    let machine = ClientNonInvite::start(
                        cancel.id,
                        now,
                        cancel.dest,
                        cancel.request,
                        self.config,
                        &mut self.out,
                    );
                    let machine = Machine::ClientNonInvite(machine);
                    self.insert(cancel.id, machine, Some(cancel.key), None, None);
                    self.drive(now, cancel.id);
                }
            }
            _ => {
                if let Some(cancel) = self.deferred_cancels.remove(&invite) {
                    self.client_keys.remove(&cancel.key);
                    self.out
                        .event(TransactionEvent::Terminated { id: cancel.id });
                }
            }
        }
    }

    fn reap(&mut self, id: TransactionId) {
        let terminated = self
            .slots
            .get(&id)
            .is_some_and(|slot| slot.machine.is_terminated());
        if !terminated {
            return;
        }
        let Some(slot) = self.slots.remove(&id) else {
            return;
        };
        if let Some(at) = slot.indexed {
            self.deadlines.remove(&(at, id));
        }
        if let Some(key) = slot.client_key {
            remove_if_owned(&mut self.client_keys, &key, id);
        }
        if let Some(key) = slot.server_key {
            remove_if_owned(&mut self.server_keys, &key, id);
        }
        if let Some(key) = slot.ack_key {
            remove_if_owned(&mut self.ack_keys, &key, id);
        }
        self.out.event(TransactionEvent::Terminated { id });
    }
}

/// Removes `key` from `index` if it still leads to `id` (a later transaction may have taken
/// the key over).
fn remove_if_owned<K: std::hash::Hash + Eq>(
    index: &mut HashMap<K, TransactionId>,
    key: &K,
    id: TransactionId,
) {
    if index.get(key) == Some(&id) {
        index.remove(key);
    }
}
