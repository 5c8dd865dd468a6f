import { describe, expect, it } from 'vitest';
import { resample } from '../../src/dsp/resampler';
import type { EngineConfig } from '../../src/engine/contract';
import { FrameKind, Playout } from '../../src/engine/js/playout';

// The cases of crate/engine/src/playout.rs, one for one.

const config: EngineConfig = {
  sampleRate: 8000,
  channels: 1,
  wire: 'auto',
  outputRate: 8000,
  prebufferMs: 40,
  idle: 'silence',
  handshakeTimeoutMs: 2000,
  maxCalls: 10,
  allow: [],
  connectionRateLimit: null,
  maxPayload: 8192,
  highWaterMs: 100,
  lowWaterMs: 40,
  maxQueueMs: 1000,
  maxLatencyMs: null,
  inboundBacklogMs: 5000,
};

/** A 16 kHz app over an 8 kHz wire. */
const resampling: EngineConfig = { ...config, sampleRate: 16000, outputRate: 8000, prebufferMs: 0 };

function samples(n: number, fill = 1): Int16Array {
  return new Int16Array(n).fill(fill);
}

function ramp(n: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => ((i * 37) % 20000) - 10000);
}

/** Runs ticks from `from`, returning what each produced and the marks reached. */
function run(playout: Playout, from: number, ticks: number): { kinds: FrameKind[]; frames: Int16Array[]; marks: number[] } {
  const kinds: FrameKind[] = [];
  const frames: Int16Array[] = [];
  const marks: number[] = [];
  for (let t = from; t < from + ticks; t++) {
    const frame = new Int16Array(playout.frameSamples).fill(0x7eee);
    kinds.push(playout.nextFrame(t, frame, marks));
    frames.push(frame);
  }
  return { kinds, frames, marks };
}

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const frame of frames) {
    out.set(frame, at);
    at += frame.length;
  }
  return out;
}

describe('Playout', () => {
  it('holds audio until the prebuffer is full, then one frame per tick', () => {
    const playout = new Playout(config);
    expect(playout.frameSamples).toBe(160);
    playout.write(samples(160), 0);
    expect(run(playout, 0, 1).kinds).toEqual([FrameKind.Silence]);
    playout.write(samples(160), 1);
    expect(run(playout, 1, 3).kinds).toEqual([FrameKind.Audio, FrameKind.Audio, FrameKind.Silence]);
  });

  it('plays a clip shorter than the prebuffer once the prebuffer time has passed', () => {
    const playout = new Playout(config);
    playout.write(samples(50, 0x0101), 10);
    const { kinds, frames } = run(playout, 10, 3);
    expect(kinds).toEqual([FrameKind.Silence, FrameKind.Silence, FrameKind.Audio]);
    expect(frames[2]!.subarray(0, 50).every((s) => s === 0x0101)).toBe(true);
    expect(frames[2]!.subarray(50).every((s) => s === 0)).toBe(true);
  });

  it('counts an underrun when playout runs dry without a mark, not at a mark', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    playout.write(samples(240), 0);
    run(playout, 0, 3);
    expect(playout.underruns).toBe(1);
    playout.write(samples(240), 3);
    playout.mark(7);
    expect(run(playout, 3, 3).marks).toEqual([7]);
    expect(playout.underruns).toBe(1);
  });

  it('positions marks in the stream and cancels only the unreached ones on clear', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    playout.write(samples(160), 0);
    playout.mark(1);
    playout.write(samples(320), 0);
    playout.mark(2);
    expect(run(playout, 0, 1).marks).toEqual([1]);
    const cleared = playout.clear();
    expect(cleared).toEqual({ clearedMs: 40, marks: [{ mark: 2, aheadMs: 40 }] });
    expect(playout.queuedSamples).toBe(0);
    expect(run(playout, 1, 1).kinds).toEqual([FrameKind.Silence]);
  });

  it('a mark on an empty queue fires on the next tick', () => {
    const playout = new Playout(config);
    playout.mark(9);
    expect(run(playout, 0, 1).marks).toEqual([9]);
  });

  it('pause holds position and marks; resume continues', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    playout.write(samples(320, 5), 0);
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
    playout.write(samples(8 * 120), 0); // 120 ms > highWaterMs
    expect(playout.takeDrain()).toBe(false);
    run(playout, 0, 4); // 80 ms played, 40 left
    expect(playout.takeDrain()).toBe(true);
    expect(playout.takeDrain()).toBe(false);
  });

  it('refuses a write past maxQueueMs whole', () => {
    const playout = new Playout(config);
    playout.write(samples(8 * 900), 0);
    expect(() => playout.write(samples(8 * 200), 0)).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_QUEUE_FULL' }));
    expect(playout.queuedMs).toBe(900);
  });

  it('a latency cap drops the oldest audio beyond it and reaches its marks', () => {
    const playout = new Playout({ ...config, prebufferMs: 0, maxLatencyMs: 40 });
    playout.write(samples(160, 1), 0);
    playout.mark(1);
    for (let value = 2; value <= 5; value++) playout.write(samples(160, value), 0);
    // 100 ms queued against a 40 ms cap: the oldest 60 ms go, and mark 1 with them.
    const out = run(playout, 0, 3);
    expect(out.kinds).toEqual([FrameKind.Audio, FrameKind.Audio, FrameKind.Silence]);
    expect(out.frames[0]!.every((s) => s === 4)).toBe(true);
    expect(out.frames[1]!.every((s) => s === 5)).toBe(true);
    expect(out.marks).toEqual([1]);
    expect(playout.latencyDroppedMs).toBe(60);
    expect([playout.queuedMs, playout.underruns]).toEqual([0, 0]);
  });

  it('within the cap, or without one, nothing is dropped', () => {
    for (const maxLatencyMs of [null, 100]) {
      const playout = new Playout({ ...config, prebufferMs: 0, maxLatencyMs });
      for (let value = 1; value <= 5; value++) playout.write(samples(160, value), 0);
      const out = run(playout, 0, 5);
      out.frames.forEach((frame, i) => expect(frame.every((s) => s === i + 1)).toBe(true));
      expect(playout.latencyDroppedMs).toBe(0);
    }
  });

  it('a latency cap holds while paused and applies on the first tick after', () => {
    const playout = new Playout({ ...config, maxLatencyMs: 60 });
    playout.write(samples(160, 1), 0);
    playout.pause();
    playout.write(samples(8 * 100, 2), 0);
    expect(run(playout, 0, 3).kinds).toEqual([FrameKind.Silence, FrameKind.Silence, FrameKind.Silence]);
    expect(playout.latencyDroppedMs).toBe(0);
    playout.resume();
    // 120 ms queued: playing again, 60 ms are dropped before the first frame.
    const out = run(playout, 3, 1);
    expect(out.frames[0]!.every((s) => s === 2)).toBe(true);
    expect([playout.latencyDroppedMs, playout.queuedMs]).toEqual([60, 40]);
  });

  it('setMaxLatency applies at the next tick and refuses less than prebuffer and a frame', () => {
    const playout = new Playout(config); // prebuffer 40 ms
    expect(() => playout.setMaxLatency(59)).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    playout.setMaxLatency(60);
    playout.write(samples(8 * 200), 0);
    run(playout, 0, 1);
    expect(playout.latencyDroppedMs).toBe(140);
    playout.setMaxLatency(null);
    playout.write(samples(8 * 200), 1);
    run(playout, 1, 1);
    expect([playout.latencyDroppedMs, playout.queuedMs]).toEqual([140, 220]);
  });

  it('a latency cap keeps positions exact through the resampler', () => {
    const playout = new Playout({ ...resampling, maxLatencyMs: 40 });
    playout.write(ramp(640), 0);
    run(playout, 0, 1); // a stream under way: the resampler holds its lag
    playout.write(ramp(3200), 1); // 200 ms more
    playout.mark(9);
    const out = run(playout, 1, 3);
    expect(out.kinds).toEqual([FrameKind.Audio, FrameKind.Audio, FrameKind.Silence]);
    expect(out.marks).toEqual([9]);
    // What was written is played or dropped, to the sample: 240 ms = 20 played + 220.
    expect(playout.queuedMs).toBe(0);
    expect(playout.latencyDroppedMs + 20 + 40).toBe(240);
  });

  it('audio leaves bit-exact across frames', () => {
    const playout = new Playout({ ...config, prebufferMs: 0 });
    const pcm = Int16Array.from({ length: 400 }, (_, i) => i * 97 - 20000);
    playout.write(pcm, 0);
    const out = concat(run(playout, 0, 3).frames);
    expect(out.subarray(0, 400)).toEqual(pcm);
    expect(out.subarray(400).every((s) => s === 0)).toBe(true);
  });

  it('durations are samples over samples per ms, as in Rust, at 44.1 kHz', () => {
    const playout = new Playout({ ...config, sampleRate: 44100, outputRate: 44100 });
    expect(playout.frameSamples).toBe(882);
    playout.write(samples(441), 0);
    expect(playout.queuedMs).toBe(441 / (44100 / 1000));
  });

  it('a play at another rate leaves whole, as resample() makes it, and its mark follows it', () => {
    const playout = new Playout(resampling);
    const pcm = ramp(3200); // 200 ms at 16 kHz
    playout.write(pcm, 0);
    playout.mark(1);
    expect(playout.queuedMs).toBe(200);
    const out = run(playout, 0, 12);
    expect(playout.frameSamples).toBe(160);
    // 1600 wire samples: ten whole frames, the tail flushed into the tenth, the mark with it.
    expect(out.kinds.slice(0, 11)).toEqual([...Array(10).fill(FrameKind.Audio), FrameKind.Silence]);
    expect(concat(out.frames.slice(0, 10))).toEqual(resample(pcm, 16000, 8000));
    expect(out.marks).toEqual([1]);
    expect([playout.queuedMs, playout.underruns]).toEqual([0, 0]);
  });

  it('a mark mid-stream is reached when its wire audio is out, not when its input is taken', () => {
    const playout = new Playout(resampling);
    playout.write(ramp(640), 0); // 40 ms
    playout.mark(1);
    playout.write(ramp(640), 0);
    expect(run(playout, 0, 1).marks).toEqual([]);
    expect(playout.queuedMs).toBe(60);
    expect(run(playout, 1, 1).marks).toEqual([1]);
    expect(playout.queuedMs).toBe(40);
  });

  it('clear() reports exact ms at the app rate, including what the resampler held', () => {
    const playout = new Playout(resampling);
    playout.write(ramp(16000), 0); // 1 s
    playout.mark(4);
    run(playout, 0, 5);
    expect(playout.clear()).toEqual({ clearedMs: 900, marks: [{ mark: 4, aheadMs: 900 }] });
    // The next audio is a stream of its own, from a clean history.
    const pcm = ramp(320);
    playout.write(pcm, 5);
    playout.mark(5);
    const out = run(playout, 5, 1);
    expect(out.marks).toEqual([5]);
    expect(out.frames[0]).toEqual(resample(pcm, 16000, 8000));
  });

  it('a stereo app is downmixed as queued and counted in pairs', () => {
    const playout = new Playout({ ...config, channels: 2, prebufferMs: 0 });
    expect(() => playout.write(Int16Array.of(1, 2, 3), 0)).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    const stereo = Int16Array.from({ length: 320 }, (_, i) => (i % 2 === 0 ? 1000 : -3001));
    expect(playout.write(stereo, 0)).toBe(20);
    expect(run(playout, 0, 1).frames[0]!.every((s) => s === -1001)).toBe(true);
  });
});
