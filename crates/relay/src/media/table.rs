//! The session table: port pairs, latching, forwarding and timeouts (see the
//! [module documentation](super)).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use super::{
    Component, Forward, MediaConfig, MediaError, MediaEvent, MediaSessionId, PortPair,
    ReleaseReason, SessionStats, Side,
};

/// The relay's ports facing one party of one stream, and what is known of that party.
#[derive(Debug, Clone)]
pub(super) struct Leg {
    /// Our ports this party sends to.
    pub(super) pair: PortPair,
    /// Where its SDP says it receives RTP / RTCP.
    pub(super) remote_rtp: Option<SocketAddr>,
    pub(super) remote_rtcp: Option<SocketAddr>,
    /// The sources its packets were latched to, per port.
    latched_rtp: Option<SocketAddr>,
    latched_rtcp: Option<SocketAddr>,
}

impl Leg {
    fn new(pair: PortPair) -> Leg {
        Leg {
            pair,
            remote_rtp: None,
            remote_rtcp: None,
            latched_rtp: None,
            latched_rtcp: None,
        }
    }

    fn latched(&mut self, component: Component) -> &mut Option<SocketAddr> {
        match component {
            Component::Rtp => &mut self.latched_rtp,
            Component::Rtcp => &mut self.latched_rtcp,
        }
    }

    /// Where packets for this party go: the latched source (symmetric RTP), else the SDP.
    fn destination(&self, component: Component) -> Option<SocketAddr> {
        match component {
            Component::Rtp => self.latched_rtp.or(self.remote_rtp),
            Component::Rtcp => self
                .latched_rtcp
                .or(self.remote_rtcp)
                .or(self.latched_rtp)
                .or(self.remote_rtp),
        }
    }

    /// Records the party's SDP addresses; a change unlatches (the party moved).
    pub(super) fn set_remote(&mut self, rtp: SocketAddr, rtcp: SocketAddr) {
        if self.remote_rtp != Some(rtp) {
            self.latched_rtp = None;
        }
        if self.remote_rtcp != Some(rtcp) {
            self.latched_rtcp = None;
        }
        self.remote_rtp = Some(rtp);
        self.remote_rtcp = Some(rtcp);
    }
}

/// One `m=` line: a leg per side.
#[derive(Debug, Clone)]
pub(super) struct Stream {
    pub(super) legs: [Leg; 2],
}

impl Stream {
    /// Both parties' SDP is known: the offer/answer is done and latching may begin.
    fn armed(&self) -> bool {
        self.legs.iter().all(|leg| leg.remote_rtp.is_some())
    }
}

#[derive(Debug)]
pub(super) struct Session {
    pub(super) streams: Vec<Option<Stream>>,
    created: Instant,
    last_activity: Instant,
    stats: SessionStats,
}

impl Session {
    fn established(&self) -> bool {
        self.streams.iter().flatten().any(Stream::armed)
    }
}

#[derive(Debug, Clone, Copy)]
struct PortRef {
    session: MediaSessionId,
    stream: usize,
    side: Side,
    component: Component,
}

/// The media relay table. See the [module documentation](super).
#[derive(Debug)]
pub struct MediaRelay {
    pub(super) config: MediaConfig,
    free: VecDeque<PortPair>,
    sessions: BTreeMap<MediaSessionId, Session>,
    ports: HashMap<u16, PortRef>,
    next_id: u64,
    events: VecDeque<MediaEvent>,
}

impl MediaRelay {
    /// A relay with the ports of `config` free.
    pub fn new(config: MediaConfig) -> MediaRelay {
        MediaRelay {
            free: config.ports.iter().copied().collect(),
            config,
            sessions: BTreeMap::new(),
            ports: HashMap::new(),
            next_id: 0,
            events: VecDeque::new(),
        }
    }

    /// Whether anchoring is on (the runtime gave ports).
    pub fn is_enabled(&self) -> bool {
        !self.config.ports.is_empty()
    }

    /// Port pairs not in use.
    pub fn free_pairs(&self) -> usize {
        self.free.len()
    }

    /// Sessions alive.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// A new session with no streams yet; ports are taken as SDP shows streams.
    pub fn create_session(&mut self, now: Instant) -> MediaSessionId {
        self.next_id += 1;
        let id = MediaSessionId(self.next_id);
        let session = Session {
            streams: Vec::new(),
            created: now,
            last_activity: now,
            stats: SessionStats::default(),
        };
        self.sessions.insert(id, session);
        id
    }

    /// The counters of a live session.
    pub fn stats(&self, session: MediaSessionId) -> Option<SessionStats> {
        self.sessions.get(&session).map(|s| s.stats)
    }

    /// Ends a session (BYE, CANCEL, failed call): its ports go back to the pool and
    /// [`MediaEvent::Released`] follows. Returns its final counters.
    pub fn release(&mut self, session: MediaSessionId) -> Option<SessionStats> {
        self.release_with(session, ReleaseReason::Ended)
    }

    fn release_with(&mut self, id: MediaSessionId, reason: ReleaseReason) -> Option<SessionStats> {
        let session = self.sessions.remove(&id)?;
        for stream in session.streams.into_iter().flatten() {
            for leg in stream.legs {
                self.ports.remove(&leg.pair.rtp);
                self.ports.remove(&leg.pair.rtcp);
                self.free.push_back(leg.pair);
            }
        }
        self.events.push_back(MediaEvent::Released {
            session: id,
            reason,
            stats: session.stats,
        });
        Some(session.stats)
    }

    /// Decides the fate of a datagram that arrived on our `local_port` from `source`.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        local_port: u16,
        source: SocketAddr,
        packet: &[u8],
    ) -> Option<Forward> {
        let port = *self.ports.get(&local_port)?;
        let session = self.sessions.get_mut(&port.session)?;
        let stream = session.streams.get_mut(port.stream)?.as_mut()?;
        let armed = stream.armed();
        let stats = session.stats.of_mut(port.side);
        if !armed {
            stats.dropped_early += 1;
            return None;
        }
        let [caller, callee] = &mut stream.legs;
        let (from, to) = match port.side {
            Side::Caller => (caller, callee),
            Side::Callee => (callee, caller),
        };
        let latch = from.latched(port.component);
        match *latch {
            Some(latched) if latched == source => {}
            Some(_) => {
                stats.dropped_spoofed += 1;
                return None;
            }
            None => {
                *latch = Some(source);
                self.events.push_back(MediaEvent::Latched {
                    session: port.session,
                    stream: port.stream,
                    side: port.side,
                    component: port.component,
                    source,
                });
            }
        }
        let dest = to.destination(port.component)?;
        stats.packets += 1;
        stats.bytes += packet.len() as u64;
        session.last_activity = now;
        Some(Forward {
            from_port: to.pair.port(port.component),
            to: dest,
            bytes: packet.len(),
        })
    }

    /// When [`MediaRelay::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions.values().map(|s| self.deadline(s)).min()
    }

    fn deadline(&self, session: &Session) -> Instant {
        if session.established() {
            session.last_activity + self.config.inactivity_timeout
        } else {
            session.created + self.config.setup_timeout
        }
    }

    /// Releases sessions whose deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<(MediaSessionId, ReleaseReason)> = self
            .sessions
            .iter()
            .filter(|(_, s)| self.deadline(s) <= now)
            .map(|(&id, s)| {
                let reason = if s.established() {
                    ReleaseReason::Inactivity
                } else {
                    ReleaseReason::SetupTimeout
                };
                (id, reason)
            })
            .collect();
        for (id, reason) in due {
            self.release_with(id, reason);
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// The session and, for stream `index`, its legs (allocating two pairs if new).
    pub(super) fn stream_mut(
        &mut self,
        now: Instant,
        id: MediaSessionId,
        index: usize,
    ) -> Result<&mut Stream, MediaError> {
        let session = self
            .sessions
            .get_mut(&id)
            .ok_or(MediaError::UnknownSession(id))?;
        session.last_activity = now;
        if session.streams.len() <= index {
            session.streams.resize_with(index + 1, || None);
        }
        if session.streams[index].is_none() {
            if self.free.len() < 2 {
                return Err(MediaError::NoPorts);
            }
            // Checked above: two pairs are free.
            let caller = self.free.pop_front().ok_or(MediaError::NoPorts)?;
            let callee = self.free.pop_front().ok_or(MediaError::NoPorts)?;
            for (side, pair) in [(Side::Caller, caller), (Side::Callee, callee)] {
                for component in [Component::Rtp, Component::Rtcp] {
                    let port = PortRef {
                        session: id,
                        stream: index,
                        side,
                        component,
                    };
                    self.ports.insert(pair.port(component), port);
                }
            }
            session.streams[index] = Some(Stream {
                legs: [Leg::new(caller), Leg::new(callee)],
            });
        }
        session.streams[index]
            .as_mut()
            .ok_or(MediaError::UnknownSession(id))
    }

    /// Whether `id` is a live session.
    pub fn contains(&self, id: MediaSessionId) -> bool {
        self.sessions.contains_key(&id)
    }
}
