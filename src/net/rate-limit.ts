import { isIPv4 } from 'node:net';

/** How fast one source may open connections. */
export interface ConnectionRateLimit {
  /** Sustained connections per second, per source (> 0). */
  perSecond: number;
  /** Connections a quiet source may open at once (>= 1). */
  burst: number;
}

/** Sources tracked at once. */
export const MAX_SOURCES = 10_000;
/** Least time between two sweeps of a full table, ms. */
export const SWEEP_PERIOD_MS = 1000;

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * The `connectionRateLimit` option: a token bucket per source (an IPv4 address, or an IPv6 /64,
 * which is what one host usually holds). The twin of crate/engine/src/rate_limit.rs.
 *
 * Memory is bounded whatever the peers do: at most MAX_SOURCES buckets are kept; when the table
 * is full, buckets that have refilled (sources that went quiet) are forgotten, at most once per
 * SWEEP_PERIOD_MS so that a flood from many sources costs no scan per connection, and meanwhile
 * new sources share one bucket.
 */
export class ConnectionRateLimiter {
  readonly limit: ConnectionRateLimit;
  #buckets = new Map<string, Bucket>();
  #overflow: Bucket | null = null;
  #lastSweep = -Infinity;

  constructor(limit: ConnectionRateLimit) {
    this.limit = limit;
  }

  /** Sources tracked now. */
  get sources(): number {
    return this.#buckets.size;
  }

  /** Whether a connection from `address` at `now` (ms) is within the limit (and counts it). */
  admit(address: string, now: number): boolean {
    const source = sourceOf(address);
    const known = this.#buckets.get(source);
    if (known) return this.#take(known, now);
    if (this.#buckets.size >= MAX_SOURCES && now - this.#lastSweep >= SWEEP_PERIOD_MS) {
      this.#lastSweep = now;
      this.#forgetQuiet(now);
    }
    if (this.#buckets.size >= MAX_SOURCES) {
      this.#overflow ??= { tokens: this.limit.burst, updated: now };
      return this.#take(this.#overflow, now);
    }
    const bucket = { tokens: this.limit.burst, updated: now };
    this.#buckets.set(source, bucket);
    return this.#take(bucket, now);
  }

  #refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.updated) / 1000;
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + elapsed * this.limit.perSecond);
    bucket.updated = now;
  }

  #take(bucket: Bucket, now: number): boolean {
    this.#refill(bucket, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops the buckets that have refilled: their sources would start afresh anyway. */
  #forgetQuiet(now: number): void {
    for (const [source, bucket] of this.#buckets) {
      this.#refill(bucket, now);
      if (bucket.tokens >= this.limit.burst) this.#buckets.delete(source);
    }
  }
}

/** The key of a source: an IPv4 address (also when mapped into IPv6), or an IPv6 /64. */
function sourceOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  return first64Bits(address);
}

/** The first four groups of an IPv6 address, with `::` expanded. */
function first64Bits(address: string): string {
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups];
  return groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':');
}
