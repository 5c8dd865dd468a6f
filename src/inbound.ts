import { AudioSocketError, ErrorCode } from './errors';

/**
 * Caller audio waiting for a pull-style reader (async iteration, the Duplex view). The socket
 * is always read, whatever the reader does, so this queue is bounded: when it is full the
 * oldest frame is dropped and counted, and the owner is told once per overflow episode.
 */
export class InboundQueue {
  readonly capacity: number;
  #frames: Int16Array[] = [];
  #ended = false;
  #waiter: ((frame: Int16Array | null) => void) | null = null;
  #overflowing = false;
  #onDrop: (error: AudioSocketError | null) => void;

  /** `onDrop` runs for every frame dropped, with an error at the start of each overflow episode. */
  constructor(capacity: number, onDrop: (error: AudioSocketError | null) => void) {
    this.capacity = capacity;
    this.#onDrop = onDrop;
  }

  get length(): number {
    return this.#frames.length;
  }

  push(frame: Int16Array): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter(frame);
      return;
    }
    if (this.#frames.length >= this.capacity) {
      this.#frames.shift();
      const episode = !this.#overflowing;
      this.#overflowing = true;
      this.#onDrop(
        episode
          ? new AudioSocketError(ErrorCode.INBOUND_OVERFLOW, `caller audio is read slower than it arrives: over ${this.capacity} frames queued, the oldest dropped`)
          : null,
      );
    } else if (this.#frames.length < this.capacity / 2) {
      this.#overflowing = false;
    }
    this.#frames.push(frame);
  }

  /** The next frame, or null once the call has ended and the queue is empty. */
  shift(): Promise<Int16Array | null> {
    const frame = this.#frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  /** The next frame if one is queued, without waiting. */
  poll(): Int16Array | undefined {
    return this.#frames.shift();
  }

  end(): void {
    this.#ended = true;
    this.#waiter?.(null);
    this.#waiter = null;
  }
}
