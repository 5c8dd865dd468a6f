/**
 * The named bad-input table: hostile and broken peers, one at a time, while good calls stream.
 *
 * Every case must cost only its own connection a typed error (the server's 'reject' before a
 * call exists, the call's 'error' or 'end' after), the good calls must lose nothing (every frame
 * echoed, in order, bit-exact, nothing Asterisk 20.14+ would hang up on: checked by the
 * good-call process, __test__/helpers/good-calls.mjs), and memory must stay bounded: the peak
 * RSS of the process the server runs in is printed per engine, with the cases that raised it.
 *
 * HOSTILE_GOOD_CALLS (default 50) sets the number of good calls. The full run, 500 good calls,
 * one engine per process so that each peak RSS is its own (a few minutes each on two cores):
 *
 *   HOSTILE_ENGINE=js HOSTILE_GOOD_CALLS=500 npx vitest run __test__/conformance/bad-input.test.ts
 *   HOSTILE_ENGINE=native AUDIOSOCKET_REQUIRE_NATIVE=1 HOSTILE_GOOD_CALLS=500 npx vitest run __test__/conformance/bad-input.test.ts
 *
 * HOSTILE_IDLE_CONNECTIONS (default 10000) sets the connections that never send a UUID. The
 * never-reading peer needs python3 (see neverReadingPeer).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioSocketError, Call, CallEnd } from '../../src';
import { ErrorCode } from '../../src/errors';
import { FrameDecoder, encodeAudio, encodeHangup, encodeMessage, encodeUuid } from '../../src/protocol';
import { ENGINES, pattern, until, type Harness, startServer } from '../helpers/harness';
import {
  GOOD_CALL_PREFIX,
  PeakRss,
  fdCount,
  mib,
  neverReadingPeer,
  openIdleConnections,
  startGoodCalls,
  type GoodCalls,
  type GoodCallsReport,
} from '../helpers/hostile';

const GOOD_CALLS = Number(process.env.HOSTILE_GOOD_CALLS ?? 50);
/** HOSTILE_ENGINE=js or native runs one engine only (a process of its own, for its peak RSS). */
const engines = process.env.HOSTILE_ENGINE ? ENGINES.filter((engine) => engine === process.env.HOSTILE_ENGINE) : ENGINES;
const IDLE_CONNECTIONS = Number(process.env.HOSTILE_IDLE_CONNECTIONS ?? 10_000);
/** Growth of the peak RSS over the baseline that counts as unbounded: generous, a loaded machine's GC included. */
const RSS_CAP_BYTES = 768 * 1048576;
const MAX_PAYLOAD = 8192;
const HANDSHAKE_TIMEOUT_MS = 2000;

const UUID = '01234567-89ab-cdef-0123-456789abcdef';
const uuid = encodeUuid(UUID);
const audio = encodeAudio(pattern(160), 8000);
const hangup = encodeHangup();

/** What the peer does, in order: a write, a pause, FIN, RST, or valid audio as fast as the socket takes it. */
type Step = Uint8Array | { wait: number } | 'end' | 'reset' | { flood: number };

/** Where a bad input must surface. */
type Outcome =
  /** Refused before a call exists (`count` connections of the case, default 1; `all`: every port `run` gave). */
  | { on: 'reject'; code: ErrorCode; count?: number | 'all' }
  /** A typed error on the call, which goes on: it still echoes and ends cleanly on 0x00. */
  | { on: 'call-error'; code: ErrorCode }
  /** The call ends, with this reason and error. */
  | { on: 'call-end'; code: ErrorCode | null; reason: CallEnd['reason'] }
  /** The application is told, by an 'error' event or by write() throwing, with one of `codes`; the call goes on. */
  | { on: 'told'; codes: ErrorCode[] }
  /** Valid, if unusual: no error; `echo` comes back exactly, `dtmf` is reported, `audio` arrives; 0x00 ends it cleanly. */
  | { on: 'ok'; echo?: Int16Array; dtmf?: string; audio?: true };

interface CallRecord {
  call: Call;
  errors: AudioSocketError[];
  /** Errors thrown by the echo's call.write(): how a flood is told. */
  writeErrors: AudioSocketError[];
  end: CallEnd | null;
  audioFrames: number;
  dtmf: string;
}

interface RunContext {
  port: number;
  /** Every reject the server has reported so far. */
  rejects: ReadonlyArray<{ port: number; error: AudioSocketError }>;
}

interface BadInput {
  name: string;
  /** A raw peer's steps; or `run`, for peers of their own kind, returning their local ports. */
  peer?: Step[];
  run?: (context: RunContext) => Promise<{ ports: number[]; cleanup?: () => Promise<void> }>;
  outcome: Outcome;
  check?: (seen: { record: CallRecord | undefined; peer: Peer | undefined }) => void | Promise<void>;
  timeoutMs?: number;
}

/** `bytes` cut at `at`, with `gapMs` between the pieces. */
function split(bytes: Uint8Array, at: number[], gapMs = 30): Step[] {
  const steps: Step[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    if (from > 0) steps.push({ wait: gapMs });
    steps.push(bytes.subarray(from, cut));
    from = cut;
  }
  return steps;
}

/** One byte per write, `gapMs` apart. */
function trickle(bytes: Uint8Array, gapMs: number): Step[] {
  return split(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1), gapMs);
}

/** Deterministic cut points in `length` bytes: pieces of 7 to 499 bytes. */
function cuts(length: number): number[] {
  const at: number[] = [];
  for (let i = 0, next = 7; next < length; i++, next += 7 + ((i * 131) % 493)) at.push(next);
  return at;
}

const concatBytes = (...parts: Uint8Array[]) => Buffer.concat(parts);
const frames = (count: number, seed: number, rate = 8000) =>
  Array.from({ length: count }, (_, i) => encodeAudio(pattern((rate / 50) | 0, seed + i), rate));
const samplesOf = (messages: Uint8Array[]) => Int16Array.from(messages.flatMap((m) => Array.from(new Int16Array(Uint8Array.from(m.subarray(3)).buffer))));
const forkDtmf = (state: number, digit: number, length = 6) => {
  const payload = Buffer.alloc(length);
  payload[0] = state;
  payload[1] = digit;
  return encodeMessage(0x02, payload);
};

const TABLE: BadInput[] = [
  // Before the UUID: refused, nothing else touched.
  { name: 'garbage first (an HTTP request)', peer: [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], outcome: { on: 'reject', code: ErrorCode.NO_UUID } },
  { name: 'garbage first (a TLS ClientHello)', peer: [Buffer.from('16030100c8010000c40303', 'hex')], outcome: { on: 'reject', code: ErrorCode.NO_UUID } },
  { name: 'a hangup before the UUID', peer: [hangup], outcome: { on: 'reject', code: ErrorCode.NO_UUID } },
  { name: 'audio before the UUID', peer: [audio, uuid], outcome: { on: 'reject', code: ErrorCode.NO_UUID } },
  { name: 'DTMF before the UUID', peer: [encodeMessage(0x03, Buffer.from('5')), uuid], outcome: { on: 'reject', code: ErrorCode.NO_UUID } },
  { name: 'a UUID of 15 bytes', peer: [encodeMessage(0x01, new Uint8Array(15))], outcome: { on: 'reject', code: ErrorCode.BAD_UUID } },
  { name: 'a UUID of 17 bytes', peer: [encodeMessage(0x01, new Uint8Array(17))], outcome: { on: 'reject', code: ErrorCode.BAD_UUID } },
  { name: 'a UUID of 0 bytes', peer: [encodeMessage(0x01)], outcome: { on: 'reject', code: ErrorCode.BAD_UUID } },
  { name: 'a UUID announcing 65535 bytes', peer: [Buffer.of(0x01, 0xff, 0xff), new Uint8Array(100)], outcome: { on: 'reject', code: ErrorCode.BAD_UUID } },
  { name: 'close inside the UUID header', peer: [uuid.subarray(0, 2), 'end'], outcome: { on: 'reject', code: ErrorCode.NO_UUID } },
  { name: 'close before the UUID is complete', peer: [uuid.subarray(0, 9), 'end'], outcome: { on: 'reject', code: ErrorCode.NO_UUID } },
  { name: 'RST inside the UUID header', peer: [uuid.subarray(0, 2), { wait: 30 }, 'reset'], outcome: { on: 'reject', code: ErrorCode.SOCKET } },
  { name: 'RST inside the UUID payload', peer: [uuid.subarray(0, 10), { wait: 30 }, 'reset'], outcome: { on: 'reject', code: ErrorCode.SOCKET } },
  { name: 'a connection that says nothing', peer: [], outcome: { on: 'reject', code: ErrorCode.HANDSHAKE_TIMEOUT } },
  {
    name: '1 byte per second before the UUID (slowloris): the handshake timeout',
    peer: trickle(uuid, 1000),
    outcome: { on: 'reject', code: ErrorCode.HANDSHAKE_TIMEOUT },
  },
  {
    name: `${IDLE_CONNECTIONS} connections that never send a UUID`,
    run: async ({ port, rejects }) => {
      const fdsBefore = fdCount();
      const rejectsBefore = rejects.length;
      // 64 at a time, 20 ms apart (about 2500 a second): within both engines' listen backlogs.
      const idle = await openIdleConnections(port, IDLE_CONNECTIONS, {
        batch: 64,
        gapMs: 20,
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
        settled: () => rejects.length - rejectsBefore,
      });
      if (idle.lost > 0) {
        console.log(`[bad-input] the kernel dropped ${idle.lost} of ${IDLE_CONNECTIONS} idle connections from a full accept queue: the server never had them`);
      }
      return {
        ports: idle.ports,
        cleanup: async () => {
          const report = await idle.report();
          // Each the server had was told (0x00) and closed by it, and every descriptor came back.
          expect(report).toMatchObject({ closedByServer: idle.ports.length, hangups: idle.ports.length, stillOpen: 0 });
          await until(() => fdCount() <= fdsBefore + 5, 'the server to release every descriptor', 30_000);
        },
      };
    },
    outcome: { on: 'reject', code: ErrorCode.HANDSHAKE_TIMEOUT, count: 'all' },
    timeoutMs: 300_000,
  },

  // Splits: valid input in awkward pieces, each piece its own TCP segment.
  ...[1, 2, 3, 11].map<BadInput>((at) => ({
    name: `the UUID split after byte ${at}, 30 ms apart`,
    peer: [...split(uuid, [at]), { wait: 30 }, audio],
    outcome: { on: 'ok', echo: pattern(160) },
  })),
  { name: 'the UUID one byte per write, 20 ms apart', peer: [...trickle(uuid, 20), audio], outcome: { on: 'ok', echo: pattern(160) } },
  ...[1, 2, 3, 100, 322].map<BadInput>((at) => ({
    name: `an audio frame split after byte ${at}, 30 ms apart`,
    peer: [uuid, { wait: 30 }, ...split(audio, [at])],
    outcome: { on: 'ok', echo: pattern(160) },
  })),
  { name: 'an audio frame split at every offset of its header at once', peer: [uuid, ...split(audio, [1, 2, 3], 25)], outcome: { on: 'ok', echo: pattern(160) } },
  { name: 'the UUID and 5 frames in one write', peer: [concatBytes(uuid, ...frames(5, 20))], outcome: { on: 'ok', echo: samplesOf(frames(5, 20)) } },
  {
    name: '50 frames cut at odd offsets into 7-byte to 500-byte pieces',
    peer: [uuid, ...split(concatBytes(...frames(50, 30)), cuts(50 * 323), 5)],
    outcome: { on: 'ok', echo: samplesOf(frames(50, 30)) },
  },
  // (200: the native engine bounds what waits for the JavaScript thread in frames, inboundBacklogMs / 20.)
  { name: '200 one-sample frames in one write', peer: [uuid, concatBytes(...Array.from({ length: 200 }, (_, i) => encodeAudio(pattern(1, i + 1), 8000)))], outcome: { on: 'ok', echo: Int16Array.from({ length: 200 }, (_, i) => pattern(1, i + 1)[0]!) } },
  { name: `a payload of exactly maxPayload (${MAX_PAYLOAD} bytes)`, peer: [uuid, encodeAudio(pattern(MAX_PAYLOAD / 2, 7), 8000)], outcome: { on: 'ok', echo: pattern(MAX_PAYLOAD / 2, 7) } },

  // After the UUID: a typed error on the call, or the call ends.
  { name: 'a length past maxPayload (65535)', peer: [uuid, Buffer.of(0x10, 0xff, 0xff)], outcome: { on: 'call-end', code: ErrorCode.PAYLOAD_TOO_LARGE, reason: 'error' } },
  { name: 'a length one past maxPayload', peer: [uuid, Buffer.of(0x10, (MAX_PAYLOAD + 1) >> 8, (MAX_PAYLOAD + 1) & 0xff)], outcome: { on: 'call-end', code: ErrorCode.PAYLOAD_TOO_LARGE, reason: 'error' } },
  { name: 'a huge DTMF message', peer: [uuid, Buffer.of(0x03, 0xff, 0xff), Buffer.from('1'.repeat(1000))], outcome: { on: 'call-end', code: ErrorCode.PAYLOAD_TOO_LARGE, reason: 'error' } },
  { name: 'zero-length audio', peer: [uuid, encodeMessage(0x10)], outcome: { on: 'call-error', code: ErrorCode.EMPTY_AUDIO } },
  { name: 'zero-length audio of kind 0x16', peer: [uuid, encodeMessage(0x16)], outcome: { on: 'call-error', code: ErrorCode.EMPTY_AUDIO } },
  { name: 'odd-length audio', peer: [uuid, encodeMessage(0x10, new Uint8Array(321).fill(7))], outcome: { on: 'call-error', code: ErrorCode.ODD_AUDIO } },
  { name: 'one-byte audio', peer: [uuid, encodeMessage(0x10, Uint8Array.of(7))], outcome: { on: 'call-error', code: ErrorCode.ODD_AUDIO } },
  { name: 'odd-length 16 kHz audio', peer: [uuid, encodeMessage(0x12, new Uint8Array(641).fill(7))], outcome: { on: 'call-error', code: ErrorCode.ODD_AUDIO } },
  { name: 'an unknown kind (0x42)', peer: [uuid, encodeMessage(0x42, Uint8Array.of(1, 2))], outcome: { on: 'call-error', code: ErrorCode.UNEXPECTED_MESSAGE } },
  { name: 'kind 0x04, between DTMF and audio', peer: [uuid, encodeMessage(0x04)], outcome: { on: 'call-error', code: ErrorCode.UNEXPECTED_MESSAGE } },
  { name: 'kind 0x19, one past the rate kinds', peer: [uuid, encodeMessage(0x19, new Uint8Array(320).fill(1))], outcome: { on: 'call-error', code: ErrorCode.UNEXPECTED_MESSAGE } },
  { name: 'an error kind from the peer', peer: [uuid, encodeMessage(0xff, Uint8Array.of(1))], outcome: { on: 'call-error', code: ErrorCode.UNEXPECTED_MESSAGE } },
  { name: 'an error kind with no code', peer: [uuid, encodeMessage(0xff)], outcome: { on: 'call-error', code: ErrorCode.UNEXPECTED_MESSAGE } },
  { name: 'two UUIDs', peer: [uuid, uuid], outcome: { on: 'call-error', code: ErrorCode.UNEXPECTED_MESSAGE } },
  { name: 'a second UUID of the wrong length', peer: [uuid, encodeMessage(0x01, new Uint8Array(5))], outcome: { on: 'call-error', code: ErrorCode.BAD_UUID } },
  { name: 'a UUID split across messages (two 8-byte UUID messages)', peer: [encodeMessage(0x01, uuid.subarray(3, 11)), encodeMessage(0x01, uuid.subarray(11))], outcome: { on: 'reject', code: ErrorCode.BAD_UUID } },

  // DTMF edge cases.
  { name: 'a DTMF payload that is no digit', peer: [uuid, encodeMessage(0x03, Buffer.from('x'))], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  { name: 'a lower-case DTMF digit', peer: [uuid, encodeMessage(0x03, Buffer.from('a'))], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  { name: 'an empty DTMF message', peer: [uuid, encodeMessage(0x03)], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  { name: 'two digits in one DTMF message', peer: [uuid, encodeMessage(0x03, Buffer.from('12'))], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  { name: 'a NUL DTMF digit', peer: [uuid, encodeMessage(0x03, Uint8Array.of(0))], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  { name: 'a fork DTMF of the wrong length', peer: [uuid, forkDtmf(1, 0x31, 3)], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  { name: 'a fork DTMF with a bad state', peer: [uuid, forkDtmf(2, 0x31)], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  { name: 'a fork DTMF with a bad digit', peer: [uuid, forkDtmf(1, 0x78)], outcome: { on: 'call-error', code: ErrorCode.BAD_DTMF } },
  {
    name: 'every digit 10 times in one write, interleaved with audio',
    peer: [uuid, concatBytes(...Array.from({ length: 160 }, (_, i) => (i % 2 ? encodeMessage(0x03, Buffer.from('0123456789*#ABCD'[(i >> 1) % 16]!)) : audio)))],
    outcome: { on: 'ok', dtmf: '0123456789*#ABCD'.repeat(5) },
  },
  { name: 'silence messages (0x02, empty) between frames', peer: [uuid, concatBytes(audio, encodeMessage(0x02), encodeMessage(0x02), audio)], outcome: { on: 'ok', echo: samplesOf([audio, audio]) } },

  // Rates: kinds 0x11-0x18 from the peer.
  {
    name: 'kinds 0x11-0x18, 5 frames of each, paced',
    peer: [uuid, ...[12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000].flatMap((rate, k) => frames(5, 40 + k * 5, rate).flatMap((f) => [f, { wait: 20 }]))],
    outcome: { on: 'ok', audio: true },
  },
  {
    name: 'the rate changing every frame, at full speed',
    peer: [uuid, concatBytes(...Array.from({ length: 90 }, (_, i) => frames(1, i, [8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000][i % 9])[0]!))],
    outcome: { on: 'ok', audio: true },
  },
  {
    name: '192 kHz frames at ten times real time for a second',
    peer: [uuid, ...Array.from({ length: 50 }, () => [concatBytes(...frames(10, 3, 192000)), { wait: 20 }]).flat()],
    outcome: { on: 'ok', audio: true },
  },

  // Endings: hangups, FIN and RST at every point.
  {
    name: 'a hangup followed by more data',
    peer: [uuid, concatBytes(hangup, audio, uuid, encodeMessage(0x42)), { wait: 20 }, audio],
    outcome: { on: 'call-end', code: null, reason: 'remote-hangup' },
    check: ({ record }) => expect(record!.audioFrames).toBe(0),
  },
  { name: 'a hangup with a payload', peer: [uuid, encodeMessage(0x00, Uint8Array.of(1, 2, 3))], outcome: { on: 'call-end', code: null, reason: 'remote-hangup' } },
  { name: 'close in the middle of a frame', peer: [uuid, audio.subarray(0, 100), 'end'], outcome: { on: 'call-error', code: ErrorCode.TRUNCATED } },
  { name: 'close in the middle of a header', peer: [uuid, audio.subarray(0, 2), 'end'], outcome: { on: 'call-error', code: ErrorCode.TRUNCATED } },
  { name: 'RST in the middle of a frame', peer: [uuid, audio.subarray(0, 100), { wait: 30 }, 'reset'], outcome: { on: 'call-end', code: ErrorCode.SOCKET, reason: 'error' } },
  { name: 'RST in the middle of a header', peer: [uuid, audio.subarray(0, 1), { wait: 30 }, 'reset'], outcome: { on: 'call-end', code: ErrorCode.SOCKET, reason: 'error' } },
  { name: 'RST in the middle of a call', peer: [uuid, audio, { wait: 30 }, 'reset'], outcome: { on: 'call-end', code: ErrorCode.SOCKET, reason: 'error' } },
  {
    name: 'half-close after the UUID, still reading: the call ends, the server closes its side',
    peer: [uuid, audio, { wait: 50 }, 'end'],
    outcome: { on: 'call-end', code: null, reason: 'remote-hangup' },
    check: async ({ peer }) => until(() => peer!.serverEnded, 'the server to close its side'),
  },
  {
    name: '1 byte per second after the UUID: a slow but valid call',
    peer: [uuid, ...trickle(encodeAudio(pattern(1, 9), 8000), 1000), { wait: 1000 }, hangup],
    outcome: { on: 'call-end', code: null, reason: 'remote-hangup' },
    check: ({ record }) => expect(record!).toMatchObject({ audioFrames: 1, errors: [], writeErrors: [] }),
  },

  // Load from one peer.
  {
    name: 'a flood at full speed (20,000 frames, 400 s of audio, at once)',
    peer: [uuid, { flood: 20_000 }],
    outcome: { on: 'told', codes: [ErrorCode.QUEUE_FULL, ErrorCode.INBOUND_OVERFLOW] },
    check: async ({ record }) => {
      await until(() => record!.audioFrames + record!.call.stats().inboundDropped === 20_000, 'every frame read');
      const stats = record!.call.stats();
      // What the call holds stays within its caps: the queue within maxQueueMs (default 60 s).
      expect(stats.queuedMs).toBeLessThanOrEqual(60_000);
      // Nothing vanished: each frame reached the application or was counted as dropped.
      expect(record!.audioFrames + stats.inboundDropped).toBe(20_000);
    },
  },
  {
    name: 'a peer that never reads',
    run: async ({ port }) => {
      const peer = await neverReadingPeer(port, uuid, 100_000);
      return {
        ports: [peer.localPort],
        cleanup: async () => {
          peer.close();
          await peer.exited;
        },
      };
    },
    outcome: { on: 'told', codes: [ErrorCode.OUTBOUND_OVERFLOW] },
    check: ({ record }) => expect(record!.call.stats().framesDropped).toBeGreaterThan(0),
    timeoutMs: 120_000,
  },
];

/** A raw peer: writes the case's steps, decodes what the server sends. */
class Peer {
  readonly socket: Socket;
  readonly received: Uint8Array[] = [];
  hangupReceived = false;
  serverEnded = false;
  closed = false;
  /** FIN or RST sent: nothing more can be written. */
  finished = false;
  #decoder = new FrameDecoder();
  #nonZero: number[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('end', () => (this.serverEnded = true));
    socket.on('close', () => (this.closed = true));
    socket.on('data', (chunk) => {
      try {
        this.#decoder.feed(chunk, (message) => {
          if (message.type === 'hangup') this.hangupReceived = true;
          if (message.type !== 'audio') return;
          const samples = new Int16Array(Uint8Array.from(message.payload).buffer);
          for (const sample of samples) if (sample !== 0 && this.#nonZero.length < 1 << 20) this.#nonZero.push(sample);
        });
      } catch {
        // A framing error from the server shows in the echo checks.
      }
    });
  }

  static async connect(port: number): Promise<Peer> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new Peer(socket);
  }

  get localPort(): number {
    return this.socket.localPort!;
  }

  /** The non-zero samples of the audio received (the test audio has no zero sample: silence is idle). */
  get echoed(): Int16Array {
    return Int16Array.from(this.#nonZero);
  }

  get writable(): boolean {
    return !this.finished && !this.closed && !this.serverEnded;
  }

  async play(steps: Step[]): Promise<void> {
    for (const step of steps) {
      if (!this.writable) return;
      if (step === 'end') {
        this.finished = true;
        this.socket.end();
      } else if (step === 'reset') {
        this.finished = true;
        this.socket.resetAndDestroy();
      } else if ('wait' in step) {
        await new Promise((resolve) => setTimeout(resolve, step.wait));
      } else if ('flood' in step) {
        await this.#flood(step.flood);
      } else {
        this.socket.write(step);
      }
    }
  }

  /** `count` frames of valid audio, 100 per write, as fast as the socket takes them. */
  async #flood(count: number): Promise<void> {
    const burst = concatBytes(...Array.from({ length: 100 }, () => audio));
    for (let sent = 0; sent < count && !this.closed; sent += 100) {
      if (!this.socket.write(burst)) await new Promise((resolve) => this.socket.once('drain', resolve).once('close', resolve));
    }
  }
}

function sameSamples(a: Int16Array, b: Int16Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const nonZero = (pcm: Int16Array) => pcm.filter((s) => s !== 0);

describe.each(engines)(`%s engine: the bad-input table, one case at a time, while ${GOOD_CALLS} good calls stream`, (engine) => {
  let h: Harness;
  let good: GoodCalls;
  let peak: PeakRss;
  let baselineRss = 0;
  const rejects: Array<{ port: number; error: AudioSocketError }> = [];
  /** Errors and ends on any call but the case's: each is a failure (a good call touched). */
  const foreign: string[] = [];
  let record: CallRecord | undefined;
  let goodCallsSeen = 0;
  const raisedPeak: string[] = [];

  beforeAll(async () => {
    baselineRss = process.memoryUsage.rss();
    // Every peer here is 127.0.0.1: no per-source rate limit, or the idle connections would meet it first.
    h = await startServer(engine, {
      maxPayload: MAX_PAYLOAD,
      maxCalls: IDLE_CONNECTIONS + GOOD_CALLS + 100,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      connectionRateLimit: false,
    });
    peak = new PeakRss();
    h.server.on('reject', (error, remote) => rejects.push({ port: remote.port, error }));
    h.server.on('call', (call: Call) => {
      const isCase = call.id === UUID;
      const isGood = call.id.startsWith(GOOD_CALL_PREFIX);
      if (isGood) goodCallsSeen++;
      const entry: CallRecord = { call, errors: [], writeErrors: [], end: null, audioFrames: 0, dtmf: '' };
      if (isCase) record = entry;
      else if (!isGood) foreign.push(`an unexpected call ${call.id}`);
      call.on('audio', (pcm) => {
        entry.audioFrames++;
        try {
          call.write(pcm); // every call echoes
        } catch (error) {
          entry.writeErrors.push(error as AudioSocketError);
          if (!isCase) foreign.push(`write() on ${call.id}: ${(error as AudioSocketError).code}`);
        }
      });
      call.on('dtmf', (digit) => (entry.dtmf += digit));
      call.on('error', (error) => {
        entry.errors.push(error);
        if (!isCase) foreign.push(`error on ${call.id}: ${error.code} ${error.message}`);
      });
      call.on('end', (end) => {
        entry.end = end;
        if (!isCase) foreign.push(`end of ${call.id}: ${end.reason} ${end.error?.code ?? ''}`);
      });
    });
    good = startGoodCalls(h.port, GOOD_CALLS, Math.max(1000, GOOD_CALLS * 4));
    const ready = await good.ready;
    expect(ready).toMatchObject({ connected: GOOD_CALLS, failed: 0 });
    await until(() => goodCallsSeen === GOOD_CALLS, 'every good call on the server');
  }, 120_000);

  afterAll(async () => {
    good?.kill();
    await h?.close();
  });

  for (const input of TABLE) {
    it(
      input.name,
      async () => {
        const rejectsBefore = rejects.length;
        const foreignBefore = foreign.length;
        const peakBefore = peak.bytes;
        record = undefined;
        let peer: Peer | undefined;
        let ports: number[];
        let cleanup: (() => Promise<void>) | undefined;
        let played: Promise<void> = Promise.resolve();
        if (input.peer) {
          peer = await Peer.connect(h.port);
          ports = [peer.localPort];
          played = peer.play(input.peer);
        } else {
          ({ ports, cleanup } = await input.run!({ port: h.port, rejects }));
        }
        const own = new Set(ports);
        const ownRejects = () => rejects.slice(rejectsBefore).filter((r) => own.has(r.port));
        const timeout = input.timeoutMs ?? 30_000;
        const { outcome } = input;

        try {
          if (outcome.on === 'reject') {
            const count = outcome.count === 'all' ? ports.length : (outcome.count ?? 1);
            await until(() => ownRejects().length >= count, `${count} reject(s)`, timeout);
            await played;
            expect(ownRejects().map((r) => r.error.code)).toEqual(Array(count).fill(outcome.code));
            expect(record).toBeUndefined();
            // The server closed the connection (no half-open leftovers).
            if (peer) await until(() => peer!.closed || peer!.serverEnded, 'the server to close the connection');
          } else if (outcome.on === 'call-end') {
            await until(() => record?.end != null, 'the call end', timeout);
            expect(record!.end!.reason).toBe(outcome.reason);
            expect(record!.end!.error?.code ?? null).toBe(outcome.code);
            await played;
            if (peer) await until(() => peer!.closed || peer!.serverEnded, 'the server to close the connection');
          } else if (outcome.on === 'call-error' || outcome.on === 'told') {
            const codes = outcome.on === 'told' ? outcome.codes : [outcome.code];
            const told = () => [...(record?.errors ?? []), ...(record?.writeErrors ?? [])].map((e) => e.code);
            await until(() => told().some((code) => codes.includes(code)), `one of ${codes.join(', ')}`, timeout);
            await played;
            if (outcome.on === 'told') expect(told().filter((code) => !codes.includes(code))).toEqual([]);
            else expect(record!.errors.map((e) => e.code)).toContain(outcome.code);
          } else {
            await played;
            if (outcome.echo) {
              const expected = nonZero(outcome.echo);
              await until(() => peer!.echoed.length >= expected.length, 'the echo', timeout);
              expect(sameSamples(peer!.echoed, expected)).toBe(true);
            }
            if (outcome.dtmf !== undefined) await until(() => record?.dtmf === outcome.dtmf, `DTMF ${outcome.dtmf}`, timeout);
            if (outcome.audio) await until(() => (record?.audioFrames ?? 0) > 0, 'caller audio', timeout);
            expect(record!.errors.map((e) => `${e.code}: ${e.message}`)).toEqual([]);
            expect(record!.writeErrors).toEqual([]);
            expect(record!.end).toBeNull();
          }
          await input.check?.({ record, peer });

          // A call that went on still works: it echoes a probe, and 0x00 ends it cleanly.
          const live = record as CallRecord | undefined;
          if (peer?.writable && live && !live.end) {
            const probe = pattern(160, 4242);
            peer.socket.write(encodeAudio(probe, 8000));
            // Echoes come back in order: the probe, written last, ends the echo.
            if (outcome.on !== 'told') await until(() => sameSamples(peer!.echoed.subarray(-160), probe), 'the probe echo');
            peer.socket.write(hangup);
            await until(() => live.end !== null, 'the end after 0x00');
            expect(live.end!.reason).toBe('remote-hangup');
          }
        } finally {
          peer?.socket.destroy();
          await cleanup?.();
        }
        await until(() => [...h.server.calls].every((c) => c.id !== UUID), 'the case call to go');

        // Nothing reached any other connection or call: no reject from another port, no error
        // or end on a good call.
        expect(rejects.slice(rejectsBefore).filter((r) => !own.has(r.port)).map((r) => `${r.port} ${r.error.code}`)).toEqual([]);
        expect(foreign.slice(foreignBefore)).toEqual([]);
        const raised = peak.bytes - peakBefore;
        if (raised > 4 * 1048576) raisedPeak.push(`${input.name}: +${mib(raised)} MiB`);
      },
      (input.timeoutMs ?? 60_000) + 30_000,
    );
  }

  it(`the ${GOOD_CALLS} good calls lost nothing (every frame echoed, in order, no strict violation), memory stayed bounded`, async () => {
    const report: GoodCallsReport = await good.stop();
    const peakRss = peak.stop();
    console.log(
      `[bad-input ${engine}] ${TABLE.length} cases, ${GOOD_CALLS} good calls: ${report.framesSent} frames sent, ${report.framesEchoed} echoed, ` +
        `${report.lost} lost, ${report.mismatches} out of order or wrong, ${report.violations} strict violations; arrival gap p50/p99/max ` +
        `${report.arrivalGapMs.p50}/${report.arrivalGapMs.p99}/${report.arrivalGapMs.max} ms; RSS baseline ${mib(baselineRss)} MiB, ` +
        `peak ${mib(peakRss)} MiB${raisedPeak.length ? `; raised by: ${raisedPeak.join('; ')}` : ''}`,
    );
    expect(report.bad).toEqual([]);
    expect(report).toMatchObject({ calls: GOOD_CALLS, connected: GOOD_CALLS, lost: 0, mismatches: 0, violations: 0, serverHangups: 0, closedEarly: 0 });
    expect(report.framesEchoed).toBe(report.framesSent);
    expect(report.framesSent).toBeGreaterThan(0);
    await until(() => foreign.length >= GOOD_CALLS, 'every good call to end');
    // Their ends are the only thing that happened to them: remote hang-ups, after the table.
    expect(foreign.filter((f) => !/^end of 600d.*: remote-hangup $/.test(f))).toEqual([]);
    expect(peakRss - baselineRss).toBeLessThan(RSS_CAP_BYTES);
  }, 120_000);
});
