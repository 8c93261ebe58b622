//! `dialtone_sdp::SessionDescription::parse` on arbitrary text never panics, and whatever parses serializes to text
//! that parses again to the same description (a fixed point after one round). The `a=crypto` lines (RFC 4568) of
//! whatever parses are read too: no panic, and a line that parses writes itself back to the same value. Answering
//! the description with SRTP on (the SDES path) never panics either.
#![no_main]

use dialtone_sdp::{CodecPolicy, CryptoAttribute, Negotiator, SessionDescription, SessionParams, SrtpKey, SrtpPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(crypto) = CryptoAttribute::parse(text) {
        let again = CryptoAttribute::parse(&crypto.to_string()).expect("our own a=crypto must parse");
        assert_eq!(again, crypto, "a=crypto is not a fixed point");
        let _ = crypto.usable();
    }
    let Ok(sdp) = SessionDescription::parse(text) else { return };
    let once = sdp.to_string();
    let again = SessionDescription::parse(&once).expect("our own serialization must parse");
    assert_eq!(again.to_string(), once, "serialization is not a fixed point");
    for m in &sdp.media {
        for value in m.attribute_values("crypto") {
            if let Ok(crypto) = CryptoAttribute::parse(value) {
                assert_eq!(CryptoAttribute::parse(&crypto.to_string()).as_ref(), Ok(&crypto));
            }
        }
    }
    let mut params = SessionParams::new(std::net::Ipv4Addr::LOCALHOST.into(), 4000);
    params.srtp = SrtpPolicy::Offer(SrtpKey::new([7; 30]));
    let mut negotiator = Negotiator::new(CodecPolicy::new(dialtone_sdp::CodecName::ALL.to_vec()), 1, 1);
    let _ = negotiator.answer_offer(&sdp, &params);
});
