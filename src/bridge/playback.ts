import type { Call, ClearedAudio } from '../call';
import { Fifo } from './fifo';

const EMPTY = new Int16Array(0);

/**
 * Played audio is held back this long before it enters the mix, ms: the caller's frames (on
 * Asterisk's clock) and the playout (on the server's) tick apart, and without this slack a frame
 * of played audio would now and then arrive just after the caller frame it belongs with.
 */
const PLAYED_JITTER_MS = 40;

/**
 * Played audio waiting for caller frames, at most, ms. Caller frames stop while the caller leg is
 * silent (DTX, hold); past this the oldest played audio is dropped so the two legs stay aligned.
 */
const PLAYED_MAX_LAG_MS = 200;

/**
 * Audio for the caller that goes through the bridge (the service's, and the application's via
 * `bridge.write()`), and, for the `mixed` and `stereo` mixes and Twilio's `both` tracks, the
 * "played" leg: that audio in playout order, as it actually plays (after the prebuffer, not
 * while paused, never what clear() dropped), delivered in step with the caller's frames.
 */
export class Playback {
  readonly #call: Call;
  readonly #leg: PlayedLeg | null;

  constructor(call: Call, trackPlayed: boolean) {
    this.#call = call;
    this.#leg = trackPlayed ? new PlayedLeg(call) : null;
  }

  /** call.write() (`pcm` in the call's format), remembered for the played leg. Throws as call.write() does. */
  write(pcm: Int16Array): boolean {
    const belowHighWater = this.#call.write(pcm);
    this.#leg?.queued(this.#call.format.channels === 2 ? leftChannel(pcm) : pcm);
    return belowHighWater;
  }

  /** call.clear(); the played leg forgets what will now never play. */
  clear(): ClearedAudio {
    const cleared = this.#call.clear();
    this.#leg?.cleared();
    return cleared;
  }

  /**
   * Resolves once the audio queued so far has played (true), or was cleared (true: Twilio echoes
   * the marks a clear drops), or with false when the call ended first.
   */
  reached(): Promise<boolean> {
    if (this.#call.ended) return Promise.resolve(false);
    return this.#call.play(EMPTY).then(
      (result) => result.reason !== 'ended',
      () => false,
    );
  }

  /** The next `samples` of the played leg into `out` (silence where nothing played). */
  takeInto(out: Int16Array, samples: number): void {
    if (this.#leg) this.#leg.takeInto(out, samples);
    else out.fill(0, 0, samples);
  }
}

/**
 * What has played, learnt from the call's queue depth: everything this leg queued beyond what
 * the call still holds has been sent. Audio the application writes straight to the call (not
 * through the bridge) is counted in that depth too and makes the leg late: write through the bridge.
 */
class PlayedLeg {
  readonly #call: Call;
  readonly #rate: number;
  readonly #jitter: number;
  /** Queued through the bridge, not yet played. */
  #pending = new Fifo<Int16Array>();
  #pendingOffset = 0;
  #pendingSamples = 0;
  /** Played, waiting for caller frames: a ring of PLAYED_MAX_LAG_MS. */
  readonly #ready: Int16Array;
  #readyStart = 0;
  #readyCount = 0;
  #primed = false;

  constructor(call: Call) {
    this.#call = call;
    this.#rate = call.format.sampleRate;
    this.#jitter = Math.round((this.#rate * PLAYED_JITTER_MS) / 1000);
    this.#ready = new Int16Array(Math.round((this.#rate * PLAYED_MAX_LAG_MS) / 1000));
  }

  /** Mono PCM at the call's rate, just queued (kept: the caller's buffer may be reused). */
  queued(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    this.#pending.push(pcm.slice());
    this.#pendingSamples += pcm.length;
  }

  cleared(): void {
    this.#pending.clear();
    this.#pendingOffset = 0;
    this.#pendingSamples = 0;
  }

  takeInto(out: Int16Array, samples: number): void {
    this.#release();
    if (!this.#primed) {
      // Start once a jitter's worth is ahead, or when what played is all there will be for now.
      this.#primed = this.#readyCount >= samples + this.#jitter || (this.#readyCount > 0 && this.#pendingSamples === 0);
      if (!this.#primed) return void out.fill(0, 0, samples);
    }
    const take = Math.min(samples, this.#readyCount);
    const ring = this.#ready;
    for (let i = 0; i < take; i++) out[i] = ring[(this.#readyStart + i) % ring.length]!;
    out.fill(0, take, samples);
    this.#readyStart = (this.#readyStart + take) % ring.length;
    this.#readyCount -= take;
    if (this.#readyCount === 0) this.#primed = false;
  }

  /** Moves what has played since the last call from pending into the ring. */
  #release(): void {
    if (this.#pendingSamples === 0) return;
    const stillQueued = Math.round((this.#call.stats().queuedMs * this.#rate) / 1000);
    let played = this.#pendingSamples - Math.min(this.#pendingSamples, stillQueued);
    while (played > 0) {
      const chunk = this.#pending.peek()!;
      const n = Math.min(played, chunk.length - this.#pendingOffset);
      this.#append(chunk, this.#pendingOffset, n);
      this.#pendingOffset += n;
      this.#pendingSamples -= n;
      played -= n;
      if (this.#pendingOffset === chunk.length) {
        this.#pending.shift();
        this.#pendingOffset = 0;
      }
    }
  }

  #append(chunk: Int16Array, from: number, n: number): void {
    const ring = this.#ready;
    for (let i = 0; i < n; i++) {
      if (this.#readyCount === ring.length) {
        this.#readyStart = (this.#readyStart + 1) % ring.length; // the oldest goes
        this.#readyCount--;
      }
      ring[(this.#readyStart + this.#readyCount) % ring.length] = chunk[from + i]!;
      this.#readyCount++;
    }
  }
}

/** The left channel of interleaved stereo, in a new buffer (a stereo call's audio is the same on both). */
export function leftChannel(stereo: Int16Array): Int16Array {
  const mono = new Int16Array(stereo.length >> 1);
  for (let i = 0; i < mono.length; i++) mono[i] = stereo[2 * i]!;
  return mono;
}
