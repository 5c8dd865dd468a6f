import { describe, expect, it } from 'vitest';
import type { EngineConfig } from '../../src/engine/contract';
import { FrameKind, Playout } from '../../src/engine/js/playout';

const config: EngineConfig = {
  sampleRate: 8000,
  prebufferMs: 40,
  idle: 'silence',
  handshakeTimeoutMs: 2000,
  maxCalls: 10,
  allow: [],
  maxPayload: 8192,
  highWaterMs: 100,
  lowWaterMs: 40,
  maxQueueMs: 1000,
};

function bytes(n: number, fill = 1): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** Runs ticks from `from`, returning what each produced and the marks reached. */
function run(playout: Playout, from: number, ticks: number): { kinds: FrameKind[]; frames: Uint8Array[]; marks: number[] } {
  const kinds: FrameKind[] = [];
  const frames: Uint8Array[] = [];
  const marks: number[] = [];
  for (let t = from; t < from + ticks; t++) {
    const frame = new Uint8Array(playout.frameBytes);
    kinds.push(playout.nextFrame(t, frame, marks));
    frames.push(frame);
  }
  return { kinds, frames, marks };
}

describe('Playout', () => {
  it('holds audio until the prebuffer is full, then one frame per tick', () => {
    const playout = new Playout(config);
    expect(playout.frameBytes).toBe(320);
    playout.write(bytes(320), 0);
    expect(run(playout, 0, 1).kinds).toEqual([FrameKind.Silence]);
    playout.write(bytes(320), 1);
    expect(run(playout, 1, 3).kinds).toEqual([FrameKind.Audio, FrameKind.Audio, FrameKind.Silence]);
  });

  it('plays a clip shorter than the prebuffer once the prebuffer time has passed', () => {
    const playout = new Playout(config);
    playout.write(bytes(100), 10);
    const { kinds, frames } = run(playout, 10, 3);
    expect(kinds).toEqual([FrameKind.Silence, FrameKind.Silence, FrameKind.Audio]);
    expect(frames[2]!.subarray(0, 100).every((b) => b === 1)).toBe(true);
    expect(frames[2]!.subarray(100).every((b) => b === 0)).toBe(true);
  });

  it('counts an underrun when playout runs dry without a mark, not at a mark', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    playout.write(bytes(480), 0);
    run(playout, 0, 3);
    expect(playout.underruns).toBe(1);
    playout.write(bytes(480), 3);
    playout.mark(7);
    expect(run(playout, 3, 3).marks).toEqual([7]);
    expect(playout.underruns).toBe(1);
  });

  it('positions marks in the stream and cancels only the unreached ones on clear', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    playout.write(bytes(320), 0);
    playout.mark(1);
    playout.write(bytes(640), 0);
    playout.mark(2);
    expect(run(playout, 0, 1).marks).toEqual([1]);
    const cleared = playout.clear();
    expect(cleared).toEqual({ clearedMs: 40, marks: [{ mark: 2, aheadMs: 40 }] });
    expect(playout.queuedBytes).toBe(0);
    expect(run(playout, 1, 1).kinds).toEqual([FrameKind.Silence]);
  });

  it('a mark on an empty queue fires on the next tick', () => {
    const playout = new Playout(config);
    playout.mark(9);
    expect(run(playout, 0, 1).marks).toEqual([9]);
  });

  it('pause holds position and marks; resume continues', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    playout.write(bytes(640, 5), 0);
    playout.mark(3);
    run(playout, 0, 1);
    playout.pause();
    const paused = run(playout, 1, 5);
    expect(paused.kinds.every((k) => k === FrameKind.Silence)).toBe(true);
    expect(paused.marks).toEqual([]);
    playout.resume();
    const resumed = run(playout, 6, 1);
    expect(resumed.kinds).toEqual([FrameKind.Audio]);
    expect(resumed.marks).toEqual([3]);
  });

  it("idle 'none' produces nothing to send", () => {
    const playout = new Playout({ ...config, idle: 'none' });
    expect(run(playout, 0, 2).kinds).toEqual([FrameKind.Nothing, FrameKind.Nothing]);
  });

  it('reports drain once, after the queue went above high water and fell to low water', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    playout.write(bytes(16 * 120), 0); // 120 ms > highWaterMs
    expect(playout.takeDrain()).toBe(false);
    run(playout, 0, 4); // 80 ms played, 40 left
    expect(playout.takeDrain()).toBe(true);
    expect(playout.takeDrain()).toBe(false);
  });

  it('refuses a write past maxQueueMs whole', () => {
    const playout = new Playout(config);
    playout.write(bytes(16 * 900), 0);
    expect(() => playout.write(bytes(16 * 200), 0)).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_QUEUE_FULL' }));
    expect(playout.queuedMs).toBe(900);
  });
});
