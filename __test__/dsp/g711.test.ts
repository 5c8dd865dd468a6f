import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioSocketError } from '../../src/errors';
import { alaw, g711, ulaw, type G711Codec } from '../../src/dsp';

/** g711-vectors.json: every 16-bit input's code and every code's sample, per law (README in fixtures/). */
interface G711Vectors {
  ulaw: { encode: string; decode: string };
  alaw: { encode: string; decode: string };
  known: { law: 'ulaw' | 'alaw'; op: 'encode' | 'decode'; in: number; out: number }[];
}
const vectors: G711Vectors = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'fixtures', 'g711-vectors.json'), 'utf8'),
);

/** Every 16-bit sample, ascending from -32768: the order of the `encode` tables. */
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

function expectedCodes(codec: G711Codec): Uint8Array {
  return new Uint8Array(Buffer.from(vectors[codec.law].encode, 'base64'));
}

function expectedSamples(codec: G711Codec): Int16Array {
  const bytes = Buffer.from(vectors[codec.law].decode, 'base64');
  return Int16Array.from({ length: 256 }, (_, i) => bytes.readInt16LE(2 * i));
}

/** The first index where two arrays differ, for a readable failure. */
function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>): string | undefined {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `index ${i}: got ${got[i]}, want ${want[i]}`;
  return undefined;
}

describe.each([ulaw, alaw])('G.711 $law, bit-exact with the G.191 reference', (codec) => {
  it('encodes every one of the 65536 inputs as the reference does', () => {
    const codes = new Uint8Array(65536);
    expect(codec.encodeInto(ALL_SAMPLES, codes)).toBe(65536);
    expect(firstDifference(codes, expectedCodes(codec))).toBeUndefined();
    const one = Uint8Array.from(ALL_SAMPLES, (x) => codec.encodeSample(x));
    expect(firstDifference(one, codes)).toBeUndefined();
  });

  it('decodes every one of the 256 codes as the reference does', () => {
    const samples = new Int16Array(256);
    expect(codec.decodeInto(ALL_CODES, samples)).toBe(256);
    expect(firstDifference(samples, expectedSamples(codec))).toBeUndefined();
    expect(firstDifference(Int16Array.from(ALL_CODES, (c) => codec.decodeSample(c)), samples)).toBeUndefined();
  });

  it('agrees with the values published with G.711', () => {
    for (const v of vectors.known.filter((k) => k.law === codec.law)) {
      const got = v.op === 'encode' ? codec.encodeSample(v.in) : codec.decodeSample(v.in);
      expect(got, `${v.op}(${v.in})`).toBe(v.out);
    }
  });

  it('allocating variants equal the in-place ones, and write nothing past the input', () => {
    const pcm = ALL_SAMPLES.subarray(1000, 1160);
    const codes = codec.encode(pcm);
    expect(codes).toEqual(expectedCodes(codec).subarray(1000, 1160));
    expect(codec.decode(codes)).toEqual(Int16Array.from(codes, (c) => codec.decodeSample(c)));
    const roomy = new Uint8Array(200).fill(0xee);
    codec.encodeInto(pcm, roomy);
    expect([...roomy.subarray(160)].every((b) => b === 0xee)).toBe(true);
  });

  it('refuses an output shorter than the input', () => {
    expect(() => codec.encodeInto(new Int16Array(160), new Uint8Array(159))).toThrow(AudioSocketError);
    expect(() => codec.decodeInto(new Uint8Array(160), new Int16Array(159))).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }),
    );
  });

  it('is found by name', () => {
    expect(g711(codec.law)).toBe(codec);
  });
});

it('refuses an unknown law', () => {
  expect(() => g711('gsm' as 'ulaw')).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
});
