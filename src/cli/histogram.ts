/**
 * Fixed-resolution histogram of durations in ms (0.1 ms buckets up to 10 s, larger values in the
 * last bucket): constant memory whatever the number of samples, so a 5000-call bench can record
 * every frame's gap and latency.
 */
export class Histogram {
  static readonly RESOLUTION_MS = 0.1;
  #buckets = new Uint32Array(100_001);
  #count = 0;
  #max = 0;
  #sum = 0;

  record(ms: number): void {
    const bucket = Math.min(this.#buckets.length - 1, Math.max(0, Math.round(ms / Histogram.RESOLUTION_MS)));
    this.#buckets[bucket]!++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  get mean(): number {
    return this.#count ? this.#sum / this.#count : 0;
  }

  /** The value at quantile q (0-1), to the bucket resolution; 0 when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i]!;
      if (seen >= rank) return i * Histogram.RESOLUTION_MS;
    }
    return this.#max;
  }

  summary(): { p50: number; p99: number; max: number; count: number } {
    const round = (v: number) => Math.round(v * 10) / 10;
    return { p50: round(this.quantile(0.5)), p99: round(this.quantile(0.99)), max: round(this.#max), count: this.#count };
  }
}
