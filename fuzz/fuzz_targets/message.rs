//! `Message::parse` on arbitrary bytes must never panic; whatever parses must
//! serialize to bytes that re-parse to an equivalent message (same start line,
//! same headers except Content-Length, same body, same typed views), frame as
//! exactly one stream message, and serialize again to the same bytes.
#![no_main]

use dialtone_sip_message::{
    same_name, stream_frame, validate_request, validate_response, Frame, Message, SipMessage,
    UasPolicy,
};
use libfuzzer_sys::fuzz_target;

fn headers_without_length(m: &Message) -> Vec<(String, String)> {
    m.headers()
        .iter()
        .filter(|(n, _)| !same_name(n, "Content-Length"))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let _ = stream_frame(data);
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    match &msg {
        Message::Request(r) => {
            let _ = validate_request(r, &UasPolicy::default());
        }
        Message::Response(r) => {
            let _ = validate_response(r);
        }
    }
    let bytes = msg.to_bytes();
    let again = match Message::parse(&bytes) {
        Ok(m) => m,
        Err(e) => panic!(
            "re-serialized message does not parse: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    match (&msg, &again) {
        (Message::Request(a), Message::Request(b)) => {
            assert_eq!(a.method, b.method);
            assert_eq!(a.uri, b.uri);
        }
        (Message::Response(a), Message::Response(b)) => {
            assert_eq!(a.status, b.status);
            assert_eq!(a.reason, b.reason);
        }
        _ => panic!("message kind changed"),
    }
    assert_eq!(headers_without_length(&msg), headers_without_length(&again));
    assert_eq!(msg.body(), again.body());
    assert_eq!(msg.vias().ok(), again.vias().ok());
    assert_eq!(msg.from().ok(), again.from().ok());
    assert_eq!(msg.to().ok(), again.to().ok());
    assert_eq!(msg.cseq().ok(), again.cseq().ok());
    assert_eq!(msg.contacts().ok(), again.contacts().ok());
    assert_eq!(
        again.to_bytes(),
        bytes,
        "serialization is not a fixed point"
    );
    assert_eq!(stream_frame(&bytes).ok(), Some(Frame::Message(bytes.len())));
});
