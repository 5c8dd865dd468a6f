import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Message } from '../../src/protocol';

export interface DecodeVector {
  name: string;
  hex: string;
  maxPayload?: number;
  messages: Record<string, unknown>[];
  error?: string;
}
export interface EncodeVector {
  name: string;
  message: Record<string, unknown> & { type: string };
  hex?: string;
  error?: string;
}
export interface ChunkVector {
  name: string;
  sampleRate: number;
  frameMs: number;
  bytes: number;
  frames?: number[];
  error?: string;
}

export const vectors: { decode: DecodeVector[]; encode: EncodeVector[]; chunk: ChunkVector[] } = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'fixtures', 'protocol-vectors.json'), 'utf8'),
);

/** The fixtures' canonical form of a message: its fields, with the payload as hex. */
export function canonical(message: Message): Record<string, unknown> {
  return { ...message, payload: Buffer.from(message.payload).toString('hex') };
}
