//! A listening-quality estimate: the ITU-T G.107 E-model in its common simplified form
//! (Cole & Rosenbluth, "Voice over IP performance monitoring", 2001), narrowband scale.
//!
//! `R = 93.2 − Id − Ie,eff`, where
//! * `93.2` is `R0 − Is` with G.107's default parameters (§7.1, Table 3),
//! * `Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)` approximates the delay impairment for
//!   a one-way mouth-to-ear delay `d` in ms (H is the step function),
//! * `Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl + Bpl)` is G.107 §7.5 (eq. 7-29) for random
//!   loss (BurstR = 1), with the codec's equipment impairment `Ie` and packet-loss
//!   robustness `Bpl` and the loss `Ppl` in percent,
//!
//! and the MOS follows G.107 Annex B (eq. B-4). The advantage factor A is 0.
//!
//! | codec | Ie | Bpl | source |
//! |---|---|---|---|
//! | G.711 (PCMU, PCMA) | 0 | 25.1 | ITU-T G.113 (11/2007) App. I, Tables I.1 and I.3 (G.711 with PLC) |
//! | G.729 (Annex A/B) | 11 | 19.0 | G.113 App. I, Tables I.1 and I.3 (G.729A + VAD) |
//! | G.722 | 0 | 25.1 | provisional: wideband, no narrowband G.113 value; rated like G.711 with PLC |
//! | Opus | 0 | 25.1 | provisional: not in G.113; rated like G.711 with PLC |
//! | Speex 16 kHz | 0 | 25.1 | provisional: not in G.113; rated like G.711 with PLC |
//! | Speex 8 kHz | 11 | 19.0 | provisional: not in G.113; rated like G.729A (same bitrate class of CELP) |
//!
//! G.711's Bpl of 25.1 assumes G.711 Appendix I concealment; our G.711 concealment is
//! simpler (repeat and fade), so under loss the estimate is on the kind side.

use std::time::Duration;

use dialtone_sdp::CodecName;

/// A codec's E-model parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment factor Ie (no loss).
    pub ie: f64,
    /// Packet-loss robustness factor Bpl.
    pub bpl: f64,
}

/// The E-model parameters we use for a codec (table in the module docs).
pub fn codec_impairment(codec: CodecName) -> CodecImpairment {
    match codec {
        CodecName::G729 | CodecName::Speex => CodecImpairment {
            ie: 11.0,
            bpl: 19.0,
        },
        _ => CodecImpairment { ie: 0.0, bpl: 25.1 },
    }
}

/// An E-model result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// The transmission rating R (0–100).
    pub r_factor: f64,
    /// The estimated mean opinion score (1.0–4.5).
    pub mos: f64,
}

/// The E-model estimate for `codec` with a one-way mouth-to-ear `delay` and a packet
/// `loss` fraction (0.0–1.0).
pub fn e_model(codec: CodecName, delay: Duration, loss: f64) -> Quality {
    let CodecImpairment { ie, bpl } = codec_impairment(codec);
    let d = delay.as_secs_f64() * 1000.0;
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let ppl = (loss * 100.0).clamp(0.0, 100.0);
    let ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl);
    let r = (93.2 - id - ie_eff).clamp(0.0, 100.0);
    Quality {
        r_factor: r,
        mos: mos_from_r(r),
    }
}

/// G.107 Annex B: MOS from R.
pub fn mos_from_r(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_g711_call_scores_about_4_4() {
        let q = e_model(CodecName::Ulaw, Duration::from_millis(20), 0.0);
        assert!((q.r_factor - 92.72).abs() < 0.01, "{q:?}");
        assert!((q.mos - 4.40).abs() < 0.02, "{q:?}");
    }

    #[test]
    fn loss_and_delay_lower_the_score() {
        let clean = e_model(CodecName::Alaw, Duration::from_millis(50), 0.0);
        let lossy = e_model(CodecName::Alaw, Duration::from_millis(50), 0.05);
        let late = e_model(CodecName::Alaw, Duration::from_millis(400), 0.0);
        assert!(lossy.mos < clean.mos - 0.5, "{lossy:?}");
        assert!(late.mos < clean.mos - 0.5, "{late:?}");
        // 5 % loss on G.711: Ie,eff = 95 × 5 / 30.1 = 15.78.
        assert!((clean.r_factor - lossy.r_factor - 15.78).abs() < 0.01);
        let g729 = e_model(CodecName::G729, Duration::from_millis(50), 0.0);
        assert!((clean.r_factor - g729.r_factor - 11.0).abs() < 1e-9);
        assert_eq!(mos_from_r(-3.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
    }
}
