/**
 * Faults of the application and of the load: an application that does not read caller audio,
 * one that writes faster than real time, a JavaScript thread that stalls, close() under load.
 * Each must stay within the server's caps, be told so with a typed error, and lose nothing
 * silently. Counts, order and generous memory caps only: no timing thresholds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AudioSocketError, Call, CallEnd } from '../../src';
import type { AudioSocketClient } from '../../src/client';
import { ErrorCode } from '../../src/errors';
import { ENGINES, audioReceived, bytesOf, concat, pattern, sleep, startServer, until, type Harness } from '../helpers/harness';
import { PeakRss, mib, startGoodCalls } from '../helpers/hostile';

/** Peak RSS growth over the run's start that counts as unbounded (a loaded machine's GC included). */
const RSS_CAP_BYTES = 512 * 1048576;

/** A frame whose first sample says its number (never zero: zero is idle silence). */
function stamped(seq: number): Int16Array {
  const pcm = pattern(160, 7);
  pcm[0] = seq + 1;
  return pcm;
}

describe.each(ENGINES)('%s engine: faults', (engine) => {
  let h: Harness;
  afterEach(() => h?.close());

  it('an application that never reads its async iterator: 20 s of caller audio at 10x speed stays within inboundQueueFrames, drops counted, told once', async () => {
    h = await startServer(engine, { inboundQueueFrames: 100 });
    const peak = new PeakRss();
    const calls: Call[] = [];
    const iterators: AsyncIterator<Int16Array>[] = [];
    const errors = new Map<Call, AudioSocketError[]>();
    h.server.on('call', (call) => {
      calls.push(call);
      errors.set(call, []);
      iterators.push(call[Symbol.asyncIterator]()); // opened, never read (until the end)
      call.on('error', (error) => errors.get(call)!.push(error));
    });
    const clients: AudioSocketClient[] = [];
    for (let i = 0; i < 10; i++) clients.push(await h.connect({ strict: false, record: false }));
    await until(() => calls.length === 10, 'ten calls');
    // 1000 frames (20 s) per call, 10 frames every 20 ms.
    const frames = 1000;
    for (let seq = 0; seq < frames; seq += 10) {
      for (const client of clients) for (let k = 0; k < 10; k++) client.sendAudio(stamped(seq + k));
      await sleep(20);
    }
    await until(() => calls.every((call) => call.stats().framesIn === frames), 'every frame at the server');
    await until(() => calls.every((call) => call.stats().inboundDropped === frames - 100), 'the drops to be counted');
    for (const [index, call] of calls.entries()) {
      // Told once: one overflow episode (the engine's own backlog may add one on a busy thread).
      const codes = errors.get(call)!.map((e) => e.code);
      expect(new Set(codes)).toEqual(new Set([ErrorCode.INBOUND_OVERFLOW]));
      expect(codes.length).toBeLessThanOrEqual(2);
      // What is still queued is whole and in order: the newest frames.
      const read: number[] = [];
      for (let n = 0; n < 100; n++) {
        const { value } = await iterators[index]!.next();
        read.push(value![0]! - 1);
      }
      expect(read).toEqual(Array.from({ length: 100 }, (_, i) => frames - 100 + i));
    }
    await Promise.all(clients.map((c) => c.hangup()));
    const grew = peak.stop() - process.memoryUsage.rss();
    expect(grew).toBeLessThan(RSS_CAP_BYTES);
  });

  it('a JavaScript thread blocked 7 s while 50 calls stream: memory bounded, every frame delivered or counted as dropped, one overflow error per episode', async () => {
    h = await startServer(engine, { inboundBacklogMs: 2000 });
    const baseline = process.memoryUsage.rss();
    const peak = new PeakRss();
    const seen = new Map<string, { audio: number; errors: AudioSocketError[]; end: CallEnd | null }>();
    h.server.on('call', (call) => {
      const entry = { audio: 0, errors: [] as AudioSocketError[], end: null as CallEnd | null };
      seen.set(call.id, entry);
      call.on('audio', () => entry.audio++);
      call.on('error', (error) => entry.errors.push(error));
      call.on('end', (end) => (entry.end = end));
    });
    // The callers run in a process of their own: this thread is about to stop.
    const frames = 600; // 12 s each
    const callers = startGoodCalls(h.port, 50, 500, { echo: false, frames });
    try {
      await callers.ready;
      await until(() => seen.size === 50, 'fifty calls');
      const stallUntil = Date.now() + 7000;
      while (Date.now() < stallUntil) {
        // The application's thread is blocked: nothing is taken from the engine.
      }
      await callers.sent;
      const report = await callers.stop();
      expect(report).toMatchObject({ connected: 50, mismatches: 0, violations: 0, serverHangups: 0, closedEarly: 0 });
      expect(report.framesSent).toBe(50 * frames);
      await until(() => [...seen.values()].every((e) => e.end !== null), 'every call to end');
      let dropped = 0;
      for (const [id, entry] of seen) {
        const inboundDropped = entry.end!.stats.inboundDropped;
        dropped += inboundDropped;
        // Delivered, or dropped and counted: never lost silently.
        expect(entry.audio + inboundDropped, id).toBe(frames);
        const codes = entry.errors.map((e) => e.code);
        expect(codes.every((code) => code === ErrorCode.INBOUND_OVERFLOW), id).toBe(true);
        // One error per overflow episode: none without drops, and one stall makes one episode.
        expect(codes.length, id).toBe(inboundDropped > 0 ? 1 : 0);
      }
      const peakRss = peak.stop();
      console.log(`[faults ${engine}] JS thread blocked 7 s, 50 calls: ${dropped} frames dropped and counted; RSS ${mib(baseline)} -> peak ${mib(peakRss)} MiB`);
      expect(peakRss - baseline).toBeLessThan(RSS_CAP_BYTES);
    } finally {
      callers.kill();
    }
  });

  it('an application writing 5x faster than real time: QUEUE_FULL thrown, the queue within maxQueueMs, everything accepted is played, nothing refused is', async () => {
    const maxQueueMs = 1500;
    h = await startServer(engine, { highWaterMs: 500, maxQueueMs });
    const peak = new PeakRss();
    const baseline = process.memoryUsage.rss();
    const pairs: Array<{ call: Call; client: AudioSocketClient }> = [];
    const calls: Call[] = [];
    h.server.on('call', (call) => calls.push(call));
    for (let i = 0; i < 20; i++) {
      const client = await h.connect();
      await until(() => calls.length === i + 1, 'the call');
      pairs.push({ call: calls[i]!, client });
    }
    const accepted = pairs.map(() => [] as Int16Array[]);
    let refused = 0;
    let largestQueue = 0;
    // 100 ms of audio per call every 20 ms, for 4 s: 20 s of audio offered per call.
    for (let round = 0; round < 200; round++) {
      for (const [index, { call }] of pairs.entries()) {
        const chunk = pattern(800, round * 20 + index + 1);
        try {
          call.write(chunk);
          accepted[index]!.push(chunk);
        } catch (error) {
          expect((error as AudioSocketError).code).toBe(ErrorCode.QUEUE_FULL);
          refused++;
        }
        largestQueue = Math.max(largestQueue, call.stats().queuedMs);
      }
      await sleep(20);
    }
    expect(refused).toBeGreaterThan(0);
    expect(largestQueue).toBeLessThanOrEqual(maxQueueMs);
    // Everything accepted plays out, in order, and nothing else does.
    for (const [index, { client }] of pairs.entries()) {
      const expected = bytesOf(Int16Array.from(accepted[index]!.flatMap((c) => Array.from(c))));
      await until(() => concat(audioReceived(client)).length >= expected.length, 'the accepted audio', 60_000);
      expect(concat(audioReceived(client)).equals(expected)).toBe(true);
    }
    for (const { call } of pairs) expect(call.stats()).toMatchObject({ queuedMs: 0, framesDropped: 0 });
    const ends = await Promise.all(pairs.map(({ client }) => client.hangup()));
    expect(ends.every((e) => e.violation === null)).toBe(true);
    expect(peak.stop() - baseline).toBeLessThan(RSS_CAP_BYTES);
  });

  for (const drainMs of [0, 400]) {
    it(`close(${drainMs ? `{ drainMs: ${drainMs} }` : ''}) under load: 300 calls mid-stream each get 0x00 and end, close() resolves`, async () => {
      h = await startServer(engine);
      const calls: Call[] = [];
      const ends = new Map<Call, CallEnd>();
      h.server.on('call', (call) => {
        calls.push(call);
        call.on('audio', (pcm) => call.write(pcm)); // echo
        call.on('end', (end) => ends.set(call, end));
        // And a prompt longer than the drain, so that some audio is always left unplayed.
        void call.play(pattern(8000 * 3, 5));
      });
      const clients = await Promise.all(Array.from({ length: 300 }, () => h.connect({ record: false })));
      await until(() => calls.length === 300, 'three hundred calls');
      const streams = clients.map((client, i) => client.play(pattern(8000 * 10, i + 1)));
      await sleep(300);
      await h.server.close({ drainMs });
      // Every call ended as server-close, and every peer got 0x00 and no strict violation.
      expect(ends.size).toBe(300);
      const odd = [...ends.values()].filter((end) => end.reason !== 'server-close' || end.error !== null || !(end.unplayedMs > 0));
      expect(odd.map(({ reason, error, unplayedMs }) => ({ reason, error: error?.code, unplayedMs }))).toEqual([]);
      const closed = await Promise.all(clients.map((client) => client.closed));
      expect(closed.filter((c) => !c.hangupReceived)).toEqual([]);
      expect(closed.filter((c) => c.violation !== null)).toEqual([]);
      await Promise.all(streams);
      expect(h.server.callCount).toBe(0);
      await expect(h.connect()).rejects.toThrow();
    });
  }
});
