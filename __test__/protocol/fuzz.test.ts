/**
 * Fuzzing of the TypeScript decoder (the twin of the Rust `decoder` fuzz target, see
 * docs/fuzzing.md). properties.test.ts already holds that well-formed message sequences, cut
 * anywhere, decode to themselves, and that arbitrary bytes never make the decoder buffer past
 * maxPayload. This file adds what a fuzzer checks on hostile input:
 *
 * - arbitrary bytes (garbage, and garbage mixed with real messages), cut anywhere, give exactly
 *   what one push of the whole stream gives and what an index-based reference parser gives:
 *   the same messages, the same error at the same point, the same `buffered`, the same `end()`;
 * - a failed decoder stays failed: the same error object again, no message after it;
 * - every message is classified as PROTOCOL.md says, checked by this file's own table, and is
 *   what `parseMessage(kind, payload)` gives;
 * - payloads assembled across chunks are not overwritten by later input;
 * - `readMessages` over arbitrary chunks agrees with the decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, parseMessage, readMessages, type Message } from '../../src/protocol';

const LIMITS = [1, 3, 16, 320, 4096, 65535];

/** Garbage, real messages, or both: a header with any kind and a length that fits often, any bytes after. */
const chunkOfStream = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 400 }), fc.integer({ min: -2, max: 2 }))
    .map(([kind, payload, skew]) => {
      // The length field mostly tells the truth, sometimes a little more or less.
      const length = Math.max(0, Math.min(65535, payload.length + skew));
      return Uint8Array.of(kind, length >> 8, length & 0xff, ...payload);
    }),
  fc.constantFrom(
    Uint8Array.of(0x01, 0x00, 0x10),
    Uint8Array.of(0x10, 0x01, 0x40),
    Uint8Array.of(0x03, 0x00, 0x01, 0x35),
    Uint8Array.of(0xff, 0xff, 0xff),
    Buffer.from('GET / HTTP/1.1\r\n\r\n'),
  ),
);
const stream = fc.array(chunkOfStream, { maxLength: 10 }).map((parts) => new Uint8Array(Buffer.concat(parts)));

interface Outcome {
  messages: string[];
  error: string | null;
  buffered: number;
  end: string | null;
}

/** The fields of a message, payload as hex, for comparisons. */
function show(message: Message): string {
  return JSON.stringify({ ...message, payload: Buffer.from(message.payload).toString('hex') });
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? String(error);
}

/** A stream cut at the given points (empty chunks included). */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

/** Feeds `chunks` to a fresh decoder, checking what holds at every step. */
function decode(chunks: Uint8Array[], maxPayload: number): { outcome: Outcome; messages: Message[] } {
  const decoder = new FrameDecoder({ maxPayload });
  const messages: Message[] = [];
  const shown: string[] = [];
  let error: string | null = null;
  for (const chunk of chunks) {
    try {
      decoder.feed(chunk, (message) => {
        classify(message);
        expect(message.payload.length).toBeLessThanOrEqual(maxPayload);
        messages.push(message);
        shown.push(show(message));
      });
    } catch (thrown) {
      error = codeOf(thrown);
      expect(error).toBe('ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE');
      // Failed for good: the same error object, and nothing more delivered.
      for (const again of [chunk, Uint8Array.of(0x10, 0, 0), new Uint8Array(0)]) {
        expect(() => decoder.feed(again, () => expect.unreachable('a message after the error'))).toThrow(thrown as Error);
      }
      expect(() => decoder.end()).toThrow(thrown as Error);
      break;
    }
    expect(decoder.buffered).toBeLessThanOrEqual(3 + maxPayload);
  }
  let end: string | null = null;
  try {
    decoder.end();
  } catch (thrown) {
    end = codeOf(thrown);
  }
  return { outcome: { messages: shown, error, buffered: decoder.buffered, end }, messages };
}

/** The framing of PROTOCOL.md with indexes, no state machine. */
function reference(bytes: Uint8Array, maxPayload: number): Outcome {
  const messages: string[] = [];
  let at = 0;
  for (;;) {
    const rest = bytes.length - at;
    if (rest < 3) return { messages, error: null, buffered: rest, end: rest === 0 ? null : 'ERR_AUDIOSOCKET_TRUNCATED' };
    const length = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    if (length > maxPayload) {
      return { messages, error: 'ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE', buffered: 0, end: 'ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE' };
    }
    if (rest < 3 + length) return { messages, error: null, buffered: rest, end: 'ERR_AUDIOSOCKET_TRUNCATED' };
    messages.push(show(parseMessage(bytes[at]!, bytes.subarray(at + 3, at + 3 + length))));
    at += 3 + length;
  }
}

const RATES: Record<number, number> = {
  0x10: 8000,
  0x11: 12000,
  0x12: 16000,
  0x13: 24000,
  0x14: 32000,
  0x15: 44100,
  0x16: 48000,
  0x17: 96000,
  0x18: 192000,
};
const DIGITS = '0123456789*#ABCD';

/** This file's own reading of the kinds table: what each message must be. */
function classify(message: Message): void {
  const { kind, payload } = message;
  expect(show(parseMessage(kind, payload))).toBe(show(message));
  const digitAt = (i: number) => (payload.length > i && DIGITS.includes(String.fromCharCode(payload[i]!)) ? String.fromCharCode(payload[i]!) : null);
  switch (kind) {
    case 0x00:
      return expect(message.type).toBe('hangup');
    case 0x01:
      if (payload.length !== 16) return expect(message).toMatchObject({ type: 'invalid', error: 'ERR_AUDIOSOCKET_BAD_UUID' });
      expect(message.type).toBe('uuid');
      return expect((message as { id: string }).id.replaceAll('-', '')).toBe(Buffer.from(payload).toString('hex'));
    case 0x02:
      if (payload.length === 0) return expect(message.type).toBe('silence');
      if (payload.length === 6 && (payload[0] === 0 || payload[0] === 1) && digitAt(1)) {
        return expect(message).toMatchObject({
          type: 'dtmf',
          digit: digitAt(1),
          state: payload[0] === 1 ? 'start' : 'end',
          durationMs: Buffer.from(payload).readUInt32LE(2),
        });
      }
      return expect(message).toMatchObject({ type: 'invalid', error: 'ERR_AUDIOSOCKET_BAD_DTMF' });
    case 0x03:
      if (payload.length === 1 && digitAt(0)) return expect(message).toMatchObject({ type: 'dtmf', digit: digitAt(0) });
      return expect(message).toMatchObject({ type: 'invalid', error: 'ERR_AUDIOSOCKET_BAD_DTMF' });
    case 0xff:
      return expect(message).toMatchObject({ type: 'error', code: payload.length > 0 ? payload[0] : null });
    default:
      if (RATES[kind] !== undefined) return expect(message).toMatchObject({ type: 'audio', sampleRate: RATES[kind] });
      return expect(message.type).toBe('unknown');
  }
}

describe('decoder fuzzing (arbitrary bytes)', () => {
  it('any bytes, cut anywhere, with any limit: one push, the chunks and the reference agree', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 24 }), fc.constantFrom(...LIMITS), (bytes, cuts, maxPayload) => {
        const whole = decode([bytes], maxPayload);
        const chunked = decode(cut(bytes, cuts), maxPayload);
        expect(whole.outcome).toEqual(reference(bytes, maxPayload));
        expect(chunked.outcome).toEqual(whole.outcome);
        // Assembled payloads are the decoder's own: later input did not overwrite them.
        expect(chunked.messages.map(show)).toEqual(chunked.outcome.messages);
      }),
      { numRuns: 5_000 },
    );
  });

  it('byte by byte, any bytes, any limit from 1 to 65535', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 65535 }), (bytes, maxPayload) => {
        const single = [...bytes].map((byte) => Uint8Array.of(byte));
        expect(decode(single, maxPayload).outcome).toEqual(reference(bytes, maxPayload));
      }),
      { numRuns: 1_000 },
    );
  });

  it('readMessages over any chunks gives the messages, then the error or the truncation', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.array(fc.nat(), { maxLength: 12 }), async (bytes, cuts) => {
        const expected = reference(bytes, 65535);
        async function* source() {
          for (const chunk of cut(bytes, cuts)) yield chunk;
        }
        const got: string[] = [];
        let error: string | null = null;
        try {
          for await (const message of readMessages(source())) got.push(show(message));
        } catch (thrown) {
          error = codeOf(thrown);
        }
        expect(got).toEqual(expected.messages);
        expect(error).toBe(expected.error ?? expected.end);
      }),
      { numRuns: 500 },
    );
  });
});
