import { describe, expect, it } from 'vitest';
import {
  AudioSocketError,
  FrameDecoder,
  encodeAudio,
  encodeDtmf,
  encodeError,
  encodeHangup,
  encodeMessage,
  encodeSilence,
  encodeUuid,
  pcmFrames,
} from '../../src/protocol';
import { canonical, vectors, type EncodeVector } from '../helpers/vectors';

/** Decodes `chunks` in order; returns the canonical messages and the fatal error code, if any. */
function decode(chunks: Uint8Array[], maxPayload?: number): { messages: unknown[]; error?: string } {
  const decoder = new FrameDecoder({ maxPayload });
  const messages: unknown[] = [];
  try {
    for (const chunk of chunks) decoder.feed(chunk, (message) => messages.push(canonical(message)));
    decoder.end();
  } catch (error) {
    expect(error).toBeInstanceOf(AudioSocketError);
    return { messages, error: (error as AudioSocketError).code };
  }
  return { messages };
}

function expected(vector: { messages: unknown[]; error?: string }): { messages: unknown[]; error?: string } {
  return vector.error ? { messages: vector.messages, error: vector.error } : { messages: vector.messages };
}

describe('decode vectors', () => {
  for (const vector of vectors.decode) {
    it(vector.name, () => {
      const bytes = Buffer.from(vector.hex, 'hex');
      const want = expected(vector);
      expect(decode([bytes], vector.maxPayload), 'whole').toEqual(want);
      expect(decode([...bytes].map((b) => Uint8Array.of(b)), vector.maxPayload), 'byte by byte').toEqual(want);
      for (let split = 0; split <= bytes.length; split++) {
        const got = decode([bytes.subarray(0, split), bytes.subarray(split)], vector.maxPayload);
        if (JSON.stringify(got) !== JSON.stringify(want)) expect(got, `split at ${split}`).toEqual(want);
      }
    });
  }
});

function payloadOf(message: EncodeVector['message']): Uint8Array {
  if (typeof message.payloadFill === 'number') return new Uint8Array(message.payloadFill);
  return Buffer.from(String(message.payload ?? ''), 'hex');
}

function encode(message: EncodeVector['message']): Buffer {
  switch (message.type) {
    case 'hangup':
      return encodeHangup();
    case 'silence':
      return encodeSilence();
    case 'uuid':
      return encodeUuid(String(message.id));
    case 'dtmf':
      return encodeDtmf(String(message.digit));
    case 'audio':
      return encodeAudio(payloadOf(message), Number(message.sampleRate));
    case 'error':
      return encodeError(Number(message.code));
    case 'raw':
      return encodeMessage(Number(message.kind), payloadOf(message));
    default:
      throw new Error(`vector type ${message.type} has no builder`);
  }
}

describe('encode vectors', () => {
  for (const vector of vectors.encode) {
    it(vector.name, () => {
      if (vector.error) {
        expect(() => encode(vector.message)).toThrow(expect.objectContaining({ code: vector.error }));
        return;
      }
      const fill = typeof vector.message.payloadFill === 'number' ? vector.message.payloadFill : 0;
      const want = Buffer.concat([Buffer.from(vector.hex!, 'hex'), Buffer.alloc(fill)]);
      expect(encode(vector.message).equals(want)).toBe(true);
    });
  }
});

describe('chunk vectors', () => {
  for (const vector of vectors.chunk) {
    it(vector.name, () => {
      const pcm = new Uint8Array(vector.bytes);
      if (vector.error) {
        expect(() => pcmFrames(pcm, vector.sampleRate, vector.frameMs)).toThrow(
          expect.objectContaining({ code: vector.error }),
        );
        return;
      }
      expect(pcmFrames(pcm, vector.sampleRate, vector.frameMs).map((f) => f.length)).toEqual(vector.frames);
    });
  }
});
