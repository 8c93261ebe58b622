//! Every codec of this build carries a 1 kHz tone: encoded and decoded in 20 ms frames,
//! the output's dominant frequency is still 1 kHz (Goertzel) at a sane level; also
//! through the resampler from and to a 48 kHz device. Concealment yields exactly the
//! samples asked for, and garbage payloads are errors or noise, never a panic.

mod support;

use dialtone_media::{available_codecs, create_codec, AudioCodec, Random, Resampler, Xorshift};
use dialtone_sdp::CodecName;
use support::{dominant_frequency, goertzel_power, rms, sine};

fn round_trip(codec: &mut dyn AudioCodec, input: &[i16]) -> Vec<i16> {
    let frame = codec.sample_rate() as usize / 50;
    let mut out = Vec::new();
    let mut payload = Vec::new();
    for chunk in input.chunks_exact(frame) {
        payload.clear();
        codec.encode(chunk, &mut payload).expect("encode");
        assert!(!payload.is_empty(), "{}: empty payload", codec.name());
        codec.decode(&payload, &mut out).expect("decode");
    }
    out
}

fn check_tone(name: CodecName, pcm: &[i16], rate: u32) {
    // Skip the first half second (codec and filter start-up).
    let steady = &pcm[rate as usize / 2..];
    let f = dominant_frequency(steady, rate, 3500.0);
    assert_eq!(f, 1000.0, "{name}: dominant frequency {f}");
    let level = rms(steady);
    assert!((2000.0..12_000.0).contains(&level), "{name}: rms {level}");
    // The tone dominates: 1 kHz carries far more power than 700 Hz or 1.5 kHz.
    let p = goertzel_power(steady, rate, 1000.0);
    assert!(p > 100.0 * goertzel_power(steady, rate, 700.0), "{name}");
    assert!(p > 100.0 * goertzel_power(steady, rate, 1500.0), "{name}");
}

#[test]
fn each_codec_keeps_the_dominant_frequency() {
    let codecs = available_codecs();
    assert!(codecs.len() >= 4, "{codecs:?}");
    for name in codecs {
        let mut codec = create_codec(name, None).expect("codec");
        let rate = codec.sample_rate();
        let input = sine(1000.0, rate, 10_000.0, 0, rate as usize * 2);
        let output = round_trip(codec.as_mut(), &input);
        assert_eq!(output.len(), input.len(), "{name}");
        check_tone(name, &output, rate);
    }
}

#[test]
fn each_codec_keeps_the_tone_between_48khz_devices() {
    for name in available_codecs() {
        let mut codec = create_codec(name, Some("useinbandfec=1")).expect("codec");
        let rate = codec.sample_rate();
        let mut down = Resampler::new(48_000, rate);
        let mut up = Resampler::new(rate, 48_000);
        let mic = sine(1000.0, 48_000, 10_000.0, 0, 48_000 * 2);
        let mut at_codec_rate = Vec::new();
        down.process(&mic, &mut at_codec_rate);
        let frame = rate as usize / 50;
        at_codec_rate.truncate(at_codec_rate.len() / frame * frame);
        let decoded = round_trip(codec.as_mut(), &at_codec_rate);
        let mut speaker = Vec::new();
        up.process(&decoded, &mut speaker);
        check_tone(name, &speaker, 48_000);
    }
}

#[test]
fn concealment_gives_exactly_the_samples_asked_for() {
    for name in available_codecs() {
        let mut codec = create_codec(name, None).expect("codec");
        let rate = codec.sample_rate() as usize;
        let input = sine(1000.0, rate as u32, 8000.0, 0, rate / 5);
        let _ = round_trip(codec.as_mut(), &input);
        for samples in [rate / 50, rate / 100, rate / 50 * 3] {
            let mut out = vec![1, 2, 3];
            codec.conceal(samples, &mut out);
            assert_eq!(out.len(), 3 + samples, "{name} conceal {samples}");
            assert_eq!(&out[..3], &[1, 2, 3]);
        }
    }
}

#[test]
fn garbage_payloads_never_panic() {
    let mut rng = Xorshift::new(99);
    for name in available_codecs() {
        let mut codec = create_codec(name, None).expect("codec");
        let mut errors = 0;
        for _ in 0..500 {
            let len = (rng.next_u64() % 300) as usize;
            let payload: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let mut out = Vec::new();
            match codec.decode(&payload, &mut out) {
                Ok(()) => assert!(out.len() <= 5760 * 6, "{name}: {} samples", out.len()),
                Err(_) => {
                    errors += 1;
                    assert!(out.is_empty(), "{name}: output on error");
                }
            }
            let _ = codec.decode_fec(&payload, 960, &mut Vec::new());
        }
        eprintln!("{name}: {errors} of 500 garbage payloads rejected");
        // Frame sizes the encoder cannot take are errors, not panics.
        if !matches!(name, CodecName::Ulaw | CodecName::Alaw) {
            assert!(codec.encode(&[0; 7], &mut Vec::new()).is_err(), "{name}");
        }
    }
}

#[test]
fn opus_recovers_a_lost_frame_from_in_band_fec() {
    let mut tx = create_codec(CodecName::Opus, Some("useinbandfec=1")).unwrap();
    let mut rx = create_codec(CodecName::Opus, None).unwrap();
    let input = sine(1000.0, 48_000, 10_000.0, 0, 48_000);
    let packets: Vec<Vec<u8>> = input
        .chunks_exact(960)
        .map(|c| {
            let mut p = Vec::new();
            tx.encode(c, &mut p).unwrap();
            p
        })
        .collect();
    let mut out = Vec::new();
    let mut recovered = 0;
    for (i, p) in packets.iter().enumerate() {
        if i % 5 == 4 {
            // Lost: recover from the next packet's FEC, else conceal.
            match packets.get(i + 1) {
                Some(next) if rx.decode_fec(next, 960, &mut out) => recovered += 1,
                _ => rx.conceal(960, &mut out),
            }
        } else {
            rx.decode(p, &mut out).unwrap();
        }
    }
    assert!(recovered >= 8, "recovered {recovered}");
    assert_eq!(out.len(), input.len());
    check_tone(CodecName::Opus, &out, 48_000);
}
