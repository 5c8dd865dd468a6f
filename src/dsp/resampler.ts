import { LANES, designFilter, ratio, type PolyphaseFilter } from './filter';

/** What one {@link Resampler.processInto} call did, in samples. */
export interface ProcessResult {
  /** Input samples consumed, from the start of `input`. */
  read: number;
  /** Output samples written, from the start of `output`. */
  written: number;
}

/** Input samples taken in between two compactions of the history buffer. */
const BLOCK = 4096;

/** Designs are immutable: one per pair of rates, shared by every resampler of that pair. */
const designs = new Map<string, PolyphaseFilter>();

function sharedDesign(inputRate: number, outputRate: number): PolyphaseFilter {
  const key = `${inputRate}:${outputRate}`;
  let design = designs.get(key);
  if (!design) {
    design = designFilter(inputRate, outputRate);
    designs.set(key, design);
  }
  return design;
}

/** Rounds half away from zero and saturates to 16 bits: the same rule as Rust's `f64::round`. */
function toSample(v: number): number {
  if (v >= 32767) return 32767;
  if (v <= -32768) return -32768;
  const r = Math.round(v); // ties toward +infinity: fix negative ties
  return v < 0 && r - v === 0.5 ? r - 1 : r;
}

/**
 * One output sample: the dot product of `taps` coefficients from `bank[c]` and input from
 * `buf[x]`, in 8 interleaved partial sums (`a<k>` takes every product `p` with `p % 8 == k`),
 * then even and odd partial sums reduced apart and added last: the order of the Rust twin.
 */
function dot(bank: Float64Array, c: number, buf: Float64Array, x: number, taps: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let a4 = 0;
  let a5 = 0;
  let a6 = 0;
  let a7 = 0;
  for (let end = x + taps; x < end; x += LANES, c += LANES) {
    a0 += bank[c]! * buf[x]!;
    a1 += bank[c + 1]! * buf[x + 1]!;
    a2 += bank[c + 2]! * buf[x + 2]!;
    a3 += bank[c + 3]! * buf[x + 3]!;
    a4 += bank[c + 4]! * buf[x + 4]!;
    a5 += bank[c + 5]! * buf[x + 5]!;
    a6 += bank[c + 6]! * buf[x + 6]!;
    a7 += bank[c + 7]! * buf[x + 7]!;
  }
  return toSample(((a0 + a2) + (a4 + a6)) + ((a1 + a3) + (a5 + a7)));
}

/**
 * Two outputs over the same input window (phases at `c` and `d`), each summed exactly as
 * {@link dot} does, into `output[at]` and `output[at + 1]`. Each partial sum only depends on its
 * own lane, so lanes 0-3 and 4-7 are taken in two passes: fewer live values, no register spills.
 */
function dot2(bank: Float64Array, c: number, d: number, buf: Float64Array, x: number, taps: number, output: Int16Array, at: number): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  for (let i = x, j = c, k = d, end = x + taps; i < end; i += LANES, j += LANES, k += LANES) {
    const x0 = buf[i]!;
    const x1 = buf[i + 1]!;
    const x2 = buf[i + 2]!;
    const x3 = buf[i + 3]!;
    a0 += bank[j]! * x0;
    a1 += bank[j + 1]! * x1;
    a2 += bank[j + 2]! * x2;
    a3 += bank[j + 3]! * x3;
    b0 += bank[k]! * x0;
    b1 += bank[k + 1]! * x1;
    b2 += bank[k + 2]! * x2;
    b3 += bank[k + 3]! * x3;
  }
  let a4 = 0;
  let a5 = 0;
  let a6 = 0;
  let a7 = 0;
  let b4 = 0;
  let b5 = 0;
  let b6 = 0;
  let b7 = 0;
  for (let i = x + 4, j = c + 4, k = d + 4, end = x + taps; i < end; i += LANES, j += LANES, k += LANES) {
    const x4 = buf[i]!;
    const x5 = buf[i + 1]!;
    const x6 = buf[i + 2]!;
    const x7 = buf[i + 3]!;
    a4 += bank[j]! * x4;
    a5 += bank[j + 1]! * x5;
    a6 += bank[j + 2]! * x6;
    a7 += bank[j + 3]! * x7;
    b4 += bank[k]! * x4;
    b5 += bank[k + 1]! * x5;
    b6 += bank[k + 2]! * x6;
    b7 += bank[k + 3]! * x7;
  }
  output[at] = toSample(((a0 + a2) + (a4 + a6)) + ((a1 + a3) + (a5 + a7)));
  output[at + 1] = toSample(((b0 + b2) + (b4 + b6)) + ((b1 + b3) + (b5 + b7)));
}

/**
 * Streaming sample-rate converter for mono PCM16: polyphase Kaiser-windowed sinc at any rational
 * ratio (every pair of AudioSocket and app rates: 8000, 11025, 12000, 16000, 22050, 24000,
 * 32000, 44100, 48000, 96000, 192000 Hz, and any other whole rates whose reduced ratio needs at
 * most 4M coefficients). Filter quality: see `filter.ts`.
 *
 * Streaming: feed input in chunks of any size; the output is the same, sample for sample, as
 * from one call with all of it, because each output sample depends only on the input before it
 * and the history is kept between calls. The output lags the input by {@link outputDelay}
 * samples; {@link flush} plays out the tail at the end of a stream, and {@link resample} does all
 * of it for a whole buffer.
 *
 * Arithmetic: doubles, the dot product of each output summed as {@link dot} says, then rounded
 * half away from zero and saturated. The Rust twin (crate/engine/src/dsp/resampler.rs)
 * performs the same operations in the same order, so both give the same samples
 * (__test__/fixtures/resampler-vectors.json).
 *
 * Real-time safety: the constructor allocates everything (the design is computed once per pair of
 * rates per process and shared). `processInto`, `flush`, `outputLength` and `reset` allocate
 * nothing: no arrays, no views, no result objects (`processInto` returns the same object every
 * time: read its fields before the next call). Cost per output sample: `taps` multiply-adds
 * (64 when upsampling, about 64 x input/output rate when downsampling).
 */
export class Resampler {
  /** Input sample rate, Hz. */
  readonly inputRate: number;
  /** Output sample rate, Hz. */
  readonly outputRate: number;
  /**
   * Delay of the output, in output samples: input sample `i` appears at output
   * `outputDelay + i * outputRate / inputRate`. 0 when the rates are equal.
   */
  readonly outputDelay: number;
  /** Multiply-adds per output sample: the filter's coefficients per phase (0 when the rates are equal). */
  readonly taps: number;

  readonly #up: number;
  readonly #stepWhole: number;
  readonly #stepFrac: number;
  readonly #down: number;
  /** `null` when the rates are equal: a plain copy. */
  readonly #bank: Float64Array | null;
  /** Input history as doubles: `taps - 1` samples of past, then what was taken since. */
  readonly #buf: Float64Array;
  /** Valid samples in #buf. */
  #fill = 0;
  /** Index in #buf of the newest input sample the next output needs. */
  #next = 0;
  /** Phase of the next output (0..up-1): which coefficients it uses. */
  #phase = 0;
  /** Output samples a flush still owes; -1 when no flush is under way. */
  #owed = -1;
  readonly #result: ProcessResult = { read: 0, written: 0 };

  /**
   * Throws `ERR_AUDIOSOCKET_INVALID_ARGUMENT` when a rate is not a whole number of Hz from 1 to
   * 4294967295, or when the reduced ratio needs more than 4M coefficients.
   */
  constructor(inputRate: number, outputRate: number) {
    const [up, down] = ratio(inputRate, outputRate);
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    // Every integer field is made a small integer (`| 0`; a design's factors are below 2^20),
    // so that all instances share one hidden class and the JIT's code stays specialised.
    if (up === down) {
      this.#up = 1;
      this.#down = 1;
      this.#stepWhole = 1;
      this.#stepFrac = 0;
      this.#bank = null;
      this.#buf = new Float64Array(0);
      this.outputDelay = 0;
      this.taps = 0;
      return;
    }
    const design = sharedDesign(inputRate, outputRate);
    this.#up = design.up | 0;
    this.#down = design.down | 0;
    this.#stepWhole = Math.floor(design.down / design.up) | 0;
    this.#stepFrac = design.down % design.up | 0;
    this.#bank = design.bank;
    this.taps = design.taps | 0;
    this.outputDelay = design.delay | 0;
    this.#buf = new Float64Array(design.taps + Math.max(BLOCK, design.taps));
    this.reset();
  }

  /**
   * Converts as much of `input` as `output` has room for: consumes input (`read`) and writes
   * every output sample it makes available (`written`), stopping when either runs out. Call
   * again with the rest of the input when `read < input.length`. Cancels a {@link flush} in
   * progress.
   */
  processInto(input: Int16Array, output: Int16Array): ProcessResult {
    this.#owed = -1;
    const result = this.#result;
    if (this.#bank === null) {
      const n = Math.min(input.length, output.length);
      for (let i = 0; i < n; i++) output[i] = input[i]!;
      result.read = n;
      result.written = n;
      return result;
    }
    let read = 0;
    let written = 0;
    for (;;) {
      written = this.#emit(output, written, output.length);
      // With the output full, input is still taken while no output is pending: input too short
      // to make an output (1 sample at 48 kHz to 8 kHz) must not be left unread by a caller that
      // sized the output with outputLength(), or it is lost.
      if (read === input.length || (written === output.length && this.#next < this.#fill)) break;
      read += this.#take(input, read);
    }
    result.read = read;
    result.written = written;
    return result;
  }

  /**
   * Output samples that `inputLength` more input samples would produce, given what is pending:
   * the room `processInto` needs to consume all of them in one call.
   */
  outputLength(inputLength: number): number {
    if (this.#bank === null) return inputLength;
    const ahead = (this.#fill + inputLength - this.#next) * this.#up - this.#phase;
    return ahead > 0 ? Math.floor((ahead + this.#down - 1) / this.#down) : 0;
  }

  /**
   * Ends the stream: writes what the input so far still owes (its pending samples and the
   * `outputDelay` samples of filter tail, as if silence followed) and returns how many it wrote.
   * With too small an `output`, call again until it returns less than `output.length`; it
   * returns 0 once all is out. {@link flushLength} is the room needed in one call. Afterwards,
   * {@link reset} before an unrelated stream (feeding more input continues after the silence
   * the tail assumed).
   */
  flush(output: Int16Array): number {
    if (this.#bank === null) return 0;
    if (this.#owed < 0) this.#owed = this.flushLength();
    let written = 0;
    while (this.#owed > 0 && written < output.length) {
      if (this.#next >= this.#fill) this.#takeSilence();
      const before = written;
      written = this.#emit(output, written, Math.min(output.length, written + this.#owed));
      this.#owed -= written - before;
    }
    return written;
  }

  /** Samples {@link flush} writes from here: pending output plus `outputDelay`. */
  flushLength(): number {
    if (this.#bank === null) return 0;
    return this.#owed >= 0 ? this.#owed : this.outputLength(0) + this.outputDelay;
  }

  /** Forgets the stream: history, position, flush. The next input starts a new stream. */
  reset(): void {
    if (this.#bank === null) return;
    const history = this.taps - 1;
    this.#buf.fill(0, 0, history);
    this.#fill = history;
    this.#next = history;
    this.#phase = 0;
    this.#owed = -1;
  }

  /**
   * Writes outputs from index `written` while their input is in the buffer, up to `limit`.
   * Upsampling and downsampling have a loop each, so that the JIT compiles each for its own case.
   */
  #emit(output: Int16Array, written: number, limit: number): number {
    return this.#stepWhole === 0 ? this.#emitUp(output, written, limit) : this.#emitDown(output, written, limit);
  }

  /**
   * Upsampling: consecutive outputs often use the same input window with different phases;
   * those are computed two at a time ({@link dot2}), loading the window once. Each output keeps
   * its own partial sums, so the result is the same as one at a time.
   */
  #emitUp(output: Int16Array, written: number, limit: number): number {
    const bank = this.#bank!;
    const buf = this.#buf;
    const taps = this.taps;
    const up = this.#up;
    const frac = this.#stepFrac;
    const fill = this.#fill;
    let next = this.#next;
    let phase = this.#phase;
    while (written < limit && next < fill) {
      const x = next + 1 - taps;
      const second = phase + frac;
      if (second < up && written + 1 < limit) {
        dot2(bank, phase * taps, second * taps, buf, x, taps, output, written);
        written += 2;
        phase = second + frac;
      } else {
        output[written++] = dot(bank, phase * taps, buf, x, taps);
        phase = second;
      }
      if (phase >= up) {
        phase -= up;
        next++;
      }
    }
    this.#next = next;
    this.#phase = phase;
    return written;
  }

  /** Downsampling: every output moves the window on by at least one input sample. */
  #emitDown(output: Int16Array, written: number, limit: number): number {
    const bank = this.#bank!;
    const buf = this.#buf;
    const taps = this.taps;
    const up = this.#up;
    const whole = this.#stepWhole;
    const frac = this.#stepFrac;
    const fill = this.#fill;
    let next = this.#next;
    let phase = this.#phase;
    while (written < limit && next < fill) {
      output[written++] = dot(bank, phase * taps, buf, next + 1 - taps, taps);
      phase += frac;
      next += whole;
      if (phase >= up) {
        phase -= up;
        next++;
      }
    }
    this.#next = next;
    this.#phase = phase;
    return written;
  }

  /** Makes room at the end of the buffer by dropping what no output needs any more. */
  #compact(): void {
    const start = this.#next + 1 - this.taps;
    this.#buf.copyWithin(0, start, this.#fill);
    this.#fill -= start;
    this.#next -= start;
  }

  /** Appends input from `from` on, as much as fits; returns how much. */
  #take(input: Int16Array, from: number): number {
    if (this.#fill === this.#buf.length) this.#compact();
    const buf = this.#buf;
    const fill = this.#fill;
    const n = Math.min(buf.length - fill, input.length - from);
    for (let i = 0; i < n; i++) buf[fill + i] = input[from + i]!;
    this.#fill = fill + n;
    return n;
  }

  /** Appends the zeros the next output needs (flush). */
  #takeSilence(): void {
    const need = this.#next + 1 - this.#fill;
    if (this.#fill + need > this.#buf.length) this.#compact();
    this.#buf.fill(0, this.#fill, this.#fill + need);
    this.#fill += need;
  }
}

/**
 * Converts a whole buffer (e.g. a TTS prompt) from `inputRate` to `outputRate` Hz, delay
 * removed: `ceil(input.length * outputRate / inputRate)` samples, output `n` aligned with input
 * time `n / outputRate`. For streams, use a {@link Resampler}.
 */
export function resample(input: Int16Array, inputRate: number, outputRate: number): Int16Array {
  const resampler = new Resampler(inputRate, outputRate);
  const delay = resampler.outputDelay;
  const length = resampler.outputLength(input.length);
  const all = new Int16Array(delay + length);
  const { written } = resampler.processInto(input, all);
  resampler.flush(all.subarray(written));
  return all.subarray(delay);
}
