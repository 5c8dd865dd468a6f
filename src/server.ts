import { EventEmitter } from 'node:events';
import { Call, type CallHost } from './call';
import type { EndReason, Engine, EngineConfig, EngineEvent, RemoteAddress, Wire, WireFormat } from './engine/contract';
import { debugBound, debugCallStarted, debugClosed, debugRejected } from './debug';
import { selectEngine, type EngineChoice, type EngineInfo } from './engine/select';
import { AudioSocketError, ErrorCode } from './errors';
import { appFormat, outputRate, resolveFormat, wireCodec, type AudioFormat } from './format';
import type { ConnectionRateLimit } from './net/rate-limit';
import { MAX_PAYLOAD } from './protocol/encode';
import { kindForSampleRate } from './protocol/kind';

/** Options of {@link AudioSocketServer}; all optional. Reference with ranges: docs/api.md. */
export interface ServerOptions {
  /** `auto` (default): native when its binary loads, else TypeScript. `native` fails without it. */
  engine?: EngineChoice;
  /**
   * What handlers read and write, whatever the wire carries (default `{ sampleRate: 8000,
   * channels: 1 }`, the dialplan app's own). `sampleRate`, Hz: 8000, 11025, 12000, 16000,
   * 22050, 24000, 32000, 44100, 48000, 96000 or 192000. `channels`: 1, or 2 (interleaved:
   * caller audio comes duplicated on both channels, what the application writes is downmixed).
   * Each engine converts: G.711, resampling (state kept per call and direction), channels.
   */
  format?: { sampleRate?: number; channels?: 1 | 2 };
  /** Shorthand for `format.sampleRate`, Hz (default 8000). */
  sampleRate?: number;
  /**
   * What the frames carry (default `auto`). `auto` and `slin`: signed linear at the rate of each
   * frame's kind (0x10 8 kHz ... 0x18 192 kHz); `auto` also warns (call 'error' event,
   * ERR_AUDIOSOCKET_WIRE_FORMAT, non-fatal) when 0x10 frames look like G.711 (160 bytes, 50 a
   * second). `ulaw` / `alaw`: 0x10 frames carry G.711, 160 bytes per 20 ms, both ways: what
   * `Dial(AudioSocket/...)` without `c(slin)` and ARI `externalMedia` with `format=ulaw` or
   * `alaw` exchange.
   */
  wire?: Wire;
  /**
   * The Asterisk release calls come from, e.g. `'20.19'` or `'22.10.1'`. It decides the kind of
   * the frames sent: the app rate's (0x11-0x18 above 8 kHz; 11025 and 22050 go out at 12000 and
   * 24000) only from 20.17 / 21.12 / 22.7 / 23.1 on, since older releases hang up on them;
   * before those, audio is resampled to 8 kHz (0x10) and the server's 'warning' event says so
   * once. Default: a current release. Only an app rate above 8 kHz, which is asked for
   * explicitly, depends on it: the default format sends 0x10 whatever the version.
   */
  asteriskVersion?: string;
  /**
   * Chooses a call's own format from its UUID and peer, when calls differ in what their
   * handlers read and write (one goes to a 16 kHz recogniser, another to a 24 kHz stereo TTS):
   * return a format (missing fields come from `format`) or undefined for `format` itself. It
   * runs as the call arrives, before any of its audio is converted, so the call's first frame
   * is already in its format; `call.format` tells which it got. The wire is the server's
   * whatever the call's format. A function that throws or returns a format no call can have
   * ends that call (ERR_AUDIOSOCKET_HANDLER_FAILED, on the server's 'callError') and no 'call'
   * event is emitted for it.
   */
  callFormat?: (call: { id: string; remote: RemoteAddress }) => Partial<AudioFormat> | undefined;
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
  /**
   * How fast one source (an IPv4 address, or an IPv6 /64) may open connections: `perSecond`
   * sustained (> 0) and `burst` at once (>= 1). Connections past it are closed at once with a
   * 'reject' event (ERR_AUDIOSOCKET_RATE_LIMITED). Default `{ perSecond: 200, burst: 1000 }`,
   * above what one Asterisk starts; `false` for no limit (e.g. a load balancer that is every call's
   * source).
   */
  connectionRateLimit?: ConnectionRateLimit | false;
  /** Longest payload accepted from the network, bytes (default 32768: 80 ms at 192 kHz; 1-65535). */
  maxPayload?: number;
  /** write() returns false above this much queued audio, ms (default 1000). */
  highWaterMs?: number;
  /** 'drain' fires when the queue falls to this, ms (default highWaterMs / 2). */
  lowWaterMs?: number;
  /** write() throws ERR_AUDIOSOCKET_QUEUE_FULL past this much queued audio, ms (default 60000). */
  maxQueueMs?: number;
  /**
   * For live audio (an echo, another call's audio, a stream that arrives in real time), ms
   * (default: none, nothing is dropped; at least prebufferMs + 20). At each 20 ms tick of a
   * playing call, audio queued beyond this is dropped, oldest first, counted in
   * `stats().latencyDroppedMs`; marks in it are reached. A writer at the real-time rate never
   * lets its queue shrink, so without it every stall of the writer (a blocked thread, jitter
   * that leaves a frame standing) adds to the call's latency for good. Not for prompts or TTS
   * written ahead of their time, which queue more than this by design.
   */
  maxLatencyMs?: number;
  /**
   * Caller audio frames held for a slow async iterator or stream reader of a call (default 250:
   * 5 s of 20 ms frames; 1 to 1,000,000). Past it the oldest are dropped, counted in
   * `stats().inboundDropped`, with one ERR_AUDIOSOCKET_INBOUND_OVERFLOW error per episode.
   */
  inboundQueueFrames?: number;
  /**
   * Caller audio per call the native engine holds while the JavaScript thread is too busy to
   * take it, ms (default 5000; 100 to 600000), counted in frames of 20 ms, Asterisk's size. Past it newer frames are dropped until the thread
   * catches up, counted in `stats().inboundDropped`, with one ERR_AUDIOSOCKET_INBOUND_OVERFLOW
   * error per episode, so that a stalled or saturated application costs bounded memory. The
   * TypeScript engine reads sockets on that thread, so caller audio waits in the kernel instead.
   */
  inboundBacklogMs?: number;
}

/** Where {@link AudioSocketServer.listen} binds. */
export interface ListenOptions {
  /** Default `127.0.0.1`: AudioSocket has no authentication, so expose it only on purpose. */
  host?: string;
  /** Default 9092; 0 picks a free port. */
  port?: number;
}

/** How {@link AudioSocketServer.close} ends the calls in progress. */
export interface CloseOptions {
  /** How long queued audio may keep playing before every call is hung up, ms (default 0). */
  drainMs?: number;
}

/** The events of {@link AudioSocketServer}, with their arguments. */
export interface ServerEvents {
  /** A new call, after its UUID. */
  call: [call: Call];
  /**
   * A problem of the configuration that does not stop the server (ERR_AUDIOSOCKET_WIRE_FORMAT:
   * an app rate `asteriskVersion` cannot be sent, so 8 kHz is), given once, with the first
   * call. Without a listener it goes to process.emitWarning().
   */
  warning: [error: AudioSocketError];
  /** A connection refused or dropped before it became a call: not allowed, over maxCalls, no UUID in time... */
  reject: [error: AudioSocketError, remote: RemoteAddress];
  /** A call's problem that did not end it, when the call has no 'error' listener of its own. */
  callError: [error: AudioSocketError, call: Call];
  /** A call ended. */
  callEnd: [call: Call, reason: EndReason];
  /** close() finished: every connection is closed. */
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
  /** What handlers read and write. */
  readonly format: AudioFormat;
  /** Hz of `format`. */
  readonly sampleRate: number;
  /** What every call's frames carry on their way to Asterisk. */
  readonly wireFormat: WireFormat;
  /** The `inboundQueueFrames` option in force. */
  readonly inboundQueueFrames: number;
  /** The `highWaterMs` option in force, ms. */
  readonly highWaterMs: number;
  /** A warning about the configuration, still to be given (with the first call). */
  #configWarning: AudioSocketError | null;
  #callFormat: ServerOptions['callFormat'];
  #calls = new Map<number, Call>();
  #backlog: Call[] = [];
  #acceptors: Array<{ resolve: (call: Call) => void; reject: (error: Error) => void }> = [];
  #closed = false;

  constructor(options: ServerOptions = {}) {
    super();
    const { config, warning } = resolveConfig(options);
    this.format = Object.freeze({ sampleRate: config.sampleRate, channels: config.channels });
    this.sampleRate = config.sampleRate;
    this.wireFormat = Object.freeze({ kind: kindForSampleRate(config.outputRate)!, sampleRate: config.outputRate, codec: wireCodec(config.wire) });
    this.#configWarning = warning;
    if (options.callFormat !== undefined && typeof options.callFormat !== 'function') {
      throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, 'callFormat must be a function');
    }
    this.#callFormat = options.callFormat;
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

  /** How many calls are in progress. */
  get callCount(): number {
    return this.#calls.size;
  }

  /** Starts listening; resolves with the bound address. */
  async listen(options: ListenOptions | number = {}): Promise<{ address: string; port: number; family: string }> {
    const { host = '127.0.0.1', port = 9092 } = typeof options === 'number' ? { port: options } : options;
    if (this.#closed) throw new AudioSocketError(ErrorCode.SERVER_CLOSED, 'the server was closed');
    const bound = await this.driver.listen(host, port);
    debugBound(bound, this.engine);
    return bound;
  }

  /** The bound address, or null before listen() and after close(). */
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
    const first = !this.#closed;
    this.#closed = true;
    for (const acceptor of this.#acceptors.splice(0)) {
      acceptor.reject(new AudioSocketError(ErrorCode.SERVER_CLOSED, 'the server is closing'));
    }
    await this.driver.close(drainMs);
    if (first) debugClosed();
    this.emit('close');
  }

  /** @internal */
  unhandledError(call: Call, error: AudioSocketError): void {
    this.emit('callError', error, call);
  }

  #dispatch = (events: EngineEvent[]): void => {
    for (const event of events) {
      if (event.type === 'reject') {
        debugRejected(event.remote, event.error);
        this.emit('reject', event.error, event.remote);
        continue;
      }
      if (event.type === 'call') {
        this.#openCall(event);
        continue;
      }
      const call = this.#calls.get(event.call);
      if (!call) continue;
      this.#deliver(call, event);
    }
  };

  /** Settles a new call's format, lets its audio flow, and hands it to the application. */
  #openCall({ call: handle, id, remote, wire }: Extract<EngineEvent, { type: 'call' }>): void {
    const wireFormat = { ...wire, codec: this.wireFormat.codec };
    let format = this.format;
    try {
      if (this.#callFormat) format = appFormat(this.#callFormat({ id, remote }), this.format);
    } catch (cause) {
      const call = new Call(this, handle, id, remote, wireFormat, this.format);
      this.#calls.set(handle, call);
      const error = new AudioSocketError(ErrorCode.HANDLER_FAILED, `callFormat failed for call ${id}: ${String(cause)}`, { cause });
      this.driver.hangup(handle, 'error', error);
      this.emit('callError', error, call);
      return;
    }
    const own = format.sampleRate !== this.format.sampleRate || format.channels !== this.format.channels;
    try {
      this.driver.open(handle, own ? format : null);
    } catch (error) {
      // A call that ended in the batch that started it: its 'end' follows, as for any call.
      if (!(error instanceof AudioSocketError && error.code === ErrorCode.CALL_ENDED)) throw error;
    }
    this.#newCall(new Call(this, handle, id, remote, wireFormat, format));
  }

  #newCall(call: Call): void {
    if (this.#configWarning) {
      const warning = this.#configWarning;
      this.#configWarning = null;
      if (this.listenerCount('warning') > 0) this.emit('warning', warning);
      else process.emitWarning(warning.message, { code: warning.code });
    }
    this.#calls.set(call.handle, call);
    debugCallStarted(call);
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

function resolveConfig(options: ServerOptions): { config: EngineConfig; warning: AudioSocketError | null } {
  const { format, wire } = resolveFormat(options.format, options.sampleRate, options.wire);
  const output = outputRate(format, wire, options.asteriskVersion);
  const idle = options.idle ?? 'silence';
  if (idle !== 'silence' && idle !== 'none') {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `idle must be 'silence' or 'none', got ${JSON.stringify(idle)}`);
  }
  const highWaterMs = intOption('highWaterMs', options.highWaterMs, 1000, 20, 3_600_000);
  const maxQueueMs = intOption('maxQueueMs', options.maxQueueMs, 60_000, highWaterMs, 3_600_000);
  const prebufferMs = intOption('prebufferMs', options.prebufferMs, 40, 0, 1000);
  const config: EngineConfig = {
    sampleRate: format.sampleRate,
    channels: format.channels,
    wire,
    outputRate: output.rate,
    prebufferMs,
    idle,
    handshakeTimeoutMs: intOption('handshakeTimeoutMs', options.handshakeTimeoutMs, 2000, 100, 60_000),
    maxCalls: intOption('maxCalls', options.maxCalls, 5000, 1, 1_000_000),
    allow: [...(options.allow ?? [])],
    connectionRateLimit: rateLimitOption(options.connectionRateLimit),
    maxPayload: intOption('maxPayload', options.maxPayload, 32768, 1, MAX_PAYLOAD),
    highWaterMs,
    lowWaterMs: intOption('lowWaterMs', options.lowWaterMs, Math.floor(highWaterMs / 2), 0, highWaterMs),
    maxQueueMs,
    maxLatencyMs: options.maxLatencyMs === undefined ? null : intOption('maxLatencyMs', options.maxLatencyMs, 0, prebufferMs + 20, 3_600_000),
    inboundBacklogMs: intOption('inboundBacklogMs', options.inboundBacklogMs, 5000, 100, 600_000),
  };
  return { config, warning: output.warning };
}

function rateLimitOption(value: ConnectionRateLimit | false | undefined): ConnectionRateLimit | null {
  if (value === false) return null;
  if (value === undefined) return { perSecond: 200, burst: 1000 };
  const { perSecond, burst } = value;
  if (!(typeof perSecond === 'number' && Number.isFinite(perSecond) && perSecond > 0 && typeof burst === 'number' && Number.isFinite(burst) && burst >= 1)) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `connectionRateLimit needs perSecond > 0 and burst >= 1, got ${JSON.stringify(value)}`);
  }
  return { perSecond, burst };
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
