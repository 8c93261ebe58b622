//! `dialtone_media::SrtpSession` on arbitrary datagrams never panics: unprotecting (SRTP and SRTCP, with and without
//! an MKI) fails cleanly on anything not protected with the peer's key, and protecting arbitrary bytes either
//! fails or yields a packet the peer unprotects back to the same bytes.
#![no_main]

use dialtone_media::SrtpSession;
use dialtone_sdp::{Mki, SrtpKey, SrtpKeys, SrtpSuite};
use libfuzzer_sys::fuzz_target;

fn keys(local: u8, remote: u8, mki: bool) -> SrtpKeys {
    let mki = mki.then_some(Mki { value: 1, length: 2 });
    SrtpKeys {
        suite: SrtpSuite::AesCm128HmacSha1_80,
        tag: 1,
        local_key: SrtpKey::new([local; 30]).with_mki(mki),
        remote_key: SrtpKey::new([remote; 30]).with_mki(mki),
    }
}

fuzz_target!(|data: &[u8]| {
    let mki = data.first().is_some_and(|b| b & 1 == 1);
    let (Ok(mut alice), Ok(mut bob)) = (SrtpSession::new(&keys(1, 2, mki)), SrtpSession::new(&keys(2, 1, mki))) else {
        return;
    };
    assert!(bob.unprotect_rtp(data).is_err());
    assert!(bob.unprotect_rtcp(data).is_err());
    if let Ok(protected) = alice.protect_rtp(data) {
        assert_eq!(bob.unprotect_rtp(&protected).as_deref(), Ok(data));
    }
    if let Ok(protected) = alice.protect_rtcp(data) {
        assert_eq!(bob.unprotect_rtcp(&protected).as_deref(), Ok(data));
    }
});
