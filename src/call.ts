import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { debugCallEnded, debugCallError } from './debug';
import { AudioSocketError, ErrorCode } from './errors';
import type { CallStats, CancelledMark, EndReason, Engine, RemoteAddress, WireFormat } from './engine/contract';
import type { AudioFormat } from './format';
import { InboundQueue } from './inbound';

/** What a 'dtmf' event says besides the digit. */
export interface DtmfInfo {
  /** `end` for Asterisk's 0x03 (sent when the digit ends); fork DTMF (0x02) also reports `start`. */
  state: 'start' | 'end';
  /** Fork DTMF only: how long the key was held, ms. */
  durationMs: number | null;
}

/** How a call ended: the 'end' event, and `call.done`. */
export interface CallEnd {
  /** Who or what ended it. */
  reason: EndReason;
  /** Set when reason is `error`. */
  error: AudioSocketError | null;
  /** Audio that was queued but never played, ms. */
  unplayedMs: number;
  /** The call's final counters. */
  stats: CallStats;
}

/** Options of {@link Call.play}. */
export interface PlayOptions {
  /** Also emit a 'mark' event with this name when the audio has played. */
  mark?: string;
  /** Aborting clears the call's queue (barge-in); the play resolves with reason `aborted`. */
  signal?: AbortSignal;
}

/** What became of the audio given to {@link Call.play}. */
export interface PlayResult {
  /**
   * True when every sample was sent. Under the server's maxLatencyMs: when its end was sent;
   * what the cap dropped of it is counted in `stats().latencyDroppedMs` only.
   */
  completed: boolean;
  /** `played`, or why not: `cleared` (clear()), `aborted` (the signal), `ended` (the call ended). */
  reason: 'played' | 'cleared' | 'aborted' | 'ended';
  /** Of this play's audio, how much never played, ms. */
  unplayedMs: number;
}

/** What {@link Call.clear} dropped. */
export interface ClearedAudio {
  /** Queued audio dropped, ms. */
  clearedMs: number;
  /** Names of the marks that will now never fire, in queue order. */
  marks: string[];
}

/** The events of a {@link Call}, with their arguments. */
export interface CallEvents {
  /**
   * Caller audio in `format` (PCM16 at `format.sampleRate`, interleaved with the caller on both
   * channels when `format.channels` is 2), one frame (usually 20 ms) per event.
   */
  audio: [pcm: Int16Array];
  /** A digit `0-9 * # A-D` (Asterisk's 0x03 at its end, or the fork's 0x02). */
  dtmf: [digit: string, info: DtmfInfo];
  /** The audio before a mark has been sent. */
  mark: [name: string];
  /** The playout queue fell to lowWaterMs after write() returned false. */
  drain: [];
  /** The call ended (once): why, what did not play, the final counters. */
  end: [info: CallEnd];
  /**
   * A problem that did not end the call: a malformed message, inbound overflow, or a warning
   * such as ERR_AUDIOSOCKET_WIRE_FORMAT (G.711 arriving labelled as slin with `wire: 'auto'`).
   */
  error: [error: AudioSocketError];
}

interface PendingMark {
  name: string | undefined;
  play?: { durationMs: number; resolve: (result: PlayResult) => void; aborted: boolean };
}

/** The facade's side of the engine: what a Call needs from its server. */
export interface CallHost {
  readonly driver: Engine;
  readonly format: AudioFormat;
  readonly inboundQueueFrames: number;
  readonly highWaterMs: number;
  /** Where a call's error goes when the call itself has no 'error' listener. */
  unhandledError(call: Call, error: AudioSocketError): void;
}

/**
 * One call: caller audio in, paced audio out. Created by AudioSocketServer; never constructed
 * by applications.
 */
export class Call extends EventEmitter<CallEvents> {
  /** The call's UUID, canonical lower-case. */
  readonly id: string;
  /** The Asterisk (or proxy) end of the connection. */
  readonly remote: RemoteAddress;
  /**
   * What the server sends this call: the kind, rate and codec of every frame. Caller audio is
   * read by the kind of each frame it arrives in (and G.711 on a `ulaw`/`alaw` wire).
   */
  readonly wireFormat: WireFormat;
  /**
   * What handlers read and write, whatever the wire carries: the server's `format`, or what
   * its `callFormat` chose for this call.
   */
  readonly format: AudioFormat;
  #host: CallHost;
  /** @internal The engine's number for this call. */
  readonly handle: number;
  #marks = new Map<number, PendingMark>();
  #nextMark = 0;
  #end: CallEnd | null = null;
  #ended: Promise<CallEnd>;
  #resolveEnded!: (end: CallEnd) => void;
  #readers = new Set<InboundQueue>();
  #inboundDropped = 0;
  /** Audio written after the engine had ended the call but before its end reached us, ms. */
  #unplayedLateMs = 0;

  /** @internal */
  constructor(host: CallHost, handle: number, id: string, remote: RemoteAddress, wire: WireFormat, format: AudioFormat) {
    super({ captureRejections: true });
    this.#host = host;
    this.handle = handle;
    this.id = id;
    this.remote = remote;
    this.wireFormat = wire;
    this.format = format;
    this.#ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    // An async handler that rejects (captureRejections) ends only this call. Defined here, not
    // as a method, because the generic EventEmitter typing of the symbol's signature is unusable.
    Object.defineProperty(this, EventEmitter.captureRejectionSymbol, {
      value: (cause: unknown, event: string) => this._handlerFailed(cause, event),
    });
  }

  /** Whether the call has ended. */
  get ended(): boolean {
    return this.#end !== null;
  }

  /** Resolves when the call ends, with why. */
  get done(): Promise<CallEnd> {
    return this.#ended;
  }

  /**
   * Queues PCM16 in `format` (interleaved pairs when stereo: they are downmixed) for paced
   * playout. Returns false when the queue is above highWaterMs: wait for 'drain' before writing
   * more. Throws ERR_AUDIOSOCKET_QUEUE_FULL past maxQueueMs (nothing of that write is queued),
   * ERR_AUDIOSOCKET_INVALID_ARGUMENT for stereo that is not whole pairs, and
   * ERR_AUDIOSOCKET_CALL_ENDED once 'end' has been emitted. Before that a write is accepted even
   * if the caller has already hung up: audio too late to play counts in the end's unplayedMs.
   */
  write(pcm: Int16Array): boolean {
    this.#assertLive();
    try {
      return this.#host.driver.write(this.handle, pcm) <= this.#host.highWaterMs;
    } catch (error) {
      if (!this.#endingIn(error)) throw error;
      // Too late to play: reported with the rest of the unplayed audio by the end.
      this.#unplayedLateMs += this.#durationMs(pcm);
      return false;
    }
  }

  /**
   * Queues `pcm` and resolves when it has all been sent, or with how much did not play if the
   * queue was cleared, the signal aborted or the call ended first. Rejects only on bad use
   * (call ended, queue full).
   */
  play(pcm: Int16Array, options: PlayOptions = {}): Promise<PlayResult> {
    const { signal } = options;
    try {
      this.#assertLive();
      if (signal?.aborted) return Promise.resolve({ completed: false, reason: 'aborted', unplayedMs: this.#durationMs(pcm) });
      this.#host.driver.write(this.handle, pcm);
    } catch (error) {
      if (!this.#endingIn(error)) return Promise.reject(error);
      const unplayedMs = this.#durationMs(pcm);
      this.#unplayedLateMs += unplayedMs;
      return this.#ended.then(() => ({ completed: false, reason: 'ended', unplayedMs }));
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        if (!this.#marks.has(id)) return;
        play.aborted = true;
        this.clear();
      };
      const settle = (result: PlayResult) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const play = { durationMs: this.#durationMs(pcm), resolve: settle, aborted: false };
      const id = this.#queueMark({ name: options.mark, play });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Emits 'mark' with `name` once the audio written before it has been sent. */
  mark(name: string): void {
    this.#assertLive();
    this.#queueMark({ name });
  }

  /** Barge-in: drops all queued audio now. Pending plays resolve as cleared. */
  clear(): ClearedAudio {
    if (this.ended) return { clearedMs: 0, marks: [] };
    const cleared = this.#ending(() => this.#host.driver.clear(this.handle));
    if (!cleared) return { clearedMs: 0, marks: [] }; // the end will report the queue
    return { clearedMs: cleared.clearedMs, marks: this.#cancel(cleared.marks, 'cleared') };
  }

  /** Holds playout where it is (idle policy frames meanwhile); queued audio stays queued. */
  pause(): void {
    this.#assertLive();
    this.#ending(() => this.#host.driver.pause(this.handle));
  }

  /** Resumes playout after pause(). */
  resume(): void {
    this.#assertLive();
    this.#ending(() => this.#host.driver.resume(this.handle));
  }

  /**
   * Sets this call's `maxLatencyMs` (the server's option, for this call only), from its next
   * tick: at each tick, queued audio beyond `ms` is dropped, oldest first, counted in
   * `stats().latencyDroppedMs`; `null` drops nothing. For a call that relays live audio on a
   * server that also plays prompts, or the other way round. Throws
   * ERR_AUDIOSOCKET_INVALID_ARGUMENT for anything but null or an integer from the server's
   * `prebufferMs` + 20 to 3,600,000.
   */
  setMaxLatency(ms: number | null): void {
    if (ms !== null && !(Number.isInteger(ms) && ms >= 0 && ms <= 3_600_000)) {
      throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `maxLatencyMs must be null or an integer from 0 to 3600000, got ${ms}`);
    }
    this.#assertLive();
    this.#ending(() => this.#host.driver.setMaxLatency(this.handle, ms));
  }

  /** Sends 0x00 (the dialplan continues on Asterisk 20.14+) and closes. Queued audio is dropped. */
  hangup(): void {
    if (!this.ended) this.#host.driver.hangup(this.handle, 'local-hangup');
  }

  /** The call's counters now; after the end, read `end.stats` (this throws ERR_AUDIOSOCKET_CALL_ENDED). */
  stats(): CallStats {
    if (this.ended) throw new AudioSocketError(ErrorCode.CALL_ENDED, `call ${this.id} has ended`);
    return this.#withReaderDrops(this.#host.driver.stats(this.handle));
  }

  /**
   * Caller audio frames until the call ends. Buffering starts when the iterator is created, not
   * at its first next(); a slow reader loses the oldest frames past inboundQueueFrames (counted
   * in stats().inboundDropped, reported as an ERR_AUDIOSOCKET_INBOUND_OVERFLOW error).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Int16Array> {
    const queue = this.#openReader();
    const close = (): IteratorResult<Int16Array, undefined> => {
      queue.end();
      this.#readers.delete(queue);
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        const frame = await queue.shift();
        return frame ? { done: false, value: frame } : close();
      },
      return: async () => close(),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * A Duplex for piping: reads caller audio, writes audio to play, both as little-endian PCM16
   * bytes in `format`. Writes wait for 'drain' above highWaterMs (stream backpressure).
   */
  stream(): Duplex {
    const queue = this.#openReader();
    let pendingBytes: Buffer = Buffer.alloc(0);
    const call = this;
    const duplex = new Duplex({
      read() {
        const frame = queue.poll();
        if (frame) return void this.push(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
        queue.shift().then((next) => this.push(next ? Buffer.from(next.buffer, next.byteOffset, next.byteLength) : null));
      },
      write(chunk: Buffer, _encoding, callback) {
        if (call.ended) return callback(new AudioSocketError(ErrorCode.CALL_ENDED, `call ${call.id} has ended`));
        // Keep a trailing partial sample (or stereo pair) for the next chunk: never split one.
        const bytes = pendingBytes.length ? Buffer.concat([pendingBytes, chunk]) : chunk;
        const whole = bytes.length - (bytes.length % (2 * call.format.channels));
        pendingBytes = Buffer.from(bytes.subarray(whole));
        const samples = new Int16Array(whole / 2);
        new Uint8Array(samples.buffer).set(bytes.subarray(0, whole));
        try {
          if (call.write(samples)) return callback();
          const settle = () => {
            call.off('drain', settle);
            call.off('end', settle);
            callback();
          };
          call.on('drain', settle);
          call.on('end', settle);
        } catch (error) {
          callback(error as Error);
        }
      },
    });
    this.#ended.then(() => {
      queue.end();
      this.#readers.delete(queue);
    });
    return duplex;
  }

  // Engine events, dispatched by the server.

  /** @internal */
  _audio(pcm: Int16Array): void {
    for (const reader of this.#readers) reader.push(pcm);
    this.emit('audio', pcm);
  }

  /** @internal */
  _mark(mark: number): void {
    const pending = this.#marks.get(mark);
    if (!pending) return;
    this.#marks.delete(mark);
    pending.play?.resolve({ completed: true, reason: 'played', unplayedMs: 0 });
    if (pending.name !== undefined) this.emit('mark', pending.name);
  }

  /** @internal */
  _error(error: AudioSocketError): void {
    debugCallError(this, error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.#host.unhandledError(this, error);
  }

  /** @internal */
  _end(reason: EndReason, error: AudioSocketError | null, unplayedMs: number, marks: CancelledMark[], stats: CallStats): void {
    if (this.#end) return;
    this.#end = { reason, error, unplayedMs: unplayedMs + this.#unplayedLateMs, stats: this.#withReaderDrops(stats) };
    this.#cancel(marks, 'ended');
    // Marks the engine never took (the call had ended in it already): their plays end too.
    for (const [id, { play }] of this.#marks) {
      this.#marks.delete(id);
      play?.resolve({ completed: false, reason: play.aborted ? 'aborted' : 'ended', unplayedMs: play.durationMs });
    }
    for (const reader of this.#readers) reader.end();
    this.#readers.clear();
    debugCallEnded(this, this.#end);
    this.#resolveEnded(this.#end);
    this.emit('end', this.#end);
  }

  /** @internal */
  _handlerFailed(cause: unknown, event: string): void {
    const error = new AudioSocketError(ErrorCode.HANDLER_FAILED, `the '${event}' handler of call ${this.id} failed: ${String(cause)}`, { cause });
    if (!this.ended) this.#host.driver.hangup(this.handle, 'error', error);
  }

  /** The engine's counters, with the frames the call's own async iterators dropped. */
  #withReaderDrops(stats: CallStats): CallStats {
    return { ...stats, inboundDropped: stats.inboundDropped + this.#inboundDropped };
  }

  #openReader(): InboundQueue {
    const queue = new InboundQueue(this.#host.inboundQueueFrames, (error) => {
      this.#inboundDropped++;
      if (error) this._error(error);
    });
    if (this.ended) queue.end();
    else this.#readers.add(queue);
    return queue;
  }

  #queueMark(mark: PendingMark): number {
    const id = this.#nextMark++;
    this.#marks.set(id, mark);
    // On a call that is ending the mark stays pending here, and the end settles it.
    this.#ending(() => this.#host.driver.mark(this.handle, id));
    return id;
  }

  #cancel(cancelled: CancelledMark[], reason: 'cleared' | 'ended'): string[] {
    const names: string[] = [];
    for (const { mark, aheadMs } of cancelled) {
      const pending = this.#marks.get(mark);
      if (!pending) continue;
      this.#marks.delete(mark);
      if (pending.name !== undefined && !pending.play) names.push(pending.name);
      if (pending.play) {
        const unplayedMs = Math.min(pending.play.durationMs, aheadMs);
        pending.play.resolve({ completed: false, reason: pending.play.aborted ? 'aborted' : reason, unplayedMs });
        if (pending.name !== undefined) names.push(pending.name);
      }
    }
    return names;
  }

  #durationMs(pcm: Int16Array): number {
    return (pcm.length * 1000) / (this.#host.format.sampleRate * this.#host.format.channels);
  }

  /**
   * Whether `error` only says that the engine has ended the call while its end has not reached
   * this call yet (the native engine reports ends in batches, after this turn): to the
   * application the call is still live, so the operation counts as made just before the end.
   */
  #endingIn(error: unknown): boolean {
    return !this.ended && error instanceof AudioSocketError && error.code === ErrorCode.CALL_ENDED;
  }

  /** Runs an engine operation; undefined, not an error, when the call is ending (see #endingIn). */
  #ending<T>(operation: () => T): T | undefined {
    try {
      return operation();
    } catch (error) {
      if (!this.#endingIn(error)) throw error;
      return undefined;
    }
  }

  #assertLive(): void {
    if (this.ended) throw new AudioSocketError(ErrorCode.CALL_ENDED, `call ${this.id} has ended`);
  }
}
