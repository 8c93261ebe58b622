//! Session timers (RFC 4028): keep-alive of a call by periodic re-INVITE or UPDATE, so a call
//! whose peer vanished ends.
//!
//! - Our INVITE carries `Supported: timer`, `Session-Expires` (default 1800 s) and `Min-SE`
//!   (default 90 s) (§7.1). A 422 names the peer's `Min-SE`: the INVITE is sent again at once
//!   with the next CSeq and `Session-Expires` raised to it (§7.3) — at most twice.
//! - As UAS (§9) we refuse a `Session-Expires` below our `Min-SE` with 422 and our `Min-SE`;
//!   otherwise we take the interval and the `refresher` the request names; when it names none,
//!   the UAC refreshes if it supports `timer`, else we do. Our 2xx carries
//!   `Session-Expires: N;refresher=...`, plus `Require: timer` when the refresher is the UAC.
//!   A request without `Session-Expires` turns the timer off (§9).
//! - Every 2xx to an INVITE or UPDATE, either way, renegotiates and restarts the timer (§7.2,
//!   §9, §10). A 2xx without `Session-Expires` to our request turns it off (§7.2).
//! - The refresher refreshes at half the interval (§10): by UPDATE without SDP when the peer's
//!   `Allow` lists UPDATE, else by re-INVITE with our current SDP. A refresh answered 405/501
//!   falls back to re-INVITE; 491 waits out the §14.1 back-off; 481/408 end the call (RFC 5057).
//! - The other side sends BYE when no refresh came `min(32 s, interval / 3)` before expiry; the
//!   refresher sends BYE when its refresh has not succeeded by expiry (§10). Either way the call
//!   ends with [`EndReason::SessionExpired`].

use std::time::{Duration, Instant};

use dialtone_sip_message::{Headers, Method, Request, Response};

use super::call::{Call, EndReason, GlareRetry, Phase, ReInvite};
use super::config::SUPPORTED;
use super::context::Ctx;
use super::incoming::respond;
use super::request::{Outcome, Outgoing, Purpose};
use crate::transaction::TransactionId;

/// At most this many 422 retries for one request.
pub(crate) const MAX_422_RETRIES: u8 = 2;

/// Who refreshes, as written in the `refresher` parameter (from the point of view of the
/// transaction that negotiated it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refresher {
    Uac,
    Uas,
}

impl Refresher {
    fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

/// A running session timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    /// The session interval in seconds.
    pub interval: u32,
    /// We send the refreshes.
    pub we_refresh: bool,
    /// Refresher: when the next refresh goes out.
    pub refresh_at: Option<Instant>,
    /// Refresher: the session's expiry. Other side: when we give up and send BYE.
    pub expire_at: Instant,
}

/// Session timer settings and state of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerState {
    /// The `Session-Expires` we ask for (raised by 422s).
    pub ask: u32,
    /// Our `Min-SE` (raised to what a 422 demanded).
    pub min_se: u32,
    /// Ask for timers in our requests at all.
    pub enabled: bool,
    /// The peer's `Allow` lists UPDATE.
    pub peer_allows_update: bool,
    pub running: Option<SessionTimer>,
}

impl TimerState {
    pub(crate) fn new(ctx: &Ctx<'_>) -> TimerState {
        let cfg = ctx.config.session_timer;
        TimerState {
            ask: cfg.session_expires.max(cfg.min_se),
            min_se: cfg.min_se,
            enabled: cfg.enabled,
            peer_allows_update: false,
            running: None,
        }
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        let t = self.running.as_ref()?;
        Some(t.refresh_at.map_or(t.expire_at, |r| r.min(t.expire_at)))
    }

    /// Starts (or restarts) the timer for `interval`.
    fn arm(&mut self, interval: u32, we_refresh: bool, now: Instant) {
        let full = Duration::from_secs(u64::from(interval));
        let (refresh_at, expire_at) = if we_refresh {
            (Some(now + full / 2), now + full)
        } else {
            let margin = Duration::from_secs(32).min(full / 3);
            (None, now + full - margin)
        };
        self.running = Some(SessionTimer {
            interval,
            we_refresh,
            refresh_at,
            expire_at,
        });
    }

    /// Headers for a request of ours that may refresh the session (INVITE, re-INVITE, UPDATE).
    pub(crate) fn request_headers(&self, headers: &mut Headers) {
        match &self.running {
            Some(t) => {
                let who = if t.we_refresh { "uac" } else { "uas" };
                headers.set("Session-Expires", format!("{};refresher={who}", t.interval));
            }
            None if self.enabled => headers.set("Session-Expires", self.ask.to_string()),
            None => return,
        }
        headers.set("Min-SE", self.min_se.to_string());
    }

    /// Learns the peer's methods from its `Allow`, if it sent one.
    pub(crate) fn learn_allow(&mut self, headers: &Headers) {
        if headers.contains("Allow") {
            self.peer_allows_update = headers
                .get_all("Allow")
                .flat_map(|l| l.split(','))
                .any(|m| m.trim() == "UPDATE");
        }
    }

    /// A 2xx to our INVITE, re-INVITE or UPDATE (we are its UAC, §7.2).
    pub(crate) fn on_2xx_received(&mut self, resp: &Response, now: Instant) {
        self.learn_allow(&resp.headers);
        match session_expires(&resp.headers) {
            Some((interval, refresher)) => {
                // A 2xx must name the refresher; without one, we keep it alive ourselves.
                let we = refresher.unwrap_or(Refresher::Uac) == Refresher::Uac;
                self.arm(interval, we, now);
            }
            None => self.running = None,
        }
    }

    /// A 422 to our request: adopts its `Min-SE`; `false` if it named none we could use.
    pub(crate) fn on_422(&mut self, resp: &Response) -> bool {
        let Some(min) = resp
            .headers
            .get("Min-SE")
            .and_then(|v| v.split(';').next())
            .and_then(|v| v.trim().parse::<u32>().ok())
        else {
            return false;
        };
        let current = self.running.map_or(self.ask, |t| t.interval);
        if min <= current {
            return false; // nothing to raise: retrying would loop
        }
        self.min_se = self.min_se.max(min);
        self.ask = self.ask.max(min);
        if let Some(t) = &mut self.running {
            t.interval = t.interval.max(min);
        }
        self.enabled = true;
        true
    }

    /// §9: a request (INVITE, re-INVITE, UPDATE) asking for less than our Min-SE must get 422.
    pub(crate) fn too_small(&self, request: &Request) -> bool {
        session_expires(&request.headers).is_some_and(|(se, _)| se < self.min_se)
    }

    /// The 2xx we send to a request that may refresh the session (§9): negotiates, writes
    /// `Session-Expires`/`Require`, and restarts the timer.
    pub(crate) fn on_2xx_sent(&mut self, request: &Request, resp: &mut Response, now: Instant) {
        self.learn_allow(&request.headers);
        let Some((interval, asked)) = session_expires(&request.headers) else {
            self.running = None;
            return;
        };
        let uac_supports = option_tags(&request.headers, "Supported").any(|t| t == "timer")
            || option_tags(&request.headers, "Require").any(|t| t == "timer");
        let refresher = match asked {
            Some(Refresher::Uac) if uac_supports => Refresher::Uac,
            Some(Refresher::Uas) => Refresher::Uas,
            None if uac_supports => Refresher::Uac,
            _ => Refresher::Uas,
        };
        resp.headers.set(
            "Session-Expires",
            format!("{interval};refresher={}", refresher.as_str()),
        );
        if refresher == Refresher::Uac {
            resp.headers.push("Require", "timer");
        }
        self.arm(interval, refresher == Refresher::Uas, now);
    }
}

/// `Session-Expires: delta-seconds *(;param)` with its `refresher`.
fn session_expires(headers: &Headers) -> Option<(u32, Option<Refresher>)> {
    let value = headers.get("Session-Expires")?;
    let mut parts = value.split(';');
    let interval = parts.next()?.trim().parse::<u32>().ok()?;
    let refresher = parts.find_map(|p| {
        let (name, val) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("refresher") {
            return None;
        }
        match val.trim().to_ascii_lowercase().as_str() {
            "uac" => Some(Refresher::Uac),
            "uas" => Some(Refresher::Uas),
            _ => None,
        }
    });
    Some((interval, refresher))
}

/// The option tags of every `name` header, lower-cased.
fn option_tags<'a>(headers: &'a Headers, name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .get_all(name)
        .flat_map(|l| l.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
}

impl Call {
    /// 422 with our Min-SE when `request` asks for too short a session (§9); `true` if sent.
    pub(crate) fn refuse_short_session(
        &self,
        tid: TransactionId,
        request: &Request,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        if !self.timer.too_small(request) {
            return false;
        }
        let min = [("Min-SE".to_owned(), self.timer.min_se.to_string())];
        respond(ctx, tid, request, 422, Some(&min));
        true
    }

    /// Fires the session timer if due.
    pub(crate) fn on_session_timer(&mut self, ctx: &mut Ctx<'_>) {
        let Some(t) = self.timer.running else {
            return;
        };
        if self.phase != Phase::Confirmed {
            // Not up yet (no ACK, or a late answer pending): look again in a second.
            let later = ctx.now + Duration::from_secs(1);
            if let Some(running) = &mut self.timer.running {
                running.expire_at = running.expire_at.max(later);
                running.refresh_at = running.refresh_at.map(|at| at.max(later));
            }
            return;
        }
        if t.expire_at <= ctx.now {
            self.timer.running = None;
            return self.send_bye(EndReason::SessionExpired, ctx);
        }
        if t.refresh_at.is_some_and(|at| at <= ctx.now) {
            if let Some(running) = &mut self.timer.running {
                running.refresh_at = None;
            }
            self.send_refresh(ctx);
        }
    }

    /// Sends a session refresh (§10): UPDATE when the peer allows it, else re-INVITE. While
    /// another exchange is under way (its 2xx refreshes too), tries again in 2 s.
    pub(crate) fn send_refresh(&mut self, ctx: &mut Ctx<'_>) {
        let busy = self.offer_in_progress()
            || self.glare.is_some()
            || self.requests.iter().any(|r| r.purpose == Purpose::Refresh);
        if busy {
            if let Some(running) = &mut self.timer.running {
                running.refresh_at = Some(ctx.now + Duration::from_secs(2));
            }
            return;
        }
        if self.timer.peer_allows_update {
            let Some(dialog) = &mut self.dialog else {
                return;
            };
            let mut update = dialog.make_request(Method::Update);
            update.headers.push("Supported", SUPPORTED);
            self.timer.request_headers(&mut update.headers);
            self.send_in_dialog(update, Purpose::Refresh, ctx);
        } else if let Some(sdp) = self.local_sdp.clone() {
            self.send_reinvite(sdp, false, ctx);
        }
    }

    /// How our UPDATE refresh ended.
    pub(crate) fn on_refresh_outcome(
        &mut self,
        out: &Outgoing,
        outcome: Outcome,
        ctx: &mut Ctx<'_>,
    ) {
        let resp = match outcome {
            Outcome::Response(resp) => resp,
            Outcome::Failure(code, _) => return self.on_dialog_error(code, ctx),
        };
        match resp.status {
            200..=299 => self.timer.on_2xx_received(&resp, ctx.now),
            422 if out.retried_422 < MAX_422_RETRIES && self.timer.on_422(&resp) => {
                if let Some(mut retry) = self.renumbered(&out.request) {
                    self.timer.request_headers(&mut retry.headers);
                    if self.send_in_dialog(retry, Purpose::Refresh, ctx) {
                        if let Some(last) = self.requests.last_mut() {
                            last.retried_422 = out.retried_422 + 1;
                        }
                    }
                }
            }
            405 | 501 => {
                // The peer does not take UPDATE after all: refresh by re-INVITE from now on.
                self.timer.peer_allows_update = false;
                self.send_refresh(ctx);
            }
            491 => {
                let at = ctx.now + self.glare_backoff(ctx);
                self.glare = Some(GlareRetry {
                    at,
                    offer: None,
                    from_app: false,
                });
            }
            code => self.on_dialog_error(code, ctx),
        }
    }

    /// A 422 to our re-INVITE: sent again with the raised interval, if that helps.
    pub(crate) fn retry_reinvite_after_422(
        &mut self,
        re: &ReInvite,
        resp: &Response,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        if re.retries >= MAX_422_RETRIES || !self.timer.on_422(resp) {
            return false;
        }
        let Some(mut retry) = self.renumbered(&re.request) else {
            return false;
        };
        self.timer.request_headers(&mut retry.headers);
        self.resend_reinvite(re.clone(), retry, ctx);
        true
    }
}
