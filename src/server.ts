import { EventEmitter } from 'node:events';
import { Call, type CallHost } from './call';
import type { EndReason, Engine, EngineConfig, EngineEvent, RemoteAddress } from './engine/contract';
import { selectEngine, type EngineChoice, type EngineInfo } from './engine/select';
import { AudioSocketError, ErrorCode } from './errors';
import { MAX_PAYLOAD } from './protocol/encode';
import { SAMPLE_RATES } from './protocol/kind';

export interface ServerOptions {
  /** `auto` (default): native when its binary loads, else TypeScript. `native` fails without it. */
  engine?: EngineChoice;
  /** Hz of the audio handlers read and write, and of the frames sent (default 8000, the dialplan app's). */
  sampleRate?: number;
  /** Audio queued before playout starts, ms (default 40, 0-1000). Absorbs a writer's jitter. */
  prebufferMs?: number;
  /**
   * What is sent while nothing is queued or while paused (default `silence`): paced silence
   * keeps Asterisk's 2 s inactivity timer (dialplan app, 20.14+) from hanging up. `none` sends nothing.
   */
  idle?: 'silence' | 'none';
  /** A connection must send its UUID within this many ms (default 2000, 100-60000). */
  handshakeTimeoutMs?: number;
  /** Connections at once, calls and handshakes (default 5000). More get 0x00 and are closed. */
  maxCalls?: number;
  /** Addresses or CIDR blocks that may connect (default: everyone). */
  allow?: string[];
  /** Longest payload accepted from the network, bytes (default 32768: 80 ms at 192 kHz; 1-65535). */
  maxPayload?: number;
  /** write() returns false above this much queued audio, ms (default 1000). */
  highWaterMs?: number;
  /** 'drain' fires when the queue falls to this, ms (default highWaterMs / 2). */
  lowWaterMs?: number;
  /** write() throws ERR_AUDIOSOCKET_QUEUE_FULL past this much queued audio, ms (default 60000). */
  maxQueueMs?: number;
  /** Caller audio frames held for a slow async iterator or stream reader (default 250: 5 s of 20 ms frames). */
  inboundQueueFrames?: number;
}

export interface ListenOptions {
  /** Default `127.0.0.1`: AudioSocket has no authentication, so expose it only on purpose. */
  host?: string;
  /** Default 9092; 0 picks a free port. */
  port?: number;
}

export interface CloseOptions {
  /** How long queued audio may keep playing before every call is hung up, ms (default 0). */
  drainMs?: number;
}

export interface ServerEvents {
  /** A new call, after its UUID. */
  call: [call: Call];
  /** A connection refused or dropped before it became a call: not allowed, over maxCalls, no UUID in time... */
  reject: [error: AudioSocketError, remote: RemoteAddress];
  /** A call's problem that did not end it, when the call has no 'error' listener of its own. */
  callError: [error: AudioSocketError, call: Call];
  /** A call ended. */
  callEnd: [call: Call, reason: EndReason];
  close: [];
}

/**
 * An AudioSocket server: Asterisk connects, each connection becomes a {@link Call}.
 *
 * ```ts
 * const server = new AudioSocketServer();
 * server.on('call', (call) => call.on('audio', (pcm) => call.write(pcm)));
 * await server.listen({ port: 9092 });
 * ```
 */
export class AudioSocketServer extends EventEmitter<ServerEvents> implements CallHost {
  /** Which engine runs (`native` or `js`), and why that one. */
  readonly engine: EngineInfo;
  /** @internal */
  readonly driver: Engine;
  readonly sampleRate: number;
  readonly inboundQueueFrames: number;
  readonly highWaterMs: number;
  #calls = new Map<number, Call>();
  #backlog: Call[] = [];
  #acceptors: Array<{ resolve: (call: Call) => void; reject: (error: Error) => void }> = [];
  #closed = false;

  constructor(options: ServerOptions = {}) {
    super();
    const config = resolveConfig(options);
    this.sampleRate = config.sampleRate;
    this.highWaterMs = config.highWaterMs;
    this.inboundQueueFrames = intOption('inboundQueueFrames', options.inboundQueueFrames, 250, 1, 1_000_000);
    const { engine, info } = selectEngine(options.engine ?? 'auto', config, this.#dispatch);
    this.driver = engine;
    this.engine = info;
  }

  /** Calls in progress. */
  get calls(): IterableIterator<Call> {
    return this.#calls.values();
  }

  get callCount(): number {
    return this.#calls.size;
  }

  /** Starts listening; resolves with the bound address. */
  async listen(options: ListenOptions | number = {}): Promise<{ address: string; port: number; family: string }> {
    const { host = '127.0.0.1', port = 9092 } = typeof options === 'number' ? { port: options } : options;
    if (this.#closed) throw new AudioSocketError(ErrorCode.SERVER_CLOSED, 'the server was closed');
    return this.driver.listen(host, port);
  }

  address(): { address: string; port: number; family: string } | null {
    return this.driver.address();
  }

  /**
   * The next call, for code that pulls instead of listening to 'call'. Calls that arrive while
   * nobody listens to 'call' and nobody waits here are kept until taken (or until they end).
   */
  accept(options: { signal?: AbortSignal } = {}): Promise<Call> {
    const waiting = this.#backlog.shift();
    if (waiting) return Promise.resolve(waiting);
    if (this.#closed) return Promise.reject(new AudioSocketError(ErrorCode.SERVER_CLOSED, 'the server is closed'));
    return new Promise((resolve, reject) => {
      const acceptor = { resolve, reject };
      this.#acceptors.push(acceptor);
      options.signal?.addEventListener(
        'abort',
        () => {
          this.#acceptors = this.#acceptors.filter((a) => a !== acceptor);
          reject(options.signal!.reason);
        },
        { once: true },
      );
    });
  }

  /** Calls as they arrive, until the server closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Call, void, undefined> {
    try {
      for (;;) yield await this.accept();
    } catch (error) {
      if ((error as AudioSocketError).code !== ErrorCode.SERVER_CLOSED) throw error;
    }
  }

  /**
   * Stops accepting, lets queued audio play for up to `drainMs`, then hangs up every call
   * (each gets 0x00) and resolves once every connection is closed.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const drainMs = intOption('drainMs', options.drainMs, 0, 0, 3_600_000);
    this.#closed = true;
    for (const acceptor of this.#acceptors.splice(0)) {
      acceptor.reject(new AudioSocketError(ErrorCode.SERVER_CLOSED, 'the server is closing'));
    }
    await this.driver.close(drainMs);
    this.emit('close');
  }

  /** @internal */
  unhandledError(call: Call, error: AudioSocketError): void {
    this.emit('callError', error, call);
  }

  #dispatch = (events: EngineEvent[]): void => {
    for (const event of events) {
      if (event.type === 'reject') {
        this.emit('reject', event.error, event.remote);
        continue;
      }
      if (event.type === 'call') {
        this.#newCall(new Call(this, event.call, event.id, event.remote, event.wire));
        continue;
      }
      const call = this.#calls.get(event.call);
      if (!call) continue;
      this.#deliver(call, event);
    }
  };

  #newCall(call: Call): void {
    this.#calls.set(call.handle, call);
    const acceptor = this.#acceptors.shift();
    if (acceptor) acceptor.resolve(call);
    else if (this.listenerCount('call') === 0) this.#backlog.push(call);
    try {
      this.emit('call', call);
    } catch (error) {
      call._handlerFailed(error, 'call');
    }
  }

  /** One engine event to its call; a handler that throws ends that call only. */
  #deliver(call: Call, event: Exclude<EngineEvent, { type: 'call' | 'reject' }>): void {
    try {
      switch (event.type) {
        case 'audio':
          return call._audio(event.pcm);
        case 'dtmf':
          return void call.emit('dtmf', event.digit, { state: event.state, durationMs: event.durationMs });
        case 'mark':
          return call._mark(event.mark);
        case 'drain':
          return void call.emit('drain');
        case 'error':
          return call._error(event.error);
        case 'end':
          this.#calls.delete(event.call);
          this.#backlog = this.#backlog.filter((c) => c !== call);
          call._end(event.reason, event.error, event.unplayedMs, event.marks, event.stats);
          this.emit('callEnd', call, event.reason);
          return;
      }
    } catch (error) {
      call._handlerFailed(error, event.type);
    }
  }
}

function resolveConfig(options: ServerOptions): EngineConfig {
  const sampleRate = options.sampleRate ?? 8000;
  if (!SAMPLE_RATES.includes(sampleRate)) {
    throw new AudioSocketError(ErrorCode.BAD_SAMPLE_RATE, `sampleRate must be one of ${SAMPLE_RATES.join(', ')} Hz, got ${sampleRate}`);
  }
  const idle = options.idle ?? 'silence';
  if (idle !== 'silence' && idle !== 'none') {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `idle must be 'silence' or 'none', got ${JSON.stringify(idle)}`);
  }
  const highWaterMs = intOption('highWaterMs', options.highWaterMs, 1000, 20, 3_600_000);
  const maxQueueMs = intOption('maxQueueMs', options.maxQueueMs, 60_000, highWaterMs, 3_600_000);
  return {
    sampleRate,
    prebufferMs: intOption('prebufferMs', options.prebufferMs, 40, 0, 1000),
    idle,
    handshakeTimeoutMs: intOption('handshakeTimeoutMs', options.handshakeTimeoutMs, 2000, 100, 60_000),
    maxCalls: intOption('maxCalls', options.maxCalls, 5000, 1, 1_000_000),
    allow: [...(options.allow ?? [])],
    maxPayload: intOption('maxPayload', options.maxPayload, 32768, 1, MAX_PAYLOAD),
    highWaterMs,
    lowWaterMs: intOption('lowWaterMs', options.lowWaterMs, Math.floor(highWaterMs / 2), 0, highWaterMs),
    maxQueueMs,
  };
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
