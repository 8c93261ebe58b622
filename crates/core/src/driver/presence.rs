//! Presence on the runtime side (RFC 3856 over RFC 6665, PIDF of RFC 3863, PUBLISH of RFC 3903).
//!
//! Our status is served to whoever SUBSCRIBEs to us directly (the user agent's notifier) and, once
//! [`Active::publish_presence`] ran, published to the server (the registrar or outbound proxy, where a presence
//! server would sit) and re-published on every change. Subscriptions to others go through the proxy when
//! registered, straight to the presentity otherwise. Disconnecting ends both.

use super::{credentials, now, proxy_uri, Active, Env};
use crate::error::PhoneError;
use crate::event::{
    PhoneEvent, PresenceBasic, PresenceStatus, PublicationState, SubscriptionState,
};
use dialtone_sip::pidf;
use dialtone_sip::ua::{self, PublishConfig, SubId, SubscribeConfig};
use dialtone_sip_message::Uri;

impl Active {
    /// Sets our status: watchers are notified, the publication (if any) updated.
    pub(super) fn set_presence(&mut self, status: &PresenceStatus) {
        let note = status.note.as_deref();
        let status = match status.status {
            PresenceBasic::Open => pidf::PresenceStatus::open(note),
            PresenceBasic::Closed => pidf::PresenceStatus::closed(note),
        };
        self.ua.set_presence(now(), status);
    }

    /// Publishes our status to the server and keeps it published (once; later changes follow by themselves).
    pub(super) fn publish_presence(&mut self) {
        if self.publication.is_some() {
            return;
        }
        let aor = Uri::sip(Some(&self.account.login), &self.account.domain, None);
        let mut config = PublishConfig::new(aor, self.hop);
        config.auth = credentials(&self.account);
        config.route = self.account.outbound_proxy.as_ref().map(proxy_uri);
        self.publication = Some(self.ua.publish_presence(now(), config));
    }

    /// Watches `target`'s presence; returns the subscription handle.
    pub(super) async fn subscribe_presence(
        &mut self,
        env: &Env,
        target: &str,
    ) -> Result<u64, PhoneError> {
        let uri = self.target_uri(target)?;
        let dest = self.dest_for(&uri).await?;
        let shown = uri.to_string();
        let mut config = SubscribeConfig::new(uri, self.from()?, self.contact(), dest);
        config.auth = credentials(&self.account);
        config.route = self.account.outbound_proxy.as_ref().map(proxy_uri);
        let id = self.ua.subscribe_presence(now(), config);
        let handle = env.next_handle();
        self.subscriptions.insert(id, (handle, shown));
        Ok(handle)
    }

    /// Stops watching (SUBSCRIBE with Expires: 0).
    pub(super) fn unsubscribe_presence(&mut self, handle: u64) -> Result<(), PhoneError> {
        let id = self
            .subscriptions
            .iter()
            .find(|(_, (h, _))| *h == handle)
            .map(|(id, _)| *id)
            .ok_or_else(|| {
                PhoneError::InvalidInput(format!("there is no subscription {handle}"))
            })?;
        self.ua
            .unsubscribe_presence(now(), id)
            .map_err(|e| PhoneError::WrongState(e.to_string()))
    }

    /// Ends every subscription and removes our publication (on disconnect).
    pub(super) fn end_presence(&mut self) {
        let subs: Vec<SubId> = self.subscriptions.keys().copied().collect();
        for id in subs {
            let _ = self.ua.unsubscribe_presence(now(), id);
        }
        if let Some(publication) = self.publication {
            if self.ua.unpublish_presence(now(), publication).is_err() {
                self.publication = None;
            }
        }
    }

    pub(super) fn on_publication(&mut self, env: &Env, state: ua::PublicationState) {
        let (state, code, reason, expires) = match state {
            ua::PublicationState::Published { expires } => {
                (PublicationState::Published, None, None, Some(expires))
            }
            ua::PublicationState::Failed { code, reason } => {
                (PublicationState::Failed, Some(code), Some(reason), None)
            }
            ua::PublicationState::Removed => {
                self.publication = None;
                (PublicationState::Removed, None, None, None)
            }
        };
        env.emit(PhoneEvent::Publication {
            state,
            code,
            reason,
            expires,
        });
    }

    pub(super) fn on_subscription(&mut self, env: &Env, id: SubId, state: ua::SubscriptionState) {
        let Some((handle, target)) = self.subscriptions.get(&id).cloned() else {
            return;
        };
        let (state, reason, expires) = match state {
            ua::SubscriptionState::Pending => (SubscriptionState::Pending, None, None),
            ua::SubscriptionState::Active { expires } => {
                (SubscriptionState::Active, None, Some(expires))
            }
            ua::SubscriptionState::Terminated { reason } => {
                self.subscriptions.remove(&id);
                (SubscriptionState::Terminated, Some(reason), None)
            }
        };
        env.emit(PhoneEvent::Subscription {
            id: handle,
            target,
            state,
            reason,
            expires,
        });
    }

    pub(super) fn on_presence(
        &mut self,
        env: &Env,
        id: SubId,
        entity: String,
        open: bool,
        note: Option<String>,
    ) {
        let Some((handle, _)) = self.subscriptions.get(&id) else {
            return;
        };
        env.emit(PhoneEvent::Presence {
            subscription: *handle,
            entity,
            status: if open {
                PresenceBasic::Open
            } else {
                PresenceBasic::Closed
            },
            note,
        });
    }
}
