import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tone } from '../../src/cli/call';
import { AudioSocketClient } from '../../src/client';
import { startServe, type Serving } from '../helpers/cli';
import { until } from '../helpers/harness';

/** examples/ws-transcriber/server.mjs on a free port. */
async function startTranscriber(): Promise<{ url: string; output(): string; stop(): void }> {
  const child = spawn(process.execPath, ['examples/ws-transcriber/server.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  await until(() => /listening on (ws:\S+)/.test(output) || child.exitCode !== null, 'the transcriber to listen');
  const url = /listening on (ws:\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`the transcriber did not start: ${output}`);
  return { url, output: () => output, stop: () => child.kill() };
}

/** The output its README shows (its one text block), for the call `id`. */
function readmeSample(id: string): string {
  const readme = readFileSync('examples/ws-transcriber/README.md', 'utf8');
  const sample = /```text\n([\s\S]*?)```/.exec(readme)![1]!;
  return sample.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, id);
}

// The example and the command of its README; both engines' bridging is covered by ws.test.ts.
describe('the ws-transcriber example', () => {
  let serving: Serving | undefined;
  let transcriber: Awaited<ReturnType<typeof startTranscriber>> | undefined;
  afterEach(async () => {
    await serving?.stop();
    transcriber?.stop();
    serving = transcriber = undefined;
  });

  it('hears a simulated call through `serve --ws`: its metadata, its level each second, and replies', async () => {
    transcriber = await startTranscriber();
    serving = await startServe(['--port', '0', '--ws', transcriber.url]);
    const client = await AudioSocketClient.connect({ port: serving.port, strict: true });
    const id = client.id;
    await client.play(tone(440, 8000, 2)); // a sine at -6 dBFS peak: -9 dBFS RMS
    await until(() => transcriber!.output().includes(`call ${id} second 2:`), 'two seconds at the service');
    expect((await client.hangup()).violation).toBeNull();
    await until(() => transcriber!.output().includes(`call ${id} closed (1000) after 2 s`), 'the end of the stream');
    expect(transcriber.output()).toContain(readmeSample(id)); // what its README says the service prints
    await until(() => serving!.output().includes(`call ${id} ws json {"type":"level","callId":"${id}","second":2,"dbfs":-9}`), 'the reply logged');
  });
});
