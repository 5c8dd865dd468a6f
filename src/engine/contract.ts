/**
 * The contract between the facade (AudioSocketServer, Call) and an engine. Two engines
 * implement it: `js` (src/engine/js, on node:net) and `native` (crate/, through napi-rs).
 * Calls are numbered handles here; the facade maps them to Call objects. Everything an engine
 * reports reaches the facade through one sink, in batches: whatever is ready at once arrives as
 * one array, so a native engine crosses into JavaScript once per tick, not once per frame.
 */
import type { AudioSocketError } from '../errors';
import type { AudioFormat } from '../format';
import type { ConnectionRateLimit } from '../net/rate-limit';

/** The two engines: `native` (Rust, through napi-rs) and `js` (TypeScript, on node:net). */
export type EngineName = 'native' | 'js';

/** How a call ended. */
export type EndReason =
  /** Asterisk sent 0x00 or closed the connection. */
  | 'remote-hangup'
  /** The application called hangup(). */
  | 'local-hangup'
  /** A protocol or socket error, or a handler that threw; `error` says which. */
  | 'error'
  /** No UUID within handshakeTimeoutMs (only for connections that never became calls). */
  | 'timeout'
  /** server.close(). */
  | 'server-close';

/** The peer of a connection. */
export interface RemoteAddress {
  /** Its IP address. */
  address: string;
  /** Its TCP port. */
  port: number;
  /** Its address family. */
  family: 'IPv4' | 'IPv6';
}

/**
 * How 0x10 frames are read and frames sent are encoded: `slin` (and `auto`, which also warns
 * when 0x10 frames look like G.711), or G.711 `ulaw` / `alaw` (Dial() or externalMedia without
 * c(slin): 160 bytes per 20 ms, both ways). Frames of kinds 0x11+ are always slin.
 */
export type Wire = 'auto' | 'slin' | 'ulaw' | 'alaw';

/** What the frames of a wire carry: slin, or a G.711 law. */
export type WireCodec = 'slin' | 'ulaw' | 'alaw';

/** Settings every engine takes, already validated and defaulted by the facade. */
export interface EngineConfig {
  /** Sample rate the application reads and writes (Hz, one of APP_SAMPLE_RATES). */
  sampleRate: number;
  /** Channels the application reads and writes: 1, or 2 interleaved (writes downmixed, caller audio duplicated). */
  channels: 1 | 2;
  /** How 0x10 frames are read and frames sent are encoded. */
  wire: Wire;
  /** Rate of the frames sent, which sets their kind (Hz; 8000 for G.711). Each engine converts to it. */
  outputRate: number;
  /** Audio queued before playout starts, ms. */
  prebufferMs: number;
  /** What to send while nothing is queued or while paused. */
  idle: 'silence' | 'none';
  /** Connections that send no UUID within this many ms are closed. */
  handshakeTimeoutMs: number;
  /** Calls (and handshaking connections) at once; more are refused with 0x00. */
  maxCalls: number;
  /** Peers allowed to connect; empty means everyone. */
  allow: readonly string[];
  /** Connections per second and burst per source, or null for no limit. */
  connectionRateLimit: ConnectionRateLimit | null;
  /** Longest payload accepted from the network, bytes. */
  maxPayload: number;
  /** Queue depth above which write() returns false, ms. */
  highWaterMs: number;
  /** Queue depth at which 'drain' is reported after write() returned false, ms. */
  lowWaterMs: number;
  /** Queue depth beyond which write() refuses audio with ERR_AUDIOSOCKET_QUEUE_FULL, ms. */
  maxQueueMs: number;
  /**
   * For live audio: at each tick of a playing call, queued audio beyond this is dropped, oldest
   * first, ms; null never drops. At least prebufferMs + 20.
   */
  maxLatencyMs: number | null;
  /**
   * Caller audio per call that may wait for the application's thread, ms; past it newer frames
   * are dropped (counted, one INBOUND_OVERFLOW error per episode). Only an engine that reads
   * sockets off the application's thread can fall behind: the js engine never does.
   */
  inboundBacklogMs: number;
}

/** What a call's server sends on the wire: the same for every call of a server. */
export interface WireFormat {
  /** Kind of the frames sent (0x10-0x18). */
  kind: number;
  /** Their rate, Hz. */
  sampleRate: number;
  /** What their payload is: slin (s16le), or G.711 (one byte per sample, 8 kHz). */
  codec: WireCodec;
}

export type EngineEvent =
  | { type: 'call'; call: number; id: string; remote: RemoteAddress; wire: { kind: number; sampleRate: number } }
  /** Caller audio in the app format (config.sampleRate, interleaved when config.channels is 2). */
  | { type: 'audio'; call: number; pcm: Int16Array }
  | { type: 'dtmf'; call: number; digit: string; state: 'start' | 'end'; durationMs: number | null }
  | { type: 'mark'; call: number; mark: number }
  | { type: 'drain'; call: number }
  /** A problem on one call that does not end it (an unknown kind, a bad DTMF payload, G.711 labelled as slin...). */
  | { type: 'error'; call: number; error: AudioSocketError }
  /**
   * A connection refused or failed before it became a call (not allowed, over maxCalls, no
   * UUID in time, bad first message). The server keeps serving.
   */
  | { type: 'reject'; remote: RemoteAddress; error: AudioSocketError }
  | {
      type: 'end';
      call: number;
      reason: EndReason;
      error: AudioSocketError | null;
      unplayedMs: number;
      marks: CancelledMark[];
      /** The call's final counters (queuedMs is what was left unplayed). */
      stats: CallStats;
    };

/** A mark that was queued but never reached. */
export interface CancelledMark {
  mark: number;
  /** Queued audio ahead of the mark when it was cancelled, ms. */
  aheadMs: number;
}

export interface ClearResult {
  /** Queued audio dropped, ms. */
  clearedMs: number;
  marks: CancelledMark[];
}

/** A call's counters: `call.stats()` and `end.stats`. */
export interface CallStats {
  /** Audio frames received from Asterisk. */
  framesIn: number;
  /** Frames sent to Asterisk, audio and idle silence. */
  framesOut: number;
  /** Of framesOut, frames of silence sent while idle or paused. */
  silenceFramesOut: number;
  /** Ticks on which playout had started but less than a frame of audio was queued and no mark ended it. */
  underruns: number;
  /** Audio queued for playout, ms. */
  queuedMs: number;
  /** Largest lateness of a clock tick against its deadline, ms. */
  maxLatenessMs: number;
  /** Frames not written because Asterisk stopped reading (socket buffer full). */
  framesDropped: number;
  /**
   * Caller audio frames dropped because the application did not take them in time: more than
   * inboundBacklogMs waiting in the engine, or inboundQueueFrames in an async iterator.
   */
  inboundDropped: number;
  /** Audio dropped from the playout queue because more than maxLatencyMs was queued, ms. */
  latencyDroppedMs: number;
}

export interface Engine {
  readonly name: EngineName;
  /** Starts listening; resolves with the bound address. */
  listen(host: string, port: number): Promise<{ address: string; port: number; family: string }>;
  /** The bound address, or null before listen() or after close(). */
  address(): { address: string; port: number; family: string } | null;
  /**
   * Stops accepting, lets queued audio play for at most drainMs, then hangs up every call
   * (each gets 0x00) and releases everything. Resolves when all is closed.
   */
  close(drainMs: number): Promise<void>;
  /**
   * Lets a call's caller audio flow to the application, converted to `format` (null: the
   * server's), which is also what its writes are read as. Until then the engine holds the
   * call's caller audio (at most inboundBacklogMs), so that no frame is ever converted to a
   * format the application did not choose. The facade opens every call as it delivers its
   * 'call' event. Throws INVALID_ARGUMENT when the call is open already or for a format no call
   * can have (BAD_SAMPLE_RATE for its rate), CALL_ENDED after the end.
   */
  open(call: number, format: AudioFormat | null): void;
  /**
   * Queues PCM in the app format (config.sampleRate, interleaved pairs when config.channels is
   * 2) for paced playout; returns the queue depth after it, ms. Throws QUEUE_FULL past
   * maxQueueMs, INVALID_ARGUMENT for stereo that is not whole pairs (nothing queued then).
   */
  write(call: number, pcm: Int16Array): number;
  /** Queues a mark after the audio written so far. */
  mark(call: number, mark: number): void;
  /** Drops all queued audio now and cancels the marks in it. */
  clear(call: number): ClearResult;
  pause(call: number): void;
  resume(call: number): void;
  /**
   * The call's maxLatencyMs from its next tick (null: no cap). INVALID_ARGUMENT below
   * prebufferMs + 20 (the cap is unchanged then).
   */
  setMaxLatency(call: number, ms: number | null): void;
  /** Sends 0x00 and closes; the call ends with 'local-hangup'. */
  hangup(call: number, reason?: EndReason, error?: AudioSocketError): void;
  stats(call: number): CallStats;
}

export type EngineSink = (events: EngineEvent[]) => void;
