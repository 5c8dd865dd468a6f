import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deinterleave,
  deinterleaveInto,
  interleave,
  interleaveInto,
  monoToStereo,
  monoToStereoInto,
  stereoToMono,
  stereoToMonoInto,
} from '../../src/dsp';

const int16 = fc.integer({ min: -32768, max: 32767 });
const samples = fc.array(int16, { maxLength: 400 }).map((a) => Int16Array.from(a));

describe('stereo to mono', () => {
  it('averages, rounding half away from zero, and never overflows', () => {
    const stereo = Int16Array.of(1, 2, -1, -2, 3, 3, 32767, 32767, -32768, -32768, -32768, 32767, 0, -1);
    expect([...stereoToMono(stereo)]).toEqual([2, -2, 3, 32767, -32768, -1, -1]);
  });

  it('is the rounded exact mean for any input, and odd under negation', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(int16, int16), { maxLength: 200 }), (pairs) => {
        const stereo = Int16Array.from(pairs.flat());
        const mono = stereoToMono(stereo);
        return pairs.every(([l, r], i) => {
          const mean = (l + r) / 2;
          const want = Math.sign(mean) * Math.round(Math.abs(mean));
          return mono[i] === want;
        });
      }),
    );
  });

  it('writes into a buffer and refuses odd input or a short output', () => {
    const out = new Int16Array(3).fill(7);
    expect(stereoToMonoInto(Int16Array.of(10, 20, 30, 40), out)).toBe(2);
    expect([...out]).toEqual([15, 35, 7]);
    const invalid = expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' });
    expect(() => stereoToMono(Int16Array.of(1, 2, 3))).toThrow(invalid);
    expect(() => stereoToMonoInto(Int16Array.of(1, 2, 3, 4), new Int16Array(1))).toThrow(invalid);
  });
});

describe('mono to stereo, interleave, deinterleave', () => {
  it('duplicates mono on both channels; the downmix gives it back', () => {
    fc.assert(
      fc.property(samples, (mono) => {
        const stereo = monoToStereo(mono);
        const [left, right] = deinterleave(stereo);
        return stereo.length === 2 * mono.length && left.every((v, i) => v === mono[i] && right[i] === v) && stereoToMono(stereo).every((v, i) => v === mono[i]);
      }),
    );
  });

  it('interleave and deinterleave are inverse', () => {
    fc.assert(
      fc.property(samples, samples, (a, b) => {
        const n = Math.min(a.length, b.length);
        const [left, right] = [a.subarray(0, n), b.subarray(0, n)];
        const [l, r] = deinterleave(interleave(left, right));
        return l.every((v, i) => v === left[i]) && r.every((v, i) => v === right[i]) && l.length === n;
      }),
    );
    expect([...interleave(Int16Array.of(1, 2), Int16Array.of(-1, -2))]).toEqual([1, -1, 2, -2]);
  });

  it('into variants write the start of the buffer and return the count; refuse what does not fit', () => {
    const stereo = new Int16Array(6);
    expect(monoToStereoInto(Int16Array.of(5, 6), stereo)).toBe(4);
    expect([...stereo]).toEqual([5, 5, 6, 6, 0, 0]);
    expect(interleaveInto(Int16Array.of(1), Int16Array.of(2), stereo)).toBe(2);
    const [l, r] = [new Int16Array(4), new Int16Array(4)];
    expect(deinterleaveInto(Int16Array.of(1, 2, 3, 4), l, r)).toBe(2);
    expect([...l, ...r]).toEqual([1, 3, 0, 0, 2, 4, 0, 0]);
    const invalid = expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' });
    expect(() => monoToStereoInto(Int16Array.of(1, 2), new Int16Array(3))).toThrow(invalid);
    expect(() => interleave(Int16Array.of(1, 2), Int16Array.of(1))).toThrow(invalid);
    expect(() => interleaveInto(Int16Array.of(1), Int16Array.of(1), new Int16Array(1))).toThrow(invalid);
    expect(() => deinterleaveInto(Int16Array.of(1, 2, 3, 4), new Int16Array(2), new Int16Array(1))).toThrow(invalid);
    expect(() => deinterleave(Int16Array.of(1))).toThrow(invalid);
  });
});
