//! CPU cost of the codecs through our `AudioCodec` wrappers versus the same libraries
//! called directly (one iteration = encode + decode of one 20 ms frame), and of one
//! second of a running call (microphone at 48 kHz → resample → encode → RTP → jitter
//! buffer → decode → resample → speaker) for G.711 and Opus.
//!
//! Run: `cargo bench -p dialtone-media --bench codecs`. Figures go in docs/media.md.

use std::f64::consts::PI;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use dialtone_media::{
    alaw_decode, alaw_encode, create_codec, ulaw_decode, ulaw_encode, CallAudio, CallAudioParams,
    CallOutput, Xorshift,
};
use dialtone_sdp::CodecName;

fn tone(rate: u32, samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|n| (8000.0 * (2.0 * PI * 1000.0 * n as f64 / f64::from(rate)).sin()) as i16)
        .collect()
}

fn wrapper(c: &mut Criterion, name: CodecName) {
    // Opus as the direct benchmark runs it: in-band FEC tuned for 10 % loss.
    let fmtp = (name == CodecName::Opus).then_some("useinbandfec=1");
    let mut codec = create_codec(name, fmtp).expect("codec");
    let frame = tone(codec.sample_rate(), codec.sample_rate() as usize / 50);
    let mut payload = Vec::with_capacity(1500);
    let mut pcm = Vec::with_capacity(frame.len() * 2);
    c.bench_function(&format!("frame_20ms/{name}/wrapper"), |b| {
        b.iter(|| {
            payload.clear();
            pcm.clear();
            codec
                .encode(black_box(&frame), &mut payload)
                .expect("encode");
            codec.decode(black_box(&payload), &mut pcm).expect("decode");
            black_box(pcm.len())
        })
    });
}

fn direct_g711_one(
    c: &mut Criterion,
    name: &str,
    enc: impl Fn(i16) -> u8,
    dec: impl Fn(u8) -> i16,
) {
    let frame = tone(8000, 160);
    let mut payload = vec![0u8; 160];
    let mut pcm = vec![0i16; 160];
    c.bench_function(&format!("frame_20ms/{name}/direct"), |b| {
        b.iter(|| {
            for (p, &s) in payload.iter_mut().zip(black_box(&frame)) {
                *p = enc(s);
            }
            for (o, &p) in pcm.iter_mut().zip(black_box(&payload)) {
                *o = dec(p);
            }
            black_box(pcm[0])
        })
    });
}

fn direct_g711(c: &mut Criterion) {
    direct_g711_one(c, "ulaw", ulaw_encode, ulaw_decode);
    direct_g711_one(c, "alaw", alaw_encode, alaw_decode);
}

fn direct_g722(c: &mut Criterion) {
    use audio_codec::g722::{G722Decoder, G722Encoder};
    use audio_codec::{Decoder as _, Encoder as _};
    let frame = tone(16_000, 320);
    let mut enc = G722Encoder::new();
    let mut dec = G722Decoder::new();
    let mut payload = vec![0u8; 400];
    let mut pcm = vec![0i16; 400];
    c.bench_function("frame_20ms/g722/direct", |b| {
        b.iter(|| {
            let n = enc
                .encode_into(black_box(&frame), &mut payload)
                .expect("encode");
            let m = dec
                .decode_into(black_box(&payload[..n]), &mut pcm)
                .expect("decode");
            black_box(m)
        })
    });
}

fn direct_opus(c: &mut Criterion) {
    let frame = tone(48_000, 960);
    let mut enc =
        opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).expect("enc");
    enc.set_inband_fec(true).expect("fec");
    enc.set_packet_loss_perc(10).expect("loss");
    let mut dec = opus::Decoder::new(48_000, opus::Channels::Mono).expect("dec");
    let mut payload = vec![0u8; 1500];
    let mut pcm = vec![0i16; 5760];
    c.bench_function("frame_20ms/opus/direct", |b| {
        b.iter(|| {
            let n = enc.encode(black_box(&frame), &mut payload).expect("encode");
            let m = dec
                .decode(black_box(&payload[..n]), &mut pcm, false)
                .expect("decode");
            black_box(m)
        })
    });
}

#[cfg(feature = "speex")]
fn direct_speex(c: &mut Criterion) {
    use speex_sys as sys;
    for (name, mode_id, samples) in [
        ("speex", sys::SPEEX_MODEID_NB, 160usize),
        ("speex16", sys::SPEEX_MODEID_WB, 320),
    ] {
        let mut frame = tone(if samples == 160 { 8000 } else { 16_000 }, samples);
        let mut pcm = vec![0i16; samples];
        let mut payload = vec![0u8; 1024];
        // SAFETY: straight libspeex usage, mirroring the wrapper; states freed below.
        unsafe {
            let mode = sys::speex_lib_get_mode(mode_id);
            let enc = sys::speex_encoder_init(mode);
            let dec = sys::speex_decoder_init(mode);
            let mut q: std::os::raw::c_int = 8;
            sys::speex_encoder_ctl(
                enc,
                sys::SPEEX_SET_QUALITY,
                std::ptr::addr_of_mut!(q).cast(),
            );
            let mut e: std::os::raw::c_int = 1;
            sys::speex_decoder_ctl(dec, sys::SPEEX_SET_ENH, std::ptr::addr_of_mut!(e).cast());
            let mut eb = std::mem::zeroed::<sys::SpeexBits>();
            let mut db = std::mem::zeroed::<sys::SpeexBits>();
            sys::speex_bits_init(&mut eb);
            sys::speex_bits_init(&mut db);
            c.bench_function(&format!("frame_20ms/{name}/direct"), |b| {
                b.iter(|| {
                    sys::speex_bits_reset(&mut eb);
                    sys::speex_encode_int(enc, frame.as_mut_ptr(), &mut eb);
                    let n = sys::speex_bits_write(
                        &mut eb,
                        payload.as_mut_ptr().cast(),
                        payload.len() as _,
                    );
                    sys::speex_bits_read_from(&mut db, payload.as_mut_ptr().cast(), n);
                    sys::speex_decode_int(dec, &mut db, pcm.as_mut_ptr());
                    black_box(pcm[0])
                })
            });
            sys::speex_bits_destroy(&mut eb);
            sys::speex_bits_destroy(&mut db);
            sys::speex_encoder_destroy(enc);
            sys::speex_decoder_destroy(dec);
        }
    }
}

#[cfg(feature = "g729")]
fn direct_g729(c: &mut Criterion) {
    let frame = tone(8000, 160);
    let mut enc = g729_sys::Encoder::new(false);
    let mut dec = g729_sys::Decoder::new();
    let mut bytes = [0u8; 10];
    let mut input = [0i16; 80];
    c.bench_function("frame_20ms/g729/direct", |b| {
        b.iter(|| {
            let mut sum = 0i32;
            for half in frame.chunks_exact(80) {
                input.copy_from_slice(half);
                let n = enc.encode_into(black_box(&input), &mut bytes);
                let out = dec.decode(black_box(&bytes[..usize::from(n)]), false, false, false);
                sum += i32::from(out[0]);
            }
            black_box(sum)
        })
    });
}

fn codecs(c: &mut Criterion) {
    for name in dialtone_media::available_codecs() {
        wrapper(c, name);
    }
    direct_g711(c);
    direct_g722(c);
    direct_opus(c);
    #[cfg(feature = "speex")]
    direct_speex(c);
    #[cfg(feature = "g729")]
    direct_g729(c);
}

/// One second of a call, one direction end to end: A's microphone to B's speaker, both
/// devices at 48 kHz, RTP through B's session and jitter buffer.
fn call_second(c: &mut Criterion) {
    for (name, pt) in [(CodecName::Ulaw, 0u8), (CodecName::Opus, 111)] {
        let start = Instant::now();
        let a_addr = "127.0.0.1:40000".parse().expect("addr");
        let b_addr = "127.0.0.1:50000".parse().expect("addr");
        let mut rng = Xorshift::new(5);
        let mut a =
            CallAudio::new(start, CallAudioParams::new(name, pt, b_addr), &mut rng).expect("a");
        let mut b =
            CallAudio::new(start, CallAudioParams::new(name, pt, a_addr), &mut rng).expect("b");
        let mic = tone(48_000, 960);
        let mut speaker = vec![0i16; 960];
        let mut now = start;
        c.bench_function(&format!("call_second/{name}"), |bench| {
            bench.iter(|| {
                for _ in 0..50 {
                    now += Duration::from_millis(20);
                    a.push_microphone(now, black_box(&mic));
                    while let Some(out) = a.poll_output() {
                        if let CallOutput::Transmit(t) = out {
                            b.handle_rtp(now, a_addr, &t.bytes);
                        }
                    }
                    while b.poll_output().is_some() {}
                    b.pull_speaker(now, &mut speaker);
                    if a.poll_timeout().is_some_and(|t| t <= now) {
                        a.handle_timeout(now);
                    }
                    if b.poll_timeout().is_some_and(|t| t <= now) {
                        b.handle_timeout(now);
                    }
                }
                black_box(speaker[0])
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = codecs, call_second
}
criterion_main!(benches);
