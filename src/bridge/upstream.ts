import { Resampler } from '../dsp/resampler';
import type { BridgeMix } from './options';
import type { Playback } from './playback';

/**
 * Caller audio (and, for `mixed` and `stereo`, the played leg) from the call's rate to the
 * stream's, mixed, cut into frames of `frameMs`. Each leg has its own streaming resampler, so
 * the frames are the same, sample for sample, whatever the sizes of the caller's frames. Scratch
 * buffers are reused; the only allocation per frame is the frame handed to `onFrame`.
 */
export class Upstream {
  readonly #mix: BridgeMix;
  readonly #channels: 1 | 2;
  readonly #playback: Playback;
  readonly #onFrame: (frame: Int16Array) => void;
  readonly #caller: Resampler;
  readonly #played: Resampler | null;
  #callerOut = new Int16Array(0);
  #playedIn = new Int16Array(0);
  #playedOut = new Int16Array(0);
  /** The frame being filled, interleaved when stereo. */
  readonly #frame: Int16Array;
  #fill = 0;

  constructor(callRate: number, streamRate: number, mix: BridgeMix, frameMs: number, playback: Playback, onFrame: (frame: Int16Array) => void) {
    this.#mix = mix;
    this.#channels = mix === 'stereo' ? 2 : 1;
    this.#playback = playback;
    this.#onFrame = onFrame;
    this.#caller = new Resampler(callRate, streamRate);
    this.#played = mix === 'mono' ? null : new Resampler(callRate, streamRate);
    this.#frame = new Int16Array(((streamRate * frameMs) / 1000) * this.#channels);
  }

  /** One frame of caller audio, at the call's rate. */
  push(pcm: Int16Array): void {
    const room = this.#caller.outputLength(pcm.length);
    if (this.#callerOut.length < room) this.#callerOut = new Int16Array(room);
    const written = this.#caller.processInto(pcm, this.#callerOut).written;
    if (this.#played) {
      // Both resamplers have seen the same number of samples: they write the same number.
      if (this.#playedIn.length < pcm.length) this.#playedIn = new Int16Array(pcm.length);
      if (this.#playedOut.length < room) this.#playedOut = new Int16Array(room);
      this.#playback.takeInto(this.#playedIn, pcm.length);
      this.#played.processInto(this.#playedIn.subarray(0, pcm.length), this.#playedOut);
    }
    this.#append(written);
  }

  /** Hands over the partial frame, if any (at the end of the stream). */
  flush(): void {
    if (this.#fill === 0) return;
    this.#onFrame(this.#frame.slice(0, this.#fill));
    this.#fill = 0;
  }

  #append(samples: number): void {
    const frame = this.#frame;
    const caller = this.#callerOut;
    const played = this.#playedOut;
    for (let at = 0; at < samples; ) {
      const n = Math.min(samples - at, (frame.length - this.#fill) / this.#channels);
      const fill = this.#fill;
      switch (this.#mix) {
        case 'mono':
          frame.set(caller.subarray(at, at + n), fill);
          break;
        case 'mixed':
          for (let i = 0; i < n; i++) frame[fill + i] = Math.max(-32768, Math.min(32767, caller[at + i]! + played[at + i]!));
          break;
        case 'stereo':
          for (let i = 0; i < n; i++) {
            frame[fill + 2 * i] = caller[at + i]!;
            frame[fill + 2 * i + 1] = played[at + i]!;
          }
          break;
      }
      this.#fill += n * this.#channels;
      at += n;
      if (this.#fill === frame.length) {
        this.#onFrame(frame.slice());
        this.#fill = 0;
      }
    }
  }
}
