import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../src/client';
import { startServe } from './helpers/cli';
import { audioReceived, bytesOf, concat, pattern, until } from './helpers/harness';

/** The first code block under a README heading, exactly as written. */
function codeBlock(heading: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf(`## ${heading}`));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no code block under "${heading}"`);
  return match[1]!;
}

describe('README', () => {
  it('the quick start echo server works exactly as written', async () => {
    // Run as users would: an ES module importing the built package by name.
    const child = spawn(process.execPath, ['--input-type=module', '-e', codeBlock('Quick start')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    try {
      await until(() => output.includes('listening on 127.0.0.1:9092'), 'the server to listen');
      const client = await AudioSocketClient.connect({ port: 9092, strict: true });
      const sent = pattern(4000, 11);
      await client.play(sent);
      client.sendDtmf('7');
      await until(() => audioReceived(client).length === 25, 'the echo');
      expect(concat(audioReceived(client)).equals(bytesOf(sent))).toBe(true);
      await until(() => output.includes('DTMF 7'), 'the DTMF log line');
      await client.hangup();
      await until(() => output.includes('ended: remote-hangup'), 'the end log line');
      expect(output).toContain(`call ${client.id} from 127.0.0.1`);
    } finally {
      child.kill();
    }
  });

  it("the main job, 'npm start', serves echo on 127.0.0.1:9092 and stops cleanly on SIGTERM", async () => {
    const serving = await startServe([], ['npm', 'start', '--silent']);
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
