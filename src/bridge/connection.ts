import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { AudioSocketError, ErrorCode } from '../errors';
import { Backlog } from './backlog';
import type { ResolvedBridgeOptions } from './options';

/** A message for the service: text, binary, or text built when it is sent (numbered per connection). */
export type Outgoing = string | Buffer | (() => string);

/** What the `error` event of a bridge says besides the error (mod_audio_stream's error event fields). */
export interface BridgeErrorInfo {
  /** Failed connection attempts in a row so far; 0 for errors that are not about connecting. */
  retries: number;
  /** When the next attempt starts, ms from now; null when none follows (reconnect off, retries spent, or not a connection error). */
  waitMs: number | null;
  /** The HTTP status the service answered the upgrade with, when it refused it; else null. */
  httpStatus: number | null;
}

export interface ConnectionEvents {
  /** A connection opened and its greeting was sent. */
  open: [reconnected: boolean];
  message: [data: Buffer, isBinary: boolean];
  /** An open connection closed. */
  disconnect: [code: number, reason: string];
  /** An attempt failed, or an open connection stopped answering pings. */
  failure: [error: AudioSocketError, info: BridgeErrorInfo];
  /** The backlog started dropping its oldest messages (once per episode: until it empties again). */
  overflow: [];
  /** No connection will follow: stopped, reconnect off, retries spent, or the service closed with 1000. */
  end: [];
}

/**
 * Bytes ws may hold unsent (its `bufferedAmount`) before messages wait in the backlog instead:
 * 1 s of 16 kHz L16, 2 s of 8 kHz. Beyond it the service is not keeping up, and the bounded
 * backlog decides what to drop.
 */
const SOCKET_HIGH_WATER_BYTES = 32 * 1024;

/** WebSocket close code of a clean end: the service finished the stream, so it is not reconnected. */
const NORMAL_CLOSURE = 1000;

/**
 * One bridge's link to its service: a ws client that reconnects with backoff, pings, and holds
 * what cannot be sent in a bounded {@link Backlog}. Timers: one per connection for the
 * heartbeat and one per pending reconnection, never one per message. Messages are sent when
 * they are queued, and queued ones on each later send, on open and on each heartbeat.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly backlog: Backlog<Outgoing>;
  /** Connections opened so far. */
  opened = 0;
  #options: ResolvedBridgeOptions;
  #greeting: () => Outgoing[];
  #ws: WebSocket | null = null;
  #open = false;
  #retries = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #awaitingPong = false;
  #heartbeatLost = false;
  #httpStatus: number | null = null;
  #lastError: Error | null = null;
  #overflowing = false;
  #stopping = false;
  #ended = false;
  #closed: Promise<void>;
  #resolveClosed!: () => void;

  /** `greeting` makes the messages that open every connection (metadata, Twilio's connected and start). */
  constructor(options: ResolvedBridgeOptions, backlogFrames: number, greeting: () => Outgoing[]) {
    super();
    this.#options = options;
    this.#greeting = greeting;
    this.backlog = new Backlog(backlogFrames);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get connected(): boolean {
    return this.#open;
  }

  /** The URL without its query and credentials, for messages (a query often carries a token). */
  get target(): string {
    const { protocol, host, pathname } = this.#options.url;
    return `${protocol}//${host}${pathname}`;
  }

  start(): void {
    this.#connect();
  }

  /** Sends now if the connection is open and keeping up, else keeps it in the backlog. */
  send(item: Outgoing, audio: boolean): void {
    if (this.#stopping || this.#ended) return;
    this.#flush();
    if (this.#writable() && this.backlog.size === 0) return this.#transmit(item);
    if (this.backlog.push(item, audio) && !this.#overflowing) {
      this.#overflowing = true;
      this.emit('overflow');
    }
  }

  /**
   * Sends what is held and `farewell`, then closes with 1000 (no reconnection). Resolves once
   * closed; at once when no connection is open.
   */
  stop(farewell: Outgoing[]): Promise<void> {
    if (this.#stopping || this.#ended) return this.#closed;
    this.#stopping = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const ws = this.#ws;
    if (ws && this.#open) {
      for (let item = this.backlog.shift(); item !== undefined; item = this.backlog.shift()) this.#transmit(item);
      for (const item of farewell) this.#transmit(item);
      ws.close(NORMAL_CLOSURE, 'stream stopped');
    } else if (ws) {
      ws.terminate();
    } else {
      this.#finish();
    }
    return this.#closed;
  }

  #connect(): void {
    this.#reconnectTimer = null;
    this.#httpStatus = null;
    this.#lastError = null;
    this.#heartbeatLost = false;
    const { tls } = this.#options;
    let ws: WebSocket;
    try {
      ws = this.#client(tls);
    } catch (cause) {
      // Options are checked up front; whatever still throws here (ws and Node check the request
      // synchronously) would throw on every attempt: reported once, no retry, and never out of a timer.
      this.emit('failure', new AudioSocketError(ErrorCode.BRIDGE_CONNECTION, `cannot connect to ${this.target}: ${(cause as Error).message}`, { cause }), {
        retries: ++this.#retries,
        waitMs: null,
        httpStatus: null,
      });
      return this.#finish();
    }
    this.#ws = ws;
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data, isBinary) => this.emit('message', data as Buffer, isBinary));
    ws.on('pong', () => (this.#awaitingPong = false));
    ws.on('unexpected-response', (_request, response) => {
      this.#httpStatus = response.statusCode ?? null;
      response.resume();
      ws.terminate();
    });
    ws.on('error', (error) => (this.#lastError ??= error));
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason.toString()));
  }

  /** A ws client for the URL (binary messages arrive as Buffers: ws's default binaryType). */
  #client(tls: ResolvedBridgeOptions['tls']): WebSocket {
    return new WebSocket(this.#options.url, {
      headers: this.#options.headers,
      handshakeTimeout: this.#options.connectTimeoutMs,
      perMessageDeflate: this.#options.perMessageDeflate,
      maxPayload: this.#options.maxMessageBytes,
      followRedirects: false,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
    });
  }

  #onOpen(ws: WebSocket): void {
    this.#open = true;
    this.#retries = 0;
    const reconnected = this.opened++ > 0;
    for (const item of this.#greeting()) this.#transmit(item);
    this.#startHeartbeat(ws);
    this.emit('open', reconnected);
    this.#flush();
  }

  #onClose(code: number, reason: string): void {
    const wasOpen = this.#open;
    this.#open = false;
    this.#ws = null;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    if (wasOpen) this.emit('disconnect', code, this.#heartbeatLost ? 'no pong within the heartbeat' : reason);
    if (this.#stopping) return this.#finish();
    if (!wasOpen) {
      this.#retries++;
      return this.#retry(this.#attemptError(code));
    }
    if (this.#heartbeatLost) {
      return this.#retry(new AudioSocketError(ErrorCode.BRIDGE_CONNECTION, `${this.target} did not answer a ping within ${this.#options.heartbeatMs} ms`));
    }
    if (code === NORMAL_CLOSURE) return this.#finish(); // the service ended the stream
    this.#retry(null);
  }

  /** Schedules the next attempt (reporting `error` with when), or ends when there is none. */
  #retry(error: AudioSocketError | null): void {
    const waitMs = this.#nextDelay();
    if (error) this.emit('failure', error, { retries: this.#retries, waitMs, httpStatus: this.#httpStatus });
    if (this.#ended || this.#stopping) return; // a failure listener stopped the bridge
    if (waitMs === null) return this.#finish();
    this.#reconnectTimer = setTimeout(() => this.#connect(), waitMs);
    this.#reconnectTimer.unref();
  }

  /**
   * Backoff: initialDelayMs doubled per failed attempt in a row, at most maxDelayMs, times a
   * random 0.75-1.25 so that the calls of a restarted service do not all come back at once.
   */
  #nextDelay(): number | null {
    const policy = this.#options.reconnect;
    if (!policy || this.#retries > policy.maxRetries) return null;
    const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** this.#retries);
    return Math.round(Math.min(policy.maxDelayMs, base * (0.75 + Math.random() / 2)));
  }

  #attemptError(code: number): AudioSocketError {
    if (this.#httpStatus !== null) {
      return new AudioSocketError(ErrorCode.BRIDGE_CONNECTION, `cannot connect to ${this.target}: the service answered the upgrade with HTTP ${this.#httpStatus}`);
    }
    const cause = this.#lastError as NodeJS.ErrnoException | null;
    const why = cause ? `${cause.code ? `${cause.code}: ` : ''}${cause.message}` : `closed with code ${code}`;
    return new AudioSocketError(ErrorCode.BRIDGE_CONNECTION, `cannot connect to ${this.target}: ${why}`, { cause });
  }

  #startHeartbeat(ws: WebSocket): void {
    if (this.#options.heartbeatMs === 0) return;
    this.#awaitingPong = false;
    this.#heartbeat = setInterval(() => {
      if (this.#awaitingPong) {
        this.#heartbeatLost = true;
        ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      ws.ping();
      this.#flush();
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref();
  }

  #flush(): void {
    while (this.backlog.size > 0 && this.#writable()) this.#transmit(this.backlog.shift()!);
    if (this.backlog.size === 0) this.#overflowing = false;
  }

  /** Open (not closing: what is sent then is lost) and keeping up. */
  #writable(): boolean {
    const ws = this.#ws;
    return this.#open && ws !== null && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < SOCKET_HIGH_WATER_BYTES;
  }

  #transmit(item: Outgoing): void {
    this.#ws!.send(typeof item === 'function' ? item() : item);
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.backlog.clear();
    this.emit('end');
    this.#resolveClosed();
  }
}
