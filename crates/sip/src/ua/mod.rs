//! The user agent: registrations, calls, messages and presence on top of the transaction layer,
//! sans-IO (RFC 3261 §8 UA behaviour, §10 registration, §12–§15 sessions).
//!
//! [`UserAgent`] is the one object the runtime drives. It owns a
//! [`TransactionLayer`], the registrations ([`register`]), the calls ([`call`]), the messages
//! ([`message`]) and the presence usages ([`presence`]):
//!
//! - inputs: [`UserAgent::handle_message`] (a parsed datagram or stream frame and where it came
//!   from), [`UserAgent::handle_timeout`], [`UserAgent::handle_transport_error`], and commands
//!   ([`UserAgent::register`], [`UserAgent::invite`], [`UserAgent::answer`], ...);
//! - outputs: drain [`UserAgent::poll_output`] after every input — [`UaOutput::Transmit`] for the
//!   sockets, [`UaOutput::Event`] for the application — then sleep until
//!   [`UserAgent::poll_timeout`].
//!
//! Inside a call, offers go both ways (RFC 3264 over §14 and RFC 3311): [`UserAgent::reinvite`]
//! sends ours (hold/resume, with the §14.1 glare back-off), the peer's are reported as
//! [`UaEvent::RemoteOffer`] and answered by the application through
//! [`UserAgent::answer_offer`] — the UA never invents an answer. Also in calls: session timers
//! (RFC 4028, [`SessionTimerConfig`]), transfer ([`UserAgent::refer`],
//! [`UserAgent::refer_with_replaces`], [`UaEvent::TransferRequested`], RFC 3515/3891), DTMF by
//! INFO ([`UserAgent::send_info_dtmf`], [`UaEvent::Dtmf`]) and MESSAGE
//! ([`UserAgent::send_message_in_call`]). Outside calls: MESSAGE ([`UserAgent::send_message`],
//! RFC 3428) and presence ([`UserAgent::publish_presence`], [`UserAgent::subscribe_presence`],
//! [`UserAgent::set_presence`]; RFC 3903/6665/3863).
//!
//! Routing follows the layering of RFC 3261 §17 → §12 → usages: the transaction layer matches
//! retransmissions and responses; a request with a To tag goes to the subscription, watcher or
//! call owning that dialog (481 when none does), a new INVITE creates an incoming call (or
//! replaces one, RFC 3891), a new SUBSCRIBE a watcher, MESSAGE and OPTIONS are answered here,
//! and anything else gets 405 or 501. Requests failing
//! [`validate_request`](dialtone_sip_message::validate_request) — with the body types narrowed
//! to the method's — get the rejection response. Tags, Call-IDs, branches and cnonces come from the seeded RNG of [`UaConfig`].
//!
//! NAT (RFC 3581): our Via always carries `rport`; when a registrar's 2xx shows a different
//! public address in `received`/`rport`, the registration re-registers with that address in
//! its Contact (see [`register`]).
//!
//! ```
//! use std::time::Instant;
//! use dialtone_sip::ua::{RegisterConfig, UaConfig, UaOutput, UserAgent};
//! use dialtone_sip::transport::{Peer, TransportKind};
//! use dialtone_sip_message::Uri;
//!
//! fn start(now: Instant) {
//!     let mut ua = UserAgent::new(UaConfig::new("127.0.0.1:5070".parse().unwrap(), 42));
//!     let server = Peer::new(TransportKind::Udp, "127.0.0.1:5060".parse().unwrap());
//!     let cfg = RegisterConfig::new(
//!         Uri::parse("sip:example.com").unwrap(),
//!         Uri::parse("sip:alice@example.com").unwrap(),
//!         Uri::parse("sip:alice@127.0.0.1:5070").unwrap(),
//!         server,
//!     );
//!     let _reg = ua.register(now, cfg);
//!     while let Some(out) = ua.poll_output() {
//!         match out {
//!             UaOutput::Transmit { dest, message } => { let _ = (dest, message.to_bytes()); }
//!             UaOutput::Event(event) => { let _ = event; }
//!         }
//!     }
//!     let _wake_at = ua.poll_timeout();
//! }
//! # let _ = start;
//! ```

mod accept;
pub mod call;
mod close;
pub mod config;
mod connect;
mod context;
pub mod event;
mod hold;
mod incoming;
mod info;
pub mod message;
mod notifier;
mod offer;
pub mod presence;
mod publish;
mod refer;
pub mod register;
mod replaces;
mod request;
mod session_timer;
mod subscribe;

use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

use dialtone_sip_message::{Message, Method, Request, Uri};

use crate::random::Xorshift;
use crate::transaction::{TransactionEvent, TransactionId, TransactionLayer, TransactionOutput};
use crate::transport::Peer;

pub use self::call::{CallState, EndReason};
pub use self::config::{InviteConfig, SessionTimerConfig, UaConfig};
pub use self::event::{UaError, UaEvent, UaOutput};
pub use self::message::{MessageConfig, MessageId};
pub use self::presence::{
    PubId, PublicationState, PublishConfig, SubId, SubscribeConfig, SubscriptionState,
};
pub use self::register::{RegisterConfig, RegistrationState};
pub use crate::pidf::PresenceStatus;

use self::call::Call;
use self::context::Ctx;
use self::message::Pager;
use self::notifier::Watcher;
use self::presence::Presence;
use self::register::Registration;

/// Methods we implement and list in `Allow` (RFC 3261 §20.5).
pub const ALLOWED_METHODS: &str =
    "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE, SUBSCRIBE";

/// Handle of a registration created by [`UserAgent::register`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegId(u64);

impl fmt::Display for RegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reg{}", self.0)
    }
}

/// Handle of a call (outgoing from [`UserAgent::invite`] or incoming via
/// [`UaEvent::IncomingCall`]). Not the SIP Call-ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call{}", self.0)
    }
}

/// The usages the user agent drives.
#[derive(Debug, Default)]
pub(crate) struct Usages {
    pub registrations: Vec<Registration>,
    pub calls: Vec<Call>,
    pub pagers: Vec<Pager>,
    pub presence: Presence,
}

/// The sans-IO user agent. See the [module documentation](self).
#[derive(Debug)]
pub struct UserAgent {
    config: UaConfig,
    tl: TransactionLayer,
    rng: Xorshift,
    next_handle: u64,
    usages: Usages,
    out: VecDeque<UaOutput>,
}

impl UserAgent {
    /// A user agent with no registration and no call.
    pub fn new(config: UaConfig) -> UserAgent {
        UserAgent {
            tl: TransactionLayer::new(config.timers),
            rng: Xorshift::new(config.seed),
            config,
            next_handle: 0,
            usages: Usages::default(),
            out: VecDeque::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// A message arrived from `from`.
    pub fn handle_message(&mut self, now: Instant, from: Peer, message: Message) {
        if let Message::Request(request) = &message {
            // No transaction can hold a request without CSeq; answer it statelessly (§8.2.6).
            if request.cseq().is_err() && request.top_via().is_ok() {
                incoming::reject_stateless(&mut self.tl, from, request, 400, "Bad CSeq");
                self.pump(now);
                return;
            }
        }
        // Errors are messages dropped by the transaction layer (no Via, stray responses):
        // there is nobody to answer.
        let _ = self.tl.handle_message(now, from, message);
        self.pump(now);
    }

    /// The transport could not reach `dest`.
    pub fn handle_transport_error(&mut self, now: Instant, dest: Peer) {
        self.tl.handle_transport_error(now, dest);
        self.pump(now);
    }

    /// Time passed: fire every due timer.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tl.handle_timeout(now);
        self.pump(now);
        let (mut ctx, usages) = self.split(now);
        for reg in usages.registrations.iter_mut() {
            if reg.deadline().is_some_and(|at| at <= now) {
                reg.on_timer(&mut ctx);
            }
        }
        for call in usages.calls.iter_mut() {
            call.on_timers(&mut ctx);
        }
        let presence = &mut usages.presence;
        for p in presence.publications.iter_mut() {
            if p.deadline().is_some_and(|at| at <= now) {
                p.on_timer(&presence.status, &mut ctx);
            }
        }
        for s in presence.subscriptions.iter_mut() {
            if s.deadline().is_some_and(|at| at <= now) {
                s.on_timer(&mut ctx);
            }
        }
        for w in presence.watchers.iter_mut() {
            w.on_timer(&presence.status, &mut ctx);
        }
        self.pump(now);
    }

    /// The next output; drain until `None` after every input.
    pub fn poll_output(&mut self) -> Option<UaOutput> {
        self.out.pop_front()
    }

    /// When [`UserAgent::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let u = &self.usages;
        let regs = u.registrations.iter().filter_map(Registration::deadline);
        let calls = u.calls.iter().filter_map(Call::deadline);
        self.tl
            .poll_timeout()
            .into_iter()
            .chain(regs)
            .chain(calls)
            .chain(u.presence.deadline())
            .min()
    }

    /// Starts registering (RFC 3261 §10.2) and keeps the binding refreshed.
    pub fn register(&mut self, now: Instant, config: RegisterConfig) -> RegId {
        let id = RegId(self.allocate());
        let (mut ctx, usages) = self.split(now);
        let mut reg = Registration::new(id, config, &mut ctx);
        reg.start(&mut ctx);
        usages.registrations.push(reg);
        self.pump(now);
        id
    }

    /// Removes the binding (REGISTER with Expires: 0); reports
    /// [`RegistrationState::Unregistered`] when done.
    pub fn unregister(&mut self, now: Instant, id: RegId) -> Result<(), UaError> {
        let (mut ctx, usages) = self.split(now);
        let reg = usages
            .registrations
            .iter_mut()
            .find(|r| r.id() == id)
            .ok_or(UaError::UnknownRegistration(id))?;
        reg.unregister(&mut ctx);
        self.pump(now);
        Ok(())
    }

    /// The Contact a registration currently registers (after a NAT rewrite: the public one).
    pub fn registration_contact(&self, id: RegId) -> Option<&Uri> {
        self.usages
            .registrations
            .iter()
            .find(|r| r.id() == id)
            .map(Registration::contact)
    }

    /// Places a call (RFC 3261 §13.2).
    pub fn invite(&mut self, now: Instant, config: InviteConfig) -> CallId {
        let id = CallId(self.allocate());
        let (mut ctx, usages) = self.split(now);
        let call = Call::outgoing(id, config, &mut ctx);
        usages.calls.push(call);
        self.pump(now);
        id
    }

    /// Answers a ringing incoming call with `sdp` (our offer or answer), or — for an outgoing
    /// late-offer call whose 2xx carried the peer's offer — sends the ACK with our answer.
    pub fn answer(&mut self, now: Instant, id: CallId, sdp: Vec<u8>) -> Result<(), UaError> {
        self.with_call(now, id, |call, ctx| call.answer(sdp, ctx))
    }

    /// Sends 180 Ringing for an incoming call not yet answered: with [`UaConfig::auto_ring`] off,
    /// once the application has decided to let it ring (sending it again repeats the 180).
    pub fn ring(&mut self, now: Instant, id: CallId) -> Result<(), UaError> {
        self.with_call(now, id, |call, ctx| call.ring(ctx))
    }

    /// Rejects a ringing incoming call with `code` (486 busy, 603 decline, 480 unavailable...).
    pub fn reject(&mut self, now: Instant, id: CallId, code: u16) -> Result<(), UaError> {
        if !(300..=699).contains(&code) {
            return Err(UaError::InvalidStatus(code));
        }
        self.with_call(now, id, |call, ctx| call.reject(code, ctx))
    }

    /// Ends a call however it stands: CANCEL before an answer, BYE after, 603 for an incoming
    /// call still ringing.
    pub fn hangup(&mut self, now: Instant, id: CallId) -> Result<(), UaError> {
        self.with_call(now, id, |call, ctx| {
            call.hangup(ctx);
            Ok(())
        })
    }

    /// Current state of a call, if it still exists.
    pub fn call_state(&self, id: CallId) -> Option<&CallState> {
        self.usages
            .calls
            .iter()
            .find(|c| c.id() == id)
            .map(Call::state)
    }

    /// Current state of a registration, if it still exists.
    pub fn registration_state(&self, id: RegId) -> Option<&RegistrationState> {
        self.usages
            .registrations
            .iter()
            .find(|r| r.id() == id)
            .map(Registration::state)
    }

    fn allocate(&mut self) -> u64 {
        self.next_handle += 1;
        self.next_handle
    }

    fn split(&mut self, now: Instant) -> (Ctx<'_>, &mut Usages) {
        (
            Ctx {
                now,
                tl: &mut self.tl,
                rng: &mut self.rng,
                config: &self.config,
                out: &mut self.out,
            },
            &mut self.usages,
        )
    }

    /// Runs `f` on call `id`, then drains the transaction layer.
    fn with_call<R>(
        &mut self,
        now: Instant,
        id: CallId,
        f: impl FnOnce(&mut Call, &mut Ctx<'_>) -> Result<R, UaError>,
    ) -> Result<R, UaError> {
        let (mut ctx, usages) = self.split(now);
        let call = usages
            .calls
            .iter_mut()
            .find(|c| c.id() == id)
            .ok_or(UaError::UnknownCall(id))?;
        let result = f(call, &mut ctx);
        self.pump(now);
        result
    }

    /// Drains the transaction layer, routing its events, and forgets finished usages.
    fn pump(&mut self, now: Instant) {
        loop {
            while let Some(output) = self.tl.poll_output() {
                match output {
                    TransactionOutput::Transmit { dest, message } => {
                        self.out.push_back(UaOutput::Transmit { dest, message })
                    }
                    TransactionOutput::Event(event) => self.route(now, event),
                }
            }
            // Work that spans usages may queue more for the transaction layer.
            if !self.settle_replacements(now) {
                break;
            }
        }
        self.usages.registrations.retain(|r| !r.is_done());
        self.usages.calls.retain(|c| !c.is_done());
        self.usages.presence.retain_live();
    }

    fn route(&mut self, now: Instant, event: TransactionEvent) {
        match event {
            TransactionEvent::Request { id, from, request } => {
                self.on_request(now, id, from, request)
            }
            TransactionEvent::Cancel {
                id,
                invite,
                from: _,
                request,
            } => {
                let (mut ctx, usages) = self.split(now);
                let call = invite.and_then(|inv| {
                    usages
                        .calls
                        .iter_mut()
                        .find(|c| c.owns_server(inv))
                        .map(|c| (c, inv))
                });
                match call {
                    Some((call, inv)) => call.on_cancel(id, inv, &request, &mut ctx),
                    None => incoming::respond(&mut ctx, id, &request, 481, None),
                }
            }
            TransactionEvent::StrayAck { from: _, request } => {
                let (mut ctx, usages) = self.split(now);
                if let Some(call) = usages
                    .calls
                    .iter_mut()
                    .find(|c| c.matches_in_dialog(&request))
                {
                    call.on_ack(&request, &mut ctx);
                }
            }
            TransactionEvent::Response { id, response } => {
                let (mut ctx, usages) = self.split(now);
                if let Some(reg) = usages.registrations.iter_mut().find(|r| r.owns(id)) {
                    reg.on_response(id, response, &mut ctx);
                } else if let Some(call) = usages.calls.iter_mut().find(|c| c.owns_client(id)) {
                    call.on_response(id, response, &mut ctx);
                } else if let Some(pos) = usages.pagers.iter().position(|p| p.owns(id)) {
                    if usages.pagers[pos].on_response(response, &mut ctx) {
                        usages.pagers.remove(pos);
                    }
                } else {
                    let presence = &mut usages.presence;
                    if let Some(p) = presence.publications.iter_mut().find(|p| p.owns(id)) {
                        p.on_response(response, &presence.status, &mut ctx);
                    } else if let Some(s) = presence.subscriptions.iter_mut().find(|s| s.owns(id)) {
                        s.on_response(response, &mut ctx);
                    } else if let Some(w) = presence.watchers.iter_mut().find(|w| w.owns(id)) {
                        w.on_response(id, Some(response.status));
                    }
                }
            }
            TransactionEvent::Timeout { id } | TransactionEvent::TransportError { id } => {
                let timeout = matches!(event, TransactionEvent::Timeout { .. });
                let (code, reason) = if timeout {
                    (408, "Request Timeout")
                } else {
                    (503, "Transport Error")
                };
                let (mut ctx, usages) = self.split(now);
                if let Some(reg) = usages.registrations.iter_mut().find(|r| r.owns(id)) {
                    reg.on_failure(id, code, reason, &mut ctx);
                } else if let Some(call) = usages
                    .calls
                    .iter_mut()
                    .find(|c| c.owns_client(id) || c.owns_server(id))
                {
                    call.on_failure(id, code, reason, &mut ctx);
                } else if let Some(pos) = usages.pagers.iter().position(|p| p.owns(id)) {
                    usages.pagers.remove(pos).on_failure(code, reason, &mut ctx);
                } else {
                    let presence = &mut usages.presence;
                    if let Some(p) = presence.publications.iter_mut().find(|p| p.owns(id)) {
                        p.on_failure(code, reason, &mut ctx);
                    } else if let Some(s) = presence.subscriptions.iter_mut().find(|s| s.owns(id)) {
                        s.on_failure(code, reason, &mut ctx);
                    } else if let Some(w) = presence.watchers.iter_mut().find(|w| w.owns(id)) {
                        w.on_response(id, None);
                    }
                }
            }
            TransactionEvent::Terminated { id } => {
                for call in &mut self.usages.calls {
                    call.on_terminated(id);
                }
            }
        }
    }

    fn on_request(&mut self, now: Instant, id: TransactionId, from: Peer, request: Request) {
        let (mut ctx, usages) = self.split(now);
        // An ACK for a 2xx matched to our Accepted INVITE transaction.
        if request.method == Method::Ack {
            if let Some(call) = usages
                .calls
                .iter_mut()
                .find(|c| c.owns_server(id) || c.matches_in_dialog(&request))
            {
                call.on_ack(&request, &mut ctx);
            }
            return;
        }
        let policy = incoming::policy_for(&ctx.config.policy, &request);
        if let Err(rejection) = dialtone_sip_message::validate_request(&request, &policy) {
            incoming::reject(&mut ctx, id, &request, &rejection);
            return;
        }
        let has_to_tag = request.to().ok().is_some_and(|to| to.tag().is_some());
        let presence = &mut usages.presence;
        if has_to_tag && request.method == Method::Notify {
            if let Some(s) = presence
                .subscriptions
                .iter_mut()
                .find(|s| s.matches(&request))
            {
                return s.on_notify(id, &request, &mut ctx);
            }
        }
        if has_to_tag && request.method == Method::Subscribe {
            if let Some(w) = presence.watchers.iter_mut().find(|w| w.matches(&request)) {
                return w.on_subscribe(id, &request, &presence.status, &mut ctx);
            }
        }
        if has_to_tag {
            match usages
                .calls
                .iter_mut()
                .find(|c| c.matches_in_dialog(&request))
            {
                Some(call) => call.on_in_dialog_request(id, from, request, &mut ctx),
                None => incoming::respond(&mut ctx, id, &request, 481, None),
            }
            return;
        }
        match request.method {
            Method::Invite => {
                let replaces = match replaces::judge(&request, &usages.calls) {
                    Some(replaces::Verdict::Refuse(status)) => {
                        return incoming::respond(&mut ctx, id, &request, status, None)
                    }
                    Some(replaces::Verdict::Replace(old)) => Some(old),
                    None => None,
                };
                let handle = CallId(self.allocate());
                let (mut ctx, usages) = self.split(now);
                if let Some(call) = Call::incoming(handle, id, from, request, replaces, &mut ctx) {
                    usages.calls.push(call);
                }
            }
            Method::Subscribe => {
                let status = &usages.presence.status;
                if let Some(w) = Watcher::subscribe(id, from, &request, status, &mut ctx) {
                    usages.presence.watchers.push(w);
                }
            }
            _ => incoming::out_of_dialog(&mut ctx, id, &request),
        }
    }
}
