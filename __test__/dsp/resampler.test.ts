import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Resampler, resample } from '../../src/dsp';
import { designFilter } from '../../src/dsp/filter';

/** Every AudioSocket and app rate. */
const RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 96000, 192000];
const PAIRS = RATES.flatMap((a) => RATES.map((b) => [a, b] as const));

// ---------------------------------------------------------------------------------------------
// Shared vectors: __test__/fixtures/resampler-vectors.json, also checked by cargo test
// (crate/engine/tests/dsp_vectors.rs). `AUDIOSOCKET_UPDATE_VECTORS=1 npx vitest run
// __test__/dsp/resampler.test.ts` rewrites it from this implementation; the Rust suite then says
// whether both still agree.

interface Chunking {
  input: number[];
  output: number[];
}
interface ResamplerVector {
  name: string;
  inputRate: number;
  outputRate: number;
  outputDelay: number;
  taps: number;
  /** FNV-1a (32-bit) of the bank's coefficients as little-endian doubles, hex. */
  bankFnv1a: string;
  input: string;
  output: string;
  chunkings: Chunking[];
}

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'resampler-vectors.json');

const CASES: [number, number][] = [
  [8000, 16000],
  [16000, 8000],
  [8000, 48000],
  [48000, 8000],
  [44100, 48000],
  [48000, 44100],
  [22050, 8000],
  [24000, 16000],
  [8000, 11025],
  [12000, 32000],
  [11025, 192000],
  [192000, 8000],
  [96000, 22050],
  [16000, 16000],
];

const CHUNKINGS: Chunking[] = [
  { input: [1], output: [1] },
  { input: [160], output: [7, 1000] },
  { input: [3, 0, 997, 17], output: [64, 1] },
  { input: [4096, 1], output: [5000] },
];

function toBase64(samples: Int16Array): string {
  const bytes = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => bytes.writeInt16LE(s, 2 * i));
  return bytes.toString('base64');
}

function fromBase64(text: string): Int16Array {
  const bytes = Buffer.from(text, 'base64');
  return Int16Array.from({ length: bytes.length / 2 }, (_, i) => bytes.readInt16LE(2 * i));
}

/** FNV-1a, 32-bit, of the doubles' little-endian bytes. */
function fnv1a(values: Float64Array): string {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => bytes.writeDoubleLE(v, 8 * i));
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/**
 * 50 ms of everything at once: a -6 dBFS sweep, white noise at -20 dBFS, a full-scale square
 * burst (its overshoot saturates), an impulse and silence. xorshift32 noise: reproducible.
 */
function testSignal(rate: number): Int16Array {
  const n = Math.round(rate * 0.05);
  const out = new Int16Array(n);
  let state = 0x2545f491;
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const noise = ((state >>> 0) / 2 ** 32 - 0.5) * 2 * 3277;
    const f = 50 + ((rate / 2 - 50) * i) / n;
    let v = 16384 * Math.sin((2 * Math.PI * f * i) / rate) + noise;
    if (i > 0.6 * n && i < 0.75 * n) v = (Math.floor((i * 500) / rate) % 2 ? -1 : 1) * 32767;
    if (i === Math.floor(0.8 * n)) v = 32767;
    if (i > 0.85 * n) v = 0;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

/** All of `input`, then the flush, with unlimited room: the reference output. */
function oneShot(resampler: Resampler, input: Int16Array): Int16Array {
  const out = new Int16Array(resampler.outputLength(input.length) + resampler.outputDelay);
  const { read, written } = resampler.processInto(input, out);
  expect(read).toBe(input.length);
  expect(written).toBe(out.length - resampler.flushLength());
  const tail = resampler.flush(out.subarray(written));
  expect(written + tail).toBe(out.length);
  return out;
}

/**
 * The vectors' chunked driving (README in fixtures/): input and output chunk sizes taken in
 * turn from their lists, cycling, until the input is consumed; then flush with the output sizes
 * until it returns 0.
 */
function chunked(resampler: Resampler, input: Int16Array, { input: ins, output: outs }: Chunking): Int16Array {
  const out: number[] = [];
  let pos = 0;
  let i = 0;
  let j = 0;
  // A whole cycle of both lists without progress would loop for ever: fail instead.
  let idle = 0;
  while (pos < input.length) {
    const n = ins[i++ % ins.length]!;
    const buffer = new Int16Array(outs[j++ % outs.length]!);
    const { read, written } = resampler.processInto(input.subarray(pos, pos + n), buffer);
    out.push(...buffer.subarray(0, written));
    pos += read;
    idle = read === 0 && written === 0 ? idle + 1 : 0;
    if (idle > ins.length * outs.length) throw new Error(`no progress at input ${pos} with chunks ${ins} / ${outs}`);
  }
  for (;;) {
    const buffer = new Int16Array(outs[j++ % outs.length]!);
    const written = resampler.flush(buffer);
    if (written === 0) break;
    out.push(...buffer.subarray(0, written));
  }
  return Int16Array.from(out);
}

function makeVector(inputRate: number, outputRate: number): ResamplerVector {
  const resampler = new Resampler(inputRate, outputRate);
  const input = testSignal(inputRate);
  return {
    name: `${inputRate} -> ${outputRate}`,
    inputRate,
    outputRate,
    outputDelay: resampler.outputDelay,
    taps: resampler.taps,
    bankFnv1a: inputRate === outputRate ? '' : fnv1a(designFilter(inputRate, outputRate).bank),
    input: toBase64(input),
    output: toBase64(oneShot(resampler, input)),
    chunkings: CHUNKINGS,
  };
}

if (process.env.AUDIOSOCKET_UPDATE_VECTORS === '1') {
  const doc = {
    about:
      'Shared resampler vectors: read by cargo test (crate/engine/tests/dsp_vectors.rs) and vitest (__test__/dsp/resampler.test.ts). Format: __test__/fixtures/README.md.',
    cases: CASES.map(([a, b]) => makeVector(a, b)),
  };
  writeFileSync(FIXTURE, `${JSON.stringify(doc, null, 1)}\n`);
}

const vectors: { cases: ResamplerVector[] } = JSON.parse(readFileSync(FIXTURE, 'utf8'));

function firstDifference(got: Int16Array, want: Int16Array): string | undefined {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `sample ${i}: got ${got[i]}, want ${want[i]}`;
  return undefined;
}

describe('shared vectors', () => {
  for (const v of vectors.cases) {
    it(v.name, () => {
      const resampler = new Resampler(v.inputRate, v.outputRate);
      expect(resampler.outputDelay).toBe(v.outputDelay);
      expect(resampler.taps).toBe(v.taps);
      if (v.bankFnv1a) expect(fnv1a(designFilter(v.inputRate, v.outputRate).bank)).toBe(v.bankFnv1a);
      const input = fromBase64(v.input);
      const want = fromBase64(v.output);
      expect(firstDifference(oneShot(resampler, input), want), 'one shot').toBeUndefined();
      for (const chunking of v.chunkings) {
        resampler.reset();
        expect(firstDifference(chunked(resampler, input, chunking), want), JSON.stringify(chunking)).toBeUndefined();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Streaming behaviour, every pair of rates.

describe('every pair of rates', () => {
  it('an impulse comes out where outputDelay says', () => {
    for (const [a, b] of PAIRS) {
      const resampler = new Resampler(a, b);
      const [up, down] = [b / gcd(a, b), a / gcd(a, b)];
      // An input instant that falls on an output sample: a multiple of `down`.
      const at = down * Math.ceil(300 / down);
      const input = new Int16Array(at + 400);
      input[at] = 20000;
      const out = oneShot(resampler, input);
      const peak = out.reduce((best, v, i) => (Math.abs(v) > Math.abs(out[best]!) ? i : best), 0);
      expect(peak, `${a} -> ${b}`).toBe(resampler.outputDelay + (at * up) / down);
    }
  });

  it('chunked output equals one-shot output, and lengths add up', () => {
    for (const [a, b] of PAIRS) {
      const input = testSignal(a).subarray(0, 1500);
      const resampler = new Resampler(a, b);
      const want = oneShot(resampler, input);
      expect(want.length, `${a} -> ${b}`).toBe(resampler.outputDelay + Math.ceil((input.length * b) / a));
      resampler.reset();
      expect(firstDifference(chunked(resampler, input, { input: [13, 160, 1], output: [29, 3] }), want)).toBeUndefined();
    }
  });

  it('DC passes at unit gain', () => {
    for (const [a, b] of PAIRS) {
      const out = resample(new Int16Array(a / 10).fill(10000), a, b);
      const middle = out.subarray(out.length / 4, (3 * out.length) / 4);
      expect(Math.min(...middle), `${a} -> ${b}`).toBeGreaterThanOrEqual(9999);
      expect(Math.max(...middle), `${a} -> ${b}`).toBeLessThanOrEqual(10001);
    }
  });

  it('chunked equals one-shot for any chunking (property)', () => {
    const pairs = fc.constantFrom(...PAIRS.filter(([a, b]) => a !== b && a <= 48000 && b <= 48000));
    // Empty input chunks are allowed, as long as some chunk feeds the resampler.
    const sizes = fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 6 }).filter((list) => list.some((n) => n > 0));
    const outSizes = fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(pairs, sizes, outSizes, ([a, b], input, output) => {
        const signal = testSignal(a).subarray(0, 900);
        const resampler = new Resampler(a, b);
        const want = oneShot(resampler, signal);
        resampler.reset();
        return firstDifference(chunked(resampler, signal, { input, output }), want) === undefined;
      }),
      { numRuns: 150 },
    );
  });
});

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

// ---------------------------------------------------------------------------------------------
// Quality, measured from the outside (bench/quality.mjs): the figures of issue 6.

describe('quality', () => {
  // An ES module shared with the codec benchmark: loaded dynamically from this CommonJS test.
  let measure: typeof import('../../bench/quality.mjs', { with: { 'resolution-mode': 'import' } }).measure;
  beforeAll(async () => {
    ({ measure } = await import('../../bench/quality.mjs'));
  });
  const convert = (a: number, b: number) => (input: Int16Array) => resample(input, a, b);

  it.each(PAIRS.filter(([a, b]) => a !== b))('%i -> %i Hz: THD+N, passband, stopband', (a, b) => {
    const q = measure(convert(a, b), a, b, { points: 6 });
    expect(q.thdN, 'THD+N (dB)').toBeLessThanOrEqual(-85);
    expect(Math.abs(q.passband), `passband deviation (dB) at ${q.passbandAt} Hz`).toBeLessThanOrEqual(0.5);
    expect(q.stopband, `stopband attenuation (dB) at ${q.stopbandAt} Hz`).toBeGreaterThanOrEqual(80);
  });

  it('the designed response of every pair: within 0.25 dB to 0.85 x Nyquist, >= 85 dB down from Nyquist on (FFT)', () => {
    for (const [a, b] of PAIRS.filter(([a, b]) => a !== b)) {
      const { up, bank, taps } = designFilter(a, b);
      // The prototype back out of the bank, at the virtual rate up * a, zero-padded 8 times so
      // that the FFT's bins land on the peaks of the stopband ripples.
      const size = 2 ** Math.ceil(Math.log2(8 * up * taps));
      const re = new Float64Array(size);
      const im = new Float64Array(size);
      for (let j = 0; j < up * taps; j++) re[j] = bank[(j % up) * taps + taps - 1 - Math.floor(j / up)]! / up;
      fft(re, im);
      const nyquist = Math.min(a, b) / 2;
      const binHz = (up * a) / size;
      let passband = 0;
      let stopband = -Infinity;
      for (let k = 0; k <= size / 2; k++) {
        const gain = 10 * Math.log10(re[k]! ** 2 + im[k]! ** 2);
        if (k * binHz <= 0.85 * nyquist) passband = Math.max(passband, Math.abs(gain));
        if (k * binHz >= nyquist) stopband = Math.max(stopband, gain);
      }
      expect(passband, `${a} -> ${b} passband (dB)`).toBeLessThanOrEqual(0.25);
      expect(stopband, `${a} -> ${b} stopband (dB)`).toBeLessThanOrEqual(-85);
    }
  });
});

/** In-place iterative radix-2 FFT (`re.length` a power of two). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let k = 0; k < len / 2; k++) {
      const wr = Math.cos(angle * k);
      const wi = Math.sin(angle * k);
      for (let i = k; i < n; i += len) {
        const j = i + len / 2;
        const tr = re[j]! * wr - im[j]! * wi;
        const ti = re[j]! * wi + im[j]! * wr;
        re[j] = re[i]! - tr;
        im[j] = im[i]! - ti;
        re[i] = re[i]! + tr;
        im[i] = im[i]! + ti;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// API edges.

describe('Resampler API', () => {
  it('resample() removes the delay: a tone keeps its phase', () => {
    const input = Int16Array.from({ length: 8000 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    const out = resample(input, 8000, 48000);
    expect(out.length).toBe(48000);
    for (const n of [6000, 24001, 40007]) {
      expect(Math.abs(out[n]! - 10000 * Math.sin((2 * Math.PI * 440 * n) / 48000))).toBeLessThan(3);
    }
  });

  it('equal rates copy, with no delay', () => {
    const resampler = new Resampler(16000, 16000);
    expect(resampler.outputDelay).toBe(0);
    const input = testSignal(16000);
    const out = new Int16Array(500);
    expect(resampler.processInto(input, out)).toEqual({ read: 500, written: 500 });
    expect(out).toEqual(input.subarray(0, 500));
    expect(resampler.flush(out)).toBe(0);
    expect(resample(input, 16000, 16000)).toEqual(input);
  });

  it('stops at a full output and takes the rest later; reuses its result object', () => {
    const resampler = new Resampler(8000, 16000);
    const first = resampler.processInto(new Int16Array(160), new Int16Array(10));
    expect(first.written).toBe(10);
    const second = resampler.processInto(new Int16Array(0), new Int16Array(1000));
    expect(second).toBe(first);
  });

  it('outputLength and flushLength predict what comes out', () => {
    const resampler = new Resampler(44100, 8000);
    const input = testSignal(44100);
    let total = 0;
    for (let at = 0; at < input.length; at += 441) {
      const expected = resampler.outputLength(441);
      const { read, written } = resampler.processInto(input.subarray(at, at + 441), new Int16Array(1000));
      expect([read, written]).toEqual([441, expected]);
      total += written;
    }
    const tail = resampler.flushLength();
    expect(resampler.flush(new Int16Array(1000))).toBe(tail);
    expect(total + tail).toBe(resampler.outputDelay + Math.ceil((input.length * 8000) / 44100));
    expect(resampler.flushLength()).toBe(0);
  });

  it('refuses rates that are not whole positive Hz, and ratios needing a huge bank', () => {
    for (const [a, b] of [
      [0, 8000],
      [8000, -1],
      [8000.5, 16000],
      [44100, 96001],
    ]) {
      expect(() => new Resampler(a!, b!), `${a} -> ${b}`).toThrow(
        expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }),
      );
    }
  });
});
