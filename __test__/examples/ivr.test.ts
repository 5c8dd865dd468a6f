import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../../src/client';
import { runCli } from '../helpers/cli';
import { isSilence, until } from '../helpers/harness';
import { startExample, toneHz, type RunningExample } from './run';

/** Waits until a frame received from index `from` on carries a tone within 10 % of `hz`. */
async function hears(client: AudioSocketClient, hz: number, from: number, what: string): Promise<void> {
  const matches = (payload: Uint8Array) => !isSilence(payload) && Math.abs(toneHz(payload, 8000) - hz) < hz / 10;
  await until(() => client.received.slice(from).some((frame) => matches(frame.payload)), what);
}

describe('examples/ivr', () => {
  let example: RunningExample | undefined;
  afterEach(async () => {
    expect(await example?.stop()).toBe(0);
    example = undefined;
  });

  it('plays the menu, and each key leads to its action: 2 support, 1 sales, 0 goodbye and hangup', async () => {
    example = await startExample('examples/ivr/index.mjs');
    const client = await AudioSocketClient.connect({ port: example.port, strict: true });
    const log = (line: string) => until(() => example!.output().includes(`call ${client.id}: ${line}`), line);
    await hears(client, 440, 0, 'the menu prompt');

    client.sendDtmf('2');
    await log('pressed 2 -> support');
    await hears(client, 900, client.received.length, 'the support prompt');

    client.sendDtmf('1');
    await log('pressed 1 -> sales');
    await hears(client, 600, client.received.length, 'the sales prompt');

    client.sendDtmf('0');
    await log('pressed 0 -> goodbye');
    const end = await client.closed; // the example hangs up once goodbye has played
    expect(end).toEqual({ hangupReceived: true, violation: null });
    await until(() => example!.output().includes(`call ${client.id} ended: local-hangup`), 'the end log line');
  });

  it('`audiosocket call --dtmf 0` (its header command) is hung up on by the IVR', async () => {
    example = await startExample('examples/ivr/index.mjs');
    const run = await runCli(['call', `127.0.0.1:${example.port}`, '--duration', '1', '--dtmf', '0', '--linger-ms', '3000', '--strict', '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ hangupReceived: true, errors: [] });
    expect(example.output()).toContain(`call ${summary.id}: pressed 0 -> goodbye`);
  });
});
