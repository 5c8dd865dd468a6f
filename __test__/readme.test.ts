import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../src/client';
import { runCli, startServe } from './helpers/cli';
import { audioReceived, bytesOf, concat, pattern, until } from './helpers/harness';

/** The code blocks of the README's quick start, exactly as written, in order. */
function quickStart(): Array<{ lang: string; body: string }> {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## Quick start');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** Sample output as a pattern: the same text, with any UUID and any numbers. */
function outputPattern(sample: string): RegExp {
  const parts = sample.trim().split(/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+(?:\.\d+)?)/);
  const pattern = parts.map((part, i) => (i % 2 === 0 ? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : part.includes('-') ? '[0-9a-f-]{36}' : '\\d+(?:\\.\\d+)?'));
  return new RegExp(`^${pattern.join('')}$`);
}

describe('README', () => {
  it('the quick start is three commands: install, the echo server as written, and a simulated call that gets its echo', async () => {
    const blocks = quickStart();
    const commands = blocks.filter((b) => b.lang === 'sh').map((b) => b.body.trim());
    expect(commands).toEqual(['npm install audiosocket', 'node echo.mjs', 'npx audiosocket call 127.0.0.1:9092 --tone 440 --duration 2']);
    expect(readFileSync('README.md', 'utf8')).toContain('Three commands');
    const script = blocks.find((b) => b.lang === 'js')!.body;
    const sample = blocks[blocks.findIndex((b) => b.body.trim() === commands[2]) + 1]!;
    expect(sample.lang).toBe('text');

    // echo.mjs run as users would: an ES module importing the built package by name.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    try {
      await until(() => output.includes('listening on 127.0.0.1:9092'), 'the server to listen');

      // The third command, through the CLI that `npx audiosocket` runs.
      const call = await runCli(commands[2]!.split(' ').slice(2));
      expect(call.code, call.stderr).toBe(0);
      expect(call.stdout.trim()).toMatch(outputPattern(sample.body));
      const [, sent, audio] = /sent (\d+) frames, received \d+ \((\d+) audio/.exec(call.stdout)!;
      expect(audio).toBe(sent); // every frame came back
      await until(() => output.includes('ended: remote-hangup'), 'the end log line');

      // And what the handlers log, with an exact echo.
      const client = await AudioSocketClient.connect({ port: 9092, strict: true });
      const sent2 = pattern(4000, 11);
      await client.play(sent2);
      client.sendDtmf('7');
      await until(() => audioReceived(client).length === 25, 'the echo');
      expect(concat(audioReceived(client)).equals(bytesOf(sent2))).toBe(true);
      await until(() => output.includes('DTMF 7'), 'the DTMF log line');
      await client.hangup();
      await until(() => output.includes(`call ${client.id} ended: remote-hangup`), 'the end log line');
      expect(output).toContain(`call ${client.id} from 127.0.0.1`);
    } finally {
      child.kill();
    }
  });

  it("the main job, 'npm start', serves echo on 127.0.0.1:9092 and stops cleanly on SIGTERM", async () => {
    const serving = await startServe([], { command: ['npm', 'start', '--silent'] });
    try {
      expect(serving.port).toBe(9092);
      const client = await AudioSocketClient.connect({ port: 9092, strict: true });
      const sent = pattern(1600, 2);
      await client.play(sent);
      await until(() => audioReceived(client).length === 10, 'the echo');
      expect(concat(audioReceived(client)).equals(bytesOf(sent))).toBe(true);
      const closed = client.closed;
      // npm does not forward signals to its child reliably everywhere: signal the server itself.
      process.kill(Number(/pid (\d+)/.exec(serving.output())?.[1] ?? serving.child.pid), 'SIGTERM');
      expect((await closed).hangupReceived).toBe(true);
    } finally {
      await serving.stop();
    }
  });
});
