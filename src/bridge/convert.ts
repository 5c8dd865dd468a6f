import { Resampler } from '../dsp/resampler';

/**
 * The service's audio, at whatever rate each message declares, to the call's rate. One streaming
 * resampler, kept while the rate stays the same, so audio sent in many small messages converts
 * as one stream (no click at each message boundary). Its last few samples (the filter's delay,
 * 2-4 ms) wait for the next message; reset() forgets them when the queue is cleared.
 */
export class ToCallRate {
  readonly #callRate: number;
  #resampler: Resampler | null = null;

  constructor(callRate: number) {
    this.#callRate = callRate;
  }

  /** `pcm` at `rate` Hz, at the call's rate: `pcm` itself when the rates match, else a new buffer. */
  convert(pcm: Int16Array, rate: number): Int16Array {
    if (rate === this.#callRate) return pcm;
    if (this.#resampler?.inputRate !== rate) this.#resampler = new Resampler(rate, this.#callRate);
    const out = new Int16Array(this.#resampler.outputLength(pcm.length));
    this.#resampler.processInto(pcm, out);
    return out;
  }

  reset(): void {
    this.#resampler?.reset();
  }
}
