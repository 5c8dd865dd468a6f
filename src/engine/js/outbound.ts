import { Resampler } from '../../dsp/resampler';
import type { SampleQueue } from './sample-queue';

/** What one {@link Outbound.fill} produced. */
export interface Filled {
  /** Wire samples written from the start of the frame. */
  samples: number;
  /** A stream ended in this frame (its tail was flushed): a short frame is then the end of the audio, not an underrun. */
  endedStream: boolean;
}

const EMPTY = new Int16Array(0);

/**
 * The app-to-wire half of a call's conversion: samples at the app rate, taken from the playout
 * queue, become one frame of samples at the wire rate per tick. The twin of
 * crate/engine/src/outbound.rs, which explains the design at length; in short:
 *
 * - The queue holds app-rate mono audio, so every unit the application sees (ms queued, water
 *   marks, marks, clear()) is exact arithmetic at the app rate. This stage takes only the input
 *   each frame needs, through a streaming resampler whose state lasts from frame to frame.
 * - A stream starts on an empty history with the resampler's first `outputDelay` outputs
 *   dropped, so it equals `resample()` of the same audio exactly; it ends with a flush (the
 *   tail the lag holds back) once the queue has run dry and either a mark follows the last
 *   sample written (play() always puts one there) or a whole tick passed with nothing new. A
 *   queue that runs dry during a tick without a mark is an underrun: the frame is padded, the
 *   stream goes on, so a writer that keeps just up with real time is not cut into pieces.
 * - {@link played} counts the app samples whose wire audio has been produced
 *   (`floor(out * app / wire)` within a stream, exact at its end): marks and clear() use it.
 */
export class Outbound {
  readonly #resampler: Resampler;
  readonly #appRate: number;
  readonly #wireRate: number;
  /** Outputs of the current stream still to drop: its share of the resampler's lag. */
  #trim: number;
  /** The current stream's tail is being flushed. */
  #flushing = false;
  /** App samples taken from the queue before the current stream started. */
  #streamStart = 0;
  /** App samples taken into the current stream. */
  #streamIn = 0;
  /** Wire samples the current stream has produced, after the trim. */
  #streamOut = 0;

  constructor(appRate: number, wireRate: number) {
    this.#resampler = new Resampler(appRate, wireRate);
    this.#appRate = appRate;
    this.#wireRate = wireRate;
    this.#trim = this.#resampler.outputDelay;
  }

  /** App samples whose wire audio has been produced, counted from the start of the call. */
  get played(): number {
    // Exact: the product stays far below 2^53 (hours of audio at 192 kHz).
    const outAsApp = Math.floor((this.#streamOut * this.#appRate) / this.#wireRate);
    return this.#streamStart + Math.min(outAsApp, this.#streamIn);
  }

  /** Whether app samples taken from the queue still wait for their wire audio (the lag, or a flush under way). */
  get holdsAudio(): boolean {
    return this.played < this.#streamStart + this.#streamIn;
  }

  /** Forgets the current stream (its pending input and tail are dropped): clear(). The next stream starts at app position `at`. */
  restart(at: number): void {
    this.#resampler.reset();
    this.#trim = this.#resampler.outputDelay;
    this.#flushing = false;
    this.#streamStart = at;
    this.#streamIn = 0;
    this.#streamOut = 0;
  }

  /**
   * Fills `frame` with wire samples, taking what it needs from the front of `queue`.
   * `endOfPlay`: a mark follows the last sample written. The rest of the frame is left for the
   * caller to pad.
   */
  fill(queue: SampleQueue, frame: Int16Array, endOfPlay: boolean): Filled {
    let filled = 0;
    let fed = false;
    let endedStream = false;
    while (filled < frame.length) {
      const target = frame.subarray(filled);
      let produced: number;
      if (this.#flushing) {
        produced = this.#resampler.flush(target);
      } else {
        const queued = queue.length;
        produced = this.#feed(queue, target);
        fed ||= queue.length < queued;
        if (produced === 0) {
          if (queue.length === 0 && this.holdsAudio && (endOfPlay || !fed)) {
            this.#flushing = true;
            continue;
          }
          break;
        }
      }
      const kept = this.#dropTrimmed(target, produced);
      filled += kept;
      this.#streamOut += kept;
      if (this.#flushing && this.#resampler.flushLength() === 0) {
        this.restart(this.#streamStart + this.#streamIn);
        endedStream = true;
      }
    }
    return { samples: filled, endedStream };
  }

  /** Converts into `target` the fewest queued samples that fill it (all of them if they do not); returns the outputs written. */
  #feed(queue: SampleQueue, target: Int16Array): number {
    const wanted = Math.min(this.#inputFor(target.length), queue.length);
    let read = 0;
    let written = 0;
    do {
      const input = wanted > read ? queue.front(wanted - read) : EMPTY;
      const done = this.#resampler.processInto(input, target.subarray(written));
      read += done.read;
      written += done.written;
      queue.consume(done.read);
      if (done.read < input.length) break;
    } while (read < wanted);
    this.#streamIn += read;
    return written;
  }

  /** The fewest input samples after which `outputs` outputs are available. */
  #inputFor(outputs: number): number {
    const resampler = this.#resampler;
    const pending = resampler.outputLength(0);
    if (pending >= outputs) return 0;
    // An estimate from the ratio, then corrected by at most a few steps.
    let inputs = Math.ceil(((outputs - pending) * this.#appRate) / this.#wireRate);
    while (resampler.outputLength(inputs) < outputs) inputs++;
    while (inputs > 0 && resampler.outputLength(inputs - 1) >= outputs) inputs--;
    return inputs;
  }

  /** Drops the first outputs of a stream (its lag) from the `produced` samples at the start of `target`; returns how many are left there. */
  #dropTrimmed(target: Int16Array, produced: number): number {
    const dropped = Math.min(this.#trim, produced);
    if (dropped > 0) {
      target.copyWithin(0, dropped, produced);
      this.#trim -= dropped;
    }
    return produced - dropped;
  }
}
