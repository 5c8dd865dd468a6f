// `npm run bench:codec`: the DSP of audiosocket/dsp side by side with what people use instead,
// per 20 ms frame, in one run:
//
// - G.711 (mu-law, A-law): ours in TypeScript and in Rust vs the npm package `alawmulaw`, with
//   a conformance check of each against ITU-T G.191 (all 65536 inputs, all 256 codes).
// - Resampling: ours in TypeScript and in Rust vs `@echogarden/speex-resampler-wasm` (the Speex
//   resampler compiled to WebAssembly; its default build, and its SIMD build for reference) at
//   quality 3. THD+N, passband and stopband of every resampler are measured here, on its own
//   output (bench/quality.mjs).
//
// Needs `npm run build` first (it imports dist/). The Rust numbers come from
// crate/engine/examples/codec_bench.rs, built and run with cargo (skipped without cargo).
//
//   node bench/codec.mjs [--pairs 8000:16000,16000:8000] [--rounds 31] [--frames 200] [--no-rust]
//
// Times are per 20 ms frame: the minimum and the median over `rounds` rounds of `frames` frames
// each. The implementations take turns round by round (Rust in a fresh process per round, after
// its own warm-up), so that all see the same state of a machine whose speed drifts. Lower is
// better; "streams/core" is how many real-time streams of that conversion one core could carry.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SpeexResampler from '@echogarden/speex-resampler-wasm';
import SpeexResamplerSimd from '@echogarden/speex-resampler-wasm/simd';
import { measure } from './quality.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const { values } = parseArgs({
  options: {
    pairs: {
      type: 'string',
      default: '8000:16000,16000:8000,8000:24000,24000:8000,8000:48000,48000:8000,16000:48000,22050:8000,44100:48000',
    },
    rounds: { type: 'string', default: '31' },
    frames: { type: 'string', default: '200' },
    'no-rust': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const FRAMES = Number(values.frames);
const PAIRS = values.pairs.split(',').map((p) => p.split(':').map(Number));
const COMMAND = `node bench/codec.mjs --pairs ${values.pairs} --rounds ${ROUNDS} --frames ${FRAMES}${values['no-rust'] ? ' --no-rust' : ''}`;

const distEntry = path.join(root, 'dist/dsp/index.js');
if (!existsSync(distEntry)) {
  console.error('dist/dsp is missing: run `npm run build` first.');
  process.exit(1);
}
const dsp = require(distEntry);
const alawmulaw = require('alawmulaw');

// ---------------------------------------------------------------------------------------------
// Measurement

/** 50 different 20 ms frames at `rate`: a 997 Hz tone at -6 dBFS plus a little noise (as the Rust side). */
function frames(rate) {
  const n = rate / 50;
  let state = 0x9e3779b9;
  const out = [];
  for (let k = 0; k < 50; k++) {
    const frame = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const noise = ((state >>> 0) % 2001) - 1000;
      frame[i] = Math.round(16384 * Math.sin((2 * Math.PI * 997 * (k * n + i)) / rate) + noise);
    }
    out.push(frame);
  }
  return out;
}

/**
 * Times each of `runs` (name -> (frameIndex) => void): warm-up, then `ROUNDS` rounds in which
 * every implementation runs `FRAMES` frames in turn, and `external()` (when given) runs one round
 * elsewhere and returns name -> ns per frame. Returns name -> {min, median} in ns per frame.
 */
function timeTogether(runs, external) {
  const entries = Object.entries(runs);
  for (const [, run] of entries) for (let i = 0; i < 300; i++) run(i % 50);
  const samples = new Map(entries.map(([name]) => [name, []]));
  const add = (name, ns) => samples.set(name, [...(samples.get(name) ?? []), ns]);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of entries) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < FRAMES; i++) run(i % 50);
      add(name, Number(process.hrtime.bigint() - start) / FRAMES);
    }
    for (const [name, ns] of Object.entries(external?.() ?? {})) add(name, ns);
  }
  return Object.fromEntries([...samples].map(([name, list]) => [name, summarize(list)]));
}

/** Minimum and median of per-frame times. */
function summarize(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[sorted.length >> 1] };
}

// ---------------------------------------------------------------------------------------------
// Speex (WebAssembly): one state per stream, buffers in the module's heap.

const speexModules = { default: await SpeexResampler(), simd: await SpeexResamplerSimd() };

function speexStream(module, inputRate, outputRate, maxInput) {
  const m = module;
  const error = m._malloc(4);
  const state = m._speex_resampler_init(1, inputRate, outputRate, 3, error);
  if (!state) throw new Error(`speex_resampler_init failed (${m.HEAP32[error >> 2]})`);
  const maxOutput = Math.ceil((maxInput * outputRate) / inputRate) + 64;
  const inPtr = m._malloc(maxInput * 2);
  const outPtr = m._malloc(maxOutput * 2);
  const lengths = m._malloc(8);
  /** Converts `input` (at most `maxInput` samples) into `output`; returns the samples written. */
  function processInto(input, output) {
    m.HEAP16.set(input, inPtr >> 1);
    m.HEAPU32[lengths >> 2] = input.length;
    m.HEAPU32[(lengths >> 2) + 1] = output.length;
    m._speex_resampler_process_int(state, 0, inPtr, lengths, outPtr, lengths + 4);
    const written = m.HEAPU32[(lengths >> 2) + 1];
    output.set(m.HEAP16.subarray(outPtr >> 1, (outPtr >> 1) + written));
    return written;
  }
  return {
    processInto,
    skipZeros: () => m._speex_resampler_skip_zeros(state),
    inputLatency: () => m._speex_resampler_get_input_latency(state),
    destroy() {
      m._speex_resampler_destroy(state);
      for (const p of [error, inPtr, outPtr, lengths]) m._free(p);
    },
  };
}

/** A whole buffer through Speex, its delay removed (skip_zeros, then zeros to flush): like our `resample`. */
function speexConvert(inputRate, outputRate) {
  return (input) => {
    const chunk = 4096;
    const stream = speexStream(speexModules.default, inputRate, outputRate, chunk);
    const length = Math.ceil((input.length * outputRate) / inputRate);
    const out = new Int16Array(length + Math.ceil((chunk * outputRate) / inputRate) + 64);
    const scratch = new Int16Array(Math.ceil((chunk * outputRate) / inputRate) + 64);
    let written = 0;
    stream.skipZeros();
    const feed = (part) => {
      const n = stream.processInto(part, scratch);
      out.set(scratch.subarray(0, Math.min(n, out.length - written)), written);
      written += n;
    };
    for (let at = 0; at < input.length; at += chunk) feed(input.subarray(at, at + chunk));
    for (let zeros = stream.inputLatency(); zeros > 0; zeros -= chunk) feed(new Int16Array(Math.min(chunk, zeros)));
    stream.destroy();
    return out.subarray(0, length);
  };
}

// ---------------------------------------------------------------------------------------------
// Rust, through the example binary.

let rust = null;
if (!values['no-rust']) {
  const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) {
    console.error('building the Rust side (cargo build --release --example codec_bench)...');
    const build = spawnSync(
      'cargo',
      ['build', '--release', '-q', '-p', 'audiosocket-engine', '--example', 'codec_bench'],
      { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (build.status === 0) rust = path.join(root, 'target/release/examples/codec_bench');
  }
  if (!rust) console.error('no Rust numbers: cargo is missing or the build failed.');
}

function runRust(args) {
  const result = spawnSync(rust, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`codec_bench ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * One round of the Rust binary (`g711` or `resample RATE:RATE`, after its own warm-up), for
 * {@link timeTogether}: a fresh process per round, so that its rounds interleave with the
 * JavaScript ones and all see the same state of the machine. Returns name -> ns per frame.
 */
function rustRound(args, name) {
  if (!rust) return undefined;
  return () =>
    Object.fromEntries(
      runRust([...args, '1', String(FRAMES)])
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .map((line) => [name(line), line.roundsNs[0]]),
    );
}

/** Converts every [inputRate, outputRate, input] with the Rust `resample`, in one process. */
function rustConvertAll(requests) {
  const dir = mkdtempSync(path.join(tmpdir(), 'audiosocket-codec-'));
  try {
    const parts = [];
    for (const [a, b, input] of requests) {
      const header = Buffer.alloc(12);
      header.writeUInt32LE(a, 0);
      header.writeUInt32LE(b, 4);
      header.writeUInt32LE(input.length, 8);
      parts.push(header, Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    }
    writeFileSync(path.join(dir, 'in'), Buffer.concat(parts));
    runRust(['convert', path.join(dir, 'in'), path.join(dir, 'out')]);
    const bytes = readFileSync(path.join(dir, 'out'));
    const outputs = [];
    for (let at = 0; at < bytes.length; ) {
      const n = bytes.readUInt32LE(at);
      at += 4;
      outputs.push(Int16Array.from({ length: n }, (_, i) => bytes.readInt16LE(at + 2 * i)));
      at += 2 * n;
    }
    return outputs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Output helpers

const fmt = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : v > 0 ? 'inf' : '-inf');
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('');
}

console.log(`# audiosocket/dsp codec benchmark\n`);
console.log(`node ${process.version}, ${ROUNDS} rounds of ${FRAMES} frames of 20 ms; times per frame (min / median).\n`);

// ---------------------------------------------------------------------------------------------
// G.711

{
  const vectors = JSON.parse(readFileSync(path.join(root, '__test__/fixtures/g711-vectors.json'), 'utf8'));
  const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  /** Mismatches of `encode` (all 65536 inputs) and `decode` (all 256 codes) against the G.191 vectors. */
  const conformance = (law, encode, decode) => {
    const wantCodes = Buffer.from(vectors[law].encode, 'base64');
    const wantSamples = Buffer.from(vectors[law].decode, 'base64');
    const gotCodes = encode(all);
    const gotSamples = decode(codes);
    let encodeMismatches = 0;
    let decodeMismatches = 0;
    for (let i = 0; i < 65536; i++) if (gotCodes[i] !== wantCodes[i]) encodeMismatches++;
    for (const c of codes) if (gotSamples[c] !== wantSamples.readInt16LE(2 * c)) decodeMismatches++;
    return encodeMismatches + decodeMismatches === 0
      ? 'yes'
      : `no: ${encodeMismatches} of 65536 inputs, ${decodeMismatches} of 256 codes differ`;
  };

  const pcm = frames(8000).map((f) => f.subarray(0, 160));
  const rows = [];
  for (const [law, ours, theirs] of [
    ['ulaw', dsp.ulaw, alawmulaw.mulaw],
    ['alaw', dsp.alaw, alawmulaw.alaw],
  ]) {
    const encoded = pcm.map((f) => ours.encode(f));
    const codesOut = new Uint8Array(160);
    const samplesOut = new Int16Array(160);
    const t = timeTogether(
      {
        tsEncodeInto: (i) => ours.encodeInto(pcm[i], codesOut),
        tsEncode: (i) => ours.encode(pcm[i]),
        alawmulawEncode: (i) => theirs.encode(pcm[i]),
        tsDecodeInto: (i) => ours.decodeInto(encoded[i], samplesOut),
        tsDecode: (i) => ours.decode(encoded[i]),
        alawmulawDecode: (i) => theirs.decode(encoded[i]),
      },
      rustRound(['g711'], (line) => `rust ${line.law} ${line.op}`),
    );
    const ns = (x) => (x ? `${fmt(x.min)} / ${fmt(x.median)}` : 'n/a');
    const rustNs = (op) => ns(t[`rust ${law} ${op}`]);
    rows.push([law, 'audiosocket TS, encodeInto / decodeInto', ns(t.tsEncodeInto), ns(t.tsDecodeInto), conformance(law, ours.encode, ours.decode)]);
    rows.push([law, 'audiosocket TS, encode / decode (allocating)', ns(t.tsEncode), ns(t.tsDecode), '(same code)']);
    rows.push([law, 'audiosocket Rust, encode_into / decode_into', rustNs('encode'), rustNs('decode'), 'yes (cargo test: dsp_vectors)']);
    rows.push([law, 'alawmulaw 6.0.0, encode / decode (allocating)', ns(t.alawmulawEncode), ns(t.alawmulawDecode), conformance(law, theirs.encode, theirs.decode)]);
  }
  console.log('## G.711, one 20 ms frame (160 samples at 8 kHz), ns\n');
  table(['law', 'implementation', 'encode ns', 'decode ns', 'bit-exact with G.191'], rows);
}

// ---------------------------------------------------------------------------------------------
// Resampling

const timingRows = [];
const qualityRows = [];
const verdicts = [];
for (const [a, b] of PAIRS) {
  const input = frames(a);
  const room = new Int16Array(b / 50 + 64);
  const ts = new dsp.Resampler(a, b);
  const speex = speexStream(speexModules.default, a, b, a / 50);
  const speexSimd = speexStream(speexModules.simd, a, b, a / 50);
  const t = timeTogether(
    {
      ts: (i) => ts.processInto(input[i], room),
      speex: (i) => speex.processInto(input[i], room),
      speexSimd: (i) => speexSimd.processInto(input[i], room),
    },
    rustRound(['resample', `${a}:${b}`], () => 'rust'),
  );
  speex.destroy();
  speexSimd.destroy();
  const rustT = t.rust;
  const us = (x) => (x ? `${fmt(x.min / 1000, 2)} / ${fmt(x.median / 1000, 2)}` : 'n/a');
  const streams = (x) => (x ? Math.floor(20e6 / x.median).toLocaleString('en') : 'n/a');
  const name = `${a} -> ${b}`;
  timingRows.push([name, us(rustT), us(t.ts), us(t.speex), us(t.speexSimd), streams(rustT), streams(t.ts), streams(t.speex)]);

  // Quality: the TypeScript pass records every input, so the Rust side converts the very same ones.
  const recorded = [];
  const tsQ = measure(
    (x) => {
      recorded.push(x);
      return dsp.resample(x, a, b);
    },
    a,
    b,
  );
  const speexQ = measure(speexConvert(a, b), a, b);
  let rustQ;
  let identical = 'n/a';
  if (rust) {
    const outputs = rustConvertAll(recorded.map((x) => [a, b, x]));
    let differing = 0;
    recorded.forEach((x, i) => {
      const mine = dsp.resample(x, a, b);
      const theirs = outputs[i];
      if (mine.length !== theirs.length || mine.some((v, k) => v !== theirs[k])) differing++;
    });
    identical = differing === 0 ? `yes (${recorded.length} signals)` : `NO: ${differing} of ${recorded.length} signals differ`;
    let next = 0;
    rustQ = measure(() => outputs[next++], a, b);
  }
  const q = (m) => (m ? `${fmt(m.thdN)} / ${fmt(Math.abs(m.passband), 2)} / ${fmt(m.stopband)} / ${fmt(m.stopbandFar)}` : 'n/a');
  qualityRows.push([name, q(rustQ), q(tsQ), q(speexQ), identical]);

  const better =
    tsQ.thdN <= speexQ.thdN && Math.abs(tsQ.passband) <= Math.abs(speexQ.passband) && tsQ.stopband >= speexQ.stopband;
  // Verdicts on the minimum (the least disturbed round of each); medians shown beside it.
  const ratio = (x, y) => `${fmt(x.min / y.min, 2)}x / ${fmt(x.median / y.median, 2)}x`;
  verdicts.push([
    name,
    rustT ? `${ratio(t.speex, rustT)} ${t.speex.min / rustT.min >= 2 ? 'ok' : 'MISSED'}` : 'n/a',
    `${ratio(t.ts, t.speex)} ${t.ts.min / t.speex.min <= 3 ? 'ok' : 'MISSED'}`,
    rustT ? ratio(t.speexSimd, rustT) : 'n/a',
    better ? 'ours equal or better on all three' : 'NOT better on all three',
    tsQ.thdN <= -85 && Math.abs(tsQ.passband) <= 0.5 && tsQ.stopband >= 80 ? 'met' : 'MISSED',
  ]);
}

console.log('## Resampling, one 20 ms frame, microseconds (min / median)\n');
table(
  ['conversion', 'audiosocket Rust', 'audiosocket TS', 'speex-wasm q3', 'speex-wasm q3 SIMD', 'streams/core Rust', 'TS', 'speex q3'],
  timingRows,
);
console.log('## Resampling quality, measured here on each output (bench/quality.mjs)\n');
console.log('THD+N dB (997 Hz, -6 dBFS) / |passband| dB (to 0.85 x lower Nyquist) / stopband dB (from the lower Nyquist) / stopband dB (from 1.1 x)\n');
table(['conversion', 'audiosocket Rust', 'audiosocket TS', 'speex-wasm q3', 'Rust output == TS output'], qualityRows);
console.log('## Targets (issue 6): speed ratios on min / median times, verdict on min\n');
table(
  ['conversion', 'speex q3 / Rust: >= 2x', 'TS / speex q3: <= 3x', 'speex q3 SIMD / Rust', 'quality vs speex q3', 'THD+N <= -85, +-0.5 dB, >= 80 dB'],
  verdicts,
);
console.log(`Rerun: npm run build && ${COMMAND}`);
