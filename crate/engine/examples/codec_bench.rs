//! The Rust side of `npm run bench:codec` (bench/codec.mjs runs it; the napi binding does not
//! expose the DSP yet). Two modes:
//!
//! - `codec_bench g711 ROUNDS FRAMES` and `codec_bench resample RATE:RATE ROUNDS FRAMES`: time
//!   G.711 or one conversion per 20 ms frame, exactly as bench/codec.mjs times the JavaScript
//!   codecs (warm-up, then `ROUNDS` rounds of `FRAMES` frames), and print one JSON object per
//!   line with the nanoseconds per frame of every round. The benchmark runs each of them before
//!   and after timing the JavaScript codecs, so that all see the same state of the machine.
//! - `codec_bench convert IN OUT`: resamples every record of `IN` with [`resample`] and writes
//!   the results to `OUT`, so that the benchmark measures the quality of the Rust output with
//!   the same code as the others. A record is `u32 input rate, u32 output rate, u32 n, n i16`,
//!   all little-endian; an output record is `u32 n, n i16`.
//!
//! Run it through `npm run bench:codec`, or alone:
//! `cargo run --release -p audiosocket-engine --example codec_bench -- resample 8000:16000 31 200`.

use std::hint::black_box;
use std::time::Instant;

use audiosocket_engine::dsp::{resample, Law, Resampler};

/// 50 different 20 ms frames at `rate`: a 997 Hz tone at -6 dBFS plus a little noise.
fn frames(rate: u32) -> Vec<Vec<i16>> {
    let n = rate as usize / 50;
    let mut state = 0x9e37_79b9u32;
    (0..50)
        .map(|k| {
            (0..n)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let t = (k * n + i) as f64 / f64::from(rate);
                    let noise = f64::from(state % 2001) - 1000.0;
                    (16384.0 * (2.0 * std::f64::consts::PI * 997.0 * t).sin() + noise).round()
                        as i16
                })
                .collect()
        })
        .collect()
}

/// Nanoseconds per frame of `run(frame_index)` in each round, after a warm-up.
fn time(rounds: usize, frames: usize, mut run: impl FnMut(usize)) -> String {
    for i in 0..300 {
        run(i % 50);
    }
    let per_frame: Vec<String> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for i in 0..frames {
                run(i % 50);
            }
            format!("{:.1}", start.elapsed().as_nanos() as f64 / frames as f64)
        })
        .collect();
    format!("[{}]", per_frame.join(","))
}

fn bench_g711(rounds: usize, frame_count: usize) {
    let pcm = frames(8000);
    let mut codes = [0u8; 160];
    let mut back = [0i16; 160];
    for law in [Law::Ulaw, Law::Alaw] {
        let name = if law == Law::Ulaw { "ulaw" } else { "alaw" };
        let ns = time(rounds, frame_count, |i| {
            black_box(law.encode_into(black_box(&pcm[i]), black_box(&mut codes)));
        });
        println!(r#"{{"law":"{name}","op":"encode","roundsNs":{ns}}}"#);
        let encoded: Vec<Vec<u8>> = pcm.iter().map(|f| law.encode(f)).collect();
        let ns = time(rounds, frame_count, |i| {
            black_box(law.decode_into(black_box(&encoded[i]), black_box(&mut back)));
        });
        println!(r#"{{"law":"{name}","op":"decode","roundsNs":{ns}}}"#);
    }
}

fn bench_resample(pair: &str, rounds: usize, frame_count: usize) {
    let (a, b) = pair.split_once(':').expect("RATE:RATE");
    let (a, b): (u32, u32) = (a.parse().expect("rate"), b.parse().expect("rate"));
    let input = frames(a);
    let mut resampler = Resampler::new(a, b).expect("rates");
    let mut out = vec![0i16; b as usize / 50 + 8];
    let ns = time(rounds, frame_count, |i| {
        black_box(resampler.process_into(black_box(&input[i]), black_box(&mut out)));
    });
    println!(r#"{{"from":{a},"to":{b},"roundsNs":{ns}}}"#);
}

fn convert(input: &str, output: &str) {
    let bytes = std::fs::read(input).expect("read the requests");
    let mut out = Vec::new();
    let mut at = 0;
    let word = |at: &mut usize| {
        let w = u32::from_le_bytes(bytes[*at..*at + 4].try_into().expect("4 bytes"));
        *at += 4;
        w
    };
    while at < bytes.len() {
        let (a, b, n) = (word(&mut at), word(&mut at), word(&mut at) as usize);
        let pcm: Vec<i16> = bytes[at..at + 2 * n]
            .chunks_exact(2)
            .map(|s| i16::from_le_bytes([s[0], s[1]]))
            .collect();
        at += 2 * n;
        let converted = resample(&pcm, a, b).expect("rates");
        out.extend_from_slice(&(converted.len() as u32).to_le_bytes());
        out.extend(converted.iter().flat_map(|s| s.to_le_bytes()));
    }
    std::fs::write(output, out).expect("write the results");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["g711", rounds, frames] => {
            bench_g711(
                rounds.parse().expect("ROUNDS"),
                frames.parse().expect("FRAMES"),
            );
        }
        ["resample", pair, rounds, frames] => bench_resample(
            pair,
            rounds.parse().expect("ROUNDS"),
            frames.parse().expect("FRAMES"),
        ),
        ["convert", input, output] => convert(input, output),
        _ => {
            eprintln!("usage: codec_bench g711 ROUNDS FRAMES | resample RATE:RATE ROUNDS FRAMES | convert IN OUT");
            std::process::exit(2);
        }
    }
}
