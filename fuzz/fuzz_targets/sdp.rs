//! `dialtone_sdp::SessionDescription::parse` on arbitrary text never panics, and whatever parses serializes to text
//! that parses again to the same description (a fixed point after one round).
#![no_main]

use dialtone_sdp::SessionDescription;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(sdp) = SessionDescription::parse(text) else { return };
    let once = sdp.to_string();
    let again = SessionDescription::parse(&once).expect("our own serialization must parse");
    assert_eq!(again.to_string(), once, "serialization is not a fixed point");
});
