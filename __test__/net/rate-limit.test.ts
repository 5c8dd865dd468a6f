import { describe, expect, it } from 'vitest';
import { ConnectionRateLimiter, MAX_SOURCES } from '../../src/net/rate-limit';

// The cases of crate/engine/src/rate_limit.rs, one for one.

const LIMIT = { perSecond: 2, burst: 3 };

describe('ConnectionRateLimiter', () => {
  it('a burst, then the sustained rate', () => {
    const limiter = new ConnectionRateLimiter(LIMIT);
    expect([0, 1, 2, 3, 4].map(() => limiter.admit('10.0.0.1', 0))).toEqual([true, true, true, false, false]);
    // Two a second: one token after 500 ms, not two.
    expect(limiter.admit('10.0.0.1', 500)).toBe(true);
    expect(limiter.admit('10.0.0.1', 500)).toBe(false);
    // A quiet source gets its burst back, no more.
    expect([0, 1, 2, 3].filter(() => limiter.admit('10.0.0.1', 60_000))).toHaveLength(3);
  });

  it('sources are counted apart, IPv6 by its /64 and mapped IPv4 as IPv4', () => {
    const limiter = new ConnectionRateLimiter(LIMIT);
    for (let i = 0; i < 3; i++) expect(limiter.admit('10.0.0.1', 0)).toBe(true);
    expect(limiter.admit('::ffff:10.0.0.1', 0)).toBe(false);
    expect(limiter.admit('10.0.0.2', 0)).toBe(true);
    for (let i = 0; i < 3; i++) expect(limiter.admit('2001:db8::1', 0)).toBe(true);
    expect(limiter.admit('2001:db8::ffff:2', 0)).toBe(false); // same /64
    expect(limiter.admit('2001:db8:0:1::1', 0)).toBe(true); // another /64
    expect(limiter.admit('2001:0db8:0000:0000:0000:0000:0000:0003', 0)).toBe(false); // same /64, written in full
  });

  it('memory stays bounded when every connection comes from a new source', () => {
    const limiter = new ConnectionRateLimiter(LIMIT);
    const v4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    for (let n = 0; n < MAX_SOURCES + 500; n++) limiter.admit(v4(n), 0);
    expect(limiter.sources).toBe(MAX_SOURCES);
    // The newcomers share one bucket, which the 500 before have spent.
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((n) => limiter.admit(v4(0xffffffff - n), 0))).toHaveLength(0);
    // Once the table's sources have gone quiet, newcomers get buckets of their own again.
    expect(limiter.admit('192.0.2.1', 10_000)).toBe(true);
    expect(limiter.sources).toBe(1);
  });
});
