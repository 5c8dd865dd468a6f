import { Fifo } from './fifo';

/** Control messages held at most (marks, DTMF, text): far more than a healthy call ever queues. */
export const MAX_CONTROL_MESSAGES = 256;

/**
 * Messages waiting for the service, in send order, in two bounded classes: audio frames (at most
 * `maxAudio`) and control messages (at most {@link MAX_CONTROL_MESSAGES}). When a class is full
 * its oldest message is dropped and counted, so memory stays flat however long the service is away.
 */
export class Backlog<T> {
  readonly maxAudio: number;
  /** Audio frames dropped, since the start. */
  droppedAudio = 0;
  /** Control messages dropped, since the start. */
  droppedControl = 0;
  #audio = new Fifo<{ seq: number; item: T }>();
  #control = new Fifo<{ seq: number; item: T }>();
  #seq = 0;

  constructor(maxAudio: number) {
    this.maxAudio = maxAudio;
  }

  get size(): number {
    return this.#audio.size + this.#control.size;
  }

  get audioFrames(): number {
    return this.#audio.size;
  }

  /** Appends; returns true when that dropped the oldest message of its class. */
  push(item: T, audio: boolean): boolean {
    const fifo = audio ? this.#audio : this.#control;
    fifo.push({ seq: this.#seq++, item });
    if (fifo.size <= (audio ? this.maxAudio : MAX_CONTROL_MESSAGES)) return false;
    fifo.shift();
    if (audio) this.droppedAudio++;
    else this.droppedControl++;
    return true;
  }

  /** The oldest message of either class. */
  shift(): T | undefined {
    const audio = this.#audio.peek();
    const control = this.#control.peek();
    if (!audio && !control) return undefined;
    const fifo = !control || (audio && audio.seq < control.seq) ? this.#audio : this.#control;
    return fifo.shift()!.item;
  }

  clear(): void {
    this.#audio.clear();
    this.#control.clear();
  }
}
