import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../../src/client';
import { readWav } from '../../src/wav';
import { bytesOf, pattern, until } from '../helpers/harness';
import { startExample, type RunningExample } from './run';

describe('examples/record', () => {
  let example: RunningExample | undefined;
  afterEach(async () => {
    expect(await example?.stop()).toBe(0);
    example = undefined;
  });

  it('writes one WAV per call holding exactly what the caller said', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'audiosocket-record-'));
    example = await startExample('examples/record/index.mjs', ['--dir', dir]);
    const calls = await Promise.all([pattern(8000, 1), pattern(12_000, 2)].map(async (sent) => {
      const client = await AudioSocketClient.connect({ port: example!.port, strict: true });
      await client.play(sent); // 1 s and 1.5 s: 50 and 75 frames
      expect((await client.hangup()).violation).toBeNull();
      return { id: client.id, sent };
    }));
    for (const { id, sent } of calls) {
      const file = path.join(dir, `${id}.wav`);
      await until(() => example!.output().includes(`recorded ${file}, ${(sent.length / 8000) * 1000} ms`), `the recording of ${id}`);
      const wav = readWav(file); // parsed by wavefile, independently of the example's writer
      expect({ sampleRate: wav.sampleRate, channels: wav.channels }).toEqual({ sampleRate: 8000, channels: 1 });
      expect(Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength).equals(bytesOf(sent))).toBe(true);
      const bytes = readFileSync(file);
      expect(bytes.length).toBe(44 + sent.byteLength);
      expect(bytes.readUInt32LE(4)).toBe(36 + sent.byteLength); // the RIFF size, patched at the end
    }
  });
});
