#!/usr/bin/env node
// The echo application of examples/echo, forced onto the TypeScript engine: what runs wherever no
// native binary fits (an unusual platform, a sandbox that forbids native addons). Same API, same
// behaviour; only the cost differs (BENCHMARKS.md).
//
//   node examples/echo-js/index.mjs [--port 9092]     (or PORT=9092; 0 picks a free port)
//
// Without changing code, the environment does the same to any application:
//   AUDIOSOCKET_ENGINE=js node examples/echo/index.mjs
import { parseArgs } from 'node:util';
import { AudioSocketServer } from 'audiosocket';
import { echo } from '../echo/app.mjs';

const { values } = parseArgs({ options: { port: { type: 'string', default: process.env.PORT ?? '9092' } } });

const server = new AudioSocketServer({ engine: 'js' });
echo(server);
const { address, port } = await server.listen({ port: Number(values.port) });
console.log(`listening on ${address}:${port} (${server.engine.name} engine: ${server.engine.reason})`);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void server.close({ drainMs: 1000 }));
