//! The shared DSP vectors, also run by the TypeScript implementation: both must agree sample for
//! sample. The format is described in `__test__/fixtures/README.md`.
//!
//! - `g711-vectors.json`: the code of every one of the 65536 inputs and the sample of every one
//!   of the 256 codes, per law, from an independent reference of ITU-T G.191
//!   (`__test__/fixtures/g711_reference.py`).
//! - `resampler-vectors.json`: inputs and expected outputs for several ratios, one shot and
//!   chunked in several ways, with the filter's delay, taps and a hash of its coefficients.

use audiosocket_engine::dsp::{filter, Law, Resampler};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../__test__/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut bits, mut count) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64 digit") as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn samples(text: &str) -> Vec<i16> {
    base64(text)
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn first_difference(got: &[i16], want: &[i16]) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!("length {}, want {}", got.len(), want.len()));
    }
    let i = got.iter().zip(want).position(|(g, w)| g != w)?;
    Some(format!("sample {i}: got {}, want {}", got[i], want[i]))
}

// ---------------------------------------------------------------------------------------------
// G.711

fn law(name: &str) -> Law {
    match name {
        "ulaw" => Law::Ulaw,
        "alaw" => Law::Alaw,
        other => panic!("unknown law {other}"),
    }
}

#[test]
fn g711_every_input_and_every_code() {
    let vectors = fixture("g711-vectors.json");
    let all: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let codes: Vec<u8> = (0..=255).collect();
    for name in ["ulaw", "alaw"] {
        let law = law(name);
        let want = base64(vectors[name]["encode"].as_str().expect("encode"));
        let mut got = vec![0u8; all.len()];
        assert_eq!(law.encode_into(&all, &mut got), 65536);
        if let Some(i) = got.iter().zip(&want).position(|(g, w)| g != w) {
            panic!(
                "{name} encode({}) = {:#04x}, want {:#04x}",
                all[i], got[i], want[i]
            );
        }
        assert_eq!(got.len(), want.len());

        let want = samples(vectors[name]["decode"].as_str().expect("decode"));
        let mut got = vec![0i16; 256];
        assert_eq!(law.decode_into(&codes, &mut got), 256);
        assert_eq!(first_difference(&got, &want), None, "{name} decode");
    }
    for known in vectors["known"].as_array().expect("known") {
        let law = law(known["law"].as_str().expect("law"));
        let (input, output) = (
            known["in"].as_i64().expect("in"),
            known["out"].as_i64().expect("out"),
        );
        let got = match known["op"].as_str().expect("op") {
            "encode" => i64::from(law.encode_sample(input as i16)),
            _ => i64::from(law.decode_sample(input as u8)),
        };
        assert_eq!(got, output, "{known}");
    }
}

// ---------------------------------------------------------------------------------------------
// Resampler

/// FNV-1a (32-bit) of the doubles' little-endian bytes, as the TypeScript test computes it.
fn fnv1a(values: &[f64]) -> String {
    let mut hash = 0x811c_9dc5u32;
    for byte in values.iter().flat_map(|v| v.to_le_bytes()) {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

/// All of `input`, then the flush, with unlimited room.
fn one_shot(resampler: &mut Resampler, input: &[i16]) -> Vec<i16> {
    let mut out = vec![0; resampler.output_len(input.len()) + resampler.output_delay()];
    let done = resampler.process_into(input, &mut out);
    assert_eq!(done.read, input.len());
    assert_eq!(done.written + resampler.flush_len(), out.len());
    let tail = resampler.flush(&mut out[done.written..]);
    assert_eq!(done.written + tail, out.len());
    out
}

/// The vectors' chunked driving: input and output chunk sizes taken in turn from their lists,
/// cycling, until the input is consumed; then flush with the output sizes until it returns 0.
fn chunked(resampler: &mut Resampler, input: &[i16], ins: &[usize], outs: &[usize]) -> Vec<i16> {
    let (mut out, mut pos) = (Vec::new(), 0);
    let mut sizes = outs.iter().cycle();
    let mut chunks = ins.iter().cycle();
    while pos < input.len() {
        let n = *chunks.next().expect("input sizes");
        let mut buffer = vec![0; *sizes.next().expect("output sizes")];
        let done = resampler.process_into(&input[pos..(pos + n).min(input.len())], &mut buffer);
        out.extend_from_slice(&buffer[..done.written]);
        pos += done.read;
    }
    loop {
        let mut buffer = vec![0; *sizes.next().expect("output sizes")];
        let written = resampler.flush(&mut buffer);
        if written == 0 {
            return out;
        }
        out.extend_from_slice(&buffer[..written]);
    }
}

fn sizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("sizes")
        .iter()
        .map(|n| n.as_u64().expect("size") as usize)
        .collect()
}

#[test]
fn resampler_vectors() {
    let vectors = fixture("resampler-vectors.json");
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10, "too few cases");
    let mut failures = Vec::new();
    for v in cases {
        let name = v["name"].as_str().expect("name");
        let rate = |k: &str| u32::try_from(v[k].as_u64().expect("rate")).expect("u32 rate");
        let (a, b) = (rate("inputRate"), rate("outputRate"));
        let mut resampler = Resampler::new(a, b).expect("rates");
        let mut check = |what: &str, ok: bool, detail: String| {
            if !ok {
                failures.push(format!("{name}: {what}: {detail}"));
            }
        };
        let delay = v["outputDelay"].as_u64().expect("outputDelay") as usize;
        check(
            "outputDelay",
            resampler.output_delay() == delay,
            format!("{} vs {delay}", resampler.output_delay()),
        );
        let taps = v["taps"].as_u64().expect("taps") as usize;
        check(
            "taps",
            resampler.taps() == taps,
            format!("{} vs {taps}", resampler.taps()),
        );
        let hash = v["bankFnv1a"].as_str().expect("bankFnv1a");
        if !hash.is_empty() {
            let got = fnv1a(&filter::design(a, b).expect("design").bank);
            check(
                "coefficients",
                got == hash,
                format!("fnv1a {got} vs {hash}"),
            );
        }
        let input = samples(v["input"].as_str().expect("input"));
        let want = samples(v["output"].as_str().expect("output"));
        let got = one_shot(&mut resampler, &input);
        check(
            "one shot",
            got == want,
            first_difference(&got, &want).unwrap_or_default(),
        );
        for chunking in v["chunkings"].as_array().expect("chunkings") {
            resampler.reset();
            let got = chunked(
                &mut resampler,
                &input,
                &sizes(&chunking["input"]),
                &sizes(&chunking["output"]),
            );
            check(
                &format!("chunked {chunking}"),
                got == want,
                first_difference(&got, &want).unwrap_or_default(),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{} resampler vectors passed", cases.len());
}
