//! The offer/answer state of one session (RFC 3264), str0m-style: creating an offer
//! returns a [`PendingOffer`] token that must be handed back with the answer, so an
//! answer can never be applied to the wrong offer.
//!
//! The negotiator keeps what RFC 3264 §8 asks to keep across re-offers: the `o=`
//! session id (constant) and version (one higher whenever the description we send
//! changes, §8), the order of `m=` lines (never removed, only disabled), and the
//! payload-type numbering (§8.3.2).

use crate::answer::{build_answer, read_answer};
use crate::codec::CodecPolicy;
use crate::error::SdpError;
use crate::format::PayloadTypes;
use crate::negotiated::Negotiated;
use crate::offer::{build_offer, Slot};
use crate::params::SessionParams;
use crate::session::{Origin, SessionDescription};

/// Offer/answer for one call. Owns no I/O, no clock, no randomness: the session id and
/// first version come from the caller.
#[derive(Debug, Clone)]
pub struct Negotiator {
    policy: CodecPolicy,
    session_id: u64,
    /// Version of the last description we sent (or the first one we will send).
    version: u64,
    last_sent: Option<SessionDescription>,
    /// Serial of the newest offer; only its token is accepted.
    offer_serial: u64,
    pending: Option<u64>,
    slots: Vec<Slot>,
    payload_types: PayloadTypes,
    current: Option<Negotiated>,
}

/// Proof that we sent an offer, to be handed back to [`Negotiator::accept_answer`] with
/// the answer. Not `Clone`: one offer, one answer.
#[derive(Debug)]
#[must_use = "the answer must be applied with Negotiator::accept_answer(pending, &answer)"]
pub struct PendingOffer {
    session_id: u64,
    serial: u64,
    offer: SessionDescription,
}

impl PendingOffer {
    /// The offer this token stands for.
    pub fn offer(&self) -> &SessionDescription {
        &self.offer
    }
}

impl Negotiator {
    /// A negotiator for one session. `session_id` (random, from the caller's seeded RNG)
    /// and `session_version` go into our `o=` lines: the first description we send
    /// carries `session_version`, later ones one more each time they change.
    pub fn new(policy: CodecPolicy, session_id: u64, session_version: u64) -> Self {
        Negotiator {
            policy,
            session_id,
            version: session_version,
            last_sent: None,
            offer_serial: 0,
            pending: None,
            slots: Vec::new(),
            payload_types: PayloadTypes::default(),
            current: None,
        }
    }

    /// The codec policy.
    pub fn policy(&self) -> &CodecPolicy {
        &self.policy
    }

    /// Our `o=` session id.
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The `o=` version of the last description we sent (before any: the first one's).
    pub fn session_version(&self) -> u64 {
        self.version
    }

    /// The outcome of the last completed exchange, if any.
    pub fn current(&self) -> Option<&Negotiated> {
        self.current.as_ref()
    }

    /// True while an offer we made awaits its answer.
    pub fn has_pending_offer(&self) -> bool {
        self.pending.is_some()
    }

    /// Creates an offer (initial, or a re-offer for hold, resume or changes). Any earlier
    /// pending offer is superseded; its token will be refused. Dropping the token
    /// abandons the offer (e.g. when the re-INVITE failed) and keeps the session as it was.
    pub fn create_offer(
        &mut self,
        params: &SessionParams,
    ) -> Result<(SessionDescription, PendingOffer), SdpError> {
        let mut payload_types = self.payload_types.clone();
        let origin = Origin::new("-", self.session_id, self.version, params.address);
        let sdp = build_offer(
            &self.policy,
            params,
            &self.slots,
            &mut payload_types,
            origin,
        )?;
        let sdp = self.stamp(sdp);
        self.payload_types = payload_types;
        self.offer_serial += 1;
        self.pending = Some(self.offer_serial);
        let pending = PendingOffer {
            session_id: self.session_id,
            serial: self.offer_serial,
            offer: sdp.clone(),
        };
        Ok((sdp, pending))
    }

    /// Applies the peer's answer to the offer `pending` stands for (RFC 3264 §7).
    ///
    /// Errors: [`SdpError::StalePendingOffer`] when the token is not this negotiator's
    /// newest offer; [`SdpError::AnswerMismatch`] when the answer breaks RFC 3264 §6
    /// against the offer; [`SdpError::Media`] when an accepted stream has no usable
    /// address. On error the session stays as it was.
    pub fn accept_answer(
        &mut self,
        pending: PendingOffer,
        answer: &SessionDescription,
    ) -> Result<Negotiated, SdpError> {
        if pending.session_id != self.session_id || self.pending != Some(pending.serial) {
            return Err(SdpError::StalePendingOffer);
        }
        self.pending = None;
        let (negotiated, learned) = read_answer(&pending.offer, answer)?;
        for m in &answer.media {
            self.payload_types.reserve(m);
        }
        for (key, pt) in learned {
            self.payload_types.learn(key, pt);
        }
        self.slots = pending.offer.media.iter().map(Slot::of).collect();
        self.current = Some(negotiated.clone());
        Ok(negotiated)
    }

    /// Answers a remote offer (initial or re-offer; RFC 3264 §6). Supersedes any pending
    /// offer of ours (after glare the SIP layer decides which offer wins).
    ///
    /// Errors: [`SdpError::NoAcceptableMedia`] when every stream must be rejected (answer
    /// `488 Not Acceptable Here`); [`SdpError::Media`] when a stream we would accept has
    /// no usable address. On error the session stays as it was.
    pub fn answer_offer(
        &mut self,
        offer: &SessionDescription,
        params: &SessionParams,
    ) -> Result<(SessionDescription, Negotiated), SdpError> {
        let origin = Origin::new("-", self.session_id, self.version, params.address);
        let answer = build_answer(&self.policy, params, offer, origin)?;
        let sdp = self.stamp(answer.sdp);
        for m in &offer.media {
            self.payload_types.reserve(m);
        }
        for (key, pt) in answer.learned {
            self.payload_types.learn(key, pt);
        }
        self.pending = None;
        self.slots = answer.slots;
        self.current = Some(answer.negotiated.clone());
        Ok((sdp, answer.negotiated))
    }

    /// Sets the `o=` version: the same as last time if nothing else changed, else one
    /// more (RFC 3264 §8). Remembers the result as the last description sent.
    fn stamp(&mut self, mut sdp: SessionDescription) -> SessionDescription {
        if let Some(last) = &self.last_sent {
            sdp.origin.session_version = last.origin.session_version.clone();
            if *last != sdp {
                self.version = self.version.wrapping_add(1);
            }
        }
        sdp.origin.session_version = self.version.to_string();
        self.last_sent = Some(sdp.clone());
        sdp
    }
}
