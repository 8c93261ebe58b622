//! G.711 against ITU-T G.711 table values (Tables 1a/2a: reconstruction values at the
//! segment ends, scaled to 16 bits) and the quantizer's rules: every code decodes and
//! re-encodes to itself, and every input lands on the nearest level of its segment.

use dialtone_media::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};

#[test]
fn ulaw_decoder_output_values() {
    // (code, value): µ-law reconstruction values (G.711 Table 2a, ×4 for 16 bits).
    for (code, value) in [
        (0x80u8, 32_124i16), // segment 8 top: 8031 × 4
        (0x8F, 16_764),      // segment 8 bottom: 4191 × 4
        (0x9F, 8_316),       // segment 7 bottom
        (0xEF, 132),         // segment 1 bottom: 33 × 4
        (0xF0, 120),         // segment 0 top: 30 × 4
        (0xFE, 8),
        (0xFF, 0),
        (0x7F, 0), // negative zero
        (0x7E, -8),
        (0x00, -32_124),
        (0x0F, -16_764),
    ] {
        assert_eq!(ulaw_decode(code), value, "code {code:#04x}");
    }
}

#[test]
fn alaw_decoder_output_values() {
    // A-law reconstruction values (G.711 Table 1a, ×8 for 16 bits); codes are written
    // with even bits inverted (XOR 0x55), as on the line.
    for (code, value) in [
        (0xD5u8, 8i16), // first level: 1 × 8
        (0xD4, 24),
        (0xC5, 264),    // segment 2 start: 33 × 8
        (0xAA, 32_256), // last level: 4032 × 8
        (0xA5, 16_896), // segment 7 start: 2112 × 8
        (0x55, -8),
        (0x2A, -32_256),
    ] {
        assert_eq!(alaw_decode(code), value, "code {code:#04x}");
    }
}

#[test]
fn encoder_extremes_and_zero() {
    assert_eq!(ulaw_encode(0), 0xFF);
    assert_eq!(ulaw_encode(-1), 0x7F);
    assert_eq!(ulaw_encode(i16::MAX), 0x80);
    assert_eq!(ulaw_encode(i16::MIN), 0x00);
    assert_eq!(alaw_encode(0), 0xD5);
    assert_eq!(alaw_encode(-1), 0x55);
    assert_eq!(alaw_encode(i16::MAX), 0xAA);
    assert_eq!(alaw_encode(i16::MIN), 0x2A);
}

#[test]
fn every_code_survives_decode_then_encode() {
    for code in 0..=255u8 {
        assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        let back = ulaw_encode(ulaw_decode(code));
        // µ-law's negative zero (0x7F) decodes to 0, which encodes as positive zero.
        let expected = if code == 0x7F { 0xFF } else { code };
        assert_eq!(back, expected, "µ-law {code:#04x}");
    }
}

#[test]
fn every_input_is_quantized_to_a_neighbouring_level() {
    let mut ulaw_levels: Vec<i32> = (0..=255u8).map(|c| i32::from(ulaw_decode(c))).collect();
    let mut alaw_levels: Vec<i32> = (0..=255u8).map(|c| i32::from(alaw_decode(c))).collect();
    ulaw_levels.sort_unstable();
    ulaw_levels.dedup();
    alaw_levels.sort_unstable();
    alaw_levels.dedup();
    assert_eq!(ulaw_levels.len(), 255);
    assert_eq!(alaw_levels.len(), 256);
    for x in i16::MIN..=i16::MAX {
        let xi = i32::from(x);
        for (levels, decoded) in [
            (&ulaw_levels, i32::from(ulaw_decode(ulaw_encode(x)))),
            (&alaw_levels, i32::from(alaw_decode(alaw_encode(x)))),
        ] {
            // Beyond the outermost levels the quantizer clips to them.
            let (lowest, highest) = (levels[0], levels[levels.len() - 1]);
            if xi <= lowest || xi >= highest {
                assert_eq!(decoded, if xi <= lowest { lowest } else { highest });
                continue;
            }
            // Inside, the chosen level is one of the two levels around x.
            let above = levels
                .iter()
                .position(|&l| l >= xi)
                .unwrap_or(levels.len() - 1);
            let below = above.saturating_sub(1);
            assert!(
                decoded == levels[above] || decoded == levels[below],
                "x {x} -> {decoded}, neighbours {} {}",
                levels[below],
                levels[above]
            );
            // And the error is at most half a quantization step of the chosen level's
            // segment (decision values sit at the segment's own mid-steps).
            let idx = levels.binary_search(&decoded).expect("a level");
            let step = (levels[idx] - levels[idx.saturating_sub(1)])
                .max(levels[(idx + 1).min(levels.len() - 1)] - levels[idx]);
            assert!((decoded - xi).abs() <= step / 2 + 8, "x {x} -> {decoded}");
        }
    }
}
