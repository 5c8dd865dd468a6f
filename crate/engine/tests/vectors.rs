//! The shared protocol vectors (`__test__/fixtures/protocol-vectors.json`), also run by the
//! TypeScript implementation: both must agree byte for byte. The format is described in
//! `__test__/fixtures/README.md`.
//!
//! Each test runs every vector of its section, collects the failures, and names them all.

use std::fmt::Write as _;

use audiosocket_engine::protocol::{
    encode_audio, encode_dtmf, encode_error, encode_hangup, encode_raw, encode_silence,
    encode_uuid, frame_bytes, pcm_frames, write_frame, CallId, Decoder, DtmfState, ErrorCode, Kind,
    Message, ProtocolError,
};
use serde_json::{json, Map, Value};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../__test__/fixtures/protocol-vectors.json"
));

fn section(name: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(VECTORS).expect("protocol-vectors.json is valid JSON");
    let vectors = all[name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name:?} section"))
        .clone();
    assert!(!vectors.is_empty(), "empty {name:?} section");
    vectors
}

fn hex_decode(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd hex length");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn name(v: &Value) -> String {
    v["name"].as_str().expect("vector has a name").to_owned()
}

/// Refuses fields this harness does not know, so that a vector format change cannot be
/// silently ignored here.
fn check_fields(v: &Value, known: &[&str]) -> Result<(), String> {
    let obj = v.as_object().ok_or("vector is not an object")?;
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown field {k:?}")),
        None => Ok(()),
    }
}

fn report(section: &str, total: usize, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} of {total} {section} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{total} {section} vectors passed");
}

// ---------------------------------------------------------------------------------------------
// decode

/// The canonical form of the README without `payload`, which is compared as bytes so that the
/// thousands of runs of a large vector do not each hex-encode it.
fn meta(msg: &Message<'_>) -> Value {
    let kind = msg.kind().0;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("kind", json!(kind));
    match *msg {
        Message::Hangup { .. } => put("type", json!("hangup")),
        Message::Uuid(id) => {
            put("type", json!("uuid"));
            put("id", json!(id.to_string()));
        }
        Message::Silence => put("type", json!("silence")),
        Message::Dtmf { digit, fork, .. } => {
            put("type", json!("dtmf"));
            put("digit", json!(char::from(digit).to_string()));
            if let Some(fork) = fork {
                let state = match fork.state {
                    DtmfState::Start => "start",
                    DtmfState::End => "end",
                };
                put("state", json!(state));
                put("durationMs", json!(fork.duration_ms));
            }
        }
        Message::Audio { sample_rate, .. } => {
            put("type", json!("audio"));
            put("sampleRate", json!(sample_rate));
        }
        Message::Error { code, .. } => {
            put("type", json!("error"));
            put("code", json!(code));
        }
        Message::Unknown { .. } => put("type", json!("unknown")),
        Message::Invalid { error, .. } => {
            put("type", json!("invalid"));
            put("error", json!(error.as_str()));
        }
    }
    Value::Object(m)
}

fn canonical(msg: &Message<'_>) -> Value {
    let mut v = meta(msg);
    v["payload"] = json!(hex_encode(msg.payload()));
    v
}

struct Expected {
    meta: Value,
    payload: Vec<u8>,
    json: Value,
}

fn expected_messages(v: &Value) -> Result<Vec<Expected>, String> {
    let list = v["messages"].as_array().ok_or("no messages array")?;
    list.iter()
        .map(|m| {
            let mut meta = m.clone();
            let payload = meta
                .as_object_mut()
                .and_then(|o| o.remove("payload"))
                .and_then(|p| p.as_str().map(hex_decode))
                .ok_or("message without a payload string")?;
            Ok(Expected {
                meta,
                payload,
                json: m.clone(),
            })
        })
        .collect()
}

/// Feeds `chunks` to a fresh decoder and compares everything that comes out with the vector.
fn decode_run(
    max: Option<usize>,
    chunks: &[&[u8]],
    expected: &[Expected],
    error: Option<&str>,
) -> Result<(), String> {
    let mut decoder = max.map_or_else(Decoder::new, Decoder::with_max_payload);
    let mut index = 0;
    let mut mismatch: Option<String> = None;
    let mut failure: Option<ProtocolError> = None;
    for chunk in chunks {
        let result = decoder.feed(chunk, |msg| {
            if mismatch.is_none() {
                match expected.get(index) {
                    Some(e) if meta(&msg) == e.meta && msg.payload() == e.payload.as_slice() => {}
                    Some(e) => {
                        mismatch = Some(format!(
                            "message {index}: got {}, want {}",
                            canonical(&msg),
                            e.json
                        ));
                    }
                    None => {
                        mismatch = Some(format!("unexpected message {index}: {}", canonical(&msg)))
                    }
                }
            }
            index += 1;
        });
        if let Err(err) = result {
            failure = Some(err);
            break;
        }
    }
    if let Some(m) = mismatch {
        return Err(m);
    }
    if index != expected.len() {
        return Err(format!("got {index} messages, want {}", expected.len()));
    }
    let failure = failure.or_else(|| decoder.finish().err());
    let got = failure.as_ref().map(|e| e.code.as_str());
    if got != error {
        return Err(format!(
            "error {got:?} ({:?}), want {error:?}",
            failure.map(|e| e.to_string())
        ));
    }
    Ok(())
}

fn decode_vector(v: &Value) -> Result<(), String> {
    check_fields(v, &["name", "hex", "maxPayload", "messages", "error"])?;
    let bytes = hex_decode(v["hex"].as_str().ok_or("no hex")?);
    let max = v
        .get("maxPayload")
        .map(|m| m.as_u64().expect("maxPayload is a number") as usize);
    let expected = expected_messages(v)?;
    let error = v
        .get("error")
        .map(|e| e.as_str().expect("error is a string"));

    decode_run(max, &[&bytes], &expected, error).map_err(|e| format!("whole: {e}"))?;
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    decode_run(max, &bytewise, &expected, error).map_err(|e| format!("one byte at a time: {e}"))?;
    for at in 0..=bytes.len() {
        let (a, b) = bytes.split_at(at);
        decode_run(max, &[a, b], &expected, error).map_err(|e| format!("split at {at}: {e}"))?;
    }
    Ok(())
}

#[test]
fn decode_vectors() {
    let vectors = section("decode");
    let failures = vectors
        .iter()
        .filter_map(|v| {
            decode_vector(v)
                .err()
                .map(|e| format!("  {:?}: {e}", name(v)))
        })
        .collect();
    report("decode", vectors.len(), failures);
}

// ---------------------------------------------------------------------------------------------
// encode

/// `payload` (hex) or `payloadFill` (that many zero bytes).
fn payload_of(m: &Value) -> Result<Vec<u8>, String> {
    match (m.get("payload"), m.get("payloadFill")) {
        (Some(p), None) => Ok(hex_decode(p.as_str().ok_or("payload is not a string")?)),
        (None, Some(n)) => Ok(vec![
            0;
            n.as_u64().ok_or("payloadFill is not a count")? as usize
        ]),
        _ => Err("want exactly one of payload and payloadFill".into()),
    }
}

fn int(m: &Value, field: &str) -> Result<i64, String> {
    m.get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("no integer {field:?}"))
}

fn bad<T>(e: String) -> T {
    panic!("malformed vector message: {e}")
}

fn arg_error(code: ErrorCode, what: &str) -> ProtocolError {
    ProtocolError::new(code, what)
}

/// Runs the builder a vector names. Where Rust's types already exclude an input (a DTMF digit
/// is one `u8`, an error code is a `u8`), the conversion from JSON stands in for the check the
/// TypeScript builder makes at run time, with the same code.
fn build(m: &Value) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    let ty = m["type"].as_str().expect("message has a type");
    match ty {
        "hangup" => encode_hangup(&mut out),
        "silence" => encode_silence(&mut out),
        "uuid" => {
            let id: CallId = m["id"].as_str().expect("uuid has an id").parse()?;
            encode_uuid(&mut out, &id);
        }
        "dtmf" => match m["digit"].as_str().expect("dtmf has a digit").as_bytes() {
            &[digit] => encode_dtmf(&mut out, digit)?,
            _ => {
                return Err(arg_error(
                    ErrorCode::BadDtmf,
                    "a DTMF digit is one character",
                ))
            }
        },
        "audio" => {
            let rate = int(m, "sampleRate").unwrap_or_else(bad);
            let rate =
                u32::try_from(rate).map_err(|_| arg_error(ErrorCode::BadSampleRate, "rate"))?;
            encode_audio(&mut out, rate, &payload_of(m).unwrap_or_else(bad))?;
        }
        "error" => {
            let code = int(m, "code").unwrap_or_else(bad);
            let code =
                u8::try_from(code).map_err(|_| arg_error(ErrorCode::InvalidArgument, "code"))?;
            encode_error(&mut out, code);
        }
        "raw" => {
            let kind = Kind::try_from(int(m, "kind").unwrap_or_else(bad))?;
            encode_raw(&mut out, kind.0, &payload_of(m).unwrap_or_else(bad))?;
        }
        other => panic!("unknown message type {other:?}"),
    }
    Ok(out)
}

fn encode_vector(v: &Value) -> Result<(), String> {
    check_fields(v, &["name", "message", "hex", "error"])?;
    let m = &v["message"];
    let result = build(m);
    match (v.get("hex"), v.get("error")) {
        (Some(hex), None) => {
            let mut want = hex_decode(hex.as_str().ok_or("hex is not a string")?);
            if let Some(n) = m.get("payloadFill") {
                want.resize(
                    want.len() + n.as_u64().ok_or("payloadFill is not a count")? as usize,
                    0,
                );
            }
            let got =
                result.map_err(|e| format!("failed with {} ({e}), want bytes", e.code.as_str()))?;
            if got != want {
                return Err(format!(
                    "got {}, want {}",
                    short_hex(&got),
                    short_hex(&want)
                ));
            }
            // The allocation-free writer must give the same bytes, and refuse one byte less.
            let mut dst = vec![0u8; got.len()];
            let n = write_frame(&mut dst, Kind(got[0]), &got[3..])
                .map_err(|e| format!("write_frame: {e}"))?;
            if n != got.len() || dst != got {
                return Err("write_frame wrote different bytes".into());
            }
            match write_frame(&mut dst[..n - 1], Kind(got[0]), &got[3..]) {
                Err(e) if e.code == ErrorCode::InvalidArgument => Ok(()),
                other => Err(format!(
                    "write_frame into too small a buffer gave {other:?}"
                )),
            }
        }
        (None, Some(error)) => match result {
            Err(e) if Some(e.code.as_str()) == error.as_str() => Ok(()),
            Err(e) => Err(format!("failed with {}, want {error}", e.code.as_str())),
            Ok(bytes) => Err(format!("built {}, want {error}", short_hex(&bytes))),
        },
        _ => Err("want exactly one of hex and error".into()),
    }
}

fn short_hex(bytes: &[u8]) -> String {
    if bytes.len() <= 32 {
        hex_encode(bytes)
    } else {
        format!("{}... ({} bytes)", hex_encode(&bytes[..32]), bytes.len())
    }
}

#[test]
fn encode_vectors() {
    let vectors = section("encode");
    let failures = vectors
        .iter()
        .filter_map(|v| {
            encode_vector(v)
                .err()
                .map(|e| format!("  {:?}: {e}", name(v)))
        })
        .collect();
    report("encode", vectors.len(), failures);
}

// ---------------------------------------------------------------------------------------------
// chunk

fn chunk_vector(v: &Value) -> Result<(), String> {
    check_fields(
        v,
        &["name", "sampleRate", "frameMs", "bytes", "frames", "error"],
    )?;
    let rate = u32::try_from(int(v, "sampleRate")?).map_err(|e| e.to_string())?;
    let ms = u32::try_from(int(v, "frameMs")?).map_err(|e| e.to_string())?;
    let pcm: Vec<u8> = (0..int(v, "bytes")?).map(|i| i as u8).collect();
    let result = pcm_frames(&pcm, rate, ms).map(|frames| frames.collect::<Vec<&[u8]>>());
    match (v.get("frames"), v.get("error")) {
        (Some(frames), None) => {
            let want: Vec<u64> = frames
                .as_array()
                .ok_or("frames is not an array")?
                .iter()
                .map(|n| n.as_u64().expect("frame size"))
                .collect();
            let frames = result.map_err(|e| format!("failed with {} ({e})", e.code.as_str()))?;
            let got: Vec<u64> = frames.iter().map(|f| f.len() as u64).collect();
            if got != want {
                return Err(format!("frames {got:?}, want {want:?}"));
            }
            if frames.concat() != pcm {
                return Err("frames do not reassemble the input".into());
            }
            let size = frame_bytes(rate, ms).map_err(|e| e.to_string())?;
            if frames.iter().rev().skip(1).any(|f| f.len() != size) {
                return Err(format!(
                    "a frame before the last is not frame_bytes = {size}"
                ));
            }
            Ok(())
        }
        (None, Some(error)) => match result {
            Err(e) if Some(e.code.as_str()) == error.as_str() => Ok(()),
            Err(e) => Err(format!("failed with {}, want {error}", e.code.as_str())),
            Ok(frames) => Err(format!("gave {} frames, want {error}", frames.len())),
        },
        _ => Err("want exactly one of frames and error".into()),
    }
}

#[test]
fn chunk_vectors() {
    let vectors = section("chunk");
    let failures = vectors
        .iter()
        .filter_map(|v| {
            chunk_vector(v)
                .err()
                .map(|e| format!("  {:?}: {e}", name(v)))
        })
        .collect();
    report("chunk", vectors.len(), failures);
}

#[test]
fn vector_names_are_unique() {
    for s in ["decode", "encode", "chunk"] {
        let mut names: Vec<String> = section(s).iter().map(name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "duplicate names in {s:?}");
    }
}
