//! A simulated network for relay tests: the relay at 127.0.0.1 (UDP/TCP 5060, WS 8080) and
//! clients — `dialtone_sip` user agents or raw endpoints whose messages the test writes —
//! wired back to back in memory. Every message goes through bytes (serialize, parse); time
//! is simulated and only moves when the test says so (nothing sleeps).
#![allow(dead_code)] // each test file uses a different subset

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialtone_relay::media::{MediaConfig, PortPair};
use dialtone_relay::{
    Listener, MemoryLocationStore, Relay, RelayConfig, RelayEvent, RelayOutput, Users,
};
use dialtone_sip::auth::{authorize, Challenge, Credentials};
use dialtone_sip::random::Xorshift;
use dialtone_sip::transport::{Peer, TransportKind};
use dialtone_sip::ua::{
    CallId, InviteConfig, RegId, RegisterConfig, UaConfig, UaEvent, UaOutput, UserAgent,
};
use dialtone_sip_message::{Message, NameAddr, Request, Response, Uri};

pub const DOMAIN: &str = "dialtone.test";
pub const RELAY_UDP: &str = "127.0.0.1:5060";
pub const RELAY_WS: &str = "127.0.0.1:8080";

pub const USERS: &str = r#"
realm = "dialtone.test"

[[user]]
name = "alice"
password = "alice-pw"

[[user]]
name = "bob"
password = "bob-pw"

[[user]]
name = "carol"
password = "carol-pw"
"#;

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

pub fn uri(s: &str) -> Uri {
    Uri::parse(s).expect("test URI")
}

pub fn udp(s: &str) -> Peer {
    Peer::new(TransportKind::Udp, addr(s))
}

pub fn ws(s: &str) -> Peer {
    Peer::new(TransportKind::Ws, addr(s))
}

/// The relay configuration of the tests: UDP and TCP on 5060, WS on 8080, media ports
/// 40000-40019 on 127.0.0.1.
pub fn config() -> RelayConfig {
    let listeners = vec![
        Listener::new(TransportKind::Udp, addr(RELAY_UDP)),
        Listener::new(TransportKind::Tcp, addr(RELAY_UDP)),
        Listener::new(TransportKind::Ws, addr(RELAY_WS)),
    ];
    let mut config = RelayConfig::new(DOMAIN, listeners);
    let ports = (40_000..40_020)
        .step_by(2)
        .filter_map(PortPair::consecutive)
        .collect();
    config.media = MediaConfig::new("127.0.0.1".parse().expect("ip"), ports);
    config
}

/// A message on the wire.
#[derive(Debug, Clone)]
pub struct Wire {
    pub at: Instant,
    pub from: Peer,
    pub to: Peer,
    pub message: Message,
}

impl Wire {
    pub fn request(&self) -> Option<&Request> {
        self.message.as_request()
    }
    pub fn response(&self) -> Option<&Response> {
        self.message.as_response()
    }
}

enum Client {
    Ua(Box<UserAgent>),
    Raw,
}

struct Node {
    /// The node's address and transport as the relay sees them.
    peer: Peer,
    client: Client,
    inbox: Vec<Message>,
    events: Vec<UaEvent>,
}

pub struct Net {
    pub start: Instant,
    pub now: Instant,
    pub relay: Relay<MemoryLocationStore>,
    nodes: Vec<Node>,
    queue: VecDeque<Wire>,
    pub log: Vec<Wire>,
    pub events: Vec<RelayEvent>,
}

/// The relay's own address on a transport.
fn relay_peer(transport: TransportKind) -> Peer {
    match transport {
        TransportKind::Ws | TransportKind::Wss => Peer::new(transport, addr(RELAY_WS)),
        _ => Peer::new(transport, addr(RELAY_UDP)),
    }
}

impl Net {
    pub fn new() -> Net {
        Net::with_config(config())
    }

    pub fn with_config(config: RelayConfig) -> Net {
        let users = Users::from_toml(USERS).expect("test users");
        // Any instant will do: the relay only compares instants.
        let start = Instant::now();
        let relay = Relay::new(
            config,
            users,
            MemoryLocationStore::new(),
            Xorshift::new(0x5eed),
            start,
        );
        Net {
            start,
            now: start,
            relay,
            nodes: Vec::new(),
            queue: VecDeque::new(),
            log: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A user agent at `address` over UDP.
    pub fn add_ua(&mut self, address: &str, seed: u64) -> usize {
        let ua = UserAgent::new(UaConfig::new(addr(address), seed));
        self.nodes.push(Node {
            peer: udp(address),
            client: Client::Ua(Box::new(ua)),
            inbox: Vec::new(),
            events: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// A raw endpoint: the test writes its messages and reads its inbox.
    pub fn add_raw(&mut self, peer: Peer) -> usize {
        self.nodes.push(Node {
            peer,
            client: Client::Raw,
            inbox: Vec::new(),
            events: Vec::new(),
        });
        self.nodes.len() - 1
    }

    pub fn peer(&self, node: usize) -> Peer {
        self.nodes[node].peer
    }

    pub fn ua(&mut self, node: usize) -> &mut UserAgent {
        match &mut self.nodes[node].client {
            Client::Ua(ua) => ua,
            Client::Raw => panic!("node {node} is raw"),
        }
    }

    /// Everything node `node` received so far (and forgets it).
    pub fn take_inbox(&mut self, node: usize) -> Vec<Message> {
        std::mem::take(&mut self.nodes[node].inbox)
    }

    /// The user-agent events of `node` so far (and forgets them).
    pub fn take_ua_events(&mut self, node: usize) -> Vec<UaEvent> {
        std::mem::take(&mut self.nodes[node].events)
    }

    /// The relay events so far (and forgets them).
    pub fn take_events(&mut self) -> Vec<RelayEvent> {
        std::mem::take(&mut self.events)
    }

    /// A raw node sends `message` to the relay; everything that follows is delivered.
    pub fn send(&mut self, node: usize, message: Message) {
        let from = self.nodes[node].peer;
        self.queue.push_back(Wire {
            at: self.now,
            from,
            to: relay_peer(from.transport),
            message,
        });
        self.deliver();
    }

    /// Parses `text` and sends it from raw node `node`.
    pub fn send_text(&mut self, node: usize, text: &str) {
        let message = Message::parse(text.as_bytes()).expect("test message parses");
        self.send(node, message);
    }

    /// Runs a command on a user agent, then delivers everything that follows.
    pub fn cmd<R>(&mut self, node: usize, f: impl FnOnce(&mut UserAgent, Instant) -> R) -> R {
        let now = self.now;
        let r = f(self.ua(node), now);
        self.collect_ua(node);
        self.deliver();
        r
    }

    fn collect_ua(&mut self, node: usize) {
        let from = self.nodes[node].peer;
        let now = self.now;
        let Node { client, events, .. } = &mut self.nodes[node];
        let Client::Ua(ua) = client else {
            return;
        };
        while let Some(output) = ua.poll_output() {
            match output {
                UaOutput::Transmit { dest, message } => self.queue.push_back(Wire {
                    at: now,
                    from: Peer::new(dest.transport, from.addr),
                    to: dest,
                    message,
                }),
                UaOutput::Event(event) => events.push(event),
            }
        }
    }

    fn collect_relay(&mut self) {
        while let Some(output) = self.relay.poll_output() {
            match output {
                RelayOutput::Transmit { dest, message } => self.queue.push_back(Wire {
                    at: self.now,
                    from: relay_peer(dest.transport),
                    to: dest,
                    message,
                }),
                RelayOutput::Event(event) => self.events.push(event),
            }
        }
    }

    fn node_at(&self, peer: Peer) -> Option<usize> {
        self.nodes.iter().position(|n| n.peer.addr == peer.addr)
    }

    /// Delivers queued messages (through bytes) until the network is quiet.
    pub fn deliver(&mut self) {
        self.collect_relay();
        while let Some(wire) = self.queue.pop_front() {
            let bytes = wire.message.to_bytes();
            let message = Message::parse(&bytes).expect("everything on the wire parses");
            self.log.push(wire.clone());
            let is_relay = wire.to == relay_peer(wire.to.transport);
            if is_relay {
                self.relay.handle_message(self.now, wire.from, message);
                self.collect_relay();
            } else if let Some(node) = self.node_at(wire.to) {
                let now = self.now;
                match &mut self.nodes[node].client {
                    Client::Ua(ua) => {
                        ua.handle_message(now, wire.from, message);
                        self.collect_ua(node);
                    }
                    Client::Raw => self.nodes[node].inbox.push(message),
                }
            }
        }
    }

    /// Advances simulated time to `until`, firing every timer on the way.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            self.deliver();
            let mut next = self.relay.poll_timeout();
            for node in &self.nodes {
                if let Client::Ua(ua) = &node.client {
                    next = [next, ua.poll_timeout()].into_iter().flatten().min();
                }
            }
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    let now = self.now;
                    self.relay.handle_timeout(now);
                    self.collect_relay();
                    for node in 0..self.nodes.len() {
                        if let Client::Ua(ua) = &mut self.nodes[node].client {
                            ua.handle_timeout(now);
                            self.collect_ua(node);
                        }
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
        self.deliver();
    }

    pub fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        self.run_until(until);
    }

    /// Registers user agent `node` as `user` (password `<user>-pw`) with contact at its own
    /// address; returns the registration handle after letting the exchange finish.
    pub fn register(&mut self, node: usize, user: &str) -> RegId {
        let local = self.nodes[node].peer.addr;
        let mut cfg = RegisterConfig::new(
            uri(&format!("sip:{DOMAIN}")),
            uri(&format!("sip:{user}@{DOMAIN}")),
            uri(&format!("sip:{user}@{local}")),
            udp(RELAY_UDP),
        );
        cfg.credentials = Some(Credentials::new(user, format!("{user}-pw")));
        cfg.nat_rewrite = false;
        let id = self.cmd(node, |ua, now| ua.register(now, cfg));
        self.advance(Duration::from_millis(10));
        id
    }

    /// User agent `node` (user `user`) calls `target` through the relay.
    pub fn invite(&mut self, node: usize, user: &str, target: &str, sdp: Option<&str>) -> CallId {
        let local = self.nodes[node].peer.addr;
        let mut cfg = InviteConfig::new(
            uri(target),
            NameAddr::new(uri(&format!("sip:{user}@{DOMAIN}"))),
            uri(&format!("sip:{user}@{local}")),
            sdp.map(|s| s.as_bytes().to_vec()),
            udp(RELAY_UDP),
        );
        cfg.auth = Some(Credentials::new(user, format!("{user}-pw")));
        self.cmd(node, |ua, now| ua.invite(now, cfg))
    }

    /// Messages logged since index `from` that match `pred`.
    pub fn logged(&self, from: usize, pred: impl Fn(&Wire) -> bool) -> Vec<Wire> {
        self.log[from..]
            .iter()
            .filter(|w| pred(w))
            .cloned()
            .collect()
    }
}

/// A request from a raw client, as text: `method` to `target`, from `user`'s AOR at `via`.
pub fn request_text(
    method: &str,
    target: &str,
    user: &str,
    via: &str,
    call_id: &str,
    cseq: u32,
    extra: &str,
) -> String {
    let to = if method == "REGISTER" {
        format!("<sip:{user}@{DOMAIN}>")
    } else {
        format!("<{target}>")
    };
    // The default Contact unless `extra` brings its own.
    let contact = if extra.contains("Contact:") {
        String::new()
    } else {
        format!("Contact: <sip:{user}@{via}>\r\n")
    };
    format!(
        "{method} {target} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {via};branch=z9hG4bK{call_id}{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@{DOMAIN}>;tag=t{call_id}\r\n\
         To: {to}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         {contact}\
         {extra}\
         Content-Length: 0\r\n\r\n"
    )
}

/// The `Authorization` value answering the first challenge of `response` for `request`.
pub fn answer_challenge(
    response: &Response,
    header: &str,
    user: &str,
    password: &str,
    method: &str,
    request_uri: &str,
    nc: u32,
) -> String {
    let value = response.headers.get(header).expect("challenge header");
    let challenge = Challenge::parse(value).expect("challenge parses");
    let method = method.parse().expect("method");
    authorize(
        &challenge,
        &Credentials::new(user, password),
        &method,
        request_uri,
        b"",
        nc,
        "0a4f113b",
    )
}

/// The one response in `messages` (panics otherwise).
pub fn only_response(messages: Vec<Message>) -> Response {
    let responses: Vec<Response> = messages
        .into_iter()
        .filter_map(|m| match m {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        })
        .collect();
    assert_eq!(responses.len(), 1, "expected one response: {responses:?}");
    responses.into_iter().next().expect("one response")
}

/// A minimal G.711 offer/answer from `ip:port`.
pub fn sdp(ip: &str, port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
}

/// A response from a raw user agent to `request`: Via, From, Call-ID, CSeq and Record-Route
/// copied, To tagged with `to_tag`, Contact `contact`, optional SDP body.
pub fn respond_to(
    request: &Request,
    status: u16,
    reason: &str,
    to_tag: &str,
    contact: &str,
    body: Option<&str>,
) -> Message {
    let mut response = Response::for_request(request, status, reason);
    if status > 100 {
        let mut to = request.to().expect("To");
        to.set_tag(to_tag);
        response.headers.set("To", to.to_string());
    }
    for rr in request.headers.get_all("Record-Route") {
        response.headers.push("Record-Route", rr);
    }
    response.headers.push("Contact", contact);
    if let Some(body) = body {
        response.headers.push("Content-Type", "application/sdp");
        response.body = body.as_bytes().to_vec();
    }
    Message::Response(response)
}

/// The requests (of `method`) in `messages`.
pub fn requests(messages: &[Message], method: &str) -> Vec<Request> {
    messages
        .iter()
        .filter_map(|m| m.as_request())
        .filter(|r| r.method.as_str() == method)
        .cloned()
        .collect()
}

/// Registers `user` from raw node `node`, whose Contact is `contact` and whose top Via is
/// `via` (e.g. `SIP/2.0/WS x.invalid`), answering the challenge.
pub fn raw_register(net: &mut Net, node: usize, user: &str, via: &str, contact: &str) {
    let text = |cseq: u32, auth: &str| {
        format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\n\
             Via: {via};branch=z9hG4bKreg{user}{cseq};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag=r{user}\r\n\
             To: <sip:{user}@{DOMAIN}>\r\nCall-ID: reg-{user}\r\nCSeq: {cseq} REGISTER\r\n\
             Contact: {contact}\r\nExpires: 600\r\n{auth}Content-Length: 0\r\n\r\n"
        )
    };
    net.send_text(node, &text(1, ""));
    let challenge = only_response(net.take_inbox(node));
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        user,
        &format!("{user}-pw"),
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        1,
    );
    net.send_text(node, &text(2, &format!("Authorization: {auth}\r\n")));
    let ok = only_response(net.take_inbox(node));
    assert_eq!(ok.status, 200, "{ok:?}");
}
