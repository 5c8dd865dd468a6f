// Types of bench/quality.mjs, for the TypeScript tests that import it.

/** Amplitude of -6 dBFS, the level of every test tone. */
export declare const LEVEL: number;
/** `seconds` of a sine at `frequency` Hz, rounded to 16 bits. */
export declare function tone(frequency: number, rate: number, seconds: number, amplitude?: number): Int16Array;
/** Amplitude of the component at exactly `frequency` Hz in `signal[from..to)`. */
export declare function amplitude(signal: ArrayLike<number>, rate: number, frequency: number, from: number, to: number): number;
/** THD+N of `signal[from..to)` around a tone at `frequency` Hz, in dB. */
export declare function thdN(signal: ArrayLike<number>, rate: number, frequency: number, from: number, to: number): number;

export interface Quality {
  /** THD+N at 997 Hz, -6 dBFS, dB. */
  thdN: number;
  /** The gain furthest from 0 dB up to 0.85 x the lower Nyquist, dB, and where (Hz). */
  passband: number;
  passbandAt: number;
  /** The smallest attenuation beyond the lower Nyquist, dB, and the input tone that shows it (Hz). */
  stopband: number;
  stopbandAt: number;
  /** The same from 1.1 x the lower Nyquist on, dB. */
  stopbandFar: number;
}

/** Measures `convert` from `inputRate` to `outputRate` Hz. */
export declare function measure(
  convert: (input: Int16Array) => Int16Array,
  inputRate: number,
  outputRate: number,
  options?: { points?: number },
): Quality;
