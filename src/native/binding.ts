import type { CallStats, ClearResult } from '../engine/contract';

/**
 * The functions the native binary exports (crate/node/src). Internal: users meet the engine
 * through AudioSocketServer, never through this shape.
 */
export interface NativeBinding {
  abiVersion(): number;
  engineVersion(): string;
  /** The native media engine (crate/node/src/server.rs); absent from binaries of ABI 1. */
  NativeServer: NativeServerConstructor;
}

/** contract.ts `EngineConfig` as the binary takes it (`allow` validated there). */
export interface NativeEngineConfig {
  sampleRate: number;
  channels: number;
  wire: 'auto' | 'slin' | 'ulaw' | 'alaw';
  outputRate: number;
  prebufferMs: number;
  idle: 'silence' | 'none';
  handshakeTimeoutMs: number;
  maxCalls: number;
  allow: string[];
  /** Absent for no limit. */
  connectionRateLimit?: { perSecond: number; burst: number };
  maxPayload: number;
  highWaterMs: number;
  lowWaterMs: number;
  maxQueueMs: number;
  /** Absent: no cap. */
  maxLatencyMs?: number;
  inboundBacklogMs: number;
}

export interface NativeAddress {
  address: string;
  port: number;
  family: string;
}

/**
 * One batch of events (layout in crate/node/src/batch.rs, decoded by src/engine/native/batch.ts):
 * records in `meta`, the samples of every audio frame back to back in `pcm`, texts in `strings`.
 */
export interface NativeBatch {
  meta: Float64Array;
  pcm: Int16Array;
  strings: string[];
}

export interface NativeServerConstructor {
  /**
   * Validates `config` and keeps `onBatch`, which the engine calls (no arguments) whenever a
   * batch waits for takeBatch(). Starts nothing. Throws with `code` set (ERR_AUDIOSOCKET_*).
   */
  new (config: NativeEngineConfig, onBatch: () => void): NativeServer;
}

/** Methods throw errors whose `code` is an ERR_AUDIOSOCKET_* code (or Node's, e.g. EADDRINUSE). */
export interface NativeServer {
  /** Binds an IP address (not a name) and starts the engine thread. */
  listen(host: string, port: number): NativeAddress;
  address(): NativeAddress | null;
  /** Starts closing; the batch with the `closed` record ends it. */
  close(drainMs: number): void;
  /** After `closed`: joins the engine thread, releases the callback and the cleanup hook. */
  dispose(): void;
  takeBatch(): NativeBatch | null;
  /** Copies `pcm` into the call's playout queue; returns the queue depth, ms. */
  open(call: number, format?: { sampleRate: number; channels: number }): void;
  write(call: number, pcm: Int16Array): number;
  mark(call: number, mark: number): void;
  clear(call: number): ClearResult;
  pause(call: number): void;
  resume(call: number): void;
  /** Absent `ms`: no cap. */
  setMaxLatency(call: number, ms?: number): void;
  hangup(call: number, reason: string): void;
  stats(call: number): CallStats;
}

/** Must equal `ABI_VERSION` in crate/node/src/lib.rs; bump both together. */
export const NATIVE_ABI_VERSION = 5;
