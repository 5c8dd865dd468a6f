import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioSocketServer, type Call, type CallEnd } from '../../src';
import { AudioSocketClient } from '../../src/client';
import { loadNative } from '../../src/native/loader';
import { once, pattern, until } from '../helpers/harness';

// The built package, as users load it (`npm test` builds dist/ first).
const DIST = JSON.stringify(path.resolve('dist/index.js'));
const available = loadNative().binding !== null || process.env.AUDIOSOCKET_REQUIRE_NATIVE === '1';

/** Runs `script` in a fresh Node process and returns what it printed last, parsed. */
function run(script: string): unknown {
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(child.signal, child.stderr).toBeNull();
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
}

/** Script prelude: the package, a thread counter and the active resources, sorted. */
const PRELUDE = `
  const { readdirSync } = require('node:fs');
  const { once } = require('node:events');
  const { AudioSocketServer, AudioSocketClient } = require(${DIST});
  const threads = () => readdirSync('/proc/self/task').length;
  const resources = () => process.getActiveResourcesInfo().sort().join(',');
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  // Open the standard streams now, not between the two measurements.
  process.stdout.write('');
  process.stderr.write('');
`;

describe.runIf(available)('native engine lifecycle', () => {
  it('100 servers created, listening, serving a call and closed: threads and handles back at baseline', () => {
    const result = run(`${PRELUDE}
      (async () => {
        await settle();
        const before = { threads: threads(), resources: resources() };
        for (let i = 0; i < 100; i++) {
          const server = new AudioSocketServer({ engine: 'native' });
          const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
          const [[call], client] = await Promise.all([once(server, 'call'), AudioSocketClient.connect({ port })]);
          call.write(new Int16Array(160).fill(7));
          await server.close();
          await client.closed;
        }
        await settle();
        console.log(JSON.stringify({ before, after: { threads: threads(), resources: resources() } }));
      })();
    `) as { before: object; after: object };
    expect(result.after).toEqual(result.before);
  });

  it('the process exits on its own after close(), with no explicit exit', () => {
    const result = run(`${PRELUDE}
      (async () => {
        const server = new AudioSocketServer({ engine: 'native' });
        const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
        const [[call], client] = await Promise.all([once(server, 'call'), AudioSocketClient.connect({ port })]);
        call.write(new Int16Array(8000).fill(7));
        await server.close({ drainMs: 100 });
        await client.closed;
        console.log(JSON.stringify({ closed: true }));
      })();
    `);
    expect(result).toEqual({ closed: true });
  });

  it('a worker thread that exits with a listening server takes the engine thread with it', () => {
    const result = run(`${PRELUDE}
      const { Worker } = require('node:worker_threads');
      (async () => {
        const before = threads();
        const worker = new Worker(\`
          const { parentPort } = require('node:worker_threads');
          const { AudioSocketServer, AudioSocketClient } = require(${DIST.replace(/"/g, "'")});
          (async () => {
            const server = new AudioSocketServer({ engine: 'native' });
            const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
            server.on('call', () => parentPort.postMessage('call'));
            await AudioSocketClient.connect({ port });
          })();
        \`, { eval: true });
        await once(worker, 'message');
        await worker.terminate();
        await settle();
        console.log(JSON.stringify({ before, after: threads() }));
      })();
    `) as { before: number; after: number };
    expect(result.after).toBe(result.before);
  });

  it("a throwing 'audio' handler ends only its call; the process and the other calls go on", async () => {
    const server = new AudioSocketServer({ engine: 'native' });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const calls: Call[] = [];
      server.on('call', (call) => {
        calls.push(call);
        call.on('audio', (pcm) => {
          if (calls.indexOf(call) === 0) throw new Error('boom');
          call.write(pcm);
        });
      });
      const bad = await AudioSocketClient.connect({ port });
      const good = await AudioSocketClient.connect({ port });
      await until(() => calls.length === 2, 'two calls');
      const ended = once(calls[0]!, 'end');
      bad.sendAudio(pattern(160));
      const end = (await ended)[0] as CallEnd;
      expect(end.reason).toBe('error');
      expect(end.error?.code).toBe('ERR_AUDIOSOCKET_HANDLER_FAILED');
      expect((await bad.closed).hangupReceived).toBe(true);
      good.sendAudio(pattern(160, 2));
      await until(() => good.received.some((f) => f.payload.some((b) => b !== 0)), 'the echo on the other call');
      expect(calls[1]!.ended).toBe(false);
      good.destroy();
    } finally {
      await server.close();
    }
  });
});
