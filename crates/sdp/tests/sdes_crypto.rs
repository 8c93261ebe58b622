//! SDES-SRTP (RFC 4568): `a=crypto` parsing and writing, and the negotiator's SRTP
//! policy: our offers carry our key (`RTP/AVP` best effort or `RTP/SAVP` mandatory),
//! answers pick the first usable crypto line and answer it with our key under the same
//! tag, an `RTP/SAVP` stream we cannot secure is rejected (RFC 4568 §7.5), and with SRTP
//! off an `RTP/SAVP`-only offer is refused (`NoAcceptableMedia`, SIP 488).

mod common;

use common::*;
use dialtone_sdp::{
    CryptoAttribute, KeyParam, Lifetime, Mki, NegotiatedMedia, SdpError, SessionDescription,
    SrtpKey, SrtpPolicy, SrtpSuite,
};

/// RFC 4568 §9.1's example line.
const RFC_EXAMPLE: &str =
    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4";

fn key(fill: u8) -> SrtpKey {
    let mut bytes = [0u8; 30];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = fill.wrapping_add(i as u8);
    }
    SrtpKey::new(bytes)
}

fn crypto_values(m: &dialtone_sdp::MediaDescription) -> Vec<CryptoAttribute> {
    m.attribute_values("crypto")
        .map(|v| CryptoAttribute::parse(v).expect("our crypto lines parse"))
        .collect()
}

/// A baresip-shaped `RTP/SAVP` offer with two crypto lines: first a suite we do not run,
/// then the one we do.
fn savp_offer(peer_key: &SrtpKey) -> SessionDescription {
    let good = CryptoAttribute::new(2, SrtpSuite::AesCm128HmacSha1_80, peer_key).to_string();
    let lines = [
        "v=0",
        "o=- 11 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/SAVP 0 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        &format!("a=crypto:{good}"),
        "a=sendrecv",
    ];
    parse(&lines)
}

#[test]
fn rfc_4568_example_parses_and_round_trips() {
    let crypto = CryptoAttribute::parse(RFC_EXAMPLE).expect("the RFC's own example");
    assert_eq!(crypto.tag, 1);
    assert_eq!(crypto.suite, "AES_CM_128_HMAC_SHA1_80");
    let [KeyParam::Inline(inline)] = crypto.key_params.as_slice() else {
        panic!("one inline key expected: {crypto:?}");
    };
    assert_eq!(inline.key_salt.len(), 30);
    assert_eq!(inline.lifetime, Some(Lifetime::PowerOfTwo(20)));
    assert_eq!(
        inline.mki,
        Some(Mki {
            value: 1,
            length: 4
        })
    );
    assert_eq!(crypto.to_string(), RFC_EXAMPLE);
    let (suite, key) = crypto.usable().expect("our suite");
    assert_eq!(suite, SrtpSuite::AesCm128HmacSha1_80);
    assert_eq!(
        key.mki(),
        Some(Mki {
            value: 1,
            length: 4
        })
    );
    assert_eq!(key.key_salt().as_slice(), inline.key_salt.as_slice());
    assert_eq!(
        crypto.to_attribute().to_string(),
        format!("a=crypto:{RFC_EXAMPLE}\r\n")
    );
}

#[test]
fn unknown_suites_methods_and_params_parse_but_are_not_usable() {
    let cases = [
        ("7 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", "suite"),
        ("7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhc", "bytes"),
        ("7 AES_CM_128_HMAC_SHA1_80 mikey:AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAJAAAAEgmt", "method"),
        ("7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=10", "KDR"),
        ("7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP", "UNENCRYPTED"),
        ("7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR FOO=1", "FOO"),
        (
            "7 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:1;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2:1",
            "several",
        ),
    ];
    for (value, why) in cases {
        let crypto = CryptoAttribute::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(crypto.to_string(), value, "round trip");
        let reason = crypto.usable().expect_err(value);
        assert!(reason.contains(why), "{value}: {reason}");
        assert!(
            !reason.contains("PS1uQ"),
            "no key material in reasons: {reason}"
        );
    }
    // Ignorable session parameters: a window-size hint, FEC, optional (`-`) extensions.
    let ok = "3 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2147484 WSH=128 FEC_ORDER=FEC_SRTP -X-VENDOR=1";
    let crypto = CryptoAttribute::parse(ok).expect("valid");
    assert_eq!(crypto.session_params.len(), 3);
    crypto.usable().expect("ignorable parameters only");
    assert_eq!(crypto.to_string(), ok);
}

#[test]
fn malformed_lines_are_errors_never_panics() {
    let bad = [
        "",
        "1",
        "1 AES_CM_128_HMAC_SHA1_80",
        "x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "-1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 AES-CM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 AES_CM_128_HMAC_SHA1_80 inline",
        "1 AES_CM_128_HMAC_SHA1_80 inline:",
        "1 AES_CM_128_HMAC_SHA1_80 inline:not*base64",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^64",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|99999999999999999999999",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:0",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:129",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|256:1",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:x",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4|7",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR;",
        "1 AES_CM_128_HMAC_SHA1_80 :PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\u{7f}",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR é",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4é",
    ];
    for value in bad {
        match CryptoAttribute::parse(value) {
            Err(SdpError::InvalidCrypto { .. }) => {}
            other => panic!("{value:?} should be refused, got {other:?}"),
        }
    }
    // Every prefix of a valid line: an error or a line that round-trips, never a panic.
    for end in 0..=RFC_EXAMPLE.len() {
        if let Ok(c) = CryptoAttribute::parse(&RFC_EXAMPLE[..end]) {
            assert_eq!(CryptoAttribute::parse(&c.to_string()), Ok(c));
        }
    }
}

#[test]
fn best_effort_offer_is_rtp_avp_with_our_key() {
    let ours = key(1);
    let mut params = audio_params(4000);
    params.srtp = SrtpPolicy::Offer(ours.clone());
    let (offer, _pending) = negotiator("ulaw").create_offer(&params).expect("offer");
    let offer = wire(&offer);
    assert_eq!(offer.media[0].protocol, "RTP/AVP");
    let lines = crypto_values(&offer.media[0]);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].tag, 1);
    assert_eq!(lines[0].suite, "AES_CM_128_HMAC_SHA1_80");
    assert_eq!(lines[0].usable().expect("usable").1, ours);
}

#[test]
fn mandatory_offer_is_rtp_savp_and_both_sides_agree_on_keys() {
    let (alice_key, bob_key) = (key(10), key(100));
    let mut alice = negotiator("ulaw, telephone-event");
    let mut params = audio_params(4000);
    params.srtp = SrtpPolicy::Mandatory(alice_key.clone());
    let (offer, pending) = alice.create_offer(&params).expect("offer");
    let offer = wire(&offer);
    assert_eq!(offer.media[0].protocol, "RTP/SAVP");
    assert!(offer
        .to_string()
        .contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));

    let mut bob = negotiator("ulaw, telephone-event");
    let mut bob_params = audio_params(5000);
    bob_params.srtp = SrtpPolicy::Offer(bob_key.clone());
    let (answer, bob_side) = bob.answer_offer(&offer, &bob_params).expect("answer");
    let answer = wire(&answer);
    assert_eq!(answer.media[0].protocol, "RTP/SAVP");
    let answered = crypto_values(&answer.media[0]);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].tag, 1);
    let bob_keys = bob_side.audio().and_then(|a| a.srtp.clone()).expect("SRTP");
    assert_eq!(
        (bob_keys.local_key.clone(), bob_keys.remote_key.clone()),
        (bob_key.clone(), alice_key.clone())
    );

    let alice_side = alice.accept_answer(pending, &answer).expect("accept");
    let alice_keys = alice_side
        .audio()
        .and_then(|a| a.srtp.clone())
        .expect("SRTP");
    assert_eq!(alice_keys.local_key, alice_key);
    assert_eq!(alice_keys.remote_key, bob_key);
    assert_eq!(alice_keys.suite, SrtpSuite::AesCm128HmacSha1_80);
    // No key bytes in the Debug output of what the media layer receives.
    let debug = format!("{alice_keys:?}");
    assert!(
        debug.contains("redacted") && !debug.contains("10, 11"),
        "{debug}"
    );
}

#[test]
fn answer_picks_the_first_usable_crypto_line_and_keeps_its_tag() {
    let (peer, ours) = (key(50), key(7));
    let mut params = audio_params(4000);
    params.srtp = SrtpPolicy::Offer(ours.clone());
    let (answer, negotiated) = negotiator("ulaw, telephone-event")
        .answer_offer(&savp_offer(&peer), &params)
        .expect("answer");
    let answer = wire(&answer);
    assert_eq!(answer.media[0].protocol, "RTP/SAVP");
    let lines = crypto_values(&answer.media[0]);
    assert_eq!(lines.len(), 1, "exactly one crypto line in an answer");
    assert_eq!(lines[0].tag, 2);
    assert_eq!(lines[0].usable().expect("usable").1, ours);
    let keys = negotiated
        .audio()
        .and_then(|a| a.srtp.clone())
        .expect("SRTP");
    assert_eq!((keys.tag, keys.remote_key, keys.local_key), (2, peer, ours));
}

#[test]
fn savp_offer_is_refused_when_srtp_is_off() {
    let offer = savp_offer(&key(50));
    let result = negotiator("ulaw").answer_offer(&offer, &audio_params(4000));
    match result {
        Err(SdpError::NoAcceptableMedia { reason }) => {
            assert!(reason.contains("TLS"), "{reason}")
        }
        other => panic!("expected 488-worthy refusal, got {other:?}"),
    }
}

#[test]
fn savp_stream_without_a_supported_suite_gets_port_zero() {
    let text = crlf(&[
        "v=0",
        "o=- 11 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/SAVP 0",
        "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRPS1uQCVeeCFCanVmcjkpPywjNWhcYD0m",
        "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:broken!",
        "m=audio 5002 RTP/AVP 0",
    ]);
    let offer = SessionDescription::parse(&text).expect("parses");
    let mut params = audio_params(4000);
    params.srtp = SrtpPolicy::Offer(key(3));
    let (answer, negotiated) = negotiator("ulaw")
        .answer_offer(&offer, &params)
        .expect("the plain stream is answered");
    assert_eq!(answer.media[0].to_string(), "m=audio 0 RTP/SAVP 0\r\n");
    assert!(matches!(
        negotiated.media[0],
        NegotiatedMedia::Rejected { index: 0, .. }
    ));
    assert_eq!(answer.media[1].port, 4000);
    let audio = negotiated.audio().expect("second line accepted");
    assert_eq!((audio.index, audio.srtp.as_ref()), (1, None));

    // The same SAVP line alone: nothing acceptable, the SIP layer answers 488.
    let alone = SessionDescription::parse(&crlf(&[
        "v=0",
        "o=- 11 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/SAVP 0",
        "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRPS1uQCVeeCFCanVmcjkpPywjNWhcYD0m",
    ]))
    .expect("parses");
    match negotiator("ulaw").answer_offer(&alone, &params) {
        Err(SdpError::NoAcceptableMedia { reason }) => {
            assert!(reason.contains("AES_256_CM_HMAC_SHA1_80"), "{reason}")
        }
        other => panic!("expected refusal, got {other:?}"),
    }
}

#[test]
fn crypto_in_plain_offers_depends_on_the_policy() {
    let peer = key(60);
    let peer_line = CryptoAttribute::new(5, SrtpSuite::AesCm128HmacSha1_80, &peer).to_string();
    let offer = parse(&[
        "v=0",
        "o=- 11 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 0",
        &format!("a=crypto:{peer_line}"),
    ]);
    // Off (plain UDP/TCP signaling): the key is ignored, plain RTP, no crypto answered.
    let (answer, negotiated) = negotiator("ulaw")
        .answer_offer(&offer, &audio_params(4000))
        .expect("answer");
    assert!(!answer.to_string().contains("crypto"));
    assert_eq!(negotiated.audio().and_then(|a| a.srtp.clone()), None);
    // Offer or Mandatory: SRTP in RTP/AVP, as the offer did.
    for policy in [SrtpPolicy::Offer(key(1)), SrtpPolicy::Mandatory(key(1))] {
        let mut params = audio_params(4000);
        params.srtp = policy;
        let (answer, negotiated) = negotiator("ulaw")
            .answer_offer(&offer, &params)
            .expect("answer");
        assert_eq!(answer.media[0].protocol, "RTP/AVP");
        assert_eq!(crypto_values(&answer.media[0])[0].tag, 5);
        let keys = negotiated
            .audio()
            .and_then(|a| a.srtp.clone())
            .expect("SRTP");
        assert_eq!((keys.remote_key, keys.local_key), (peer.clone(), key(1)));
    }
    // Mandatory with a plain offer without crypto: refused.
    let plain = parse(&[
        "v=0",
        "o=- 11 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 5000 RTP/AVP 0",
    ]);
    let mut params = audio_params(4000);
    params.srtp = SrtpPolicy::Mandatory(key(1));
    assert!(matches!(
        negotiator("ulaw").answer_offer(&plain, &params),
        Err(SdpError::NoAcceptableMedia { .. })
    ));
    params.srtp = SrtpPolicy::Offer(key(1));
    let (_, negotiated) = negotiator("ulaw")
        .answer_offer(&plain, &params)
        .expect("plain");
    assert_eq!(negotiated.audio().and_then(|a| a.srtp.clone()), None);
}

/// The answer the peer sends to our offer, with its crypto lines replaced by `crypto`.
fn answer_with(offer: &SessionDescription, crypto: &[&str], protocol: &str) -> SessionDescription {
    let mut lines = vec![
        "v=0".to_string(),
        "o=- 22 1 IN IP4 192.0.2.9".to_string(),
        "s=-".to_string(),
        "c=IN IP4 192.0.2.9".to_string(),
        "t=0 0".to_string(),
        format!("m=audio 6000 {protocol} 0"),
    ];
    lines.extend(crypto.iter().map(|c| format!("a=crypto:{c}")));
    assert_eq!(offer.media.len(), 1);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    parse(&lines)
}

#[test]
fn answers_to_our_offers_are_checked() {
    let peer_line =
        |tag: u32| CryptoAttribute::new(tag, SrtpSuite::AesCm128HmacSha1_80, &key(90)).to_string();
    let offer_with = |policy: SrtpPolicy| {
        let mut n = negotiator("ulaw");
        let mut params = audio_params(4000);
        params.srtp = policy;
        let (offer, pending) = n.create_offer(&params).expect("offer");
        (n, wire(&offer), pending)
    };
    // Best effort, answered without crypto: plain RTP.
    let (mut n, offer, pending) = offer_with(SrtpPolicy::Offer(key(1)));
    let negotiated = n
        .accept_answer(pending, &answer_with(&offer, &[], "RTP/AVP"))
        .expect("plain fallback");
    assert_eq!(negotiated.audio().and_then(|a| a.srtp.clone()), None);
    // Best effort, answered with crypto: SRTP.
    let (mut n, offer, pending) = offer_with(SrtpPolicy::Offer(key(1)));
    let negotiated = n
        .accept_answer(pending, &answer_with(&offer, &[&peer_line(1)], "RTP/AVP"))
        .expect("SRTP");
    let keys = negotiated
        .audio()
        .and_then(|a| a.srtp.clone())
        .expect("SRTP");
    assert_eq!((keys.local_key, keys.remote_key), (key(1), key(90)));
    // Mandatory, answered without crypto, with a tag we never offered, with another
    // suite, or with a malformed line: all refused.
    let other_suite = "1 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
    for crypto in [
        vec![],
        vec![peer_line(2)],
        vec![other_suite.to_string()],
        vec!["1 AES_CM_128_HMAC_SHA1_80 inline:!!".to_string()],
    ] {
        let (mut n, offer, pending) = offer_with(SrtpPolicy::Mandatory(key(1)));
        let crypto: Vec<&str> = crypto.iter().map(String::as_str).collect();
        match n.accept_answer(pending, &answer_with(&offer, &crypto, "RTP/SAVP")) {
            Err(SdpError::AnswerMismatch { reason }) => {
                assert!(!reason.contains("PS1uQ"), "{reason}")
            }
            other => panic!("{crypto:?}: expected a mismatch, got {other:?}"),
        }
        assert!(n.current().is_none(), "the session stays as it was");
    }
}

#[test]
fn re_offers_keep_the_line_and_the_key() {
    let ours = key(33);
    let mut n = negotiator("ulaw");
    let mut params = audio_params(4000);
    params.srtp = SrtpPolicy::Mandatory(ours.clone());
    let (offer, pending) = n.create_offer(&params).expect("offer");
    let offer = wire(&offer);
    let peer = CryptoAttribute::new(1, SrtpSuite::AesCm128HmacSha1_80, &key(44)).to_string();
    n.accept_answer(pending, &answer_with(&offer, &[&peer], "RTP/SAVP"))
        .expect("accept");
    params.direction = dialtone_sdp::Direction::SendOnly;
    let (reoffer, _pending) = n.create_offer(&params).expect("hold re-offer");
    let reoffer = wire(&reoffer);
    assert_eq!(reoffer.media.len(), 1, "same m= line, not a new one");
    assert_eq!(reoffer.media[0].protocol, "RTP/SAVP");
    assert_eq!(
        crypto_values(&reoffer.media[0])[0]
            .usable()
            .expect("usable")
            .1,
        ours
    );
}
