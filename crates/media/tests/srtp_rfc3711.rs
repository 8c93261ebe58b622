//! SRTP/SRTCP (RFC 3711) for `AES_CM_128_HMAC_SHA1_80` through [`SrtpSession`]:
//!
//! * a reference AES-CM and key derivation, written here on an independent AES, is
//!   checked against the RFC's Appendix B.2 (keystream) and B.3 (key derivation) vectors;
//! * packets [`SrtpSession`] protects with the B.3 master key are byte for byte what the
//!   reference transform makes with the B.3 session keys (encryption, IV from SSRC and
//!   index, rollover counter, HMAC-SHA1-80 tag; SRTCP with its E flag and index);
//! * wrong keys, tampering, replays, forged SSRCs, foreign MKIs, unencrypted SRTCP and
//!   garbage are refused and counted, never a panic.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use dialtone_media::{SrtpError, SrtpSession};
use dialtone_sdp::{Mki, SrtpKey, SrtpKeys, SrtpSuite};
use hmac::{Hmac, Mac};
use sha1::Sha1;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// AES-128 in counter mode from `iv` (RFC 3711 §4.1.1): the counter is the IV plus the
/// block number, modulo 2^128.
fn keystream(key: &[u8], iv: &[u8; 16], len: usize) -> Vec<u8> {
    let cipher = Aes128::new_from_slice(key).expect("16-byte key");
    let start = u128::from_be_bytes(*iv);
    let mut out = Vec::with_capacity(len + 16);
    let mut n: u128 = 0;
    while out.len() < len {
        let mut block = start.wrapping_add(n).to_be_bytes().into();
        cipher.encrypt_block(&mut block);
        out.extend_from_slice(&block);
        n += 1;
    }
    out.truncate(len);
    out
}

/// RFC 3711 §4.3.1 with a key derivation rate of zero: x = (label << 48) XOR salt, the
/// AES-CM keystream of the master key from x * 2^16.
fn derive(master_key: &[u8], master_salt: &[u8], label: u8, len: usize) -> Vec<u8> {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(master_salt);
    iv[7] ^= label;
    keystream(master_key, &iv, len)
}

/// RFC 3711 §4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
fn packet_iv(session_salt: &[u8], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(session_salt);
    for (i, b) in ssrc.to_be_bytes().iter().enumerate() {
        iv[4 + i] ^= b;
    }
    for (i, b) in index.to_be_bytes()[2..].iter().enumerate() {
        iv[8 + i] ^= b;
    }
    iv
}

fn hmac_sha1_80(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes()[..10].to_vec()
}

const B3_MASTER: &str = "E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6";

fn key_from(text: &str) -> SrtpKey {
    SrtpKey::new(hex(text).try_into().expect("30 bytes"))
}

fn key(fill: u8) -> SrtpKey {
    let mut bytes = [0u8; 30];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = fill.wrapping_mul(31).wrapping_add(i as u8 * 7);
    }
    SrtpKey::new(bytes)
}

fn keys(local: SrtpKey, remote: SrtpKey) -> SrtpKeys {
    SrtpKeys {
        suite: SrtpSuite::AesCm128HmacSha1_80,
        tag: 1,
        local_key: local,
        remote_key: remote,
    }
}

/// Alice and Bob, each with the other's key as remote.
fn pair() -> (SrtpSession, SrtpSession) {
    let (a, b) = (key(1), key(2));
    (
        SrtpSession::new(&keys(a.clone(), b.clone())).expect("alice"),
        SrtpSession::new(&keys(b, a)).expect("bob"),
    )
}

fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq).wrapping_mul(160)).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An RTCP receiver report with one report block.
fn rtcp_rr(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x81, 201, 0, 7];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0x11; 24]);
    p
}

#[test]
fn reference_aes_cm_matches_appendix_b2() {
    let key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    let iv: [u8; 16] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000").try_into().unwrap();
    let stream = keystream(&key, &iv, 0xFF02 * 16);
    let block = |n: usize| stream[n * 16..(n + 1) * 16].to_vec();
    assert_eq!(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
    assert_eq!(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
    assert_eq!(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
    assert_eq!(block(0xFEFF), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
    assert_eq!(block(0xFF00), hex("362B7C3C6773516318A077D7FC5073AE"));
    assert_eq!(block(0xFF01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

#[test]
fn reference_key_derivation_matches_appendix_b3() {
    let master = hex(B3_MASTER);
    let (k, s) = master.split_at(16);
    assert_eq!(derive(k, s, 0, 16), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    assert_eq!(derive(k, s, 2, 14), hex("30CBBC08863D8C85D49DB34A9AE1"));
    assert_eq!(
        derive(k, s, 1, 20),
        hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")
    );
}

#[test]
fn srtp_packets_are_the_rfc_transform_with_b3_session_keys() {
    let master = hex(B3_MASTER);
    let mut alice = SrtpSession::new(&keys(key_from(B3_MASTER), key(9))).expect("session");
    // The RFC's session keys for this master key (Appendix B.3).
    let cipher_key = hex("C61E7A93744F39EE10734AFE3FF7A087");
    let salt = hex("30CBBC08863D8C85D49DB34A9AE1");
    let auth_key = hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");
    let ssrc = 0xCAFE_F00D;
    let payload: Vec<u8> = (0..160u32).map(|i| (i * 13 + 5) as u8).collect();
    // Sequence jumps below 2^15 let the rollover counter advance: 60000 -> 10000 is ROC 1.
    for (seq, roc) in [
        (0u16, 0u32),
        (20_000, 0),
        (40_000, 0),
        (60_000, 0),
        (10_000, 1),
        (30_000, 1),
    ] {
        let plain = rtp(seq, ssrc, &payload);
        let protected = alice.protect_rtp(&plain).expect("protect");
        assert_eq!(protected.len(), plain.len() + 10, "80-bit tag appended");
        assert_eq!(protected[..12], plain[..12], "header in the clear");
        let index = (u64::from(roc) << 16) | u64::from(seq);
        let stream = keystream(&cipher_key, &packet_iv(&salt, ssrc, index), payload.len());
        let expected: Vec<u8> = payload.iter().zip(&stream).map(|(p, k)| p ^ k).collect();
        assert_eq!(protected[12..12 + payload.len()], expected[..], "seq {seq}");
        let body = &protected[..protected.len() - 10];
        let tag = hmac_sha1_80(&auth_key, &[body, &roc.to_be_bytes()]);
        assert_eq!(protected[protected.len() - 10..], tag[..], "seq {seq}");
    }
    // The master key in the session really is the B.3 one (not a coincidence of labels).
    assert_eq!(derive(&master[..16], &master[16..], 0, 16), cipher_key);
}

#[test]
fn srtcp_packets_are_the_rfc_transform_with_derived_srtcp_keys() {
    let master = hex(B3_MASTER);
    let (k, s) = master.split_at(16);
    // SRTCP labels (RFC 3711 §4.3.2): 3 encryption, 4 authentication, 5 salt.
    let (cipher_key, auth_key, salt) = (
        derive(k, s, 3, 16),
        derive(k, s, 4, 20),
        derive(k, s, 5, 14),
    );
    let mut alice = SrtpSession::new(&keys(key_from(B3_MASTER), key(9))).expect("session");
    let ssrc = 0x0102_0304;
    for _ in 0..3 {
        let plain = rtcp_rr(ssrc);
        let protected = alice.protect_rtcp(&plain).expect("protect");
        assert_eq!(protected.len(), plain.len() + 4 + 10);
        assert_eq!(
            protected[..8],
            plain[..8],
            "first header and SSRC in the clear"
        );
        let word_at = plain.len();
        let word = u32::from_be_bytes(protected[word_at..word_at + 4].try_into().unwrap());
        assert_ne!(word & 0x8000_0000, 0, "E flag set");
        let index = u64::from(word & 0x7FFF_FFFF);
        let stream = keystream(&cipher_key, &packet_iv(&salt, ssrc, index), plain.len() - 8);
        let expected: Vec<u8> = plain[8..].iter().zip(&stream).map(|(p, k)| p ^ k).collect();
        assert_eq!(protected[8..word_at], expected[..]);
        let tag = hmac_sha1_80(&auth_key, &[&protected[..word_at + 4]]);
        assert_eq!(protected[word_at + 4..], tag[..]);
    }
}

#[test]
fn round_trip_across_the_rollover_and_reordering() {
    let (mut alice, mut bob) = pair();
    let ssrc = 0x1234_5678;
    let mut sent = Vec::new();
    let mut seq: u16 = 65_500;
    for n in 0..120u32 {
        let plain = rtp(seq, ssrc, &n.to_be_bytes().repeat(40));
        sent.push((plain.clone(), alice.protect_rtp(&plain).expect("protect")));
        seq = seq.wrapping_add(1);
    }
    // Swap neighbours: late packets inside the replay window still decrypt.
    for pair in sent.chunks(2) {
        for (plain, protected) in pair.iter().rev() {
            assert_eq!(bob.unprotect_rtp(protected).as_ref(), Ok(plain));
        }
    }
    for _ in 0..3 {
        let plain = rtcp_rr(ssrc);
        let protected = alice.protect_rtcp(&plain).expect("protect");
        assert_eq!(bob.unprotect_rtcp(&protected), Ok(plain));
    }
    assert_eq!(bob.counters().auth_failures + bob.counters().replays, 0);
}

#[test]
fn wrong_key_tampering_and_replays_are_refused_and_counted() {
    let (mut alice, mut bob) = pair();
    let mut eve = SrtpSession::new(&keys(key(7), key(8))).expect("eve");
    let packet = alice
        .protect_rtp(&rtp(1, 42, &[0x55; 160]))
        .expect("protect");
    assert_eq!(
        eve.unprotect_rtp(&packet),
        Err(SrtpError::AuthenticationFailed)
    );
    let report = alice.protect_rtcp(&rtcp_rr(42)).expect("protect");
    assert_eq!(
        eve.unprotect_rtcp(&report),
        Err(SrtpError::AuthenticationFailed)
    );
    assert_eq!(eve.counters().auth_failures, 2);

    for at in [1, 12, 100, packet.len() - 1] {
        let mut bad = packet.clone();
        bad[at] ^= 0x01;
        assert_eq!(
            bob.unprotect_rtp(&bad),
            Err(SrtpError::AuthenticationFailed),
            "byte {at}"
        );
    }
    assert!(bob.unprotect_rtp(&packet).is_ok());
    assert_eq!(bob.unprotect_rtp(&packet), Err(SrtpError::Replayed));
    assert!(bob.unprotect_rtcp(&report).is_ok());
    assert_eq!(bob.unprotect_rtcp(&report), Err(SrtpError::Replayed));
    assert_eq!(bob.counters().auth_failures, 4);
    assert_eq!(bob.counters().replays, 2);
    // Far behind the window: refused as a replay too.
    let old = alice.protect_rtp(&rtp(2, 42, &[1; 20])).expect("protect");
    for seq in 3..400 {
        let p = alice.protect_rtp(&rtp(seq, 42, &[1; 20])).expect("protect");
        bob.unprotect_rtp(&p).expect("in order");
    }
    assert_eq!(bob.unprotect_rtp(&old), Err(SrtpError::Replayed));
}

#[test]
fn unencrypted_srtcp_is_refused() {
    let (mut alice, mut bob) = pair();
    let mut report = alice.protect_rtcp(&rtcp_rr(42)).expect("protect");
    let word_at = report.len() - 14;
    report[word_at] &= 0x7F;
    assert_eq!(
        bob.unprotect_rtcp(&report),
        Err(SrtpError::AuthenticationFailed)
    );
    assert_eq!(bob.counters().auth_failures, 1);
}

#[test]
fn mki_is_written_before_the_tag_and_checked() {
    let mki = Mki {
        value: 0x0203,
        length: 4,
    };
    let (a, b) = (key(1).with_mki(Some(mki)), key(2));
    let mut alice = SrtpSession::new(&keys(a.clone(), b.clone())).expect("alice");
    let mut bob = SrtpSession::new(&keys(b, a)).expect("bob");
    let plain = rtp(9, 77, &[3; 40]);
    let packet = alice.protect_rtp(&plain).expect("protect");
    assert_eq!(packet.len(), plain.len() + 4 + 10);
    assert_eq!(packet[packet.len() - 14..packet.len() - 10], [0, 0, 2, 3]);
    assert_eq!(bob.unprotect_rtp(&packet), Ok(plain));
    let report = alice.protect_rtcp(&rtcp_rr(77)).expect("protect");
    assert_eq!(report[report.len() - 14..report.len() - 10], [0, 0, 2, 3]);
    assert_eq!(bob.unprotect_rtcp(&report), Ok(rtcp_rr(77)));
    let mut other = alice.protect_rtp(&rtp(10, 77, &[3; 40])).expect("protect");
    let at = other.len() - 11;
    other[at] ^= 0xFF;
    assert_eq!(
        bob.unprotect_rtp(&other),
        Err(SrtpError::AuthenticationFailed)
    );
}

#[test]
fn forged_ssrcs_do_not_disturb_the_real_stream() {
    let (mut alice, mut bob) = pair();
    let mut eve = SrtpSession::new(&keys(key(7), key(8))).expect("eve");
    for seq in 0..300u16 {
        let real = rtp(seq, 5, &[9; 80]);
        let protected = alice.protect_rtp(&real).expect("protect");
        assert_eq!(bob.unprotect_rtp(&protected), Ok(real));
        for forged in 0..10u32 {
            let junk = eve
                .protect_rtp(&rtp(seq, 1000 + u32::from(seq) * 10 + forged, &[1; 80]))
                .expect("protect");
            assert_eq!(
                bob.unprotect_rtp(&junk),
                Err(SrtpError::AuthenticationFailed)
            );
        }
    }
    assert_eq!(bob.counters().auth_failures, 3000);
}

#[test]
fn garbage_and_truncations_never_panic() {
    let (mut alice, mut bob) = pair();
    let packet = alice
        .protect_rtp(&rtp(1, 42, &[0x55; 60]))
        .expect("protect");
    let report = alice.protect_rtcp(&rtcp_rr(42)).expect("protect");
    for end in 0..packet.len() {
        assert!(bob.unprotect_rtp(&packet[..end]).is_err());
        assert!(bob.unprotect_rtcp(&packet[..end]).is_err());
    }
    for end in 0..report.len() {
        assert!(bob.unprotect_rtcp(&report[..end]).is_err());
        assert!(bob.unprotect_rtp(&report[..end]).is_err());
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..5000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 200) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|i| (state.rotate_left(i as u32 % 64) >> 3) as u8)
            .collect();
        let mut framed = bytes.clone();
        if let Some(first) = framed.first_mut() {
            *first = 0x80 | (*first & 0x3F);
        }
        for b in [&bytes, &framed] {
            let _ = bob.unprotect_rtp(b);
            let _ = bob.unprotect_rtcp(b);
            let _ = alice.protect_rtp(b);
            let _ = alice.protect_rtcp(b);
        }
    }
}

#[test]
fn a_forged_packet_cannot_push_the_replay_window_ahead_of_the_real_stream() {
    // rtc-srtp initialises a stream's replay window from the first packet it checks,
    // authenticated or not: forged packets with the real SSRC and far-ahead indexes,
    // arriving before the real stream, must not get the real packets refused.
    let (mut alice, mut bob) = pair();
    let mut eve = SrtpSession::new(&keys(key(7), key(8))).expect("eve");
    for seq in [1_000u16, 40_000, 65_000] {
        let forged = eve.protect_rtp(&rtp(seq, 42, &[1; 40])).expect("protect");
        assert_eq!(
            bob.unprotect_rtp(&forged),
            Err(SrtpError::AuthenticationFailed)
        );
    }
    let mut forged_rtcp = eve.protect_rtcp(&rtcp_rr(42)).expect("protect");
    let word_at = forged_rtcp.len() - 14;
    forged_rtcp[word_at..word_at + 4].copy_from_slice(&0xC000_0000u32.to_be_bytes());
    assert_eq!(
        bob.unprotect_rtcp(&forged_rtcp),
        Err(SrtpError::AuthenticationFailed)
    );
    for seq in 5..20 {
        let plain = rtp(seq, 42, &[2; 40]);
        let packet = alice.protect_rtp(&plain).expect("protect");
        assert_eq!(bob.unprotect_rtp(&packet), Ok(plain), "seq {seq}");
    }
    let report = alice.protect_rtcp(&rtcp_rr(42)).expect("protect");
    assert_eq!(bob.unprotect_rtcp(&report), Ok(rtcp_rr(42)));
    // Replays are still caught by the real context.
    let again = alice.protect_rtp(&rtp(30, 42, &[2; 40])).expect("protect");
    assert!(bob.unprotect_rtp(&again).is_ok());
    assert_eq!(bob.unprotect_rtp(&again), Err(SrtpError::Replayed));
}

#[test]
fn a_header_extension_rtc_srtp_would_size_differently_is_refused_not_a_panic() {
    // Found by the `srtp` fuzz target: X bit set, an extension whose re-marshalled size runs one byte past the
    // 51-byte packet; rtc-srtp sliced from there and panicked.
    let packet: [u8; 51] = [
        0x93, 0xc5, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x07, 0x12, 0x5d, 0x56,
        0x70, 0x93, 0xc5, 0x20, 0x50, 0x4f, 0x51, 0x00, 0x5a, 0x10, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x5a, 0x10, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x32, 0xef, 0x00,
        0xff, 0x6f, 0x00, 0x00, 0x00, 0x10,
    ];
    let keys = SrtpKeys {
        suite: SrtpSuite::AesCm128HmacSha1_80,
        tag: 1,
        local_key: SrtpKey::new([1; 30]),
        remote_key: SrtpKey::new([2; 30]),
    };
    let mut session = SrtpSession::new(&keys).expect("session");
    assert!(matches!(
        session.protect_rtp(&packet),
        Err(SrtpError::Malformed(_))
    ));
}
