//! A simulated network for user-agent tests: `UserAgent`s and scripted peers (a registrar, a
//! redirect server, a challenging UAS) at loopback addresses, wired back to back in memory.
//! Every message goes through bytes (serialize, parse), time is simulated (nothing sleeps), and
//! a filter can drop chosen messages.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip::ua::{CallId, CallState, InviteConfig, UaConfig, UaEvent, UaOutput, UserAgent};
use dialtone_sip_message::{Message, Method, NameAddr, Request, Response, Uri};

/// A scripted peer: gets (now, from, message), returns messages to send as (dest, message).
pub type Script = Box<dyn FnMut(Instant, Peer, Message) -> Vec<(Peer, Message)>>;

enum Node {
    Ua(Box<UserAgent>),
    Script(Script),
}

/// One message on the wire.
#[derive(Debug, Clone)]
pub struct Wire {
    pub at: Instant,
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub message: Message,
}

impl Wire {
    pub fn request(&self) -> Option<&Request> {
        self.message.as_request()
    }
    pub fn response(&self) -> Option<&Response> {
        self.message.as_response()
    }
    pub fn is_method(&self, m: &Method) -> bool {
        self.request().is_some_and(|r| &r.method == m)
    }
    /// A response whose CSeq method is `m` and status `status`.
    pub fn is_response(&self, status: u16, m: &Method) -> bool {
        self.response()
            .is_some_and(|r| r.status == status && r.cseq().is_ok_and(|c| &c.method == m))
    }
}

/// Decides whether a message is lost.
pub type DropFilter = Box<dyn FnMut(&Wire) -> bool>;

pub struct Net {
    pub start: Instant,
    pub now: Instant,
    nodes: Vec<(SocketAddr, Node)>,
    events: Vec<Vec<(Instant, UaEvent)>>,
    queue: VecDeque<Wire>,
    /// Every message sent, delivered or not.
    pub log: Vec<Wire>,
    pub drop: Option<DropFilter>,
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

pub fn udp(s: &str) -> Peer {
    Peer::new(TransportKind::Udp, addr(s))
}

pub fn uri(s: &str) -> Uri {
    Uri::parse(s).expect("test URI")
}

impl Net {
    pub fn new() -> Net {
        // Any instant will do: the user agents only compare instants.
        let start = std::time::Instant::now();
        Net {
            start,
            now: start,
            nodes: Vec::new(),
            events: Vec::new(),
            queue: VecDeque::new(),
            log: Vec::new(),
            drop: None,
        }
    }

    /// Adds a user agent at `address`; returns its index.
    pub fn add_ua(&mut self, address: &str, seed: u64) -> usize {
        let ua = UserAgent::new(UaConfig::new(addr(address), seed));
        self.nodes.push((addr(address), Node::Ua(Box::new(ua))));
        self.events.push(Vec::new());
        self.nodes.len() - 1
    }

    /// Adds a user agent at `address` whose configuration `tune` adjusts; returns its index.
    pub fn add_ua_with(
        &mut self,
        address: &str,
        seed: u64,
        tune: impl FnOnce(&mut UaConfig),
    ) -> usize {
        let mut config = UaConfig::new(addr(address), seed);
        tune(&mut config);
        self.nodes
            .push((addr(address), Node::Ua(Box::new(UserAgent::new(config)))));
        self.events.push(Vec::new());
        self.nodes.len() - 1
    }

    /// Adds a scripted peer at `address`; returns its index.
    pub fn add_script(&mut self, address: &str, script: Script) -> usize {
        self.nodes.push((addr(address), Node::Script(script)));
        self.events.push(Vec::new());
        self.nodes.len() - 1
    }

    pub fn addr_of(&self, node: usize) -> SocketAddr {
        self.nodes[node].0
    }

    pub fn ua(&mut self, node: usize) -> &mut UserAgent {
        match &mut self.nodes[node].1 {
            Node::Ua(ua) => ua,
            Node::Script(_) => panic!("node {node} is a script"),
        }
    }

    /// Runs a command on a user agent, then delivers everything that follows.
    pub fn cmd<R>(&mut self, node: usize, f: impl FnOnce(&mut UserAgent, Instant) -> R) -> R {
        let r = self.cmd_no_deliver(node, f);
        self.deliver();
        r
    }

    /// Runs a command and collects its outputs, but delivers nothing yet (for races).
    pub fn cmd_no_deliver<R>(
        &mut self,
        node: usize,
        f: impl FnOnce(&mut UserAgent, Instant) -> R,
    ) -> R {
        let now = self.now;
        let r = f(self.ua(node), now);
        self.collect(node);
        r
    }

    /// Moves a user agent's outputs onto the wire and into its event list.
    fn collect(&mut self, node: usize) {
        let from = self.nodes[node].0;
        let now = self.now;
        let mut sent = Vec::new();
        if let Node::Ua(ua) = &mut self.nodes[node].1 {
            while let Some(out) = ua.poll_output() {
                match out {
                    UaOutput::Transmit { dest, message } => sent.push((dest, message)),
                    UaOutput::Event(e) => self.events[node].push((now, e)),
                }
            }
        }
        for (dest, message) in sent {
            self.send(from, dest.addr, message);
        }
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, message: Message) {
        // Through the wire format, as a socket would.
        let bytes = message.to_bytes();
        let message = Message::parse(&bytes).expect("what we send parses");
        let wire = Wire {
            at: self.now,
            from,
            to,
            message,
        };
        self.log.push(wire.clone());
        let lost = self.drop.as_mut().is_some_and(|f| f(&wire));
        if !lost {
            self.queue.push_back(wire);
        }
    }

    /// Puts a hand-made message on the wire from `from` and delivers everything.
    pub fn inject(&mut self, from: &str, to: &str, message: Message) {
        self.send(addr(from), addr(to), message);
        self.deliver();
    }

    /// Delivers queued messages (zero latency) until the network is quiet.
    pub fn deliver(&mut self) {
        while let Some(wire) = self.queue.pop_front() {
            let Some(node) = self.nodes.iter().position(|(a, _)| *a == wire.to) else {
                continue; // nobody there: lost
            };
            let from = Peer::new(TransportKind::Udp, wire.from);
            let now = self.now;
            let replies = match &mut self.nodes[node].1 {
                Node::Ua(ua) => {
                    ua.handle_message(now, from, wire.message);
                    Vec::new()
                }
                Node::Script(script) => script(now, from, wire.message),
            };
            let me = self.nodes[node].0;
            for (dest, message) in replies {
                self.send(me, dest.addr, message);
            }
            self.collect(node);
        }
    }

    /// Advances simulated time to `until`, firing every user agent's timers on the way.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            self.deliver();
            let next = (0..self.nodes.len())
                .filter_map(|i| match &self.nodes[i].1 {
                    Node::Ua(ua) => ua.poll_timeout().map(|t| (t, i)),
                    Node::Script(_) => None,
                })
                .min();
            match next {
                Some((at, node)) if at <= until => {
                    self.now = self.now.max(at);
                    let now = self.now;
                    self.ua(node).handle_timeout(now);
                    self.collect(node);
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    pub fn events(&self, node: usize) -> Vec<UaEvent> {
        self.events[node].iter().map(|(_, e)| e.clone()).collect()
    }

    pub fn timed_events(&self, node: usize) -> &[(Instant, UaEvent)] {
        &self.events[node]
    }

    /// The call states reported for `call` on `node`, in order.
    pub fn call_states(&self, node: usize, call: CallId) -> Vec<CallState> {
        self.events[node]
            .iter()
            .filter_map(|(_, e)| match e {
                UaEvent::Call { id, state } if *id == call => Some(state.clone()),
                _ => None,
            })
            .collect()
    }

    /// The handle of the last incoming call reported on `node`.
    pub fn incoming_call(&self, node: usize) -> Option<CallId> {
        self.events[node].iter().rev().find_map(|(_, e)| match e {
            UaEvent::IncomingCall { id, .. } => Some(*id),
            _ => None,
        })
    }

    /// Messages on the wire matching `f`.
    pub fn sent(&self, f: impl Fn(&Wire) -> bool) -> Vec<&Wire> {
        self.log.iter().filter(|w| f(w)).collect()
    }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// An INVITE from alice (node at `from_addr`) to bob at `to_addr`, offering `sdp`.
pub fn invite_config(from_addr: &str, to_addr: &str, sdp: Option<&str>) -> InviteConfig {
    InviteConfig::new(
        uri(&format!("sip:bob@{to_addr}")),
        NameAddr::parse("\"Alice\" <sip:alice@example.com>").expect("test name-addr"),
        uri(&format!("sip:alice@{from_addr}")),
        sdp.map(|s| s.as_bytes().to_vec()),
        udp(to_addr),
    )
}

/// A response to `req` with To tag `tag` (scripts' helper).
pub fn reply(req: &Request, status: u16, tag: &str) -> Response {
    let mut resp = Response::for_request(req, status, dialtone_sip_message::default_reason(status));
    if let Ok(mut to) = req.to() {
        if to.tag().is_none() {
            to.set_tag(tag);
        }
        resp.headers.set("To", to.to_string());
    }
    resp
}

/// Pulls `name=value` (quotes stripped) out of a Digest header value.
pub fn digest_param(value: &str, name: &str) -> Option<String> {
    let ch = dialtone_sip::auth::Challenge::parse(value).ok()?;
    match name {
        "realm" => Some(ch.realm),
        "nonce" => Some(ch.nonce),
        _ => ch
            .params
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v),
    }
}

/// A tiny registrar: digest-challenges REGISTERs (MD5, qop=auth, a fresh nonce per 401),
/// checks the answer against `password`, grants `granted` seconds (or Min-Expires rules), and
/// can pretend to sit behind a NAT by stamping `received`/`rport` with `nat`.
#[derive(Debug, Default)]
pub struct Registrar {
    pub password: String,
    pub granted: u32,
    pub min_expires: Option<u32>,
    pub nat: Option<(String, u16)>,
    /// Every REGISTER received, in order.
    pub requests: Vec<Request>,
    /// Status of every answer sent, in order.
    pub answers: Vec<u16>,
    /// Drop every REGISTER without answering.
    pub silent: bool,
    nonces: u32,
}

impl Registrar {
    pub fn new(password: &str, granted: u32) -> Registrar {
        Registrar {
            password: password.to_owned(),
            granted,
            ..Registrar::default()
        }
    }

    /// Whether the Authorization on `req` is a correct answer to one of our nonces.
    fn authorized(&self, req: &Request) -> bool {
        let Some(value) = req.headers.get("Authorization") else {
            return false;
        };
        let (Some(user), Some(nonce), Some(uri), Some(response), Some(cnonce), Some(nc)) = (
            digest_param(value, "username"),
            digest_param(value, "nonce"),
            digest_param(value, "uri"),
            digest_param(value, "response"),
            digest_param(value, "cnonce"),
            digest_param(value, "nc"),
        ) else {
            return false;
        };
        let issued = (1..=self.nonces).any(|n| format!("nonce{n}") == nonce);
        let ch = dialtone_sip::auth::Challenge::parse(&format!(
            r#"Digest realm="example.com", nonce="{nonce}", qop="auth""#
        ))
        .expect("own challenge parses");
        let creds = dialtone_sip::auth::Credentials::new(user, self.password.as_str());
        let nc = u32::from_str_radix(&nc, 16).unwrap_or(0);
        let expected =
            dialtone_sip::auth::authorize(&ch, &creds, &req.method, &uri, &req.body, nc, &cnonce);
        issued && digest_param(&expected, "response") == Some(response)
    }

    fn handle(&mut self, req: Request) -> Option<Response> {
        self.requests.push(req.clone());
        if self.silent {
            return None;
        }
        let mut req = req;
        if let Some((host, port)) = &self.nat {
            let mut vias = req.vias().expect("REGISTER has Via");
            vias[0].set_param("received", Some(host));
            vias[0].set_param("rport", Some(&port.to_string()));
            let line: Vec<String> = vias.iter().map(ToString::to_string).collect();
            req.headers.set("Via", line.join(", "));
        }
        let resp = if !self.authorized(&req) {
            self.nonces += 1;
            let mut r = reply(&req, 401, "regtag");
            r.headers.push(
                "WWW-Authenticate",
                format!(
                    r#"Digest realm="example.com", nonce="nonce{}", qop="auth", algorithm=MD5"#,
                    self.nonces
                ),
            );
            r
        } else {
            let asked = req.expires().unwrap_or(3600);
            match self.min_expires {
                Some(min) if asked != 0 && asked < min => {
                    let mut r = reply(&req, 423, "regtag");
                    r.headers.push("Min-Expires", min.to_string());
                    r
                }
                _ => {
                    let mut r = reply(&req, 200, "regtag");
                    let granted = if asked == 0 {
                        0
                    } else {
                        self.granted.max(self.min_expires.unwrap_or(0))
                    };
                    for c in req.contacts().expect("Contact parses") {
                        if c.param("expires") == Some(Some("0")) || asked == 0 {
                            continue;
                        }
                        r.headers
                            .push("Contact", format!("<{}>;expires={granted}", c.uri));
                    }
                    r
                }
            }
        };
        self.answers.push(resp.status);
        Some(resp)
    }
}

/// Wraps a shared [`Registrar`] as a network script.
pub fn registrar_script(state: std::rc::Rc<std::cell::RefCell<Registrar>>) -> Script {
    Box::new(move |_now, from, message| match message {
        Message::Request(req) if req.method == Method::Register => state
            .borrow_mut()
            .handle(req)
            .map(|resp| vec![(from, Message::Response(resp))])
            .unwrap_or_default(),
        _ => Vec::new(),
    })
}

/// A script that records everything it receives and answers nothing.
pub fn recorder(log: std::rc::Rc<std::cell::RefCell<Vec<Message>>>) -> Script {
    Box::new(move |_, _, msg| {
        log.borrow_mut().push(msg);
        Vec::new()
    })
}

/// Parses a request written with `\n` line ends.
pub fn request_text(text: &str) -> Request {
    match Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("test request parses") {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

/// Alice (node `a` at `a_addr`) calls bob (node `b` at `b_addr`) offering `"v=0 alice"`; bob
/// answers `"v=0 bob"`. Returns both call handles, established.
pub fn establish(
    net: &mut Net,
    a: usize,
    a_addr: &str,
    b: usize,
    b_addr: &str,
) -> (CallId, CallId) {
    let cfg = invite_config(a_addr, b_addr, Some("v=0 alice"));
    let ac = net.cmd(a, |ua, now| ua.invite(now, cfg));
    let bc = net.incoming_call(b).expect("bob sees the call");
    net.cmd(b, |ua, now| ua.answer(now, bc, b"v=0 bob".to_vec()))
        .expect("bob answers");
    assert!(matches!(
        net.ua(a).call_state(ac),
        Some(CallState::Established { .. })
    ));
    assert!(matches!(
        net.ua(b).call_state(bc),
        Some(CallState::Established { .. })
    ));
    (ac, bc)
}

/// The events on `node` after the first `skip`.
pub fn events_since(net: &Net, node: usize, skip: usize) -> Vec<UaEvent> {
    net.events(node).into_iter().skip(skip).collect()
}

/// The SDP offers reported to `node` for `call`.
pub fn remote_offers(net: &Net, node: usize, call: CallId) -> Vec<Vec<u8>> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::RemoteOffer { id, sdp } if id == call => Some(sdp),
            _ => None,
        })
        .collect()
}

/// The remote SDPs (answers) reported to `node` for `call`.
pub fn remote_sdps(net: &Net, node: usize, call: CallId) -> Vec<Vec<u8>> {
    net.events(node)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::RemoteSdp { id, sdp } if id == call => Some(sdp),
            _ => None,
        })
        .collect()
}

/// A request from a scripted peer at `peer` to the user agent at `ua`, in the dialog the peer
/// opened with Call-ID `peer-call` and From tag `peertag` (`to_tag` empty: outside it).
/// `headers` are extra lines (each ending in `\n`); the body comes with its Content-Type.
pub fn peer_request(
    peer: &str,
    ua: &str,
    method: &str,
    seq: u32,
    to_tag: &str,
    headers: &str,
    (content_type, body): (&str, &[u8]),
) -> Request {
    let tag = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    let ctype = if body.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {content_type}\n")
    };
    let mut r = request_text(&format!(
        "{method} sip:alice@{ua} SIP/2.0
Via: SIP/2.0/UDP {peer};branch=z9hG4bK{method}{seq}x{}
Max-Forwards: 70
From: <sip:peer@example.com>;tag=peertag
To: <sip:alice@example.com>{tag}
Call-ID: peer-call
CSeq: {seq} {method}
Contact: <sip:peer@{peer}>
{headers}{ctype}Content-Length: 0

",
        body.len()
    ));
    r.body = body.to_vec();
    r
}

/// A user agent at `ua_addr` in a call placed by a scripted peer at `peer_addr` that records
/// everything it receives and answers nothing by itself.
pub struct PeerCall {
    pub net: Net,
    pub ua: usize,
    pub call: CallId,
    pub log: std::rc::Rc<std::cell::RefCell<Vec<Message>>>,
    /// The UA's tag (To tag of the peer's requests).
    pub to_tag: String,
    pub ua_addr: String,
    pub peer_addr: String,
}

impl PeerCall {
    /// The peer calls (INVITE with `invite_headers` and SDP `"v=0 peer"`), the UA answers
    /// `"v=0 alice"`, the peer ACKs.
    pub fn establish(ua_addr: &str, peer_addr: &str, invite_headers: &str) -> PeerCall {
        let mut net = Net::new();
        let ua = net.add_ua(ua_addr, 101);
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        net.add_script(peer_addr, recorder(log.clone()));
        let invite = peer_request(
            peer_addr,
            ua_addr,
            "INVITE",
            1,
            "",
            invite_headers,
            ("application/sdp", b"v=0 peer"),
        );
        net.inject(peer_addr, ua_addr, Message::Request(invite));
        let call = net.incoming_call(ua).expect("incoming call");
        let mut pc = PeerCall {
            net,
            ua,
            call,
            log,
            to_tag: String::new(),
            ua_addr: ua_addr.to_owned(),
            peer_addr: peer_addr.to_owned(),
        };
        pc.net
            .cmd(ua, |ua, now| ua.answer(now, call, b"v=0 alice".to_vec()))
            .expect("answer");
        let ok = pc.last_response(&Method::Invite, 200).expect("200 sent");
        pc.to_tag = ok.to().unwrap().tag().unwrap().to_owned();
        pc.send("ACK", 1, "", "", b"");
        assert!(matches!(
            pc.net.ua(ua).call_state(call),
            Some(CallState::Established { .. })
        ));
        pc
    }

    /// The peer sends a request in the dialog (before the answer: outside it).
    pub fn send(&mut self, method: &str, seq: u32, headers: &str, ctype: &str, body: &[u8]) {
        let r = peer_request(
            &self.peer_addr,
            &self.ua_addr,
            method,
            seq,
            &self.to_tag,
            headers,
            (ctype, body),
        );
        let (peer, ua) = (self.peer_addr.clone(), self.ua_addr.clone());
        self.net.inject(&peer, &ua, Message::Request(r));
    }

    /// Responses the peer received for `method`.
    pub fn responses(&self, method: &Method) -> Vec<Response> {
        self.log
            .borrow()
            .iter()
            .filter_map(|m| m.as_response())
            .filter(|r| r.cseq().is_ok_and(|c| &c.method == method))
            .cloned()
            .collect()
    }

    /// The last `status` response the peer received for `method`.
    pub fn last_response(&self, method: &Method, status: u16) -> Option<Response> {
        self.responses(method)
            .into_iter()
            .rev()
            .find(|r| r.status == status)
    }

    /// Requests the peer received.
    pub fn requests(&self, method: &Method) -> Vec<Request> {
        self.log
            .borrow()
            .iter()
            .filter_map(|m| m.as_request())
            .filter(|r| &r.method == method)
            .cloned()
            .collect()
    }

    /// Requests the peer received for `method`, one per transaction (retransmissions, which
    /// share the CSeq, left out).
    pub fn transactions(&self, method: &Method) -> Vec<Request> {
        let mut seen: Vec<Request> = Vec::new();
        for r in self.requests(method) {
            let seq = r.cseq().unwrap().seq;
            if !seen.iter().any(|s| s.cseq().unwrap().seq == seq) {
                seen.push(r);
            }
        }
        seen
    }

    /// The peer answers `req` with `status` (adding `headers`, a body of `ctype`).
    pub fn reply(
        &mut self,
        req: &Request,
        status: u16,
        headers: &[(&str, &str)],
        ctype: &str,
        body: &[u8],
    ) {
        let mut resp = reply(req, status, "peertag");
        for (n, v) in headers {
            resp.headers.push(n, *v);
        }
        if !body.is_empty() {
            resp.headers.push("Content-Type", ctype);
            resp.body = body.to_vec();
        }
        let (peer, ua) = (self.peer_addr.clone(), self.ua_addr.clone());
        self.net.inject(&peer, &ua, Message::Response(resp));
    }
}
