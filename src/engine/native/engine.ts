import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AudioSocketError, type ErrorCode } from '../../errors';
import type { AudioFormat } from '../../format';
import type { NativeBinding, NativeServer } from '../../native/binding';
import type { CallStats, ClearResult, Engine, EngineConfig, EngineSink, EndReason } from '../contract';
import { decodeBatch } from './batch';

/**
 * The native engine: Rust (crate/) owns the sockets, the framing, the 20 ms clock and every
 * call's playout on its own thread, so JavaScript garbage collection or a slow handler never
 * makes call audio choppy. This adapter only translates: operations go straight into the Rust
 * call state, and events come back in batches, one crossing per 5 ms beat for all calls.
 */
export class NativeEngine implements Engine {
  readonly name = 'native' as const;
  #native: NativeServer;
  #sink: EngineSink;
  /** Errors given to hangup(), reported with the call's end (the engine keeps only the reason). */
  #hangupErrors = new Map<number, AudioSocketError>();
  #listening = false;
  #closing: Promise<void> | null = null;
  #closed: (() => void) | null = null;

  constructor(binding: NativeBinding, config: EngineConfig, sink: EngineSink) {
    this.#sink = sink;
    // The binding takes absent, not null, for "none".
    const nativeConfig = { ...config, allow: [...config.allow], connectionRateLimit: config.connectionRateLimit ?? undefined, maxLatencyMs: config.maxLatencyMs ?? undefined };
    this.#native = native(() => new binding.NativeServer(nativeConfig, this.#onBatch));
  }

  async listen(host: string, port: number): Promise<{ address: string; port: number; family: string }> {
    // Names are resolved here, asynchronously as node:net does; the engine binds an address.
    const address = isIP(host) ? host : (await lookup(host)).address;
    const bound = native(() => this.#native.listen(address, port));
    this.#listening = true;
    return bound;
  }

  address(): { address: string; port: number; family: string } | null {
    return this.#native.address();
  }

  close(drainMs: number): Promise<void> {
    this.#closing ??= this.#listening
      ? new Promise<void>((resolve) => {
          this.#closed = resolve;
          this.#native.close(drainMs);
        })
      : Promise.resolve();
    return this.#closing;
  }

  open(call: number, format: AudioFormat | null): void {
    native(() => this.#native.open(call, format ?? undefined));
  }

  write(call: number, pcm: Int16Array): number {
    return native(() => this.#native.write(call, pcm));
  }

  mark(call: number, mark: number): void {
    native(() => this.#native.mark(call, mark));
  }

  clear(call: number): ClearResult {
    return native(() => this.#native.clear(call));
  }

  pause(call: number): void {
    native(() => this.#native.pause(call));
  }

  resume(call: number): void {
    native(() => this.#native.resume(call));
  }

  setMaxLatency(call: number, ms: number | null): void {
    native(() => this.#native.setMaxLatency(call, ms ?? undefined));
  }

  hangup(call: number, reason: EndReason = 'local-hangup', error?: AudioSocketError): void {
    if (error) this.#hangupErrors.set(call, error);
    this.#native.hangup(call, reason);
  }

  stats(call: number): CallStats {
    return native(() => this.#native.stats(call));
  }

  /**
   * The engine has events waiting: take them all in one batch and hand them to the facade in
   * one call. An exception from the facade (a throwing 'reject' listener...) is rethrown on its
   * own turn, as node:net's engine would surface it, never into the native callback.
   */
  #onBatch = (): void => {
    const batch = this.#native.takeBatch();
    if (!batch) return;
    const { events, closed } = decodeBatch(batch);
    for (const event of events) {
      if (event.type !== 'end') continue;
      const error = this.#hangupErrors.get(event.call);
      if (error && event.reason === 'error') event.error = error;
      this.#hangupErrors.delete(event.call);
    }
    try {
      if (events.length > 0) this.#sink(events);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    } finally {
      if (closed) {
        this.#native.dispose();
        this.#closed?.();
      }
    }
  };
}

/** Runs a native call, turning its errors into AudioSocketErrors with the same code. */
function native<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code?.startsWith('ERR_AUDIOSOCKET_')) throw new AudioSocketError(code as ErrorCode, message ?? code, { cause: error });
    throw error;
  }
}
