//! Registration client (RFC 3261 §10.2), with digest auth (§22), 423 handling (§10.2.8),
//! failure back-off (RFC 5626 §4.5) and NAT Contact rewriting (RFC 3581).
//!
//! One `Registration` keeps one Contact bound to an address-of-record:
//!
//! - REGISTER carries `Expires` (default 600 s); every REGISTER of a registration shares its
//!   Call-ID and increments CSeq (§10.2.4). A configured outbound proxy becomes
//!   `Route: <proxy;lr>`.
//! - 401/407 are answered once through the [`Authenticator`]; later refreshes carry credentials
//!   pre-emptively (nonce count incremented).
//! - 423 Interval Too Brief: retry at once with the `Min-Expires` value.
//! - The granted expiry is our Contact's `expires` parameter in the 2xx, else the 2xx's Expires,
//!   else what we asked for. The refresh is sent at `max(expiry / 2, expiry - 30 s)` (at least
//!   1 s): late enough not to load the registrar, 30 s of margin for retransmissions and a
//!   challenge round trip; short expiries (< 60 s) refresh at half-time.
//! - Failures (non-2xx, timeout, transport error, credentials refused) are reported as
//!   [`RegistrationState::Failed`] and retried after `min(1800 s, 30 s · 2^(n-1))`, randomised
//!   to 50–100 % (RFC 5626 §4.5), until [`super::UserAgent::unregister`].
//! - NAT: if the 2xx's top Via shows `received`/`rport` different from our Contact's host/port,
//!   we re-register at once with the public address in Contact and the old Contact with
//!   `expires=0`, so in-dialog requests can reach us. Done once per public address.

use std::time::Duration;

use dialtone_sip_message::{Method, NameAddr, Request, Response, Uri};

use super::context::Ctx;
use super::{RegId, UaEvent};
use crate::auth::{apply, Authenticator, Credentials};
use crate::random::Random;
use crate::transaction::TransactionId;
use crate::transport::Peer;

/// Default requested binding lifetime.
pub const DEFAULT_EXPIRES: u32 = 600;
/// Back-off base and cap (RFC 5626 §4.5 base-time and max-time).
const BACKOFF_BASE: Duration = Duration::from_secs(30);
const BACKOFF_MAX: Duration = Duration::from_secs(1800);

/// What to register.
#[derive(Debug, Clone)]
pub struct RegisterConfig {
    /// Request-URI: the registrar's domain, e.g. `sip:example.com`.
    pub registrar: Uri,
    /// Address-of-record (To and From), e.g. `sip:alice@example.com`.
    pub aor: Uri,
    /// Display name for From/To.
    pub display_name: Option<String>,
    /// Where we can be reached.
    pub contact: Uri,
    /// Credentials for challenges.
    pub credentials: Option<Credentials>,
    /// Requested lifetime in seconds.
    pub expires: u32,
    /// Outbound proxy, sent as `Route: <uri;lr>`.
    pub outbound_proxy: Option<Uri>,
    /// Where REGISTERs go (the proxy or the registrar, resolved by the runtime).
    pub dest: Peer,
    /// Rewrite Contact with the public address seen by the registrar (RFC 3581).
    pub nat_rewrite: bool,
}

impl RegisterConfig {
    /// Registration of `contact` for `aor` at `registrar`, sent to `dest`; 600 s, no auth, no
    /// proxy, NAT rewriting on.
    pub fn new(registrar: Uri, aor: Uri, contact: Uri, dest: Peer) -> RegisterConfig {
        RegisterConfig {
            registrar,
            aor,
            display_name: None,
            contact,
            credentials: None,
            expires: DEFAULT_EXPIRES,
            outbound_proxy: None,
            dest,
            nat_rewrite: true,
        }
    }
}

/// Registration states reported to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationState {
    /// A REGISTER is in flight.
    Registering,
    /// The registrar accepted the binding for `expires` seconds.
    Registered {
        /// Granted lifetime in seconds.
        expires: u32,
    },
    /// The attempt failed; another follows after a back-off.
    Failed {
        /// Status code (408 for a timeout, 503 for a transport error).
        code: u16,
        /// Reason phrase or explanation.
        reason: String,
    },
    /// The binding was removed (or unregistering gave up); the registration is over.
    Unregistered,
}

/// Why the next timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    Refresh,
    Retry,
}

/// One registration.
#[derive(Debug)]
pub(crate) struct Registration {
    id: RegId,
    config: RegisterConfig,
    call_id: String,
    from_tag: String,
    cseq: u32,
    expires: u32,
    contact: Uri,
    /// A Contact to remove in the next REGISTER (after a NAT rewrite).
    stale_contact: Option<Uri>,
    auth: Option<Authenticator>,
    /// The REGISTER in flight and its transaction.
    pending: Option<(TransactionId, Request)>,
    unregistering: bool,
    failures: u32,
    wake: Option<(std::time::Instant, Wake)>,
    state: RegistrationState,
    done: bool,
}

impl Registration {
    pub(crate) fn new(id: RegId, config: RegisterConfig, ctx: &mut Ctx<'_>) -> Registration {
        Registration {
            id,
            call_id: ctx.call_id(),
            from_tag: ctx.tag(),
            cseq: 0,
            expires: config.expires,
            contact: config.contact.clone(),
            stale_contact: None,
            auth: config.credentials.clone().map(Authenticator::new),
            config,
            pending: None,
            unregistering: false,
            failures: 0,
            wake: None,
            state: RegistrationState::Unregistered,
            done: false,
        }
    }

    pub(crate) fn id(&self) -> RegId {
        self.id
    }

    pub(crate) fn state(&self) -> &RegistrationState {
        &self.state
    }

    pub(crate) fn contact(&self) -> &Uri {
        &self.contact
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn deadline(&self) -> Option<std::time::Instant> {
        self.wake.map(|(at, _)| at)
    }

    pub(crate) fn owns(&self, id: TransactionId) -> bool {
        self.pending.as_ref().is_some_and(|(tid, _)| *tid == id)
    }

    pub(crate) fn start(&mut self, ctx: &mut Ctx<'_>) {
        self.send(ctx);
    }

    pub(crate) fn unregister(&mut self, ctx: &mut Ctx<'_>) {
        self.unregistering = true;
        self.wake = None;
        self.send(ctx);
    }

    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        if self.wake.take().is_some() {
            self.send(ctx);
        }
    }

    /// Builds and sends the next REGISTER (new CSeq, pre-emptive credentials).
    fn send(&mut self, ctx: &mut Ctx<'_>) {
        let request = self.build(true, ctx);
        self.transmit(request, ctx);
    }

    fn transmit(&mut self, request: Request, ctx: &mut Ctx<'_>) {
        match ctx.send_request(self.config.dest, request) {
            Ok((tid, sent)) => {
                self.pending = Some((tid, sent));
                if !self.unregistering {
                    self.report(RegistrationState::Registering, ctx);
                }
            }
            Err(e) => {
                self.pending = None;
                self.fail(500, &format!("cannot send REGISTER: {e}"), ctx);
            }
        }
    }

    /// The next REGISTER; `preemptive` adds credentials for the realms already known.
    fn build(&mut self, preemptive: bool, ctx: &mut Ctx<'_>) -> Request {
        self.cseq += 1;
        let mut req = Request::new(Method::Register, self.config.registrar.clone());
        if let Some(proxy) = &self.config.outbound_proxy {
            let mut proxy = proxy.clone();
            if proxy.param("lr").is_none() {
                proxy.set_param("lr", None);
            }
            req.headers.push("Route", format!("<{proxy}>"));
        }
        let mut aor = NameAddr::new(self.config.aor.clone());
        aor.display_name = self.config.display_name.clone();
        let mut from = aor.clone();
        from.set_tag(&self.from_tag);
        req.headers.push("From", from.to_string());
        req.headers.push("To", aor.to_string());
        req.headers.push("Call-ID", self.call_id.clone());
        req.headers.push("CSeq", format!("{} REGISTER", self.cseq));
        if self.unregistering {
            req.headers.push("Contact", format!("<{}>", self.contact));
            if let Some(old) = &self.stale_contact {
                req.headers.push("Contact", format!("<{old}>"));
            }
            req.headers.push("Expires", "0");
        } else {
            req.headers.push("Contact", format!("<{}>", self.contact));
            if let Some(old) = &self.stale_contact {
                req.headers.push("Contact", format!("<{old}>;expires=0"));
            }
            req.headers.push("Expires", self.expires.to_string());
        }
        req.headers.push("Allow", super::ALLOWED_METHODS);
        if let Some(auth) = self.auth.as_mut().filter(|_| preemptive) {
            if auth.has_realms() {
                let cnonce = ctx.cnonce();
                auth.authorize(&mut req, &cnonce);
            }
        }
        req
    }

    pub(crate) fn on_response(&mut self, id: TransactionId, resp: Response, ctx: &mut Ctx<'_>) {
        let Some((_, sent)) = self.pending.take_if(|(tid, _)| *tid == id) else {
            return;
        };
        match resp.status {
            100..=199 => self.pending = Some((id, sent)),
            200..=299 => self.on_success(&resp, ctx),
            401 | 407 => self.on_challenge(&sent, &resp, ctx),
            423 => {
                let min = resp
                    .headers
                    .get("Min-Expires")
                    .and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if min > self.expires && !self.unregistering => {
                        self.expires = min;
                        self.send(ctx);
                    }
                    _ => self.fail(423, &resp.reason, ctx),
                }
            }
            code => self.fail(code, &resp.reason, ctx),
        }
    }

    pub(crate) fn on_failure(
        &mut self,
        id: TransactionId,
        code: u16,
        reason: &str,
        ctx: &mut Ctx<'_>,
    ) {
        if self.pending.take_if(|(tid, _)| *tid == id).is_some() {
            self.fail(code, reason, ctx);
        }
    }

    fn on_challenge(&mut self, sent: &Request, resp: &Response, ctx: &mut Ctx<'_>) {
        let Some(auth) = &mut self.auth else {
            return self.fail(resp.status, &resp.reason, ctx);
        };
        let cnonce = ctx.cnonce();
        match auth.handle_challenge(sent, resp, &cnonce) {
            Ok(headers) => {
                let mut retry = self.build(false, ctx);
                apply(&mut retry, &headers);
                self.transmit(retry, ctx);
            }
            Err(e) => self.fail(resp.status, &e.to_string(), ctx),
        }
    }

    fn on_success(&mut self, resp: &Response, ctx: &mut Ctx<'_>) {
        self.failures = 0;
        self.stale_contact = None;
        if self.unregistering {
            return self.finish(ctx);
        }
        if self.config.nat_rewrite {
            if let Some(public) = public_contact(&self.contact, resp) {
                self.stale_contact = Some(std::mem::replace(&mut self.contact, public));
                return self.send(ctx);
            }
        }
        let granted = granted_expiry(&self.contact, resp).unwrap_or(self.expires);
        if granted == 0 {
            return self.fail(resp.status, "registrar granted no lifetime", ctx);
        }
        self.wake = Some((ctx.now + refresh_delay(granted), Wake::Refresh));
        self.report(RegistrationState::Registered { expires: granted }, ctx);
    }

    fn fail(&mut self, code: u16, reason: &str, ctx: &mut Ctx<'_>) {
        if self.unregistering {
            return self.finish(ctx);
        }
        self.failures = self.failures.saturating_add(1);
        let exp = self.failures.saturating_sub(1).min(16);
        let full = BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX);
        // 50–100 % of the full wait, from the seeded RNG.
        let permille = 500 + ctx.rng.next_u64() % 501;
        let wait = full * u32::try_from(permille).unwrap_or(1000) / 1000;
        self.wake = Some((ctx.now + wait, Wake::Retry));
        self.report(
            RegistrationState::Failed {
                code,
                reason: reason.to_owned(),
            },
            ctx,
        );
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) {
        self.wake = None;
        self.pending = None;
        self.done = true;
        self.report(RegistrationState::Unregistered, ctx);
    }

    fn report(&mut self, state: RegistrationState, ctx: &mut Ctx<'_>) {
        self.state = state.clone();
        ctx.event(UaEvent::Registration { id: self.id, state });
    }
}

/// `max(expiry / 2, expiry - 30 s)`, at least 1 s.
pub fn refresh_delay(expires: u32) -> Duration {
    let secs = (expires / 2).max(expires.saturating_sub(30)).max(1);
    Duration::from_secs(u64::from(secs))
}

/// Our binding's lifetime in a 2xx to REGISTER (§10.2.4).
fn granted_expiry(contact: &Uri, resp: &Response) -> Option<u32> {
    let ours = resp
        .contacts()
        .ok()?
        .into_iter()
        .find(|c| same_binding(&c.uri, contact));
    if let Some(v) = ours.as_ref().and_then(|c| c.param("expires")).flatten() {
        if let Ok(secs) = v.trim().parse() {
            return Some(secs);
        }
    }
    resp.expires()
}

fn same_binding(a: &Uri, b: &Uri) -> bool {
    a.scheme == b.scheme
        && a.user == b.user
        && a.host.eq_ignore_ascii_case(&b.host)
        && a.port.unwrap_or(5060) == b.port.unwrap_or(5060)
}

/// The Contact with the address the registrar saw, if it differs from `contact`.
fn public_contact(contact: &Uri, resp: &Response) -> Option<Uri> {
    let via = resp.top_via().ok()?;
    let received = via.received();
    let rport = via.rport().flatten();
    if received.is_none() && rport.is_none() {
        return None;
    }
    let host = received.map(str::to_owned).unwrap_or(contact.host.clone());
    let port = rport.or(contact.port);
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    if host.eq_ignore_ascii_case(&contact.host)
        && port.unwrap_or(5060) == contact.port.unwrap_or(5060)
    {
        return None;
    }
    let mut public = contact.clone();
    public.host = host;
    public.port = port;
    Some(public)
}
