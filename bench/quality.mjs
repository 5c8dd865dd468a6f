// Resampler quality, measured from the outside: any converter `(Int16Array) => Int16Array` from
// `inputRate` to `outputRate` Hz, fed test tones and analysed here. Shared by the codec benchmark
// (bench/codec.mjs, every resampler side by side) and the tests (__test__/dsp/resampler.test.ts).
//
// - THD+N: a 997 Hz tone at -6 dBFS; everything in the output but that tone (least-squares fit
//   of the tone and DC over the steady state), relative to the tone, in dB over the whole
//   output band.
// - Passband: tones from 100 Hz to 0.85 x the lower Nyquist frequency; the largest deviation
//   of the gain from 0 dB.
// - Stopband: how far below the input tone anything lands beyond the lower Nyquist frequency:
//   upsampling, tones up to 0.995 x the input Nyquist and all their images (k fs_in +- f);
//   downsampling, tones from the output Nyquist to 0.995 x the input Nyquist and their alias.
//   The worst case over the sweep, in dB of attenuation.
//
// Tone amplitudes come from a DFT at the exact frequency under a Kaiser window (beta 20:
// side lobes below -140 dB), so a strong tone never leaks into the measurement of a weak
// image beside it, and the 16-bit noise floor of a measurement is about -125 dB.

/** Amplitude of -6 dBFS, the level of every test tone. */
export const LEVEL = 32768 * 10 ** (-6 / 20);

/** `seconds` of a sine at `frequency` Hz and amplitude `amplitude`, rounded to 16 bits. */
export function tone(frequency, rate, seconds, amplitude = LEVEL) {
  const out = new Int16Array(Math.round(rate * seconds));
  const w = (2 * Math.PI * frequency) / rate;
  for (let n = 0; n < out.length; n++) out[n] = Math.round(amplitude * Math.sin(w * n));
  return out;
}

function besselI0(x) {
  const q = (x / 2) * (x / 2);
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

const windows = new Map();

/** Kaiser window (beta 20) of `length` samples, cached. */
function kaiser(length) {
  let w = windows.get(length);
  if (!w) {
    w = new Float64Array(length);
    for (let n = 0; n < length; n++) {
      const r = (2 * n) / (length - 1) - 1;
      w[n] = besselI0(20 * Math.sqrt(Math.max(0, 1 - r * r)));
    }
    windows.set(length, w);
  }
  return w;
}

/**
 * Amplitude of the component at exactly `frequency` Hz in `signal[from..to)`: a Kaiser-windowed
 * DFT at that one frequency (the oscillator is a rotation, renormalised as it goes).
 */
export function amplitude(signal, rate, frequency, from, to) {
  const w = kaiser(to - from);
  const omega = (2 * Math.PI * frequency) / rate;
  const stepC = Math.cos(omega);
  const stepS = Math.sin(omega);
  let c = 1;
  let s = 0;
  let re = 0;
  let im = 0;
  let gain = 0;
  for (let n = from; n < to; n++) {
    const v = signal[n] * w[n - from];
    re += v * c;
    im += v * s;
    gain += w[n - from];
    const c2 = c * stepC - s * stepS;
    s = s * stepC + c * stepS;
    c = c2;
    if ((n & 1023) === 0) {
      const norm = Math.hypot(c, s);
      c /= norm;
      s /= norm;
    }
  }
  return (2 * Math.hypot(re, im)) / gain;
}

/** THD+N of `signal[from..to)` around a tone at `frequency` Hz, in dB (least-squares notch). */
export function thdN(signal, rate, frequency, from, to) {
  const omega = (2 * Math.PI * frequency) / rate;
  // Normal equations of x[n] ~ a cos + b sin + c.
  const s = new Float64Array(9);
  const t = new Float64Array(3);
  for (let n = from; n < to; n++) {
    const basis = [Math.cos(omega * n), Math.sin(omega * n), 1];
    for (let i = 0; i < 3; i++) {
      t[i] += basis[i] * signal[n];
      for (let j = 0; j < 3; j++) s[3 * i + j] += basis[i] * basis[j];
    }
  }
  const [a, b, c] = solve3(s, t);
  let residual = 0;
  for (let n = from; n < to; n++) {
    const e = signal[n] - (a * Math.cos(omega * n) + b * Math.sin(omega * n) + c);
    residual += e * e;
  }
  const tonePower = (a * a + b * b) / 2;
  return 10 * Math.log10(residual / (to - from) / tonePower);
}

/** Solves the 3x3 system `m x = v` (Cramer's rule; the systems here are well conditioned). */
function solve3(m, v) {
  const det = (a) =>
    a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);
  const d = det(m);
  return [0, 1, 2].map((col) => {
    const a = Float64Array.from(m);
    for (let row = 0; row < 3; row++) a[3 * row + col] = v[row];
    return det(a) / d;
  });
}

/** The steady state of `seconds` of output: the middle, clear of start-up and end transients. */
function steady(rate, seconds) {
  const margin = Math.round(rate * Math.min(0.05, seconds / 8));
  return [margin, Math.round(rate * seconds) - margin];
}

const dB = (ratio) => 20 * Math.log10(ratio);

/** Where a tone at `f` Hz lands beyond the lower Nyquist frequency, and whether that is 1.1 x past it. */
function leaks(f, inputRate, outputRate) {
  const nyquist = Math.min(inputRate, outputRate) / 2;
  const out = [];
  if (outputRate > inputRate) {
    // Images of the input spectrum around every multiple of the input rate.
    for (let m = 1; m * inputRate - f < outputRate / 2; m++) {
      for (const g of [m * inputRate - f, m * inputRate + f]) {
        if (g < outputRate / 2) out.push({ frequency: g, far: g >= 1.1 * nyquist });
      }
    }
  } else {
    // The tone itself, folded into the output band.
    const g = f % outputRate;
    out.push({ frequency: g > outputRate / 2 ? outputRate - g : g, far: f >= 1.1 * nyquist });
  }
  return out;
}

/** Test tones for the stopband: the input band (upsampling) or beyond the output Nyquist (downsampling), denser near the edge. */
function stopbandTones(inputRate, outputRate, points) {
  const nyquist = Math.min(inputRate, outputRate) / 2;
  const tones = [];
  if (outputRate > inputRate) {
    for (let k = 0; k < points; k++) tones.push(nyquist * (0.05 + (0.8 * k) / points));
    for (const x of [0.85, 0.9, 0.95, 0.97, 0.99, 0.995]) tones.push(x * nyquist);
  } else {
    const top = 0.995 * (inputRate / 2);
    for (const x of [1.004, 1.01, 1.03, 1.06, 1.1, 1.15, 1.2]) if (x * nyquist < top) tones.push(x * nyquist);
    for (let k = 0; k <= points; k++) {
      const f = 1.2 * nyquist + ((top - 1.2 * nyquist) * k) / points;
      if (f > 1.2 * nyquist) tones.push(f);
    }
  }
  return tones;
}

/**
 * Measures `convert` (a whole buffer at `inputRate` in, the whole converted buffer out) from
 * `inputRate` to `outputRate` Hz. Returns, in dB:
 *
 * - `thdN`: THD+N at 997 Hz, -6 dBFS (lower is better);
 * - `passband`: the gain furthest from 0 dB up to 0.85 x the lower Nyquist (`passbandAt` Hz);
 * - `stopband`: the smallest attenuation of anything beyond the lower Nyquist (`stopbandAt`:
 *   the input tone, Hz); Infinity when the rates are equal;
 * - `stopbandFar`: the same from 1.1 x the lower Nyquist on, which forgives a transition band
 *   that straddles Nyquist.
 *
 * `points` sets the density of the sweeps.
 */
export function measure(convert, inputRate, outputRate, { points = 12 } = {}) {
  const nyquist = Math.min(inputRate, outputRate) / 2;
  const seconds = 0.5;
  const inWindow = steady(inputRate, seconds);
  const outWindow = steady(outputRate, seconds);

  const thd = thdN(convert(tone(997, inputRate, seconds)), outputRate, 997, ...outWindow);

  let passband = 0;
  let passbandAt = 0;
  for (let k = 0; k <= points; k++) {
    const f = 100 + ((0.85 * nyquist - 100) * k) / points;
    const input = tone(f, inputRate, seconds);
    const gain = dB(amplitude(convert(input), outputRate, f, ...outWindow) / amplitude(input, inputRate, f, ...inWindow));
    if (Math.abs(gain) >= Math.abs(passband)) [passband, passbandAt] = [gain, f];
  }

  let stopband = Infinity;
  let stopbandAt = 0;
  let stopbandFar = Infinity;
  if (inputRate !== outputRate) {
    for (const f of stopbandTones(inputRate, outputRate, points)) {
      const input = tone(f, inputRate, seconds);
      const reference = amplitude(input, inputRate, f, ...inWindow);
      const out = convert(input);
      let all = 0;
      let far = 0;
      for (const { frequency, far: isFar } of leaks(f, inputRate, outputRate)) {
        const power = amplitude(out, outputRate, frequency, ...outWindow) ** 2;
        all += power;
        if (isFar) far += power;
      }
      const attenuation = -dB(Math.sqrt(all) / reference);
      if (attenuation < stopband) [stopband, stopbandAt] = [attenuation, f];
      if (far > 0) stopbandFar = Math.min(stopbandFar, -dB(Math.sqrt(far) / reference));
    }
  }
  return { thdN: thd, passband, passbandAt, stopband, stopbandAt, stopbandFar };
}
