import { describe, expect, it } from 'vitest';
import { resample } from '../../src/dsp/resampler';
import { Outbound, type Filled } from '../../src/engine/js/outbound';
import { SampleQueue } from '../../src/engine/js/sample-queue';

// The cases of crate/engine/src/outbound.rs, one for one.

function signal(length: number, seed: number): Int16Array {
  let state = seed >>> 0;
  return Int16Array.from({ length }, (_, i) => {
    state = (state ^ (state << 13)) >>> 0;
    state = (state ^ (state >>> 17)) >>> 0;
    state = (state ^ (state << 5)) >>> 0;
    return Math.round(9000 * Math.sin((i * i) / 9000) + (state % 2000) - 1000);
  });
}

function queueOf(...chunks: Int16Array[]): SampleQueue {
  const queue = new SampleQueue();
  for (const chunk of chunks) queue.push(chunk.slice());
  return queue;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Ticks until the stage has nothing more to give; the frames concatenated, and what each fill said. */
function drain(stage: Outbound, queue: SampleQueue, frame: number, endOfPlay: boolean): { out: Int16Array; fills: Filled[] } {
  const parts: Int16Array[] = [];
  const fills: Filled[] = [];
  const buffer = new Int16Array(frame);
  for (;;) {
    const filled = stage.fill(queue, buffer, endOfPlay);
    if (filled.samples === 0 && !filled.endedStream) return { out: concat(parts), fills };
    parts.push(buffer.slice(0, filled.samples));
    fills.push(filled);
  }
}

describe('Outbound', () => {
  it('a play leaves exactly as resample() would convert it', () => {
    for (const [app, wire] of [
      [16000, 8000],
      [8000, 16000],
      [22050, 24000],
      [48000, 8000],
      [11025, 12000],
    ] as const) {
      const pcm = signal(Math.floor(app / 3), 7);
      const stage = new Outbound(app, wire);
      // Queued in pieces: the stage reads across them.
      const queue = queueOf(pcm.subarray(0, 1000), pcm.subarray(1000, 1001), pcm.subarray(1001));
      const { out, fills } = drain(stage, queue, wire / 50, true);
      expect(out, `${app} -> ${wire}`).toEqual(resample(pcm, app, wire));
      expect(fills.at(-1)!.endedStream).toBe(true);
      expect([stage.played, stage.holdsAudio]).toEqual([pcm.length, false]);
    }
  });

  it('audio queued in pieces between frames is one stream', () => {
    const pcm = signal(4800, 3);
    const stage = new Outbound(16000, 8000);
    const queue = new SampleQueue();
    const parts: Int16Array[] = [];
    const frame = new Int16Array(160);
    for (let at = 0; at < pcm.length; at += 333) {
      queue.push(pcm.slice(at, at + 333));
      while (queue.length > 400) {
        expect(stage.fill(queue, frame, false).samples).toBe(160);
        parts.push(frame.slice());
      }
    }
    parts.push(drain(stage, queue, 160, true).out);
    expect(concat(parts)).toEqual(resample(pcm, 16000, 8000));
  });

  it('played follows the wire samples out', () => {
    const stage = new Outbound(16000, 8000);
    const queue = queueOf(signal(3200, 1));
    stage.fill(queue, new Int16Array(160), true);
    expect(stage.played).toBe(320);
    expect(3200 - queue.length).toBeGreaterThan(320);
    expect(stage.holdsAudio).toBe(true);
  });

  it('a writer just in time underruns once, then flows without a restart', () => {
    const pcm = signal(160 * 20, 9);
    const stage = new Outbound(8000, 16000);
    const queue = new SampleQueue();
    const parts: Int16Array[] = [];
    const frame = new Int16Array(320);
    let short = 0;
    for (let at = 0; at < pcm.length; at += 160) {
      queue.push(pcm.slice(at, at + 160));
      const filled = stage.fill(queue, frame, false);
      expect(filled.endedStream).toBe(false);
      if (filled.samples < 320) short++;
      parts.push(frame.slice(0, filled.samples));
    }
    expect(short).toBe(1);
    const filled = stage.fill(queue, frame, false);
    expect(filled.endedStream).toBe(true);
    parts.push(frame.slice(0, filled.samples));
    expect(concat(parts)).toEqual(resample(pcm, 8000, 16000));
  });

  it('restart drops the stream and counts from the new position', () => {
    const stage = new Outbound(24000, 8000);
    const queue = queueOf(signal(2400, 5));
    stage.fill(queue, new Int16Array(160), false);
    stage.restart(2400);
    queue.clear();
    expect([stage.played, stage.holdsAudio]).toEqual([2400, false]);
    const pcm = signal(480, 6);
    queue.push(pcm.slice());
    expect(drain(stage, queue, 160, true).out).toEqual(resample(pcm, 24000, 8000));
    expect(stage.played).toBe(2880);
  });

  it('equal rates take a frame of samples', () => {
    const stage = new Outbound(8000, 8000);
    const queue = queueOf(Int16Array.from({ length: 200 }, (_, i) => i + 1));
    const frame = new Int16Array(160);
    expect(stage.fill(queue, frame, false).samples).toBe(160);
    expect(frame[159]).toBe(160);
    expect(stage.fill(queue, frame, false)).toEqual({ samples: 40, endedStream: false });
    expect([stage.played, stage.holdsAudio]).toEqual([200, false]);
  });
});
