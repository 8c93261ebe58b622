//! Real-world session descriptions (written for these tests in the shape the named
//! implementations produce) and small helpers shared by the tests.
#![allow(dead_code)]

use dialtone_sdp::{CodecPolicy, Negotiator, SessionDescription, SessionParams};

/// Joins lines with CRLF, with a final CRLF, as on the wire.
pub fn crlf(lines: &[&str]) -> String {
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    text
}

/// A Chromium WebRTC offer: BUNDLE, ICE, DTLS, rtcp-mux, extmap, msid, ssrc, rtx, red.
pub const CHROMIUM_OFFER: &[&str] = &[
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS 5d8a3c1e-stream",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=ice-ufrag:Zq3x",
    "a=ice-pwd:Jm8vQ2cYl0kqP5rN3tW9xE1a",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 3B:7C:19:A2:5E:60:D4:0F:88:21:C9:4B:E7:13:5A:90:6D:F2:0C:44:B8:71:2E:9A:D3:56:08:CF:1B:6E:A4:37",
    "a=setup:actpass",
    "a=mid:0",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendrecv",
    "a=msid:5d8a3c1e-stream 0b6c2f5d-audio",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:111 opus/48000/2",
    "a=rtcp-fb:111 transport-cc",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2",
    "a=fmtp:63 111/111",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:13 CN/8000",
    "a=rtpmap:110 telephone-event/48000",
    "a=rtpmap:126 telephone-event/8000",
    "a=ssrc:3735928559 cname:Yq2vR8kT0pLm4sXw",
    "a=ssrc:3735928559 msid:5d8a3c1e-stream 0b6c2f5d-audio",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 127",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=ice-ufrag:Zq3x",
    "a=ice-pwd:Jm8vQ2cYl0kqP5rN3tW9xE1a",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 3B:7C:19:A2:5E:60:D4:0F:88:21:C9:4B:E7:13:5A:90:6D:F2:0C:44:B8:71:2E:9A:D3:56:08:CF:1B:6E:A4:37",
    "a=setup:actpass",
    "a=mid:1",
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
    "a=extmap:13 urn:3gpp:video-orientation",
    "a=sendrecv",
    "a=msid:5d8a3c1e-stream 9e1f7a3b-video",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 goog-remb",
    "a=rtcp-fb:96 transport-cc",
    "a=rtcp-fb:96 ccm fir",
    "a=rtcp-fb:96 nack",
    "a=rtcp-fb:96 nack pli",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "a=rtpmap:102 H264/90000",
    "a=rtcp-fb:102 goog-remb",
    "a=rtcp-fb:102 ccm fir",
    "a=rtcp-fb:102 nack",
    "a=rtcp-fb:102 nack pli",
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=102",
    "a=rtpmap:127 H264/90000",
    "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
    "a=ssrc-group:FID 2882400001 2882400002",
    "a=ssrc:2882400001 cname:Yq2vR8kT0pLm4sXw",
    "a=ssrc:2882400002 cname:Yq2vR8kT0pLm4sXw",
];

/// A desk phone's G.711 offer (Yealink/Polycom shape): static types, G.729, DTMF.
pub const DESK_PHONE_OFFER: &[&str] = &[
    "v=0",
    "o=- 20045 20045 IN IP4 192.168.1.50",
    "s=SDP data",
    "c=IN IP4 192.168.1.50",
    "t=0 0",
    "m=audio 11780 RTP/AVP 0 8 18 9 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:18 G729/8000",
    "a=fmtp:18 annexb=no",
    "a=rtpmap:9 G722/8000",
    "a=fmtp:101 0-15",
    "a=rtpmap:101 telephone-event/8000",
    "a=ptime:20",
    "a=sendrecv",
];

/// A baresip offer: Opus first, rtcp-mux, label, ssrc, session-level tool attribute.
pub const BARESIP_OFFER: &[&str] = &[
    "v=0",
    "o=- 1785303404 2384741186 IN IP4 192.168.1.20",
    "s=-",
    "c=IN IP4 192.168.1.20",
    "t=0 0",
    "a=tool:baresip 1.1.0",
    "m=audio 10310 RTP/AVP 96 97 9 0 8 101",
    "b=AS:64",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 stereo=1;sprop-stereo=1",
    "a=rtpmap:97 speex/16000",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=rtcp-rsize",
    "a=sendrecv",
    "a=label:1",
    "a=ssrc:1449826183 cname:sip:alice@example.test",
    "a=rtcp-mux",
    "a=ptime:20",
];

/// A SIPp offer as in its `uac_pcap` scenario: PCMA and DTMF, user name in `o=`.
pub const SIPP_OFFER: &[&str] = &[
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 8 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-11,16",
];

/// Every session-level type letter, in RFC 8866 §5 order, plus media-level i/c/b/k.
pub const ALL_FIELDS: &[&str] = &[
    "v=0",
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
    "s=Call to John Smith",
    "i=SDP Offer #1",
    "u=http://www.jdoe.example.com/home.html",
    "e=Jane Doe <jane@jdoe.example.com>",
    "e=ops@jdoe.example.com",
    "p=+1 617 555-6011",
    "c=IN IP4 198.51.100.1",
    "b=CT:1000",
    "b=TIAS:2500000",
    "t=2873397496 2873404696",
    "r=604800 3600 0 90000",
    "r=7d 1h 0 25h",
    "z=2882844526 -1h 2898848070 0",
    "t=0 0",
    "k=prompt",
    "a=recvonly",
    "a=tool:hand-written",
    "m=audio 49170 RTP/AVP 0",
    "i=the voice",
    "c=IN IP4 198.51.100.2",
    "b=AS:64",
    "b=RR:3000",
    "k=prompt",
    "a=rtpmap:0 PCMU/8000",
    "m=video 51372/2 RTP/AVP 99",
    "c=IN IP6 2001:db8::2",
    "c=IN IP6 2001:db8::3",
    "a=rtpmap:99 h263-1998/90000",
    "a=fmtp:",
    "m=application 0 UDP/DTLS/SCTP",
];

/// Parses CRLF-joined lines, panicking with the error (test helper).
pub fn parse(lines: &[&str]) -> SessionDescription {
    match SessionDescription::parse(&crlf(lines)) {
        Ok(sdp) => sdp,
        Err(e) => panic!("fixture does not parse: {e}"),
    }
}

/// Serializes and parses again, as if sent over the wire.
pub fn wire(sdp: &SessionDescription) -> SessionDescription {
    SessionDescription::parse(&sdp.to_string()).expect("our own output parses")
}

/// A negotiator with the given codec order and nothing excluded.
pub fn negotiator(order: &str) -> Negotiator {
    Negotiator::new(
        CodecPolicy::from_lists(order, "").expect("valid codec list"),
        1001,
        1,
    )
}

/// Audio-only params on 127.0.0.1.
pub fn audio_params(port: u16) -> SessionParams {
    SessionParams::new("127.0.0.1".parse().expect("literal address"), port)
}

/// The media-level attribute lines of an m= section, as `name[:value]` strings.
pub fn attribute_lines(m: &dialtone_sdp::MediaDescription) -> Vec<String> {
    m.attributes
        .iter()
        .map(|a| match a.value() {
            Some(v) => format!("{}:{}", a.name(), v),
            None => a.name().to_string(),
        })
        .collect()
}
