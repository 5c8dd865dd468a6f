/**
 * App samples waiting for playout, oldest first: chunks as written (each copied once, when
 * queued), read from the front as views and dropped as they are consumed. The TypeScript
 * engine's counterpart of the Rust playout's `VecDeque<i16>`.
 */
export class SampleQueue {
  #chunks: Int16Array[] = [];
  /** Samples of the first chunk already consumed. */
  #head = 0;
  #length = 0;

  /** Samples queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends `samples`, which the queue now owns (the caller must not change them). */
  push(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.#chunks.push(samples);
    this.#length += samples.length;
  }

  /** A view of the oldest queued samples, contiguous, at most `max` of them (empty when none are queued). */
  front(max: number): Int16Array {
    const chunk = this.#chunks[0];
    if (!chunk) return EMPTY;
    return chunk.subarray(this.#head, Math.min(chunk.length, this.#head + max));
  }

  /** Drops the `n` oldest samples (at most what is queued). */
  consume(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(n, chunk.length - this.#head);
      this.#head += take;
      n -= take;
      if (this.#head === chunk.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#length = 0;
  }
}

const EMPTY = new Int16Array(0);
