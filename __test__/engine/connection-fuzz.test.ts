/**
 * Fuzzing of the TypeScript engine's connection state machine (the twin of the Rust `call_state`
 * fuzz target, see docs/fuzzing.md): generated scripts of Asterisk's bytes (garbage and real
 * messages, split anywhere), application operations (open, write, mark, clear, pause, resume,
 * hangup, stats, server close) and clock ticks, checked after every step.
 *
 * The first property drives one Connection over a fake socket (deterministic, fast, every
 * timing in the script's hands); the second drives the whole JsEngine over real TCP on
 * 127.0.0.1, with fewer runs. Checked:
 *
 * - events in a legal order: one reject or one call, nothing for a call after its end, an end
 *   for every call; warnings only of the warning codes;
 * - queue accounting: samples written = played + cleared + queued (+ dropped by maxLatencyMs),
 *   exactly; played never goes back, moves only on a tick and by about a frame per tick; never
 *   over maxQueueMs;
 * - every mark reported exactly once: reached in order, or cancelled (the queue's unreached tail);
 * - what goes on the wire: each write() one whole message, a frame of the server's kind and size
 *   or a 0x00, the 0x00 at most once and last, nothing written after end(), as many frames as
 *   counted;
 * - liveness: resumed and ticked long enough, everything queued plays; after both sides close,
 *   the connection is released.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineConfig, EngineEvent } from '../../src/engine/contract';
import { Connection, type ConnectionHost } from '../../src/engine/js/connection';
import { JsEngine } from '../../src/engine/js/engine';
import { Inbound } from '../../src/engine/js/format';
import { APP_SAMPLE_RATES } from '../../src/format';
import { FrameDecoder, kindForSampleRate, type Message } from '../../src/protocol';

const WARNINGS = new Set([
  'ERR_AUDIOSOCKET_EMPTY_AUDIO',
  'ERR_AUDIOSOCKET_ODD_AUDIO',
  'ERR_AUDIOSOCKET_BAD_UUID',
  'ERR_AUDIOSOCKET_BAD_DTMF',
  'ERR_AUDIOSOCKET_UNEXPECTED_MESSAGE',
  'ERR_AUDIOSOCKET_TRUNCATED',
  'ERR_AUDIOSOCKET_WIRE_FORMAT',
  'ERR_AUDIOSOCKET_INBOUND_OVERFLOW',
  'ERR_AUDIOSOCKET_OUTBOUND_OVERFLOW',
]);

const KIND_RATES = [8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000];

const configArb: fc.Arbitrary<EngineConfig> = fc
  .record({
    sampleRate: fc.oneof(fc.constantFrom(8000, 16000), fc.constantFrom(...APP_SAMPLE_RATES)),
    channels: fc.constantFrom<1 | 2>(1, 2),
    wire: fc.constantFrom<EngineConfig['wire']>('auto', 'slin', 'ulaw', 'alaw'),
    outputRate: fc.oneof(fc.constantFrom(8000, 16000), fc.constantFrom(...KIND_RATES)),
    prebufferMs: fc.integer({ min: 0, max: 120 }),
    idle: fc.constantFrom<EngineConfig['idle']>('silence', 'none'),
    handshakeTimeoutMs: fc.integer({ min: 20, max: 2000 }),
    maxPayload: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(1024, 8192, 65535) }, { weight: 1, arbitrary: fc.constantFrom(1, 3, 16, 161, 320) }),
    maxQueueMs: fc.integer({ min: 20, max: 520 }),
    high: fc.double({ min: 0, max: 1, noNaN: true }),
    low: fc.double({ min: 0, max: 1, noNaN: true }),
    /** maxLatencyMs beyond the least allowed (prebufferMs + 20), or none. */
    latencyCap: fc.option(fc.integer({ min: 0, max: 90 }), { freq: 3 }),
  })
  .map(({ high, low, latencyCap, ...c }) => {
    const highWaterMs = Math.floor(c.maxQueueMs * high);
    return {
      ...c,
      outputRate: c.wire === 'ulaw' || c.wire === 'alaw' ? 8000 : c.outputRate,
      highWaterMs,
      lowWaterMs: Math.floor(highWaterMs * low),
      maxCalls: 10,
      allow: [],
      connectionRateLimit: null,
      maxLatencyMs: latencyCap === null ? null : c.prebufferMs + 20 + latencyCap,
      inboundBacklogMs: 200,
    };
  });

/** A whole message, as Asterisk (or a confused peer) would send it. */
const messageArb: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constant(0x01), fc.uint8Array({ minLength: 16, maxLength: 16 })) },
    {
      weight: 6,
      arbitrary: fc.tuple(
        fc.integer({ min: 0x10, max: 0x18 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 }), fc.constant(160), fc.integer({ min: 1, max: 24 }).map((n) => n * 40)),
      ).map(([kind, length]) => [kind, new Uint8Array(length).fill(kind * 7)] as [number, Uint8Array]),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constant(0x03), fc.constantFrom(...'0123456789*#ABCDx').map((d) => Uint8Array.of(d.charCodeAt(0)))) },
    { weight: 1, arbitrary: fc.tuple(fc.constant(0x02), fc.uint8Array({ maxLength: 6 })) },
    { weight: 1, arbitrary: fc.tuple(fc.constant(0x00), fc.constant(new Uint8Array(0))) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 8 })) },
  )
  .map(([kind, payload]) => Uint8Array.of(kind, payload.length >> 8, payload.length & 0xff, ...payload));

type Op =
  | { op: 'bytes'; bytes: Uint8Array; cuts: number[] }
  | { op: 'tick'; n: number; late: number }
  | { op: 'time'; ms: number }
  | { op: 'open'; format: { sampleRate: number; channels: 1 | 2 } | null }
  | { op: 'write'; samples: number; seed: number }
  | { op: 'play'; frames: number; seed: number }
  | { op: 'mark' | 'clear' | 'pause' | 'resume' | 'hangup' | 'stats' | 'peerRead' | 'peerEnd' | 'peerError' | 'drain' | 'closeNow' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('bytes' as const), bytes: fc.array(messageArb, { minLength: 1, maxLength: 4 }).map((m) => new Uint8Array(Buffer.concat(m))), cuts: fc.array(fc.nat(), { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 40 }), cuts: fc.array(fc.nat(), { maxLength: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('tick' as const), n: fc.integer({ min: 1, max: 4 }), late: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('open' as const),
      format: fc.option(fc.record({ sampleRate: fc.constantFrom(...APP_SAMPLE_RATES), channels: fc.constantFrom<1 | 2>(1, 2) })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('write' as const), samples: fc.integer({ min: 0, max: 4000 }), seed: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('play' as const), frames: fc.integer({ min: 1, max: 8 }), seed: fc.nat() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constantFrom('mark' as const, 'clear' as const, 'pause' as const, 'resume' as const, 'stats' as const, 'peerRead' as const, 'peerRead' as const),
    }),
  },
  // What ends a call: rarer, so that calls live long enough to get somewhere.
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constantFrom('hangup' as const, 'peerEnd' as const, 'peerError' as const, 'drain' as const, 'closeNow' as const) }),
  },
);

/** Asterisk's first bytes: mostly a UUID (split anywhere), sometimes anything else. */
const openingArb: fc.Arbitrary<Op> = fc.record({
  op: fc.constant('bytes' as const),
  bytes: fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((id) => Uint8Array.of(0x01, 0x00, 0x10, ...id)) },
    { weight: 1, arbitrary: messageArb },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) },
  ),
  cuts: fc.array(fc.nat(), { maxLength: 3 }),
});

/** A script: the configuration, whether the call is opened as soon as it is reported, the operations. */
const scriptArb = fc.record({
  config: configArb,
  openAtOnce: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  ops: fc.tuple(openingArb, fc.array(opArb, { maxLength: 60 })).map(([opening, ops]) => [opening, ...ops]),
});

function pcm(samples: number, seed: number): Int16Array {
  let x = (seed | 1) >>> 0;
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >> 16;
  }
  return out;
}

/** Cuts `bytes` at the given points. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

/** What the wire must carry, from the server's configuration. */
function wireOf(config: EngineConfig): { kind: number; frameLength: number } {
  const g711 = config.wire === 'ulaw' || config.wire === 'alaw';
  const samples = (config.outputRate * 20) / 1000;
  return { kind: kindForSampleRate(config.outputRate)!, frameLength: 3 + samples * (g711 ? 1 : 2) };
}

/** Checks what Asterisk receives: whole messages, frames of the right shape, one 0x00 at most, last. */
class WireCheck {
  frames = 0;
  hangups = 0;
  #decoder = new FrameDecoder();
  #kind: number;
  #frameLength: number;

  constructor(config: EngineConfig) {
    ({ kind: this.#kind, frameLength: this.#frameLength } = wireOf(config));
  }

  push(bytes: Uint8Array): void {
    this.#decoder.feed(bytes, (message: Message) => {
      expect(this.hangups, 'a message after the 0x00').toBe(0);
      if (message.type === 'hangup') {
        expect(message.payload.length).toBe(0);
        this.hangups++;
        return;
      }
      expect(message.type, `the engine sent ${message.type}`).toBe('audio');
      expect(message.kind).toBe(this.#kind);
      expect(3 + message.payload.length).toBe(this.#frameLength);
      this.frames++;
    });
  }

  end(): void {
    this.#decoder.end(); // nothing cut
  }
}

/** How far the generated scripts got, so that a generator change cannot quietly stop reaching calls. */
const reached = { calls: 0, rejects: 0, audio: 0, marks: 0, cancelled: 0, drains: 0, ends: 0, frames: 0 };

/** The model of one call that both properties check events against. */
class Model {
  handle: number | null = null;
  rejected = false;
  ended = false;
  endFramesOut: number | null = null;
  written = 0;
  cleared = 0;
  played = 0;
  marks: number[] = [];
  nextMark = 0;
  aboveHighWater = false;
  format: { sampleRate: number; channels: 1 | 2 };

  constructor(readonly config: EngineConfig) {
    this.format = { sampleRate: config.sampleRate, channels: config.channels };
  }

  get samplesPerMs(): number {
    return this.format.sampleRate / 1000;
  }

  event(event: EngineEvent): void {
    expect(this.ended, `${event.type} after the call's end`).toBe(false);
    switch (event.type) {
      case 'reject':
        expect(this.handle, 'reject after the call began').toBeNull();
        expect(this.rejected, 'two rejects').toBe(false);
        this.rejected = true;
        reached.rejects++;
        return;
      case 'call':
        expect(this.rejected, 'a call after a reject').toBe(false);
        expect(this.handle, 'two calls').toBeNull();
        expect(event.wire.kind).toBe(wireOf(this.config).kind);
        this.handle = event.call;
        reached.calls++;
        return;
      case 'audio':
        expect(event.call).toBe(this.handle);
        expect(event.pcm.length).toBeGreaterThan(0);
        if (this.format.channels === 2) {
          expect(event.pcm.length % 2).toBe(0);
          for (let i = 0; i < event.pcm.length; i += 2) expect(event.pcm[i]).toBe(event.pcm[i + 1]);
        }
        reached.audio++;
        return;
      case 'dtmf':
        expect(event.call).toBe(this.handle);
        expect('0123456789*#ABCD').toContain(event.digit);
        return;
      case 'mark':
        expect(event.call).toBe(this.handle);
        expect(this.marks.shift(), 'mark out of order or twice').toBe(event.mark);
        reached.marks++;
        return;
      case 'drain':
        expect(event.call).toBe(this.handle);
        expect(this.aboveHighWater, 'drain without high water').toBe(true);
        this.aboveHighWater = false;
        reached.drains++;
        return;
      case 'error':
        expect(event.call).toBe(this.handle);
        expect(WARNINGS.has(event.error.code), `warning ${event.error.code}`).toBe(true);
        return;
      case 'end': {
        expect(event.call).toBe(this.handle);
        expect(event.error !== null).toBe(event.reason === 'error');
        expect(event.stats.queuedMs).toBe(event.unplayedMs);
        const samples = Math.round(event.unplayedMs * this.samplesPerMs);
        expect(samples / this.samplesPerMs).toBe(event.unplayedMs);
        this.cancel(event.unplayedMs, event.marks, samples);
        this.ended = true;
        this.endFramesOut = event.stats.framesOut;
        reached.ends++;
        reached.frames += event.stats.framesOut;
        return;
      }
    }
  }

  /** Marks cancelled by a clear (or the end) are the unreached tail of the queue. */
  cancel(clearedMs: number, marks: { mark: number; aheadMs: number }[], samples: number): void {
    this.cleared += samples;
    expect(marks.length).toBeLessThanOrEqual(this.marks.length);
    const tail = this.marks.splice(this.marks.length - marks.length);
    reached.cancelled += marks.length;
    expect(marks.map((m) => m.mark), 'cancelled marks are not the tail').toEqual(tail);
    let last = 0;
    for (const { aheadMs } of marks) {
      expect(aheadMs).toBeGreaterThan(0);
      expect(aheadMs).toBeGreaterThanOrEqual(last);
      expect(aheadMs).toBeLessThanOrEqual(clearedMs);
      last = aheadMs;
    }
  }

  /** After a step: written = played + cleared + queued + dropped; played moves only on ticks. */
  account(queuedSamples: number, droppedSamples: number, ticks: number, frameSamples: number): void {
    expect(queuedSamples / this.samplesPerMs).toBeLessThanOrEqual(this.config.maxQueueMs);
    if (this.config.maxLatencyMs === null) expect(droppedSamples).toBe(0);
    const played = this.written - this.cleared - queuedSamples - droppedSamples;
    expect(played, 'played went back').toBeGreaterThanOrEqual(this.played);
    const perTick = Math.ceil((frameSamples * this.format.sampleRate) / this.config.outputRate) + 2;
    expect(played - this.played, 'played without a tick, or too much').toBeLessThanOrEqual(ticks * perTick);
    this.played = played;
  }
}

/** A socket as node:net gives one, with Asterisk's end in the test's hands. */
class FakeSocket extends EventEmitter {
  remoteAddress = '192.0.2.7';
  remotePort = 40000;
  remoteFamily = 'IPv4';
  /** Bytes written and not yet read by the peer: what node:net reports as writableLength. */
  writableLength = 0;
  ended = false;
  destroyed = false;
  peerEnded = false;
  closed = false;
  writes: Uint8Array[] = [];
  /** Events node:net would emit on a later turn of the event loop. */
  later: (() => void)[] = [];

  setNoDelay(): this {
    return this;
  }

  write(data: Uint8Array): boolean {
    expect(this.ended || this.destroyed, 'write() after end() or destroy()').toBe(false);
    this.writes.push(Uint8Array.from(data));
    this.writableLength += data.length;
    return true;
  }

  end(data?: Uint8Array): this {
    if (data) this.write(data);
    if (!this.ended) {
      this.ended = true;
      if (this.peerEnded) this.#closeLater();
    }
    return this;
  }

  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.#closeLater();
    }
    return this;
  }

  resume(): this {
    return this;
  }

  // Asterisk's side.

  peerData(chunk: Uint8Array): void {
    if (this.destroyed || this.peerEnded || this.closed) return;
    this.emit('data', Buffer.from(chunk));
  }

  peerEnd(): void {
    if (this.destroyed || this.peerEnded || this.closed) return;
    this.peerEnded = true;
    this.emit('end');
    if (this.ended) this.#closeLater();
  }

  peerError(): void {
    if (this.destroyed || this.closed) return;
    this.destroyed = true;
    this.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    this.#closeLater();
  }

  /** Runs what node:net would have emitted by the next turn. */
  turn(): void {
    for (const run of this.later.splice(0)) run();
  }

  #closeLater(): void {
    this.later.push(() => {
      if (this.closed) return;
      this.closed = true;
      this.emit('close', false);
    });
  }
}

/** One script against one Connection over a FakeSocket. */
function runScript({ config, openAtOnce, ops }: { config: EngineConfig; openAtOnce: boolean; ops: Op[] }): void {
  const socket = new FakeSocket();
  const model = new Model(config);
  const wire = new WireCheck(config);
  let now = 1000;
  let tick = 0;
  let released = false;
  let read = 0; // writes the peer has read
  const events: EngineEvent[] = [];
  const host: ConnectionHost = {
    config,
    emit: (event) => events.push(event),
    now: () => now,
    nextTick: () => tick,
    register: () => 7,
    release: () => {
      expect(released, 'released twice').toBe(false);
      released = true;
    },
  };
  const connection = new Connection(socket as unknown as Socket, host);
  const frameSamples = connection.playout.frameSamples;

  const live = () => model.handle !== null && !released && connection.isOpen;
  const peerRead = () => {
    for (; read < socket.writes.length; read++) wire.push(socket.writes[read]!);
    socket.writableLength = 0;
  };
  /** An application operation, as JsEngine does it (CALL_ENDED once the call is not open). */
  const app = (run: () => void): void => {
    if (model.handle === null) return;
    if (!live()) {
      expect(model.ended || socket.closed || !connection.isOpen).toBe(true);
      return;
    }
    run();
  };
  const step = (ticks: number): void => {
    for (const event of events.splice(0)) {
      model.event(event);
      // As JsEngine.open: only a call still open (one may end in the very turn it began).
      if (event.type === 'call' && openAtOnce && connection.isOpen) connection.open(null);
    }
    const { playout } = connection;
    model.account(model.ended ? 0 : playout.queuedSamples, playout.latencyDroppedSamples, ticks, frameSamples);
  };
  const runTick = (late: number): void => {
    now += 20;
    connection.tick(tick++, late, now);
  };
  const hangup = () =>
    app(() => {
      connection.hangup('local-hangup');
    });

  for (const op of ops) {
    socket.turn();
    let ticks = 0;
    switch (op.op) {
      case 'bytes':
        for (const chunk of cut(op.bytes, op.cuts)) socket.peerData(chunk);
        break;
      case 'tick':
        for (let i = 0; i < op.n; i++) runTick(op.late);
        ticks = op.n;
        break;
      case 'time':
        now += op.ms;
        break;
      case 'open':
        app(() => {
          if (op.format && (model.written > 0 || model.nextMark > 0)) return; // open() comes first
          try {
            connection.open(op.format);
            if (op.format) model.format = op.format;
          } catch (error) {
            expect((error as { code: string }).code).toBe('ERR_AUDIOSOCKET_INVALID_ARGUMENT'); // open already
          }
        });
        break;
      case 'write':
      case 'play':
        app(() => {
          const samples = op.op === 'write' ? op.samples : op.frames * frameSamples;
          const playout = connection.playout;
          const before = playout.queuedSamples;
          const mono = model.format.channels === 2 ? samples / 2 : samples;
          try {
            const ms = playout.write(pcm(samples, op.seed), tick);
            expect(playout.queuedSamples).toBe(before + mono);
            expect(ms).toBe(playout.queuedSamples / model.samplesPerMs);
            model.written += mono;
            if (ms > config.highWaterMs && mono > 0) model.aboveHighWater = true;
          } catch (error) {
            const code = (error as { code: string }).code;
            if (code === 'ERR_AUDIOSOCKET_QUEUE_FULL') expect((before + Math.floor(mono)) / model.samplesPerMs).toBeGreaterThan(config.maxQueueMs);
            else expect(code === 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' && model.format.channels === 2 && samples % 2 === 1).toBe(true);
            expect(playout.queuedSamples).toBe(before);
          }
          if (op.op === 'play') {
            playout.mark(model.nextMark);
            model.marks.push(model.nextMark++);
          }
        });
        break;
      case 'mark':
        app(() => {
          connection.playout.mark(model.nextMark);
          model.marks.push(model.nextMark++);
        });
        break;
      case 'clear':
        app(() => {
          const queued = connection.playout.queuedSamples;
          const { clearedMs, marks } = connection.playout.clear();
          expect(clearedMs).toBe(queued / model.samplesPerMs);
          expect(connection.playout.queuedSamples).toBe(0);
          model.cancel(clearedMs, marks, queued);
        });
        break;
      case 'pause':
        app(() => connection.playout.pause());
        break;
      case 'resume':
        app(() => connection.playout.resume());
        break;
      case 'hangup':
        hangup();
        break;
      case 'stats':
        app(() => {
          const stats = connection.callStats();
          expect(stats.queuedMs).toBe(connection.playout.queuedMs);
          expect(stats.silenceFramesOut).toBeLessThanOrEqual(stats.framesOut);
        });
        break;
      case 'peerRead':
        peerRead();
        break;
      case 'peerEnd':
        socket.peerEnd();
        break;
      case 'peerError':
        socket.peerError();
        break;
      case 'drain':
        connection.drain();
        break;
      case 'closeNow':
        connection.hangup('server-close');
        break;
    }
    step(ticks);
  }

  // Epilogue: play out what is queued (resumed, the peer reading), then hang up and close.
  socket.turn();
  step(0);
  if (live() && !model.ended) {
    connection.playout.resume();
    const ticks = Math.ceil((connection.playout.queuedMs + config.prebufferMs) / 20) + 8;
    for (let i = 0; i < ticks; i++) {
      peerRead();
      runTick(0);
      step(1);
    }
    if (!model.ended) {
      expect(connection.playout.queuedSamples, 'audio never played').toBe(0);
      expect(model.marks, 'marks never reached').toEqual([]);
    }
  }
  hangup();
  step(0);
  if (model.handle !== null) expect(model.ended, 'the call never ended').toBe(true);
  expect(model.marks, 'marks neither reached nor cancelled').toEqual([]);
  peerRead();
  socket.peerEnd();
  socket.turn();
  now += 3000;
  runTick(0);
  socket.turn();
  step(0);
  expect(released, 'the connection was never released').toBe(true);
  peerRead();
  expect(wire.hangups).toBeLessThanOrEqual(1);
  if (socket.ended) wire.end();
  if (model.endFramesOut !== null) expect(wire.frames).toBe(model.endFramesOut);
  // Each write() is one whole message.
  for (const write of socket.writes) {
    const one = new FrameDecoder();
    expect(one.push(write)).toHaveLength(1);
    one.end();
  }
}

describe('connection fuzzing (TypeScript engine)', () => {
  it('scripts of bytes, application operations and ticks over a fake socket keep every invariant', () => {
    fc.assert(fc.property(scriptArb, runScript), { numRuns: 1_500 });
    for (const [what, count] of Object.entries(reached)) expect(count, `no script reached ${what}`).toBeGreaterThan(0);
  });

  it('a mark on an empty queue, then the end of the call, is reported (found by fuzzing)', () => {
    const config = fc.sample(configArb, { numRuns: 1, seed: 1 })[0]!;
    const uuid = Uint8Array.of(0x01, 0x00, 0x10, ...new Uint8Array(16).fill(7));
    for (const last of ['hangup', 'peerEnd', 'pause'] as const) {
      const ops: Op[] = [{ op: 'bytes', bytes: uuid, cuts: [] }, { op: 'mark' }];
      if (last === 'pause') ops.splice(1, 0, { op: 'pause' });
      ops.push({ op: last === 'pause' ? 'hangup' : last });
      runScript({ config, openAtOnce: true, ops });
    }
  });
});

describe('caller audio in frames of any size (found by fuzzing: frames too short to make an output were lost)', () => {
  it('converted frame by frame, it equals the same audio converted in one piece', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0x10, max: 0x18 }),
        fc.constantFrom(...APP_SAMPLE_RATES),
        fc.constantFrom<1 | 2>(1, 2),
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        (kind, appRate, channels, samples, frames) => {
          const sampleRate = KIND_RATES[kind - 0x10]!;
          const payload = new Uint8Array(pcm(samples, kind * appRate).buffer);
          const whole = new Inbound('slin', appRate, channels).convert(kind, sampleRate, payload);
          const inbound = new Inbound('slin', appRate, channels);
          const parts: Int16Array[] = [];
          for (let at = 0, i = 0; at < samples; i++) {
            const n = Math.min(frames[i % frames.length]!, samples - at);
            parts.push(inbound.convert(kind, sampleRate, payload.subarray(2 * at, 2 * (at + n))));
            at += n;
          }
          expect(Int16Array.from(parts.flatMap((p) => [...p]))).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('connection fuzzing over TCP (JsEngine)', () => {
  it('byte streams split anywhere, with application operations, over real sockets', async () => {
    const tcpScript = fc.record({
      config: configArb,
      chunks: fc.array(fc.tuple(fc.array(messageArb, { maxLength: 3 }), fc.array(fc.nat(), { maxLength: 3 })), { maxLength: 8 }),
      ops: fc.array(fc.constantFrom('write', 'mark', 'clear', 'pause', 'resume', 'hangup', 'wait'), { maxLength: 10 }),
      garbageFirst: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(tcpScript, async ({ config, chunks, ops, garbageFirst }) => {
        const models = new Map<number, Model>();
        const rejects: EngineEvent[] = [];
        const engine = new JsEngine({ ...config, handshakeTimeoutMs: 300 }, (batch) => {
          for (const event of batch) {
            if (event.type === 'reject') {
              rejects.push(event);
              continue;
            }
            if (event.type === 'call') {
              models.set(event.call, new Model(config));
              try {
                engine.open(event.call, null);
              } catch (error) {
                // A call may end in the very turn it began: its end follows in this batch.
                expect((error as { code: string }).code).toBe('ERR_AUDIOSOCKET_CALL_ENDED');
              }
            }
            models.get(event.call)!.event(event);
          }
        });
        const { port } = await engine.listen('127.0.0.1', 0);
        const client: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
        const wire = new WireCheck(config);
        let clientClosed = false;
        client.on('data', (data) => wire.push(data));
        client.on('error', () => {});
        const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
        client.on('close', () => (clientClosed = true));
        await new Promise<void>((resolve) => client.once('connect', () => resolve()));
        const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        if (garbageFirst) client.write('GET / HTTP/1.1\r\n\r\n');
        else client.write(Uint8Array.of(0x01, 0x00, 0x10, ...new Uint8Array(16).fill(9)));
        for (const [messages, cuts] of chunks) {
          for (const chunk of cut(new Uint8Array(Buffer.concat(messages)), cuts)) {
            if (clientClosed) break;
            client.write(chunk);
            await pause(1);
          }
        }
        let nextMark = 0;
        for (const op of ops) {
          const [handle, model] = [...models][0] ?? [];
          if (handle === undefined || !model) break;
          try {
            if (op === 'write') {
              const samples = 160 * config.channels;
              const queuedMs = engine.write(handle, pcm(samples, nextMark));
              model.written += samples / config.channels;
              // A slow clock (a loaded machine) lets writes pile up past high water: 'drain' follows.
              if (queuedMs > config.highWaterMs) model.aboveHighWater = true;
            } else if (op === 'mark') {
              model.marks.push(nextMark);
              engine.mark(handle, nextMark++);
            } else if (op === 'clear') {
              const { clearedMs, marks } = engine.clear(handle);
              model.cancel(clearedMs, marks, Math.round(clearedMs * model.samplesPerMs));
            } else if (op === 'pause') engine.pause(handle);
            else if (op === 'resume') engine.resume(handle);
            else if (op === 'hangup') engine.hangup(handle);
            else await pause(25);
          } catch (error) {
            const code = (error as { code: string }).code;
            expect(['ERR_AUDIOSOCKET_CALL_ENDED', 'ERR_AUDIOSOCKET_QUEUE_FULL']).toContain(code);
            if (op === 'mark') model.marks.pop();
          }
        }
        await pause(30);
        client.end();
        await engine.close(200);
        await closed;
        expect(rejects.length + models.size).toBe(1);
        for (const model of models.values()) {
          expect(model.ended, 'the call never ended').toBe(true);
          expect(model.marks, 'marks neither reached nor cancelled').toEqual([]);
        }
        expect(wire.hangups).toBeLessThanOrEqual(1);
        wire.end();
      }),
      { numRuns: 25 },
    );
  });
});
