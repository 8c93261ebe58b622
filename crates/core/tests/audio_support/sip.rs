//! A bare SIP endpoint over one UDP socket for the SIPp audio tests: just enough of
//! RFC 3261 (INVITE with retransmission, ACK, BYE; answering an INVITE and a BYE) to set
//! up one call whose media the test examines. The messages go through the project's SIP
//! message parser.

use std::net::SocketAddr;
use std::time::Duration;

use dialtone_sip_message::{Message, Request, Response};
use tokio::net::UdpSocket;

const T1: Duration = Duration::from_millis(500);

/// One UDP SIP socket on loopback.
pub struct SipEndpoint {
    socket: UdpSocket,
    local: SocketAddr,
    branch: u32,
}

/// The dialog of a call we placed.
pub struct Dialog {
    pub peer: SocketAddr,
    pub uri: String,
    pub call_id: String,
    pub from: String,
    pub to: String,
    pub cseq: u32,
}

impl SipEndpoint {
    pub async fn bind() -> SipEndpoint {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind SIP socket");
        let local = socket.local_addr().expect("SIP socket address");
        SipEndpoint {
            socket,
            local,
            branch: 0,
        }
    }

    pub fn local(&self) -> SocketAddr {
        self.local
    }

    fn via(&mut self) -> String {
        self.branch += 1;
        format!(
            "SIP/2.0/UDP {};branch=z9hG4bK-audio-test-{};rport",
            self.local, self.branch
        )
    }

    /// Sends `text` (a request without Via) to `peer`, with a fresh Via, retransmitting
    /// every T1 until a final response; returns it.
    async fn transaction(&mut self, peer: SocketAddr, head: &str, rest: &str) -> Response {
        let text = format!("{head}\r\nVia: {}\r\n{rest}", self.via());
        for _ in 0..16 {
            self.socket
                .send_to(text.as_bytes(), peer)
                .await
                .expect("send request");
            let deadline = tokio::time::Instant::now() + T1;
            while let Ok(Some(message)) = tokio::time::timeout_at(deadline, self.recv())
                .await
                .map(Some)
            {
                if let Some((Message::Response(r), _)) = message {
                    if r.status >= 200 {
                        return r;
                    }
                }
            }
        }
        panic!("no final response to {head}");
    }

    /// Receives one SIP message (`None` for a datagram that does not parse).
    pub async fn recv(&self) -> Option<(Message, SocketAddr)> {
        let mut buf = vec![0u8; 65_535];
        let (n, from) = self.socket.recv_from(&mut buf).await.expect("receive SIP");
        Message::parse(&buf[..n]).ok().map(|m| (m, from))
    }

    /// Calls `user@peer` with `sdp`; returns the dialog and the 200's SDP after sending
    /// the ACK. Panics on any other final response.
    pub async fn call(&mut self, peer: SocketAddr, user: &str, sdp: &str) -> (Dialog, String) {
        let uri = format!("sip:{user}@{peer}");
        let call_id = format!("audio-{}@127.0.0.1", self.local.port());
        let from = format!("<sip:tester@{}>;tag=audio-test", self.local);
        let contact = format!("<sip:tester@{}>", self.local);
        let rest = format!(
            "Max-Forwards: 70\r\nFrom: {from}\r\nTo: <{uri}>\r\nCall-ID: {call_id}\r\n\
             CSeq: 1 INVITE\r\nContact: {contact}\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        );
        let response = self
            .transaction(peer, &format!("INVITE {uri} SIP/2.0"), &rest)
            .await;
        assert_eq!(response.status, 200, "INVITE answered {response:?}");
        let to = response
            .headers
            .get("To")
            .expect("To in the 200")
            .to_string();
        let body = String::from_utf8(response.body.clone()).expect("UTF-8 SDP");
        let dialog = Dialog {
            peer,
            uri,
            call_id,
            from,
            to,
            cseq: 1,
        };
        let ack = format!(
            "ACK {uri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\n\
             Call-ID: {call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
            uri = dialog.uri,
            via = self.via(),
            from = dialog.from,
            to = dialog.to,
            call_id = dialog.call_id,
        );
        self.socket
            .send_to(ack.as_bytes(), peer)
            .await
            .expect("send ACK");
        (dialog, body)
    }

    /// Ends `dialog` with BYE; returns the final response's status.
    pub async fn bye(&mut self, dialog: &mut Dialog) -> u16 {
        dialog.cseq += 1;
        let rest = format!(
            "Max-Forwards: 70\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {} BYE\r\n\
             Content-Length: 0\r\n\r\n",
            dialog.from, dialog.to, dialog.call_id, dialog.cseq
        );
        let head = format!("BYE {} SIP/2.0", dialog.uri);
        self.transaction(dialog.peer, &head, &rest).await.status
    }

    /// Waits for a request with `method` (answering nothing on the way).
    pub async fn expect_request(&self, method: &str, within: Duration) -> (Request, SocketAddr) {
        tokio::time::timeout(within, async {
            loop {
                if let Some((Message::Request(r), from)) = self.recv().await {
                    if r.method.as_str() == method {
                        return (r, from);
                    }
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {method} within {within:?}"))
    }

    /// Answers `request` with `status` (a To-tag added, a Contact, `sdp` as the body).
    pub async fn respond(
        &self,
        request: &Request,
        to: SocketAddr,
        status: u16,
        reason: &str,
        sdp: Option<&str>,
    ) {
        let mut response = Response::for_request(request, status, reason);
        if let Some(to_header) = request.headers.get("To") {
            if !to_header.contains("tag=") {
                response
                    .headers
                    .set("To", format!("{to_header};tag=audio-uas"));
            }
        }
        response
            .headers
            .push("Contact", format!("<sip:tester@{}>", self.local));
        if let Some(sdp) = sdp {
            response.headers.push("Content-Type", "application/sdp");
            response.body = sdp.as_bytes().to_vec();
        }
        self.socket
            .send_to(&response.to_bytes(), to)
            .await
            .expect("send response");
    }
}
