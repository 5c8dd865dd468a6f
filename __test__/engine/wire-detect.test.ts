import { describe, expect, it } from 'vitest';
import { G711Detector } from '../../src/engine/js/wire-detect';
import { Kind } from '../../src/protocol/kind';

// The cases of crate/engine/src/wire_detect.rs, one for one.

/** Feeds frames at the given gaps (ms); returns on which frame (0-based) a warning came. */
function warnedAt(kind: number, bytes: number, gapsMs: number[]): number | null {
  const detector = new G711Detector();
  let at = 1000;
  let warned: number | null = null;
  for (let i = 0; i <= gapsMs.length; i++) {
    if (i > 0) at += gapsMs[i - 1]!;
    if (detector.frame(kind, bytes, at)) {
      expect(warned).toBeNull();
      warned = i;
    }
  }
  return warned;
}

describe('G711Detector', () => {
  it('warns once, on the tenth 160-byte frame at 50 a second', () => {
    expect(warnedAt(Kind.Slin8k, 160, Array(30).fill(20))).toBe(9);
  });

  it('a stall and a burst do not hide it', () => {
    expect(warnedAt(Kind.Slin8k, 160, [20, 20, 100, 0, 0, 0, 20, 20, 20, 20, 20])).toBe(9);
  });

  it('slin at ptime 10 and slin at 20 ms are left alone', () => {
    expect(warnedAt(Kind.Slin8k, 160, Array(30).fill(10))).toBeNull();
    expect(warnedAt(Kind.Slin8k, 320, Array(30).fill(20))).toBeNull();
    expect(warnedAt(Kind.Slin16k, 160, Array(30).fill(20))).toBeNull();
  });

  it('a run must be unbroken', () => {
    const detector = new G711Detector();
    let at = 0;
    for (let i = 0; i < 18; i++) {
      at += 20;
      expect(detector.frame(Kind.Slin8k, i === 8 ? 320 : 160, at)).toBeNull();
    }
    expect(detector.frame(Kind.Slin8k, 160, at + 20)?.code).toBe('ERR_AUDIOSOCKET_WIRE_FORMAT');
  });
});
