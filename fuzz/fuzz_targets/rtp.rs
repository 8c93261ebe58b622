//! `dialtone_media::RtpPacket::parse` on arbitrary datagrams never panics, and a parsed packet's fields are
//! consistent with the input length.
#![no_main]

use dialtone_media::RtpPacket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = RtpPacket::parse(data) {
        assert!(packet.payload.len() <= data.len());
    }
    let _ = dialtone_media::classify(data);
});
