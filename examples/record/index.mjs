#!/usr/bin/env node
// Record every call: one WAV per call (the caller's audio, 16-bit PCM mono at 8 kHz), named by
// the call's UUID, finished when the call ends. The server says nothing back: idle silence keeps
// Asterisk's 2 s inactivity timer quiet while the caller is silent too.
//
//   node examples/record/index.mjs [--port 9092] [--dir recordings]     (or PORT=9092)
//
// Then: npx audiosocket call 127.0.0.1:9092 --tone 440 --duration 3, and look in recordings/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AudioSocketServer } from 'audiosocket';
import { WavRecorder } from './wav.mjs';

const { values } = parseArgs({
  options: { port: { type: 'string', default: process.env.PORT ?? '9092' }, dir: { type: 'string', default: 'recordings' } },
});
mkdirSync(values.dir, { recursive: true });

const server = new AudioSocketServer();
server.on('call', (call) => {
  const file = path.join(values.dir, `${call.id}.wav`);
  const wav = new WavRecorder(file, call.format.sampleRate, call.format.channels);
  console.log(`call ${call.id}: recording to ${file}`);
  call.on('audio', (pcm) => wav.write(pcm));
  call.on('end', async ({ reason }) => {
    const ms = await wav.close();
    console.log(`call ${call.id} ended (${reason}): recorded ${file}, ${ms} ms`);
  });
});

const { address, port } = await server.listen({ port: Number(values.port) });
console.log(`listening on ${address}:${port} (${server.engine.name} engine), recording into ${values.dir}`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void server.close());
