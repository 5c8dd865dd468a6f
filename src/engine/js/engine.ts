import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AudioSocketError, ErrorCode } from '../../errors';
import type { AudioFormat } from '../../format';
import { AllowList } from '../../net/allow';
import { ConnectionRateLimiter } from '../../net/rate-limit';
import { SharedClock, type TickInfo } from '../clock';
import type { CallStats, ClearResult, Engine, EngineConfig, EngineEvent, EngineSink, EndReason, RemoteAddress } from '../contract';
import { Connection, type ConnectionHost } from './connection';

/**
 * The TypeScript engine: node:net sockets, one SharedClock for every call, events batched per
 * turn of the event loop. The fallback where no native binary fits, and the reference the
 * native engine is held to by the conformance suite.
 */
export class JsEngine implements Engine, ConnectionHost {
  readonly name = 'js' as const;
  readonly config: EngineConfig;
  #sink: EngineSink;
  #allow: AllowList;
  #rateLimiter: ConnectionRateLimiter | null;
  #server: Server | null = null;
  #connections = new Set<Connection>();
  #calls = new Map<number, Connection>();
  #nextHandle = 0;
  #clock: SharedClock;
  #pending: EngineEvent[] = [];
  #flushScheduled = false;
  #closing: Promise<void> | null = null;
  #drainTimer: NodeJS.Timeout | null = null;
  #allReleased: (() => void) | null = null;

  constructor(config: EngineConfig, sink: EngineSink) {
    this.config = config;
    this.#sink = sink;
    this.#allow = new AllowList(config.allow);
    this.#rateLimiter = config.connectionRateLimit && new ConnectionRateLimiter(config.connectionRateLimit);
    this.#clock = new SharedClock(this.#tick);
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer({ noDelay: true }, this.#accept);
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // The same accept backlog as the native engine's: a burst of calls must not overflow it.
      server.listen({ host, port, backlog: 4096 }, () => {
        server.off('error', reject);
        // After listening, errors are failed accepts (EMFILE...): one connection lost, not the server.
        server.on('error', (cause) =>
          this.emit({ type: 'reject', remote: { address: '', port: 0, family: 'IPv4' }, error: new AudioSocketError(ErrorCode.SOCKET, `accept failed: ${cause.message}`, { cause }) }),
        );
        resolve(server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    return (this.#server?.address() as AddressInfo | null) ?? null;
  }

  close(drainMs: number): Promise<void> {
    this.#closing ??= this.#close(drainMs);
    return this.#closing;
  }

  async #close(drainMs: number): Promise<void> {
    const server = this.#server;
    const listening = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const released = this.#connections.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#allReleased = resolve));
    for (const connection of this.#connections) connection.drain();
    this.#drainTimer = setTimeout(() => {
      for (const connection of this.#connections) connection.hangup('server-close');
      this.#flush();
    }, drainMs);
    await Promise.all([listening, released]);
    clearTimeout(this.#drainTimer);
    this.#clock.stop();
    this.#flush();
    this.#server = null;
  }

  open(call: number, format: AudioFormat | null): void {
    this.#call(call).open(format);
  }

  write(call: number, pcm: Int16Array): number {
    return this.#call(call).playout.write(pcm, this.#clock.nextTick);
  }

  mark(call: number, mark: number): void {
    this.#call(call).playout.mark(mark);
  }

  clear(call: number): ClearResult {
    return this.#call(call).playout.clear();
  }

  pause(call: number): void {
    this.#call(call).playout.pause();
  }

  resume(call: number): void {
    this.#call(call).playout.resume();
  }

  setMaxLatency(call: number, ms: number | null): void {
    this.#call(call).playout.setMaxLatency(ms);
  }

  hangup(call: number, reason: EndReason = 'local-hangup', error?: AudioSocketError): void {
    this.#calls.get(call)?.hangup(reason, error ?? null);
  }

  stats(call: number): CallStats {
    return this.#call(call).callStats();
  }

  // ConnectionHost

  emit(event: EngineEvent): void {
    this.#pending.push(event);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  now(): number {
    return performance.now();
  }

  nextTick(): number {
    return this.#clock.nextTick;
  }

  register(connection: Connection): number {
    const handle = this.#nextHandle++;
    this.#calls.set(handle, connection);
    return handle;
  }

  release(connection: Connection): void {
    this.#connections.delete(connection);
    if (connection.isCall) this.#calls.delete(connection.handle);
    if (this.#connections.size === 0) {
      this.#clock.stop();
      this.#allReleased?.();
    }
  }

  #accept = (socket: Socket): void => {
    const remote: RemoteAddress = {
      address: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      family: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4',
    };
    if (this.#closing) {
      socket.destroy();
      return;
    }
    if (!this.#allow.allows(remote.address)) {
      // A stranger: say nothing in the protocol, just close.
      socket.destroy();
      this.emit({ type: 'reject', remote, error: new AudioSocketError(ErrorCode.NOT_ALLOWED, `${remote.address} is not in the allow list`) });
      return;
    }
    if (this.#rateLimiter && !this.#rateLimiter.admit(remote.address, performance.now())) {
      // A flood: closing at once is the cheapest answer, and the kindest to the rest.
      socket.destroy();
      this.emit({ type: 'reject', remote, error: new AudioSocketError(ErrorCode.RATE_LIMITED, `${remote.address} opens connections faster than connectionRateLimit`) });
      return;
    }
    if (this.#connections.size >= this.config.maxCalls) {
      // Asterisk 20.14+ continues the dialplan on 0x00, so the caller is not left in silence.
      socket.on('error', () => {});
      socket.setTimeout(this.config.handshakeTimeoutMs, () => socket.destroy());
      socket.resume(); // read and discard, so the peer's close is seen and the socket released
      socket.end(Buffer.of(0, 0, 0));
      this.emit({ type: 'reject', remote, error: new AudioSocketError(ErrorCode.MAX_CALLS, `maxCalls (${this.config.maxCalls}) reached`) });
      return;
    }
    this.#connections.add(new Connection(socket, this));
    this.#clock.start();
  };

  #tick = ({ tick, lateMs }: TickInfo): void => {
    const now = performance.now();
    for (const connection of this.#connections) connection.tick(tick, lateMs, now);
    this.#flush();
  };

  #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#sink(batch);
  };

  #call(call: number): Connection {
    const connection = this.#calls.get(call);
    if (!connection || !connection.isOpen) {
      throw new AudioSocketError(ErrorCode.CALL_ENDED, `call ${call} has ended`);
    }
    return connection;
  }
}
