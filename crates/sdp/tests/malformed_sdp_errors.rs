//! Bad input gets an `SdpError::Parse` naming the line, never a panic.

mod common;

use common::*;
use dialtone_sdp::{SdpError, SessionDescription};

/// Parses lines and returns the error's line number and message.
fn error_of(lines: &[&str]) -> (usize, String) {
    match SessionDescription::parse(&crlf(lines)) {
        Ok(sdp) => panic!("should not parse: {sdp:?}"),
        Err(e) => (e.line().expect("a parse error"), e.to_string()),
    }
}

/// A valid head and an audio section, then `extra` (so `extra` starts on line 6).
fn in_media(extra: &str) -> (usize, String) {
    error_of(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        extra,
    ])
}

#[test]
fn empty_input() {
    for text in ["", "\r\n", "\n\n"] {
        let err = SessionDescription::parse(text).unwrap_err();
        assert!(matches!(err, SdpError::Parse { line: 0, .. }), "{err}");
        assert!(err.to_string().contains("empty"));
    }
}

#[test]
fn must_start_with_version_zero() {
    let (line, msg) = error_of(&["o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"]);
    assert_eq!(line, 1);
    assert!(msg.contains("v=0"), "{msg}");
    let (line, msg) = error_of(&["v=1", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"]);
    assert_eq!(line, 1);
    assert!(msg.contains("unsupported SDP version"), "{msg}");
}

#[test]
fn missing_mandatory_lines() {
    let (line, msg) = error_of(&["v=0", "s=-", "t=0 0"]);
    assert_eq!((line, msg.contains("missing `o=`")), (2, true), "{msg}");
    let (line, msg) = error_of(&["v=0", "o=- 1 1 IN IP4 192.0.2.1", "t=0 0"]);
    assert_eq!((line, msg.contains("missing `s=`")), (3, true), "{msg}");
    let (line, msg) = error_of(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "m=audio 4000 RTP/AVP 0",
    ]);
    assert_eq!((line, msg.contains("missing `t=`")), (4, true), "{msg}");
    let (line, msg) = error_of(&["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-"]);
    assert_eq!((line, msg.contains("without a `t=`")), (3, true), "{msg}");
    let (line, msg) = error_of(&["v=0"]);
    assert_eq!((line, msg.contains("without a `o=`")), (1, true), "{msg}");
}

#[test]
fn line_numbers_count_physical_lines() {
    // An empty line in the middle is skipped but still counted.
    let text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n\r\ns=-\r\nt=0 0\r\nx=what\r\n";
    let err = SessionDescription::parse(text).unwrap_err();
    assert_eq!(err.line(), Some(6));
    assert!(
        err.to_string()
            .starts_with("SDP line 6: unknown SDP line type `x=`"),
        "{err}"
    );
}

#[test]
fn not_a_type_value_line() {
    for bad in ["hello", "a", "=0", "A=foo", "a:foo", "1=2", "é=x"] {
        let (line, msg) = in_media(bad);
        assert_eq!(line, 6, "{bad}");
        assert!(msg.contains("expected `<letter>=<value>`"), "{bad}: {msg}");
    }
}

#[test]
fn out_of_order_and_repeated_lines() {
    let cases: &[(&[&str], usize)] = &[
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
                "c=IN IP4 192.0.2.1",
            ],
            5,
        ),
        (
            &["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "s=again", "t=0 0"],
            4,
        ),
        (
            &["v=0", "v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"],
            2,
        ),
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "c=IN IP4 192.0.2.1",
                "c=IN IP4 192.0.2.2",
                "t=0 0",
            ],
            5,
        ),
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
                "a=x",
                "b=AS:1",
            ],
            6,
        ),
        (
            &["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "r=1 2 3", "t=0 0"],
            4,
        ),
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
                "a=x",
                "r=1 2 3",
            ],
            6,
        ),
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
                "z=1 -1h",
                "z=2 -1h",
            ],
            6,
        ),
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
                "m=audio 1 RTP/AVP 0",
                "a=x",
                "c=IN IP4 192.0.2.1",
            ],
            7,
        ),
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
                "m=audio 1 RTP/AVP 0",
                "i=a",
                "i=b",
            ],
            7,
        ),
        (
            &[
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=-",
                "t=0 0",
                "m=audio 1 RTP/AVP 0",
                "t=0 0",
            ],
            6,
        ),
    ];
    for (lines, expected) in cases {
        let (line, msg) = error_of(lines);
        assert_eq!(line, *expected, "{lines:?}: {msg}");
    }
}

#[test]
fn malformed_fields() {
    let cases: &[(&str, &str)] = &[
        ("c=IN IP4", "`c=` needs 3 fields"),
        ("b=AS", "`b=` must be"),
        ("b=AS:fast", "`b=` must be"),
        ("b=AS:99999999999999999999999", "`b=` must be"),
        ("a=", "`a=` must be"),
        ("a=bad name:1", "`a=` must be"),
        ("m=audio", "`m=` needs"),
        ("m=audio 70000 RTP/AVP 0", "is not 0-65535"),
        ("m=audio -1 RTP/AVP 0", "is not 0-65535"),
        ("m=audio 4000/x RTP/AVP 0", "port count"),
        ("m=au\"dio 4000 RTP/AVP 0", "not a token"),
    ];
    for (bad, expected) in cases {
        let (line, msg) = in_media(bad);
        assert_eq!(line, 6, "{bad}");
        assert!(msg.contains(expected), "{bad}: {msg}");
    }
    let (line, msg) = error_of(&["v=0", "o=- 1 1 IN IP4", "s=-", "t=0 0"]);
    assert_eq!(line, 2);
    assert!(msg.contains("`o=` needs 6 fields"), "{msg}");
    let (line, msg) = error_of(&["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=now later"]);
    assert_eq!(line, 4);
    assert!(msg.contains("`t=` must be"), "{msg}");
}

#[test]
fn stray_carriage_return_and_nul_are_refused() {
    let text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=a\rb\r\nt=0 0\r\n";
    let err = SessionDescription::parse(text).unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().contains("CR or LF"), "{err}");
    let text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=a\0b\r\nt=0 0\r\n";
    let err = SessionDescription::parse(text).unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().contains("NUL"), "{err}");
}

#[test]
fn long_peer_text_is_clipped_in_messages() {
    let long = format!("b=AS:{}", "9".repeat(5000));
    let (_, msg) = in_media(&long);
    assert!(msg.len() < 200, "{}", msg.len());
}

/// A small deterministic generator (no global RNG in this workspace).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_real_world_sdps_never_panic() {
    let corpus: Vec<String> = [
        CHROMIUM_OFFER,
        DESK_PHONE_OFFER,
        BARESIP_OFFER,
        SIPP_OFFER,
        ALL_FIELDS,
    ]
    .iter()
    .map(|l| crlf(l))
    .collect();
    let alphabet: &[u8] = b"vosiuepcbtrzkam=: /\r\n0123456789-.IN IP4IP6RTP/AVPx\x00\xff";
    let mut rng = Lcg(0x5eed);
    let mut parsed = 0usize;
    for base in &corpus {
        // Every prefix (cut anywhere, char boundaries only).
        for cut in (0..=base.len()).filter(|i| base.is_char_boundary(*i)) {
            let _ = SessionDescription::parse(&base[..cut]);
        }
        // Random byte edits, decoded lossily into text.
        for _ in 0..3000 {
            let mut bytes = base.clone().into_bytes();
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => bytes[at] = alphabet[rng.below(alphabet.len())],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[rng.below(alphabet.len())]),
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(sdp) = SessionDescription::parse(&text) {
                parsed += 1;
                // Whatever parses serializes to something that parses to the same model.
                assert_eq!(wire(&sdp), sdp, "{text:?}");
            }
        }
        // Shuffled lines.
        let lines: Vec<&str> = base.split("\r\n").collect();
        for _ in 0..300 {
            let mut l = lines.clone();
            let (a, b) = (rng.below(l.len()), rng.below(l.len()));
            l.swap(a, b);
            let _ = SessionDescription::parse(&l.join("\r\n"));
        }
    }
    assert!(
        parsed > 100,
        "the mutations should not all be fatal ({parsed})"
    );
}

#[test]
fn huge_hostile_descriptions_stay_fast() {
    // About 1 MiB (the SIP layer's body limit): thousands of formats and attributes.
    let mut text = String::from("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP");
    for i in 0..20_000 {
        text.push_str(&format!(" {}", 96 + i % 32));
    }
    text.push_str("\r\n");
    while text.len() < 1 << 20 {
        text.push_str(
            "a=rtpmap:96 H264/90000\r\na=rtcp-fb:96 nack pli\r\na=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n",
        );
    }
    let start = std::time::Instant::now();
    let offer = SessionDescription::parse(&text).expect("parses");
    let mut params = audio_params(4000).with_video(4002);
    params.audio = None;
    let (answer, _) = negotiator("h264")
        .answer_offer(&offer, &params)
        .expect("answer");
    assert_eq!(answer.media[0].formats, ["96"]);
    assert_eq!(answer.media[0].rtcp_feedback(96), vec!["nack pli"]);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}
