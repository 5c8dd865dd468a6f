import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioSocketError, Call, CallEnd } from '../../src';
import { AudioSocketClient } from '../../src/client';
import { encodeAudio, encodeMessage, encodeUuid } from '../../src/protocol';
import { ENGINES, audioReceived, bytesOf, concat, pattern, startServer, until, type Harness } from '../helpers/harness';

const UUID = '01234567-89ab-cdef-0123-456789abcdef';

/** Where a bad input must surface: on the server before a call exists, or on the call it hit. */
type Outcome =
  | { on: 'reject'; code: string }
  | { on: 'call-error'; code: string } // a typed error, the call goes on
  | { on: 'call-end'; code: string | null; reason: CallEnd['reason'] };

interface BadInput {
  name: string;
  /** What the peer does after connecting: bytes to write, or `end` (close) / `reset` (RST). */
  raw: Array<Uint8Array | 'end' | 'reset'>;
  outcome: Outcome;
}

const uuid = encodeUuid(UUID);
const audio = encodeAudio(pattern(160), 8000);

const TABLE: BadInput[] = [
  { name: 'garbage first (an HTTP request)', raw: [Buffer.from('GET / HTTP/1.1\r\n\r\n')], outcome: { on: 'reject', code: 'ERR_AUDIOSOCKET_NO_UUID' } },
  { name: 'audio before the UUID', raw: [audio], outcome: { on: 'reject', code: 'ERR_AUDIOSOCKET_NO_UUID' } },
  { name: 'a UUID of 15 bytes', raw: [encodeMessage(0x01, new Uint8Array(15))], outcome: { on: 'reject', code: 'ERR_AUDIOSOCKET_BAD_UUID' } },
  { name: 'a UUID of 17 bytes', raw: [encodeMessage(0x01, new Uint8Array(17))], outcome: { on: 'reject', code: 'ERR_AUDIOSOCKET_BAD_UUID' } },
  { name: 'close before the UUID is complete', raw: [uuid.subarray(0, 9), 'end'], outcome: { on: 'reject', code: 'ERR_AUDIOSOCKET_NO_UUID' } },
  { name: 'a length past maxPayload', raw: [uuid, Buffer.of(0x10, 0xff, 0xff)], outcome: { on: 'call-end', code: 'ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE', reason: 'error' } },
  { name: 'zero-length audio', raw: [uuid, encodeMessage(0x10)], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_EMPTY_AUDIO' } },
  { name: 'odd-length audio', raw: [uuid, encodeMessage(0x10, new Uint8Array(321))], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_ODD_AUDIO' } },
  { name: 'an unknown kind', raw: [uuid, encodeMessage(0x42, Uint8Array.of(1, 2))], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_UNEXPECTED_MESSAGE' } },
  { name: 'an error kind from the peer', raw: [uuid, encodeMessage(0xff, Uint8Array.of(1))], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_UNEXPECTED_MESSAGE' } },
  { name: 'two UUIDs', raw: [uuid, uuid], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_UNEXPECTED_MESSAGE' } },
  { name: 'a DTMF payload that is no digit', raw: [uuid, encodeMessage(0x03, Buffer.from('x'))], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_BAD_DTMF' } },
  { name: 'a fork DTMF of the wrong length', raw: [uuid, encodeMessage(0x02, Uint8Array.of(1, 0x31, 0))], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_BAD_DTMF' } },
  { name: 'close in the middle of a frame', raw: [uuid, audio.subarray(0, 100), 'end'], outcome: { on: 'call-error', code: 'ERR_AUDIOSOCKET_TRUNCATED' } },
  { name: 'reset in the middle of a call', raw: [uuid, audio, 'reset'], outcome: { on: 'call-end', code: 'ERR_AUDIOSOCKET_SOCKET', reason: 'error' } },
];

describe.each(ENGINES)('%s engine: bad input, one connection at a time, while a good call streams', (engine) => {
  let h: Harness;
  let good: AudioSocketClient;
  const goodSent = pattern(8000 * 6, 5);
  let goodStreaming: Promise<void>;
  const rejects: AudioSocketError[] = [];
  const callErrors = new Map<string, AudioSocketError[]>();
  const ends = new Map<string, CallEnd>();

  beforeAll(async () => {
    h = await startServer(engine, { maxPayload: 8192 });
    h.server.on('reject', (error) => rejects.push(error));
    h.server.on('call', (call: Call) => {
      call.on('audio', (pcm) => call.write(pcm)); // every call echoes
      call.on('error', (error) => callErrors.set(call.id, [...(callErrors.get(call.id) ?? []), error]));
      call.on('end', (end) => ends.set(call.id, end));
    });
    good = await h.connect();
    goodStreaming = good.play(goodSent);
  });

  afterAll(() => h.close());

  for (const input of TABLE) {
    it(input.name, async () => {
      const rejectsBefore = rejects.length;
      const socket: Socket = connect({ host: '127.0.0.1', port: h.port });
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      for (const step of input.raw) {
        if (step === 'end') socket.end();
        else if (step === 'reset') socket.resetAndDestroy();
        else socket.write(step);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const { outcome } = input;
      if (outcome.on === 'reject') {
        await until(() => rejects.length > rejectsBefore, 'the reject');
        expect(rejects.at(-1)!.code).toBe(outcome.code);
      } else if (outcome.on === 'call-error') {
        await until(() => (callErrors.get(UUID) ?? []).length > 0, 'the call error');
        expect(callErrors.get(UUID)!.map((e) => e.code)).toContain(outcome.code);
      } else {
        await until(() => ends.has(UUID), 'the call end');
        expect(ends.get(UUID)!.reason).toBe(outcome.reason);
        expect(ends.get(UUID)!.error?.code ?? null).toBe(outcome.code);
      }
      socket.destroy();
      await until(() => [...h.server.calls].every((c) => c.id !== UUID), 'the bad call to go');
      callErrors.delete(UUID);
      ends.delete(UUID);
    });
  }

  it('the good call lost nothing: every frame echoed, in order, no strict violation', async () => {
    await goodStreaming;
    await until(() => audioReceived(good).length === goodSent.length / 160, 'the whole echo');
    expect(concat(audioReceived(good)).equals(bytesOf(goodSent))).toBe(true);
    expect(ends.has(good.id)).toBe(false);
    await good.hangup();
    expect((await good.closed).violation).toBeNull();
  });
});
