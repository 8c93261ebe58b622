//! `Uri::parse` (and the other header grammars) on arbitrary text must never panic;
//! whatever parses must display as text that parses back to the same value.
#![no_main]

use dialtone_sip_message::{CSeq, NameAddr, Uri, Via};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = Uri::parse(s) {
        let shown = uri.to_string();
        let again = Uri::parse(&shown).unwrap_or_else(|e| panic!("{shown:?}: {e}"));
        assert_eq!(again, uri);
        assert_eq!(again.to_string(), shown);
        let _ = uri.transport();
    }
    if let Ok(na) = NameAddr::parse(s) {
        let shown = na.to_string();
        let again = NameAddr::parse(&shown).unwrap_or_else(|e| panic!("{shown:?}: {e}"));
        assert_eq!(again, na);
        let _ = na.tag();
    }
    if let Ok(vias) = Via::parse_list(s) {
        for via in vias {
            let shown = via.to_string();
            let again = Via::parse_list(&shown).unwrap_or_else(|e| panic!("{shown:?}: {e}"));
            assert_eq!(again, [via.clone()]);
            let _ = (via.branch(), via.received(), via.rport());
        }
    }
    if let Ok(cseq) = CSeq::parse(s) {
        assert_eq!(CSeq::parse(&cseq.to_string()).ok(), Some(cseq));
    }
});
