#!/usr/bin/env node
// Echo: every caller hears themselves. The smallest useful AudioSocket server.
//
//   node examples/echo/index.mjs [--port 9092]        (or PORT=9092; 0 picks a free port)
//
// Then play Asterisk's part: npx audiosocket call 127.0.0.1:9092 --tone 440 --duration 2
import { parseArgs } from 'node:util';
import { AudioSocketServer } from 'audiosocket';
import { echo } from './app.mjs';

const { values } = parseArgs({ options: { port: { type: 'string', default: process.env.PORT ?? '9092' } } });

const server = new AudioSocketServer(); // the native engine where its binary loads, else TypeScript
echo(server);
const { address, port } = await server.listen({ port: Number(values.port) });
console.log(`listening on ${address}:${port} (${server.engine.name} engine)`);

// Ctrl-C: let queued audio finish (up to 1 s), then every call gets 0x00 and the dialplan goes on.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void server.close({ drainMs: 1000 }));
