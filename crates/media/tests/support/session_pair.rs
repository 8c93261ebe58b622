//! Two RTP sessions joined by two simulated links, on virtual time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_media::{Channel, Output, RtpEvent, RtpSession, RtpSessionConfig, Xorshift};

use super::sim_link::{LinkProfile, SimLink};

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// A (at 192.0.2.1:4000) and B (at 192.0.2.2:5000) with RTCP on port + 1 unless mux.
pub struct SessionPair {
    pub now: Instant,
    pub a: RtpSession,
    pub b: RtpSession,
    pub a_addr: SocketAddr,
    pub b_addr: SocketAddr,
    /// A → B.
    pub ab: SimLink,
    /// B → A.
    pub ba: SimLink,
    pub a_events: Vec<RtpEvent>,
    pub b_events: Vec<RtpEvent>,
    /// Where A's datagrams appear to come from (changed to simulate NAT rebinding).
    pub a_source: SocketAddr,
    pub mux: bool,
    /// Every datagram A sent: when, from which socket, the bytes.
    pub a_sent: Vec<(Instant, Channel, Vec<u8>)>,
}

fn rtcp_of(a: SocketAddr, mux: bool) -> SocketAddr {
    if mux {
        a
    } else {
        SocketAddr::new(a.ip(), a.port() + 1)
    }
}

impl SessionPair {
    pub fn new(seed: u64, ab: LinkProfile, ba: LinkProfile, mux: bool) -> SessionPair {
        let now = Instant::now();
        let a_addr = addr("192.0.2.1:4000");
        let b_addr = addr("192.0.2.2:5000");
        let config = |remote: SocketAddr| {
            let mut c = RtpSessionConfig::new(8000, remote);
            c.rtcp_mux = mux;
            c.remote_rtcp = rtcp_of(remote, mux);
            c
        };
        let mut rng = Xorshift::new(seed);
        SessionPair {
            now,
            a: RtpSession::new(now, config(b_addr), &mut rng),
            b: RtpSession::new(now, config(a_addr), &mut rng),
            a_addr,
            b_addr,
            ab: SimLink::new(seed ^ 0xA, ab),
            ba: SimLink::new(seed ^ 0xB, ba),
            a_events: Vec::new(),
            b_events: Vec::new(),
            a_source: a_addr,
            mux,
            a_sent: Vec::new(),
        }
    }

    /// Drains both sessions' outputs into the links and event lists.
    pub fn drain(&mut self) {
        while let Some(out) = self.a.poll_output() {
            match out {
                Output::Transmit(t) => {
                    self.a_sent.push((self.now, t.channel, t.bytes.clone()));
                    let from = match t.channel {
                        Channel::Rtp => self.a_source,
                        Channel::Rtcp => rtcp_of(self.a_source, self.mux),
                    };
                    self.ab.send(self.now, from, t.dest, t.bytes);
                }
                Output::Event(e) => self.a_events.push(e),
            }
        }
        while let Some(out) = self.b.poll_output() {
            match out {
                Output::Transmit(t) => {
                    let from = match t.channel {
                        Channel::Rtp => self.b_addr,
                        Channel::Rtcp => rtcp_of(self.b_addr, self.mux),
                    };
                    self.ba.send(self.now, from, t.dest, t.bytes);
                }
                Output::Event(e) => self.b_events.push(e),
            }
        }
    }

    /// Advances virtual time to `now + dt`, delivering datagrams and timeouts on the way
    /// (1 ms resolution).
    pub fn advance(&mut self, dt: Duration) {
        let end = self.now + dt;
        while self.now < end {
            self.now = (self.now + Duration::from_millis(1)).min(end);
            self.deliver();
            if self.a.poll_timeout().is_some_and(|t| t <= self.now) {
                self.a.handle_timeout(self.now);
            }
            if self.b.poll_timeout().is_some_and(|t| t <= self.now) {
                self.b.handle_timeout(self.now);
            }
            self.drain();
        }
    }

    fn deliver(&mut self) {
        let now = self.now;
        for d in self.ab.deliver(now) {
            if d.to.ip() != self.b_addr.ip() {
                continue;
            }
            if d.to.port() == self.b_addr.port() {
                self.b.handle_rtp(now, d.from, &d.bytes);
            } else {
                self.b.handle_rtcp(now, d.from, &d.bytes);
            }
        }
        for d in self.ba.deliver(now) {
            if d.to.port() == self.a_addr.port() || d.to.port() == self.a_source.port() {
                self.a.handle_rtp(now, d.from, &d.bytes);
            } else {
                self.a.handle_rtcp(now, d.from, &d.bytes);
            }
        }
    }
}
