import { stereoToMonoInto } from '../../dsp/channels';
import { AudioSocketError, ErrorCode } from '../../errors';
import type { CancelledMark, ClearResult, EngineConfig } from '../contract';
import { Outbound } from './outbound';
import { SampleQueue } from './sample-queue';

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
  /** Stream position (app samples ever written) the mark follows. */
  at: number;
}

/** Milliseconds of audio per frame and per clock tick. */
const FRAME_MS = 20;

/**
 * One call's outbound audio: a queue of app-format samples with absolute stream positions
 * (samples written, samples played), so that marks, clear() and the reports of unplayed audio
 * are exact arithmetic on two counters, in ms at the app rate whatever the wire carries. Pure
 * logic, driven by the engine's clock: one nextFrame() per tick, which the {@link Outbound}
 * stage turns into one frame at the wire rate. The queue is mono: a stereo app's writes are
 * downmixed as they are queued (the copy is made anyway). The twin of crate/engine/src/playout.rs.
 */
export class Playout {
  /** Wire samples per frame. */
  readonly frameSamples: number;
  /** App samples per ms. */
  readonly samplesPerMs: number;
  #config: EngineConfig;
  /** maxLatencyMs in app samples (mono), or null. */
  #maxLatencySamples: number | null = null;
  /** App samples dropped by the latency cap. */
  #latencyDropped = 0;
  #queue = new SampleQueue();
  #outbound: Outbound;
  #written = 0;
  #played = 0;
  #marks: QueuedMark[] = [];
  #lastMarkAt = -1;
  #state = State.Idle;
  #startTick = 0;
  #paused = false;
  #needDrain = false;
  underruns = 0;

  constructor(config: EngineConfig) {
    this.#config = config;
    this.samplesPerMs = config.sampleRate / 1000;
    this.frameSamples = (config.outputRate * FRAME_MS) / 1000;
    this.#outbound = new Outbound(config.sampleRate, config.outputRate);
    this.setMaxLatency(config.maxLatencyMs);
  }

  /** App samples queued and not yet played (mono: one per stereo pair written). */
  get queuedSamples(): number {
    return this.#written - this.#played;
  }

  get queuedMs(): number {
    return this.queuedSamples / this.samplesPerMs;
  }

  /**
   * This call's maxLatencyMs from now on (null: no cap); the next tick applies it. Throws
   * INVALID_ARGUMENT below prebufferMs + 20, leaving the cap unchanged.
   */
  setMaxLatency(ms: number | null): void {
    const least = this.#config.prebufferMs + FRAME_MS;
    if (ms !== null && ms < least) {
      throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `maxLatencyMs must be at least prebufferMs + 20 (${least}), got ${ms}`);
    }
    this.#maxLatencySamples = ms === null ? null : Math.floor((ms * this.#config.sampleRate) / 1000);
  }

  /** App samples dropped because more than maxLatencyMs was queued. */
  get latencyDroppedSamples(): number {
    return this.#latencyDropped;
  }

  /** Audio dropped because more than maxLatencyMs was queued, ms. */
  get latencyDroppedMs(): number {
    return this.#latencyDropped / this.samplesPerMs;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Copies `pcm` (app format: interleaved pairs when stereo) into the queue; `tick` is the
   * clock's next tick, from which the prebuffer wait is counted. Returns the queue depth in ms.
   * Throws QUEUE_FULL past maxQueueMs and INVALID_ARGUMENT for stereo that is not whole pairs;
   * nothing is queued then.
   */
  write(pcm: Int16Array, tick: number): number {
    const stereo = this.#config.channels === 2;
    if (stereo && pcm.length % 2 !== 0) {
      throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `stereo audio is interleaved pairs: an even number of samples, got ${pcm.length}`);
    }
    const samples = stereo ? pcm.length / 2 : pcm.length;
    const queuedMs = (this.queuedSamples + samples) / this.samplesPerMs;
    if (queuedMs > this.#config.maxQueueMs) {
      throw new AudioSocketError(
        ErrorCode.QUEUE_FULL,
        `${Math.round(queuedMs)} ms would be queued, more than maxQueueMs (${this.#config.maxQueueMs}); wait for 'drain'`,
      );
    }
    if (samples === 0) return this.queuedMs;
    if (stereo) {
      const mono = new Int16Array(samples);
      stereoToMonoInto(pcm, mono);
      this.#queue.push(mono);
    } else {
      this.#queue.push(pcm.slice());
    }
    this.#written += samples;
    if (this.#state === State.Idle) {
      this.#state = State.Buffering;
      this.#startTick = tick + Math.ceil(this.#config.prebufferMs / FRAME_MS);
    }
    if (queuedMs > this.#config.highWaterMs) this.#needDrain = true;
    return queuedMs;
  }

  mark(mark: number): void {
    this.#marks.push({ mark, at: this.#written });
    this.#lastMarkAt = this.#written;
  }

  /** Drops all queued audio now (and what the outbound stage holds of it); reports how much, and the marks cancelled. */
  clear(): ClearResult {
    const result = { clearedMs: this.queuedMs, marks: this.#cancelMarks() };
    this.#queue.clear();
    this.#played = this.#written;
    this.#outbound.restart(this.#written);
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
   * Produces this tick's frame into `frame` (frameSamples wire samples) and says what to send.
   * Marks reached are appended to `marks`.
   */
  nextFrame(tick: number, frame: Int16Array, marks: number[]): FrameKind {
    if (this.#paused) return this.#idleFrame(frame, marks);
    if (this.#state === State.Buffering) {
      if (this.queuedSamples < this.#config.prebufferMs * this.samplesPerMs && tick < this.#startTick) {
        return this.#idleFrame(frame, marks);
      }
      this.#state = State.Playing;
    }
    if (this.#state !== State.Playing) return this.#idleFrame(frame, marks);
    this.#capLatency();

    const endOfPlay = this.#lastMarkAt === this.#written;
    const filled = this.#outbound.fill(this.#queue, frame, endOfPlay);
    if (filled.samples < frame.length && !endOfPlay && !filled.endedStream) this.underruns++;
    frame.fill(0, filled.samples);
    this.#played = this.#outbound.played;
    if (this.#queue.length === 0 && !this.#outbound.holdsAudio) this.#state = State.Idle;
    this.#reachMarks(marks);
    return FrameKind.Audio;
  }

  /**
   * Drops the oldest queued audio beyond maxLatencyMs: a live writer that fell behind (a stalled
   * thread that then wrote all it held, or jitter that left a frame standing) would otherwise
   * keep that delay for the rest of the call, as a writer at the real-time rate never lets the
   * queue shrink. The stream restarts where the kept audio begins, as after clear(); marks in
   * what was dropped are reached with this tick's frame.
   */
  #capLatency(): void {
    if (this.#maxLatencySamples === null) return;
    const keepFrom = Math.max(0, this.#written - this.#maxLatencySamples);
    const queueFrom = this.#written - this.#queue.length;
    // Within the cap, or over it only by what the outbound stage holds (the resampler's lag).
    if (keepFrom <= queueFrom) return;
    this.#queue.consume(keepFrom - queueFrom);
    this.#outbound.restart(keepFrom);
    this.#latencyDropped += keepFrom - this.#played;
    this.#played = keepFrom;
  }

  /** Whether the queue fell to the low-water mark after write() had gone above the high one. */
  takeDrain(): boolean {
    if (!this.#needDrain || this.queuedMs > this.#config.lowWaterMs) return false;
    this.#needDrain = false;
    return true;
  }

  #idleFrame(frame: Int16Array, marks: number[]): FrameKind {
    if (!this.#paused) this.#reachMarks(marks);
    if (this.#config.idle === 'none') return FrameKind.Nothing;
    frame.fill(0);
    return FrameKind.Silence;
  }

  /**
   * Appends to `marks` the marks whose audio has all been played but that no tick has reported
   * yet (one queued on an empty queue, or while paused): for the end of a call, after clear(),
   * when there is no next tick to report them.
   */
  takeReachedMarks(marks: number[]): void {
    this.#reachMarks(marks);
  }

  #reachMarks(marks: number[]): void {
    while (this.#marks.length > 0 && this.#marks[0]!.at <= this.#played) marks.push(this.#marks.shift()!.mark);
  }

  #cancelMarks(): CancelledMark[] {
    const cancelled = this.#marks
      .filter((m) => m.at > this.#played)
      .map((m) => ({ mark: m.mark, aheadMs: (m.at - this.#played) / this.samplesPerMs }));
    this.#marks = this.#marks.filter((m) => m.at <= this.#played);
    return cancelled;
  }
}
