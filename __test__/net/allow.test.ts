import { describe, expect, it } from 'vitest';
import { AllowList } from '../../src/net/allow';

describe('AllowList', () => {
  it('an empty list allows everyone', () => {
    expect(new AllowList([]).allows('203.0.113.9')).toBe(true);
  });

  it('matches IPv4 and IPv6 blocks and single addresses', () => {
    const list = new AllowList(['10.0.0.0/8', '192.0.2.7', 'fd00::/8', '::1']);
    expect(list.allows('10.200.3.4')).toBe(true);
    expect(list.allows('11.0.0.1')).toBe(false);
    expect(list.allows('192.0.2.7')).toBe(true);
    expect(list.allows('192.0.2.8')).toBe(false);
    expect(list.allows('fd12:3456::1')).toBe(true);
    expect(list.allows('fe80::1')).toBe(false);
    expect(list.allows('::1')).toBe(true);
  });

  it('judges IPv4-mapped IPv6 peers (a dual-stack listener) as IPv4', () => {
    expect(new AllowList(['127.0.0.0/8']).allows('::ffff:127.0.0.1')).toBe(true);
    expect(new AllowList(['127.0.0.0/8']).allows('::ffff:10.0.0.1')).toBe(false);
  });

  it('refuses what is not an address or a CIDR block', () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/ 8']) {
      expect(() => new AllowList([bad]), bad).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    }
  });
});
