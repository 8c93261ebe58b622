//! Presence: our status published (RFC 3903 PUBLISH, `publish.rs`), served to watchers who
//! subscribe to us directly (RFC 6665/3856 notifier, `notifier.rs`), and other people's status
//! watched (RFC 6665/3856 subscriber, `subscribe.rs`). Documents are PIDF ([`crate::pidf`]).
//!
//! The user agent holds one status ([`UserAgent::set_presence`], open by default). Changing it
//! re-publishes every publication and notifies every watcher, so two Dialtone phones can watch
//! each other directly (SUBSCRIBE to the other's address), or through a presence server
//! (PUBLISH there, SUBSCRIBE there).

use std::fmt;
use std::time::{Duration, Instant};

use dialtone_sip_message::{NameAddr, Uri};

use super::notifier::Watcher;
use super::publish::Publication;
use super::subscribe::Subscription;
use super::{UaError, UserAgent};
use crate::auth::Credentials;
use crate::pidf::PresenceStatus;
use crate::transport::Peer;

/// Default lifetime asked for publications and subscriptions.
pub const DEFAULT_PRESENCE_EXPIRES: u32 = 3600;

/// Handle of a publication from [`UserAgent::publish_presence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PubId(pub(crate) u64);

impl fmt::Display for PubId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pub{}", self.0)
    }
}

/// Handle of a subscription from [`UserAgent::subscribe_presence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubId(pub(crate) u64);

impl fmt::Display for SubId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sub{}", self.0)
    }
}

/// Where and as whom to publish our presence.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    /// Our address-of-record: Request-URI, From, To and the PIDF entity.
    pub aor: Uri,
    /// Where PUBLISH goes (the presence server or outbound proxy, resolved by the runtime).
    pub dest: Peer,
    /// Credentials for 401/407 challenges.
    pub auth: Option<Credentials>,
    /// Outbound proxy, sent as `Route: <uri;lr>`.
    pub route: Option<Uri>,
    /// Lifetime asked for, in seconds.
    pub expires: u32,
}

impl PublishConfig {
    /// Publish as `aor` via `dest` for 3600 s, no auth, no proxy.
    pub fn new(aor: Uri, dest: Peer) -> PublishConfig {
        PublishConfig {
            aor,
            dest,
            auth: None,
            route: None,
            expires: DEFAULT_PRESENCE_EXPIRES,
        }
    }
}

/// What to watch, and as whom.
#[derive(Debug, Clone)]
pub struct SubscribeConfig {
    /// The presentity: Request-URI and To.
    pub target: Uri,
    /// Our identity (From); a tag is added.
    pub from: NameAddr,
    /// Our Contact, where NOTIFYs come.
    pub contact: Uri,
    /// Where SUBSCRIBE goes (the presence server, the proxy or the other phone).
    pub dest: Peer,
    /// Credentials for 401/407 challenges.
    pub auth: Option<Credentials>,
    /// Outbound proxy, sent as `Route: <uri;lr>`.
    pub route: Option<Uri>,
    /// Lifetime asked for, in seconds.
    pub expires: u32,
}

impl SubscribeConfig {
    /// Watch `target` as `from`, reachable at `contact`, via `dest`, 3600 s, no auth, no proxy.
    pub fn new(target: Uri, from: NameAddr, contact: Uri, dest: Peer) -> SubscribeConfig {
        SubscribeConfig {
            target,
            from,
            contact,
            dest,
            auth: None,
            route: None,
            expires: DEFAULT_PRESENCE_EXPIRES,
        }
    }
}

/// Publication states reported in [`super::UaEvent::Publication`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicationState {
    /// The server holds our status for `expires` seconds (refreshed before then).
    Published {
        /// Granted lifetime in seconds.
        expires: u32,
    },
    /// A PUBLISH failed; after a timeout or a 5xx another try follows in 60 s.
    Failed {
        /// Status (408 for no answer).
        code: u16,
        /// Reason phrase or explanation.
        reason: String,
    },
    /// Our status was removed from the server (or never got there); the publication is over.
    Removed,
}

/// Subscription states reported in [`super::UaEvent::Subscription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// The presentity has not authorized us yet.
    Pending,
    /// We receive its status; the subscription lasts `expires` seconds (refreshed before).
    Active {
        /// Remaining lifetime in seconds.
        expires: u32,
    },
    /// The subscription is over: the notifier's reason (`rejected`, `noresource`,
    /// `giveup`...), our `unsubscribed`, or an error status such as `404 Not Found`.
    Terminated {
        /// Why.
        reason: String,
    },
}

/// The presence usages and our status.
#[derive(Debug)]
pub(crate) struct Presence {
    pub status: PresenceStatus,
    pub publications: Vec<Publication>,
    pub subscriptions: Vec<Subscription>,
    pub watchers: Vec<Watcher>,
}

impl Default for Presence {
    fn default() -> Self {
        Presence {
            status: PresenceStatus::open(None),
            publications: Vec::new(),
            subscriptions: Vec::new(),
            watchers: Vec::new(),
        }
    }
}

impl Presence {
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let p = self.publications.iter().filter_map(Publication::deadline);
        let s = self.subscriptions.iter().filter_map(Subscription::deadline);
        let w = self.watchers.iter().map(Watcher::deadline);
        p.chain(s).chain(w).min()
    }

    pub(crate) fn retain_live(&mut self) {
        self.publications.retain(|p| !p.is_done());
        self.subscriptions.retain(|s| !s.is_done());
        self.watchers.retain(|w| !w.is_done());
    }
}

/// When to refresh something granted for `expires` seconds: `max(expires / 2, expires − 30 s)`,
/// at least 1 s — as registrations do.
pub(crate) fn refresh_after(expires: u32) -> Duration {
    let e = u64::from(expires);
    Duration::from_secs((e / 2).max(e.saturating_sub(30)).max(1))
}

impl UserAgent {
    /// Our current presence status.
    pub fn presence(&self) -> &PresenceStatus {
        &self.usages.presence.status
    }

    /// Changes our presence status: every publication is updated and every watcher notified.
    pub fn set_presence(&mut self, now: Instant, status: PresenceStatus) {
        let (mut ctx, usages) = self.split(now);
        let presence = &mut usages.presence;
        presence.status = status;
        for p in &mut presence.publications {
            p.set_status(&presence.status, &mut ctx);
        }
        for w in &mut presence.watchers {
            w.notify(&presence.status, None, &mut ctx);
        }
        self.pump(now);
    }

    /// Publishes our status (RFC 3903) and keeps it published until
    /// [`UserAgent::unpublish_presence`]; states arrive as [`super::UaEvent::Publication`].
    pub fn publish_presence(&mut self, now: Instant, config: PublishConfig) -> PubId {
        let id = PubId(self.allocate());
        let (mut ctx, usages) = self.split(now);
        let mut publication = Publication::new(id, config, &mut ctx);
        publication.start(&usages.presence.status, &mut ctx);
        usages.presence.publications.push(publication);
        self.pump(now);
        id
    }

    /// Removes our published status (PUBLISH with Expires: 0);
    /// [`PublicationState::Removed`] follows.
    pub fn unpublish_presence(&mut self, now: Instant, id: PubId) -> Result<(), UaError> {
        let (mut ctx, usages) = self.split(now);
        let publication = usages
            .presence
            .publications
            .iter_mut()
            .find(|p| p.id() == id)
            .ok_or(UaError::UnknownPublication(id))?;
        publication.unpublish(&mut ctx);
        self.pump(now);
        Ok(())
    }

    /// Watches `config.target`'s presence (SUBSCRIBE, `Event: presence`); its status arrives as
    /// [`super::UaEvent::PresenceChanged`], the subscription's as
    /// [`super::UaEvent::Subscription`].
    pub fn subscribe_presence(&mut self, now: Instant, config: SubscribeConfig) -> SubId {
        let id = SubId(self.allocate());
        let (mut ctx, usages) = self.split(now);
        let mut subscription = Subscription::new(id, config, &mut ctx);
        subscription.start(&mut ctx);
        usages.presence.subscriptions.push(subscription);
        self.pump(now);
        id
    }

    /// Stops watching (SUBSCRIBE with Expires: 0); the subscription ends as
    /// [`SubscriptionState::Terminated`] with reason `unsubscribed`.
    pub fn unsubscribe_presence(&mut self, now: Instant, id: SubId) -> Result<(), UaError> {
        let (mut ctx, usages) = self.split(now);
        let subscription = usages
            .presence
            .subscriptions
            .iter_mut()
            .find(|s| s.id() == id)
            .ok_or(UaError::UnknownSubscription(id))?;
        subscription.unsubscribe(&mut ctx);
        self.pump(now);
        Ok(())
    }
}
