//! Per-call extra lines go after `c=` and before `t=` in offers and answers, and are
//! validated with clear errors.

mod common;

use common::*;
use dialtone_sdp::{ExtraLine, SdpError};

fn params_with_extras() -> dialtone_sdp::SessionParams {
    let mut params = audio_params(4000);
    params.extra_lines =
        ExtraLine::parse_all(["b=AS:3000", "b=TIAS:2500000", "b=RS:1000", "b=RR:3000"])
            .expect("valid lines");
    params
}

const BLOCK: &str =
    "c=IN IP4 127.0.0.1\r\nb=AS:3000\r\nb=TIAS:2500000\r\nb=RS:1000\r\nb=RR:3000\r\nt=0 0\r\n";

#[test]
fn extra_lines_in_offers() {
    let mut n = negotiator("alaw");
    let (offer, _) = n.create_offer(&params_with_extras()).expect("offer");
    let text = offer.to_string();
    assert!(text.contains(BLOCK), "{text}");
    assert_eq!(wire(&offer), offer);
}

#[test]
fn extra_lines_in_answers() {
    let mut n = negotiator("alaw");
    let (answer, _) = n
        .answer_offer(&parse(SIPP_OFFER), &params_with_extras())
        .expect("answer");
    let text = answer.to_string();
    assert!(text.contains(BLOCK), "{text}");
}

#[test]
fn no_extra_lines_means_c_then_t() {
    let mut n = negotiator("alaw");
    let (offer, _) = n.create_offer(&audio_params(4000)).expect("offer");
    assert!(offer
        .to_string()
        .contains("c=IN IP4 127.0.0.1\r\nt=0 0\r\n"));
}

#[test]
fn extra_lines_are_validated() {
    let cases = [
        ("b=AS:3000\r\nb=CT:1", "CR or LF"),
        ("b=AS:3000\n", "CR or LF"),
        ("b=AS:3\u{0}", "NUL"),
        ("AS:3000", "must look like `x=value`"),
        ("b=", "must look like `x=value`"),
        ("b:AS:3000", "must look like `x=value`"),
        ("y=foo", "unknown SDP type letter"),
        ("B=AS:3000", "unknown SDP type letter"),
        ("a=sendonly", "only `b=` lines"),
        ("t=0 0", "only `b=` lines"),
        ("b=AS", "b=<bwtype>:<digits>"),
        ("b=AS:lots", "b=<bwtype>:<digits>"),
        ("b=A S:1", "b=<bwtype>:<digits>"),
    ];
    for (line, reason) in cases {
        let err = ExtraLine::parse(line).unwrap_err();
        match &err {
            SdpError::InvalidExtraLine { line: l, reason: r } => {
                assert_eq!(l, line);
                assert!(r.contains(reason), "{line:?}: {r}");
            }
            other => panic!("{line:?}: unexpected {other:?}"),
        }
        assert!(
            err.to_string().starts_with("invalid extra SDP line"),
            "{err}"
        );
    }
}

#[test]
fn extra_lines_parse_and_print() {
    let line: ExtraLine = "b=TIAS:2500000".parse().expect("valid");
    assert_eq!(line.to_string(), "b=TIAS:2500000");
    assert_eq!(line.bandwidth().kind, "TIAS");
    assert_eq!(line.bandwidth().value, 2_500_000);
    let all = ExtraLine::parse_all(["", "  b=AS:1 ", "b=X-custom:5"]).expect("valid");
    assert_eq!(all.len(), 2);
    assert!(ExtraLine::parse_all(["b=AS:1", "junk"]).is_err());
}
