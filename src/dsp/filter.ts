import { AudioSocketError, ErrorCode } from '../errors';

/**
 * The anti-aliasing filter of the {@link Resampler}: a Kaiser-windowed sinc, cut into a
 * polyphase bank for a rational ratio.
 *
 * Converting `inputRate` to `outputRate` Hz is upsampling by `up` and downsampling by `down`
 * (the ratio reduced by its gcd: 44100 -> 48000 is 160/147). The prototype low-pass runs at the
 * virtual rate `up * inputRate`; its cut-off sits just below the lower of the two Nyquist
 * frequencies, so that nothing above it survives (images when upsampling, aliases when
 * downsampling). Specification, as measured by the tests (__test__/dsp/resampler.test.ts and
 * crate/engine/tests/dsp_vectors.rs):
 *
 * - passband flat within +-0.25 dB up to 0.85 x the lower Nyquist frequency;
 * - stopband from the lower Nyquist frequency on, attenuated >= 85 dB;
 * - a span of {@link SPAN} samples of the lower rate, so the delay is about 32 of those
 *   samples: 4 ms at 8 kHz, whatever the other rate.
 *
 * The arithmetic is part of the contract: the Rust twin (crate/engine/src/dsp/filter.rs)
 * performs the same IEEE-754 double operations in the same order, with sine and Bessel function
 * written out here from `+ - * /` and `sqrt` (correctly rounded in both languages) rather than
 * taken from the platform's math library, whose last bit varies. Both produce the same
 * coefficients bit for bit, so the resamplers produce the same samples.
 */

/** Length of the prototype filter, in samples of the lower rate: sets the transition width. */
const SPAN = 64;
/** Stopband attenuation the Kaiser window is designed for, in dB (Kaiser's formulas). */
const ATTENUATION_DB = 90;
/** Kaiser's beta for {@link ATTENUATION_DB}: 0.1102 (A - 8.7). */
const BETA = 0.1102 * (ATTENUATION_DB - 8.7);
/** Largest bank accepted (coefficients, 8 bytes each): 32 MiB. The ratios between AudioSocket and common app rates need at most 1.8 MiB. */
const MAX_COEFFICIENTS = 1 << 22;
/** Taps per phase are a multiple of this, the number of partial sums of the dot product. */
export const LANES = 8;

/** A polyphase bank for one pair of rates. Shared, never modified after design. */
export interface PolyphaseFilter {
  /** Interpolation factor L: `outputRate / gcd`. */
  readonly up: number;
  /** Decimation factor M: `inputRate / gcd`. */
  readonly down: number;
  /** Coefficients per phase (input samples per output sample), a multiple of {@link LANES}. */
  readonly taps: number;
  /** Group delay in output samples: an impulse at input 0 peaks at output `delay`. */
  readonly delay: number;
  /**
   * `up` phases of `taps` coefficients each, phase after phase. Within a phase, coefficient
   * `p` weighs the `p`-th of the `taps` input samples ending at the newest one the output
   * needs (oldest first). Unused leading taps are 0.
   */
  readonly bank: Float64Array;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate < 1 || rate > 0xffffffff) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `${name} is a whole number of Hz (1 to 4294967295), got ${rate}`);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The ratio `outputRate / inputRate` reduced: `[up, down]`. */
export function ratio(inputRate: number, outputRate: number): [number, number] {
  checkRate('inputRate', inputRate);
  checkRate('outputRate', outputRate);
  const g = gcd(inputRate, outputRate);
  return [outputRate / g, inputRate / g];
}

/**
 * sin(pi x) for x >= 0, to within a few ulps, from basic operations only: exact reduction
 * to [0, 1/2] (every step below is exact in binary floating point), then the Taylor series of
 * sin to z^27 in Horner form (error < 1e-20 for z <= pi/2).
 */
function sinPi(x: number): number {
  let r = x - 2 * Math.floor(x / 2); // [0, 2)
  let sign = 1;
  if (r >= 1) {
    r -= 1;
    sign = -1;
  }
  if (r > 0.5) r = 1 - r;
  const z = Math.PI * r;
  const z2 = z * z;
  let s = 1;
  for (let n = 13; n >= 1; n--) s = 1 - (z2 / (2 * n * (2 * n + 1))) * s;
  return sign * z * s;
}

/** sin(pi x) / (pi x). */
function sinc(x: number): number {
  if (x === 0) return 1;
  const a = Math.abs(x);
  return sinPi(a) / (Math.PI * a);
}

/** The modified Bessel function I0 by its power series, summed until terms stop counting. */
function besselI0(x: number): number {
  const q = (x / 2) * (x / 2);
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/**
 * Designs the bank converting `inputRate` to `outputRate` (different rates; see
 * {@link PolyphaseFilter}). Throws {@link ErrorCode.INVALID_ARGUMENT} for rates that are not
 * whole positive numbers of Hz, or whose ratio needs more than 4M coefficients (e.g. 44100 ->
 * 96001).
 */
export function designFilter(inputRate: number, outputRate: number): PolyphaseFilter {
  const [up, down] = ratio(inputRate, outputRate);
  if (up === down) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `no filter converts ${inputRate} Hz to itself`);
  }
  // The prototype runs at up * inputRate = down * outputRate; `wide` of its samples make one
  // sample at the lower rate.
  const wide = Math.max(up, down);
  const taps = Math.ceil(Math.ceil((SPAN * wide) / up) / LANES) * LANES;
  if (up * taps > MAX_COEFFICIENTS) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `${inputRate} -> ${outputRate} Hz reduces to ${up}/${down}: ${up * taps} coefficients, more than ${MAX_COEFFICIENTS}`,
    );
  }
  // The longest odd, symmetric filter that fits the bank and is centred on an output sample:
  // length 2 * delay * down + 1, so that the group delay is a whole `delay` output samples.
  const delay = Math.floor((taps * up - 1) / (2 * down));
  const center = delay * down;
  const length = 2 * center + 1;
  // Cut-off (as a fraction of the lower Nyquist frequency) half a transition band below it.
  // Kaiser: transition width = (A - 7.95) / (2.285 pi N) with N in samples of the lower rate.
  const cutoff = 1 - ((ATTENUATION_DB - 7.95) * wide) / (4.57 * Math.PI * length);

  const bank = new Float64Array(up * taps);
  let sum = 0;
  for (let j = 0; j < length; j++) {
    const t = j - center;
    const r = t / center;
    const h = sinc((cutoff * t) / wide) * besselI0(BETA * Math.sqrt(1 - r * r));
    sum += h;
    const phase = j % up;
    bank[phase * taps + taps - 1 - (j - phase) / up] = h;
  }
  // Unit gain at DC: each output sums one phase, and the phases together sum to `up`.
  const scale = up / sum;
  for (let i = 0; i < bank.length; i++) bank[i] = bank[i]! * scale;
  return { up, down, taps, delay, bank };
}
