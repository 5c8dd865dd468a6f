import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeWav } from '../../wav';

/**
 * How bench frames carry their identity through a server: the first three samples of a frame are
 * a marker and a 30-bit sequence number, the rest is ordinary audio. A frame of idle silence has
 * no marker, so it is never mistaken for an echo.
 */
const MARKER = 0x5a5a;

/** Writes the stamp into a PCM16 payload (little-endian bytes, at `offset`). */
export function stamp(payload: Buffer, offset: number, seq: number): void {
  payload.writeInt16LE(MARKER, offset);
  payload.writeInt16LE(seq & 0x7fff, offset + 2);
  payload.writeInt16LE((seq >>> 15) & 0x7fff, offset + 4);
}

/** The sequence number stamped into a payload, or -1 when it carries none. */
export function readStamp(payload: Uint8Array): number {
  if (payload.length < 6) return -1;
  if ((payload[0]! | (payload[1]! << 8)) !== MARKER) return -1;
  return (payload[2]! | (payload[3]! << 8)) | ((payload[4]! | (payload[5]! << 8)) << 15);
}

/**
 * Writes a WAV of `seconds` of 20 ms frames, each stamped with its index, for a server to play
 * (`serve --play`): an observer then sees every skipped or repeated frame. Returns its path.
 */
export function writeStampedPrompt(rate: number, seconds: number): string {
  const frameSamples = rate / 50;
  const frames = Math.ceil(seconds * 50);
  const pcm = Buffer.alloc(frames * frameSamples * 2);
  for (let i = 0; i < frames; i++) {
    const at = i * frameSamples * 2;
    for (let j = 3; j < frameSamples; j++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * j) / rate)), at + j * 2);
    stamp(pcm, at, i);
  }
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'audiosocket-bench-')), 'prompt.wav');
  writeWav(file, { sampleRate: rate, channels: 1, samples: new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2) });
  return file;
}
