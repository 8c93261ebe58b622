//! `dialtone_media::parse_compound` on arbitrary datagrams never panics; what parses can be written back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packets) = dialtone_media::parse_compound(data) {
        let mut out = Vec::new();
        dialtone_media::write_compound(&packets, &mut out);
        let reparsed = dialtone_media::parse_compound(&out).expect("our own RTCP must parse");
        assert_eq!(reparsed.len(), packets.len());
    }
});
