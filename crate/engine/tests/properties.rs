//! Property test of the decoder against the encoders: random streams of messages of every kind,
//! encoded, concatenated, cut into random pieces and decoded, must give back the same messages in
//! the same order, whatever the cuts.
//!
//! The generator knows what each message must decode to without asking the library (its own rate
//! table, its own fork DTMF fields), so a classification bug cannot hide behind a matching
//! encoder bug.
//!
//! Reproduce a failure with the seed it prints: `AUDIOSOCKET_PROP_SEED=0x... cargo test -p
//! audiosocket-engine --test properties`. `AUDIOSOCKET_PROP_CASES` changes the number of streams.

// PROTOCOL.md's audio kinds and rates, independent of `Kind::sample_rate`.
use audiosocket_engine::fuzzing::decoder::RATES;
use audiosocket_engine::protocol::{
    encode_audio, encode_dtmf, encode_error, encode_hangup, encode_raw, encode_silence,
    encode_uuid, CallId, Decoder, DtmfState, ErrorCode, ForkDtmf, Kind, Message, MAX_PAYLOAD,
};

const DEFAULT_CASES: u64 = 100_000;
const BASE_SEED: u64 = 0x5eed_a0d1_050c_4e75;

/// SplitMix64: tiny, fast in debug builds, and good enough to drive a generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// A payload length: mostly frame-sized, sometimes up to the wire's limit.
    fn len(&mut self) -> usize {
        match self.below(1000) {
            0 => self.range(0, MAX_PAYLOAD),
            1..=9 => self.range(0, 8_000),
            10..=300 => self.range(0, 1_000),
            _ => self.range(0, 24),
        }
    }

    fn digit(&mut self) -> u8 {
        b"0123456789*#ABCD"[self.below(16)]
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// One generated message: what to encode, and what it must decode to.
#[derive(Debug)]
enum Gen {
    Hangup(Vec<u8>),
    Uuid([u8; 16]),
    Silence,
    Dtmf([u8; 1]),
    ForkDtmf {
        payload: [u8; 6],
        state: DtmfState,
        duration_ms: u32,
    },
    Audio {
        kind: u8,
        rate: u32,
        pcm: Vec<u8>,
    },
    Error(Vec<u8>),
    Unknown {
        kind: u8,
        payload: Vec<u8>,
    },
    Invalid {
        kind: u8,
        payload: Vec<u8>,
        error: ErrorCode,
    },
}

impl Gen {
    fn random(rng: &mut Rng) -> Gen {
        match rng.below(10) {
            0 => {
                let len = if rng.chance(80) { 0 } else { rng.range(1, 4) };
                Gen::Hangup(rng.bytes(len))
            }
            1 => {
                let mut id = [0; 16];
                id.copy_from_slice(&rng.bytes(16));
                Gen::Uuid(id)
            }
            2 => Gen::Silence,
            3 => Gen::Dtmf([rng.digit()]),
            4 => {
                let start = rng.chance(50);
                let duration_ms = match rng.below(4) {
                    0 => 0,
                    1 => u32::MAX,
                    _ => rng.next() as u32,
                };
                let mut payload = [u8::from(start), rng.digit(), 0, 0, 0, 0];
                payload[2..].copy_from_slice(&duration_ms.to_le_bytes());
                let state = if start {
                    DtmfState::Start
                } else {
                    DtmfState::End
                };
                Gen::ForkDtmf {
                    payload,
                    state,
                    duration_ms,
                }
            }
            5 | 6 => {
                let (kind, rate) = rng.pick(&RATES);
                let len = rng.len();
                Gen::Audio {
                    kind,
                    rate,
                    pcm: rng.bytes(len),
                }
            }
            7 => {
                let len = if rng.chance(70) { 1 } else { rng.range(0, 5) };
                Gen::Error(rng.bytes(len))
            }
            8 => {
                let kind = loop {
                    let k = rng.next() as u8;
                    if !matches!(k, 0x00..=0x03 | 0x10..=0x18 | 0xff) {
                        break k;
                    }
                };
                let len = rng.len();
                Gen::Unknown {
                    kind,
                    payload: rng.bytes(len),
                }
            }
            _ => Gen::invalid(rng),
        }
    }

    /// A known kind with a malformed payload: framed, reported, and the stream goes on.
    fn invalid(rng: &mut Rng) -> Gen {
        let (kind, payload, error) = match rng.below(5) {
            0 => {
                let len = loop {
                    let n = rng.range(0, 40);
                    if n != 16 {
                        break n;
                    }
                };
                (0x01, rng.bytes(len), ErrorCode::BadUuid)
            }
            1 => {
                let bad = loop {
                    let b = rng.next() as u8;
                    if !b"0123456789*#ABCD".contains(&b) {
                        break b;
                    }
                };
                (0x03, vec![bad], ErrorCode::BadDtmf)
            }
            2 => {
                let len = rng.pick(&[0, 2, 3, 8]);
                (0x03, vec![b'5'; len], ErrorCode::BadDtmf)
            }
            3 => {
                let len = loop {
                    let n = rng.range(1, 12);
                    if n != 6 {
                        break n;
                    }
                };
                (0x02, rng.bytes(len), ErrorCode::BadDtmf)
            }
            _ => {
                // Six bytes, but a bad state or a bad digit.
                let mut p = rng.bytes(6);
                if rng.chance(50) {
                    p[0] = rng.range(2, 255) as u8;
                    p[1] = rng.digit();
                } else {
                    p[0] = rng.below(2) as u8;
                    p[1] = b'a' + rng.below(4) as u8;
                }
                (0x02, p, ErrorCode::BadDtmf)
            }
        };
        Gen::Invalid {
            kind,
            payload,
            error,
        }
    }

    /// Encodes with the most specific builder that accepts the message.
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Gen::Hangup(p) if p.is_empty() => encode_hangup(out),
            Gen::Hangup(p) => encode_raw(out, 0x00, p).unwrap(),
            Gen::Uuid(id) => encode_uuid(out, &CallId(*id)),
            Gen::Silence => encode_silence(out),
            Gen::Dtmf([d]) => encode_dtmf(out, *d).unwrap(),
            Gen::ForkDtmf { payload, .. } => encode_raw(out, 0x02, payload).unwrap(),
            Gen::Audio { rate, pcm, .. } if !pcm.is_empty() && pcm.len().is_multiple_of(2) => {
                encode_audio(out, *rate, pcm).unwrap()
            }
            // What encode_audio refuses but Asterisk may send: empty and odd payloads.
            Gen::Audio { kind, pcm, .. } => encode_raw(out, *kind, pcm).unwrap(),
            Gen::Error(p) if p.len() == 1 => encode_error(out, p[0]),
            Gen::Error(p) => encode_raw(out, 0xff, p).unwrap(),
            Gen::Unknown { kind, payload } | Gen::Invalid { kind, payload, .. } => {
                encode_raw(out, *kind, payload).unwrap()
            }
        }
    }

    fn payload_len(&self) -> usize {
        match self {
            Gen::Silence => 0,
            Gen::Uuid(_) => 16,
            Gen::Dtmf(_) => 1,
            Gen::ForkDtmf { .. } => 6,
            Gen::Hangup(p) | Gen::Error(p) => p.len(),
            Gen::Audio { pcm: p, .. }
            | Gen::Unknown { payload: p, .. }
            | Gen::Invalid { payload: p, .. } => p.len(),
        }
    }

    fn expected(&self) -> Message<'_> {
        match self {
            Gen::Hangup(payload) => Message::Hangup { payload },
            Gen::Uuid(id) => Message::Uuid(CallId(*id)),
            Gen::Silence => Message::Silence,
            Gen::Dtmf(payload) => Message::Dtmf {
                kind: Kind(0x03),
                digit: payload[0],
                fork: None,
                payload,
            },
            Gen::ForkDtmf {
                payload,
                state,
                duration_ms,
            } => Message::Dtmf {
                kind: Kind(0x02),
                digit: payload[1],
                fork: Some(ForkDtmf {
                    state: *state,
                    duration_ms: *duration_ms,
                }),
                payload,
            },
            Gen::Audio { kind, rate, pcm } => Message::Audio {
                kind: Kind(*kind),
                sample_rate: *rate,
                payload: pcm,
            },
            Gen::Error(payload) => Message::Error {
                code: payload.first().copied(),
                payload,
            },
            Gen::Unknown { kind, payload } => Message::Unknown {
                kind: Kind(*kind),
                payload,
            },
            Gen::Invalid {
                kind,
                payload,
                error,
            } => Message::Invalid {
                kind: Kind(*kind),
                payload,
                error: *error,
            },
        }
    }
}

/// How the stream ends.
#[derive(Debug)]
enum Ending {
    /// After the last message: no error.
    Clean,
    /// Cut at this byte offset: `Truncated` unless it falls on a message boundary.
    CutAt(usize),
    /// A header announcing more than the decoder's limit, then some bytes that must be ignored.
    Oversize,
}

/// Cuts `len` bytes into chunk lengths, some of them empty, in one of several styles.
fn cuts(rng: &mut Rng, len: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    match rng.below(5) {
        0 => sizes.push(len),
        1..=3 => {
            let max = [4, 64, len.max(1)][rng.below(3)];
            let mut left = len;
            while left > 0 {
                let n = rng.range(0, max).min(left);
                sizes.push(n);
                left -= n;
            }
        }
        _ => {
            let mut points: Vec<usize> = (0..rng.range(0, 6)).map(|_| rng.range(0, len)).collect();
            points.sort_unstable();
            let mut last = 0;
            for p in points {
                sizes.push(p - last);
                last = p;
            }
            sizes.push(len - last);
        }
    }
    sizes
}

/// Checks one stream; returns (messages, bytes, feeds) for the summary.
fn check_stream(seed: u64) -> Result<(usize, usize, usize), String> {
    let rng = &mut Rng(seed);
    let gens: Vec<Gen> = (0..rng.range(0, 8)).map(|_| Gen::random(rng)).collect();

    let mut stream = Vec::new();
    // Offsets where each message ends, to know what a cut stream must still deliver.
    let mut ends = Vec::with_capacity(gens.len());
    for g in &gens {
        let before = stream.len();
        g.encode(&mut stream);
        if stream.len() != before + 3 + g.payload_len() {
            return Err(format!("{g:?} encoded to {} bytes", stream.len() - before));
        }
        ends.push(stream.len());
    }
    let largest = gens.iter().map(Gen::payload_len).max().unwrap_or(0);

    let ending = match rng.below(10) {
        0 | 1 if !stream.is_empty() => Ending::CutAt(rng.range(0, stream.len() - 1)),
        2 if largest < MAX_PAYLOAD => Ending::Oversize,
        _ => Ending::Clean,
    };
    let limit = match ending {
        Ending::Oversize => rng.range(largest, MAX_PAYLOAD - 1),
        _ if rng.chance(50) => MAX_PAYLOAD,
        // The limit itself must be accepted.
        _ => largest + rng.range(0, 2),
    };
    let mut decoder = if limit == MAX_PAYLOAD && rng.chance(50) {
        Decoder::new()
    } else {
        Decoder::with_max_payload(limit)
    };
    match ending {
        Ending::CutAt(at) => stream.truncate(at),
        Ending::Oversize => {
            // Just past the limit half the time: that is where an off-by-one would hide.
            let len = if rng.chance(50) {
                limit + 1
            } else {
                rng.range(limit + 1, MAX_PAYLOAD)
            };
            stream.push(rng.next() as u8);
            stream.extend_from_slice(&(len as u16).to_be_bytes());
            let garbage_len = rng.range(0, 10);
            let garbage = rng.bytes(garbage_len);
            stream.extend_from_slice(&garbage);
        }
        Ending::Clean => {}
    }
    let deliverable = ends.iter().filter(|&&end| end <= stream.len()).count();

    let mut index = 0;
    let mut mismatch = None;
    let mut fed = 0;
    let mut error = None;
    let sizes = cuts(rng, stream.len());
    let feeds = sizes.len();
    for size in sizes {
        let chunk = &stream[fed..fed + size];
        let result = decoder.feed(chunk, |msg| {
            if mismatch.is_none() {
                match gens[..deliverable].get(index) {
                    Some(g) if msg == g.expected() => {}
                    Some(g) => {
                        mismatch = Some(format!(
                            "message {index}: got {msg:?}, want {:?}",
                            g.expected()
                        ))
                    }
                    None => mismatch = Some(format!("extra message {index}: {msg:?}")),
                }
            }
            index += 1;
        });
        fed += size;
        if let Err(e) = result {
            error = Some(e);
            break;
        }
        let boundary = ends
            .iter()
            .rev()
            .find(|&&end| end <= fed)
            .copied()
            .unwrap_or(0);
        if decoder.buffered() != fed - boundary {
            return Err(format!(
                "after {fed} bytes buffered() is {}, want {}",
                decoder.buffered(),
                fed - boundary
            ));
        }
    }
    if let Some(m) = mismatch {
        return Err(m);
    }
    if index != deliverable {
        return Err(format!("got {index} messages, want {deliverable}"));
    }

    match ending {
        Ending::Clean => {
            if let Some(e) = error {
                return Err(format!("unexpected error {e:?}"));
            }
            decoder.finish().map_err(|e| format!("finish: {e:?}"))?;
        }
        Ending::CutAt(at) => {
            if let Some(e) = error {
                return Err(format!("unexpected error {e:?}"));
            }
            let on_boundary = at == 0 || ends.contains(&at);
            match (decoder.finish(), on_boundary) {
                (Ok(()), true) => {}
                (Err(e), false) if e.code == ErrorCode::Truncated => {}
                (other, _) => return Err(format!("cut at {at}: finish gave {other:?}")),
            }
        }
        Ending::Oversize => {
            let Some(e) = error else {
                return Err("oversize header was accepted".into());
            };
            if e.code != ErrorCode::PayloadTooLarge {
                return Err(format!("oversize header gave {e:?}"));
            }
            // Failed for good: later input is refused without delivering anything.
            let again = decoder.feed(&[0, 0, 0], |msg| {
                mismatch = Some(format!("after failure: {msg:?}"))
            });
            if again.as_ref().err() != Some(&e)
                || decoder.finish().err() != Some(e)
                || mismatch.is_some()
            {
                return Err(format!("decoder did not stay failed: {again:?}"));
            }
        }
    }
    Ok((deliverable, stream.len(), feeds))
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

#[test]
fn random_streams_decode_to_what_was_encoded() {
    if let Some(seed) = env_u64("AUDIOSOCKET_PROP_SEED") {
        if let Err(e) = check_stream(seed) {
            panic!("seed {seed:#018x}: {e}");
        }
        return;
    }
    let cases = env_u64("AUDIOSOCKET_PROP_CASES").unwrap_or(DEFAULT_CASES);
    let mut seeds = Rng(BASE_SEED);
    let (mut messages, mut bytes, mut feeds) = (0, 0, 0);
    for case in 0..cases {
        let seed = seeds.next();
        match check_stream(seed) {
            Ok((m, b, f)) => {
                messages += m;
                bytes += b;
                feeds += f;
            }
            Err(e) => panic!(
                "case {case}, seed {seed:#018x}: {e}\n\
                 reproduce with AUDIOSOCKET_PROP_SEED={seed:#018x} cargo test -p audiosocket-engine --test properties"
            ),
        }
    }
    println!("{cases} random streams decoded as encoded: {messages} messages, {bytes} bytes, {feeds} feeds");
}
