import { performance } from 'node:perf_hooks';

export interface ClockOptions {
  /** Tick period in milliseconds (default 20: one AudioSocket frame). */
  periodMs?: number;
  /**
   * Ticks run back to back after a stall before the clock gives up catching up and skips to
   * the present (default 3). Bounded so a long GC pause does not turn into a burst of audio
   * that Asterisk would forward at once and mixing bridges would throw away.
   */
  maxCatchUp?: number;
}

export interface TickInfo {
  /** Tick number since the clock started; skipped ticks are counted. */
  tick: number;
  /** How late this tick runs, in ms, against its absolute deadline. */
  lateMs: number;
}

/**
 * One deadline clock shared by every call of an engine: tick n is due at start + n * period
 * on the monotonic clock, so timer jitter never accumulates into drift (unlike setInterval),
 * and there is one timer for the whole process instead of one per call. The timer is unref'd:
 * a running clock never keeps the process alive on its own.
 */
export class SharedClock {
  readonly periodMs: number;
  readonly maxCatchUp: number;
  #onTick: (info: TickInfo) => void;
  #timer: NodeJS.Timeout | null = null;
  #start = 0;
  #next = 0;
  #skipped = 0;

  constructor(onTick: (info: TickInfo) => void, options: ClockOptions = {}) {
    this.periodMs = options.periodMs ?? 20;
    this.maxCatchUp = options.maxCatchUp ?? 3;
    this.#onTick = onTick;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  /** Ticks skipped because the process stalled longer than maxCatchUp periods. */
  get skippedTicks(): number {
    return this.#skipped;
  }

  /** The tick that is due next. */
  get nextTick(): number {
    return this.#next;
  }

  start(): void {
    if (this.#timer) return;
    this.#start = performance.now();
    this.#next = 0;
    this.#schedule();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    const delay = this.#start + this.#next * this.periodMs - performance.now();
    this.#timer = setTimeout(this.#run, Math.max(0, delay));
    this.#timer.unref();
  }

  #run = (): void => {
    const now = performance.now();
    const due = Math.floor((now - this.#start) / this.periodMs);
    if (due - this.#next >= this.maxCatchUp) {
      const skip = due - this.#next - this.maxCatchUp + 1;
      this.#skipped += skip;
      this.#next += skip;
    }
    // Run what is due, then yield to I/O even when still behind: a tick that takes longer
    // than a period must not starve the sockets.
    while (this.#next <= due && this.#timer) {
      this.#onTick({ tick: this.#next, lateMs: now - (this.#start + this.#next * this.periodMs) });
      this.#next++;
    }
    if (this.#timer) this.#schedule();
  };
}
