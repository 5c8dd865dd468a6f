//! The `decoder` fuzz target: arbitrary bytes through the streaming [`Decoder`] in arbitrary
//! chunks.
//!
//! Input layout: one byte picks the payload limit, one byte the length `n` of a chunking
//! pattern, `n` bytes of pattern (each a chunk length, cycled), then the stream itself.
//!
//! Checked, for every input:
//!
//! - no panic, and the decoder's error is only ever `PayloadTooLarge`, raised by the first
//!   header over the limit (values above 65535 act as 65535);
//! - the chunked decode gives exactly what one `feed` of the whole stream gives, and both
//!   give what an independent index-based reference parser gives: the same messages (kind,
//!   payload bytes, classification), the same error, the same `buffered()`, the same
//!   `finish()`;
//! - every message is classified as this file's own reading of PROTOCOL.md says, and
//!   `Message::parse(kind, payload)` gives the message back;
//! - limits: no payload over the limit is delivered, `buffered()` never exceeds a header plus
//!   the payload it announced, a failed decoder delivers nothing more and repeats its error,
//!   and (with a heap probe) the decoder never holds more than twice the limit.

use crate::protocol::Decoder;
use crate::protocol::{
    is_dtmf_digit, DtmfState, ErrorCode, ForkDtmf, Kind, Message, ProtocolError, HEADER_LEN,
    MAX_PAYLOAD,
};

use super::{heap, Input};

/// A message as delivered, copied out of the callback.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Owned {
    kind: u8,
    payload: Vec<u8>,
}

/// What decoding a stream gave.
#[derive(PartialEq, Debug)]
struct Outcome {
    messages: Vec<Owned>,
    error: Option<ProtocolError>,
    buffered: usize,
    finish: Result<(), ProtocolError>,
}

/// An [`Outcome`] with its errors reduced to their codes.
type Codes = (Vec<Owned>, Option<ErrorCode>, usize, Result<(), ErrorCode>);

impl Outcome {
    fn codes(&self) -> Codes {
        (
            self.messages.clone(),
            self.error.as_ref().map(|e| e.code),
            self.buffered,
            self.finish.as_ref().map_err(|e| e.code).copied(),
        )
    }
}

/// The payload limits a fuzz input may choose from: the edges, typical frame sizes, the wire's
/// maximum and one above it.
const LIMITS: [usize; 8] = [0, 1, 3, 16, 320, 4096, MAX_PAYLOAD, 100_000];

/// Runs the checks of the module docs on one fuzz input.
///
/// # Panics
///
/// On the first broken invariant, with a message saying which.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let limit = input.pick(&LIMITS);
    let pattern_len = usize::from(input.byte() % 32);
    let pattern = input.take(pattern_len);
    let stream = input.rest();
    let effective = limit.min(MAX_PAYLOAD);

    let whole = decode(limit, &[stream]);
    let chunks = chunk(stream, pattern);
    let chunked = decode(limit, &chunks);
    assert_eq!(
        whole.codes(),
        reference(stream, effective),
        "one feed differs from the reference parser"
    );
    assert_eq!(chunked, whole, "chunked decode differs from one feed");
    if let Some(before) = heap() {
        held_memory(&chunks, limit, before);
    }
}

/// Cuts `stream` into pieces whose lengths cycle through `pattern` (a byte below 0x80 is a
/// length of 0..=127, empty feeds included; above, a multiple of 64); no pattern means one byte
/// at a time.
fn chunk<'a>(stream: &'a [u8], pattern: &[u8]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = stream;
    let mut i = 0;
    let mut empty_run = 0;
    while !rest.is_empty() {
        let len = match pattern.get(i % pattern.len().max(1)) {
            None => 1,
            Some(&b) if b < 0x80 => usize::from(b),
            Some(&b) => usize::from(b & 0x7f) * 64,
        };
        i += 1;
        // A pattern of zeros must still move on.
        empty_run = if len == 0 { empty_run + 1 } else { 0 };
        let len = if empty_run > 2 { 1 } else { len };
        let (head, tail) = rest.split_at(len.min(rest.len()));
        chunks.push(head);
        rest = tail;
    }
    chunks
}

/// Feeds `chunks` (the stream, cut) to a fresh decoder with `limit`, checking the
/// invariants that hold at every step.
fn decode(limit: usize, chunks: &[&[u8]]) -> Outcome {
    let effective = limit.min(MAX_PAYLOAD);
    let mut decoder = Decoder::with_max_payload(limit);
    assert_eq!(decoder.max_payload(), limit);
    let mut messages = Vec::new();
    let mut error = None;
    let mut fed = 0;
    for chunk in chunks {
        let result = decoder.feed(chunk, |msg| {
            check_message(&msg);
            assert!(
                msg.payload().len() <= effective,
                "a payload of {} bytes passed a limit of {limit}",
                msg.payload().len()
            );
            messages.push(Owned {
                kind: msg.kind().0,
                payload: msg.payload().to_vec(),
            });
        });
        fed += chunk.len();
        let buffered = decoder.buffered();
        assert!(buffered <= fed, "buffered {buffered} of {fed} bytes fed");
        assert!(
            buffered <= HEADER_LEN + effective,
            "buffered {buffered} bytes with a limit of {limit}"
        );
        if let Err(e) = result {
            assert_eq!(e.code, ErrorCode::PayloadTooLarge, "unexpected error {e:?}");
            assert_eq!(buffered, 0, "a failed decoder reports buffered bytes");
            // A failed decoder stays failed: same error, nothing delivered.
            for again in [&chunk[..], &[0x10, 0, 0], &[]] {
                let repeat = decoder.feed(again, |m| panic!("message {m:?} after the error"));
                assert_eq!(
                    repeat.as_ref(),
                    Err(&e),
                    "a failed decoder changed its error"
                );
            }
            error = Some(e);
            break;
        }
    }
    Outcome {
        messages,
        error,
        buffered: decoder.buffered(),
        finish: decoder.finish(),
    }
}

/// The stream read with indexes, the way PROTOCOL.md describes the framing, with no state
/// machine: what every chunking must give (errors by code: the wording is the decoder's).
fn reference(stream: &[u8], limit: usize) -> Codes {
    let mut messages = Vec::new();
    let mut at = 0;
    loop {
        let rest = &stream[at..];
        if rest.len() < HEADER_LEN {
            let finish = if rest.is_empty() {
                Ok(())
            } else {
                Err(ErrorCode::Truncated)
            };
            return (messages, None, rest.len(), finish);
        }
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        if len > limit {
            let error = ErrorCode::PayloadTooLarge;
            return (messages, Some(error), 0, Err(error));
        }
        if rest.len() < HEADER_LEN + len {
            return (messages, None, rest.len(), Err(ErrorCode::Truncated));
        }
        messages.push(Owned {
            kind: rest[0],
            payload: rest[HEADER_LEN..HEADER_LEN + len].to_vec(),
        });
        at += HEADER_LEN + len;
    }
}

/// Audio kinds and their rates as PROTOCOL.md gives them, written out here rather than asked of
/// [`Kind`]: the reference the checks (here and in `tests/properties.rs`) hold the library to.
pub const RATES: [(u8, u32); 9] = [
    (0x10, 8_000),
    (0x11, 12_000),
    (0x12, 16_000),
    (0x13, 24_000),
    (0x14, 32_000),
    (0x15, 44_100),
    (0x16, 48_000),
    (0x17, 96_000),
    (0x18, 192_000),
];

/// Checks a message's classification against PROTOCOL.md, independently of the library.
fn check_message(msg: &Message<'_>) {
    let kind = msg.kind().0;
    let payload = msg.payload();
    assert_eq!(
        Message::parse(Kind(kind), payload),
        *msg,
        "parse(kind, payload) does not give the message back"
    );
    let invalid = |code| Message::Invalid {
        kind: Kind(kind),
        payload,
        error: code,
    };
    let expected = match kind {
        0x00 => Message::Hangup { payload },
        0x01 => match <[u8; 16]>::try_from(payload) {
            Ok(_) => {
                assert!(matches!(msg, Message::Uuid(id) if id.as_bytes() == payload));
                return;
            }
            Err(_) => invalid(ErrorCode::BadUuid),
        },
        0x02 if payload.is_empty() => Message::Silence,
        0x02 => match *payload {
            [state @ (0 | 1), digit, d0, d1, d2, d3] if is_dtmf_digit(digit) => Message::Dtmf {
                kind: Kind(kind),
                digit,
                fork: Some(ForkDtmf {
                    state: if state == 1 {
                        DtmfState::Start
                    } else {
                        DtmfState::End
                    },
                    duration_ms: u32::from_le_bytes([d0, d1, d2, d3]),
                }),
                payload,
            },
            _ => invalid(ErrorCode::BadDtmf),
        },
        0x03 => match *payload {
            [digit] if b"0123456789*#ABCD".contains(&digit) => Message::Dtmf {
                kind: Kind(kind),
                digit,
                fork: None,
                payload,
            },
            _ => invalid(ErrorCode::BadDtmf),
        },
        0xff => Message::Error {
            code: payload.first().copied(),
            payload,
        },
        _ => match RATES.iter().find(|(k, _)| *k == kind) {
            Some(&(_, sample_rate)) => Message::Audio {
                kind: Kind(kind),
                sample_rate,
                payload,
            },
            None => Message::Unknown {
                kind: Kind(kind),
                payload,
            },
        },
    };
    assert_eq!(*msg, expected, "misclassified message");
}

/// With a heap probe: feeding never leaves the decoder holding more than its assembly buffer
/// for the largest payload allowed (twice, for the growth of a `Vec`) plus an error message.
fn held_memory(chunks: &[&[u8]], limit: usize, before: usize) {
    let bound = 2 * limit.min(MAX_PAYLOAD) + 1024;
    let mut decoder = Decoder::with_max_payload(limit);
    let mut count = 0usize;
    for chunk in chunks {
        let failed = decoder.feed(chunk, |_| count += 1).is_err();
        let now = heap().unwrap_or(before);
        assert!(
            now.saturating_sub(before) <= bound,
            "the decoder holds {} bytes with a limit of {limit}",
            now.saturating_sub(before)
        );
        if failed {
            break;
        }
    }
    drop(decoder);
    std::hint::black_box(count);
}
