//! G.711 companding, bit-exact with the ITU-T G.191 reference (the STL's `g711.c`:
//! `ulaw_compress`, `ulaw_expand`, `alaw_compress`, `alaw_expand`) for every 16-bit input and
//! every code.
//!
//! What Asterisk sends labelled 0x10 when `Dial(AudioSocket/...)` or `externalMedia` has no
//! `c(slin)`: one byte per sample at 8 kHz. The STL's conventions for 16-bit linear samples
//! hold: mu-law looks at the 14 most significant bits (`x >> 2`), A-law at the 12 most
//! significant (`x >> 4`); a negative sample is coded by its one's complement (-1 codes like 0
//! with the sign bit clear); expansion returns the middle of the decision interval, scaled to 16
//! bits.
//!
//! Table-driven: one lookup per sample into tables computed at compile time (16 KiB for mu-law
//! encoding, 4 KiB for A-law, 256 entries each to decode). [`Law::encode_into`] and
//! [`Law::decode_into`] write into the caller's buffer and never allocate. The twin of
//! `src/dsp/g711.ts`; both are checked against `__test__/fixtures/g711-vectors.json`, generated
//! by an independent reference (`__test__/fixtures/g711_reference.py`).

/// The two G.711 laws.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Law {
    /// mu-law (North America, Japan): `ulaw` in Asterisk.
    Ulaw,
    /// A-law (elsewhere): `alaw` in Asterisk.
    Alaw,
}

/// mu-law code of a 14-bit sample `t` (`x >> 2`): the segment from the magnitude biased by 33,
/// all bits but the sign inverted.
const fn ulaw_code(t: i32) -> u8 {
    let magnitude = if t < 0 { !t } else { t };
    let biased = if magnitude + 33 > 0x1fff {
        0x1fff
    } else {
        magnitude + 33
    };
    let segment = 31 - biased.leading_zeros() as i32 - 5; // 0..=7: biased is 33..=8191
    let mantissa = (biased >> (segment + 1)) & 0x0f;
    let sign = if t >= 0 { 0x80 } else { 0 };
    (sign | (0x7f ^ ((segment << 4) | mantissa))) as u8
}

/// A-law code of a 12-bit sample `t` (`x >> 4`): the segment from the magnitude's length, even
/// bits inverted.
const fn alaw_code(t: i32) -> u8 {
    let magnitude = if t < 0 { !t } else { t }; // 0..=2047
    let (segment, mantissa) = if magnitude < 16 {
        (0, magnitude)
    } else {
        let segment = 31 - magnitude.leading_zeros() as i32 - 3; // 16..=31 is segment 1
        (segment, (magnitude >> (segment - 1)) & 0x0f)
    };
    let sign = if t >= 0 { 0x80 } else { 0 };
    ((sign | (segment << 4) | mantissa) ^ 0x55) as u8
}

const fn ulaw_level(code: u8) -> i16 {
    let c = (!code & 0x7f) as i32;
    let segment = c >> 4;
    let level = ((((c & 0x0f) << 3) + 0x84) << segment) - 0x84;
    (if code & 0x80 != 0 { level } else { -level }) as i16
}

const fn alaw_level(code: u8) -> i16 {
    let c = (code ^ 0x55) as i32;
    let segment = (c >> 4) & 0x07;
    let mantissa = (c & 0x0f) << 4;
    let level = if segment == 0 {
        mantissa + 8
    } else {
        (mantissa + 0x108) << (segment - 1)
    };
    (if c & 0x80 != 0 { level } else { -level }) as i16
}

/// Encoder table indexed by the significant bits of a sample as an unsigned field
/// (`(x >> shift) & (N - 1)`): `N` is `1 << 14` for mu-law, `1 << 12` for A-law.
const fn encode_table<const N: usize>(law: Law) -> [u8; N] {
    let mut table = [0u8; N];
    let mut i = 0;
    while i < N {
        let t = if i < N / 2 {
            i as i32
        } else {
            i as i32 - N as i32
        };
        table[i] = match law {
            Law::Ulaw => ulaw_code(t),
            Law::Alaw => alaw_code(t),
        };
        i += 1;
    }
    table
}

const fn decode_table(law: Law) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = match law {
            Law::Ulaw => ulaw_level(code as u8),
            Law::Alaw => alaw_level(code as u8),
        };
        code += 1;
    }
    table
}

static ULAW_ENCODE: [u8; 1 << 14] = encode_table(Law::Ulaw);
static ALAW_ENCODE: [u8; 1 << 12] = encode_table(Law::Alaw);
static ULAW_DECODE: [i16; 256] = decode_table(Law::Ulaw);
static ALAW_DECODE: [i16; 256] = decode_table(Law::Alaw);

impl Law {
    /// The encoder table and the right shift that selects its index bits.
    fn encoder(self) -> (&'static [u8], u32) {
        match self {
            Law::Ulaw => (&ULAW_ENCODE, 2),
            Law::Alaw => (&ALAW_ENCODE, 4),
        }
    }

    fn decoder(self) -> &'static [i16; 256] {
        match self {
            Law::Ulaw => &ULAW_DECODE,
            Law::Alaw => &ALAW_DECODE,
        }
    }

    /// The code of one sample.
    #[must_use]
    pub fn encode_sample(self, x: i16) -> u8 {
        let (table, shift) = self.encoder();
        table[(x >> shift) as usize & (table.len() - 1)]
    }

    /// The sample of one code.
    #[must_use]
    pub fn decode_sample(self, code: u8) -> i16 {
        self.decoder()[usize::from(code)]
    }

    /// Encodes `pcm` into the start of `out` and returns `pcm.len()`. Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than `pcm`.
    pub fn encode_into(self, pcm: &[i16], out: &mut [u8]) -> usize {
        assert!(
            out.len() >= pcm.len(),
            "G.711 encode: the output holds {} bytes, {} are needed",
            out.len(),
            pcm.len()
        );
        let (table, shift) = self.encoder();
        let mask = table.len() - 1;
        for (code, &x) in out.iter_mut().zip(pcm) {
            *code = table[(x >> shift) as usize & mask];
        }
        pcm.len()
    }

    /// Decodes `codes` into the start of `out` and returns `codes.len()`. Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than `codes`.
    pub fn decode_into(self, codes: &[u8], out: &mut [i16]) -> usize {
        assert!(
            out.len() >= codes.len(),
            "G.711 decode: the output holds {} samples, {} are needed",
            out.len(),
            codes.len()
        );
        let table = self.decoder();
        for (x, &code) in out.iter_mut().zip(codes) {
            *x = table[usize::from(code)];
        }
        codes.len()
    }

    /// `pcm` encoded, in a new buffer.
    #[must_use]
    pub fn encode(self, pcm: &[i16]) -> Vec<u8> {
        let mut out = vec![0; pcm.len()];
        self.encode_into(pcm, &mut out);
        out
    }

    /// `codes` decoded, in a new buffer.
    #[must_use]
    pub fn decode(self, codes: &[u8]) -> Vec<i16> {
        let mut out = vec![0; codes.len()];
        self.decode_into(codes, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_values() {
        assert_eq!(Law::Ulaw.encode_sample(0), 0xff);
        assert_eq!(Law::Ulaw.encode_sample(-1), 0x7f);
        assert_eq!(Law::Ulaw.decode_sample(0x00), -32124);
        assert_eq!(Law::Alaw.encode_sample(0), 0xd5);
        assert_eq!(Law::Alaw.encode_sample(-1), 0x55);
        assert_eq!(Law::Alaw.decode_sample(0xaa), 32256);
    }

    #[test]
    fn decode_then_encode_gives_the_code_back() {
        for code in 0..=255u8 {
            for law in [Law::Ulaw, Law::Alaw] {
                let again = law.encode_sample(law.decode_sample(code));
                // mu-law has two zeros: 0x7f (-0) expands to 0, which encodes as 0xff (+0).
                let want = if law == Law::Ulaw && code == 0x7f {
                    0xff
                } else {
                    code
                };
                assert_eq!(again, want, "{law:?} code {code:#04x}");
            }
        }
    }

    #[test]
    fn buffers_agree_with_samples() {
        let pcm: Vec<i16> = (i16::MIN..=i16::MAX).step_by(7).collect();
        for law in [Law::Ulaw, Law::Alaw] {
            let codes = law.encode(&pcm);
            assert!(codes
                .iter()
                .zip(&pcm)
                .all(|(&c, &x)| c == law.encode_sample(x)));
            let back = law.decode(&codes);
            assert!(back
                .iter()
                .zip(&codes)
                .all(|(&x, &c)| x == law.decode_sample(c)));
        }
    }

    #[test]
    #[should_panic(expected = "the output holds 1 bytes, 2 are needed")]
    fn encode_into_refuses_a_short_output() {
        Law::Ulaw.encode_into(&[0, 0], &mut [0u8; 1]);
    }
}
