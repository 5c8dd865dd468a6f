import { AudioSocketError, ErrorCode } from '../../errors';
import type { CancelledMark, ClearResult, EngineConfig } from '../contract';

/** What one tick of playout produced. */
export const enum FrameKind {
  /** `frame` holds a whole frame of queued audio (a short tail padded with silence). */
  Audio,
  /** Send a frame of silence (idle or paused, with `idle: 'silence'`). */
  Silence,
  /** Send nothing this tick. */
  Nothing,
}

const enum State {
  Idle,
  Buffering,
  Playing,
}

interface QueuedMark {
  mark: number;
  /** Stream position (bytes ever written) the mark follows. */
  at: number;
}

/**
 * One call's outbound audio: a byte queue with absolute stream positions, so that marks,
 * clear() and the reports of unplayed audio are exact arithmetic on two counters (bytes
 * written, bytes played). Pure logic, driven by the engine's clock: one nextFrame() per tick.
 */
export class Playout {
  readonly frameBytes: number;
  readonly bytesPerMs: number;
  #config: EngineConfig;
  #chunks: Uint8Array[] = [];
  #headOffset = 0;
  #written = 0;
  #played = 0;
  #marks: QueuedMark[] = [];
  #lastMarkAt = -1;
  #state = State.Idle;
  #startTick = 0;
  #paused = false;
  #needDrain = false;
  underruns = 0;

  constructor(config: EngineConfig, frameMs = 20) {
    this.#config = config;
    this.bytesPerMs = (config.sampleRate * 2) / 1000;
    this.frameBytes = Math.round(this.bytesPerMs * frameMs);
  }

  get queuedBytes(): number {
    return this.#written - this.#played;
  }

  get queuedMs(): number {
    return this.queuedBytes / this.bytesPerMs;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Copies `pcm` (little-endian bytes, whole samples) into the queue; `tick` is the clock's
   * next tick, from which the prebuffer wait is counted. Returns the queue depth in ms.
   */
  write(pcm: Uint8Array, tick: number): number {
    const queuedMs = (this.queuedBytes + pcm.length) / this.bytesPerMs;
    if (queuedMs > this.#config.maxQueueMs) {
      throw new AudioSocketError(
        ErrorCode.QUEUE_FULL,
        `${Math.round(queuedMs)} ms would be queued, more than maxQueueMs (${this.#config.maxQueueMs}); wait for 'drain'`,
      );
    }
    if (pcm.length === 0) return this.queuedMs;
    this.#chunks.push(pcm.slice());
    this.#written += pcm.length;
    if (this.#state === State.Idle) {
      this.#state = State.Buffering;
      this.#startTick = tick + Math.ceil(this.#config.prebufferMs / 20);
    }
    if (queuedMs > this.#config.highWaterMs) this.#needDrain = true;
    return queuedMs;
  }

  mark(mark: number): void {
    this.#marks.push({ mark, at: this.#written });
    this.#lastMarkAt = this.#written;
  }

  clear(): ClearResult {
    const result = { clearedMs: this.queuedMs, marks: this.#cancelMarks() };
    this.#chunks = [];
    this.#headOffset = 0;
    this.#played = this.#written;
    this.#state = State.Idle;
    return result;
  }

  /** Everything still queued, as reported when the call ends. */
  abandon(): ClearResult {
    return this.clear();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
  }

  /**
   * Produces this tick's frame into `frame` (frameBytes long) and says what to send. Marks
   * reached are appended to `marks`.
   */
  nextFrame(tick: number, frame: Uint8Array, marks: number[]): FrameKind {
    if (this.#paused) return this.#idleFrame(frame, marks);
    if (this.#state === State.Buffering) {
      if (this.queuedBytes < this.#config.prebufferMs * this.bytesPerMs && tick < this.#startTick) {
        return this.#idleFrame(frame, marks);
      }
      this.#state = State.Playing;
    }
    if (this.#state !== State.Playing) return this.#idleFrame(frame, marks);

    const take = Math.min(this.frameBytes, this.queuedBytes);
    if (take < this.frameBytes && this.#lastMarkAt !== this.#written) this.underruns++;
    this.#copyOut(frame, take);
    frame.fill(0, take);
    if (this.queuedBytes === 0) this.#state = State.Idle;
    this.#reachMarks(marks);
    return FrameKind.Audio;
  }

  /** Whether the queue fell to the low-water mark after write() had gone above the high one. */
  takeDrain(): boolean {
    if (!this.#needDrain || this.queuedMs > this.#config.lowWaterMs) return false;
    this.#needDrain = false;
    return true;
  }

  #idleFrame(frame: Uint8Array, marks: number[]): FrameKind {
    if (!this.#paused) this.#reachMarks(marks);
    if (this.#config.idle === 'none') return FrameKind.Nothing;
    frame.fill(0);
    return FrameKind.Silence;
  }

  #copyOut(frame: Uint8Array, bytes: number): void {
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.#chunks[0]!;
      const n = Math.min(bytes - filled, chunk.length - this.#headOffset);
      frame.set(chunk.subarray(this.#headOffset, this.#headOffset + n), filled);
      filled += n;
      this.#headOffset += n;
      if (this.#headOffset === chunk.length) {
        this.#chunks.shift();
        this.#headOffset = 0;
      }
    }
    this.#played += bytes;
  }

  #reachMarks(marks: number[]): void {
    while (this.#marks.length > 0 && this.#marks[0]!.at <= this.#played) marks.push(this.#marks.shift()!.mark);
  }

  #cancelMarks(): CancelledMark[] {
    const cancelled = this.#marks
      .filter((m) => m.at > this.#played)
      .map((m) => ({ mark: m.mark, aheadMs: (m.at - this.#played) / this.bytesPerMs }));
    this.#marks = this.#marks.filter((m) => m.at <= this.#played);
    return cancelled;
  }
}
