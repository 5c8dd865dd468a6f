import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, Kind, encodeMessage } from '../../src/protocol';
import { canonical } from '../helpers/vectors';

const RUNS = 100_000;

/** Any message the wire can carry: every known kind with valid and broken payloads, unknown kinds too. */
const wireMessage = fc.oneof(
  fc.record({ kind: fc.constantFrom(...Object.values(Kind)), payload: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant<number>(Kind.Uuid), payload: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  fc.record({
    kind: fc.constant<number>(Kind.Silence),
    payload: fc
      .tuple(fc.constantFrom(0, 1), fc.constantFrom(...'0123456789*#ABCD'), fc.nat())
      .map(([state, digit, ms]) => {
        const payload = new Uint8Array(6);
        payload[0] = state;
        payload[1] = digit.charCodeAt(0);
        new DataView(payload.buffer).setUint32(2, ms, true);
        return payload;
      }),
  }),
  fc.record({ kind: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 700 }) }),
);

/** A stream cut into chunks at random points, empty chunks included. */
function cut(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(from, point));
    from = point;
  }
  return chunks;
}

describe('decoder properties', () => {
  it(`any message sequence, cut anywhere, decodes to the same messages (${RUNS} streams)`, () => {
    let streams = 0;
    fc.assert(
      fc.property(fc.array(wireMessage, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((m) => encodeMessage(m.kind, m.payload)));
        const reference = new FrameDecoder().push(stream).map(canonical);
        const decoder = new FrameDecoder();
        const decoded = cut(stream, cuts).flatMap((chunk) => decoder.push(chunk).map(canonical));
        decoder.end();
        streams++;
        expect(decoded).toEqual(reference);
        expect(decoded.map((m) => [m.kind, m.payload])).toEqual(
          messages.map((m) => [m.kind, Buffer.from(m.payload).toString('hex')]),
        );
      }),
      { numRuns: RUNS },
    );
    expect(streams).toBeGreaterThanOrEqual(RUNS);
  });

  it('never buffers past maxPayload, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 512 }), (bytes, maxPayload) => {
        const decoder = new FrameDecoder({ maxPayload });
        try {
          for (const byte of bytes) {
            decoder.feed(Uint8Array.of(byte), () => {});
            expect(decoder.buffered).toBeLessThanOrEqual(3 + maxPayload);
          }
        } catch (error) {
          expect(error).toMatchObject({ code: 'ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE' });
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
