import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../../src/client';
import { audioReceived, bytesOf, concat, pattern, until } from '../helpers/harness';
import { startExample, type RunningExample } from './run';

/** A strict simulated call to the example: 0.5 s of audio must come back exactly, then a clean end. */
async function echoCall(example: RunningExample): Promise<void> {
  const client = await AudioSocketClient.connect({ port: example.port, strict: true });
  const sent = pattern(4000, 5);
  await client.play(sent);
  client.sendDtmf('5');
  await until(() => audioReceived(client).length === 25, 'the echo');
  expect(concat(audioReceived(client)).equals(bytesOf(sent))).toBe(true);
  await until(() => example.output().includes(`call ${client.id} DTMF 5`), 'the DTMF log line');
  expect((await client.hangup()).violation).toBeNull();
  await until(() => example.output().includes(`call ${client.id} ended: remote-hangup`), 'the end log line');
}

describe('examples/echo and examples/echo-js', () => {
  let example: RunningExample | undefined;
  afterEach(async () => {
    expect(await example?.stop()).toBe(0); // SIGTERM drains and exits cleanly
    example = undefined;
  });

  it('echo: a caller hears exactly what they said, on whichever engine loads', async () => {
    example = await startExample('examples/echo/index.mjs');
    expect(['native', 'js']).toContain(example.engine);
    await echoCall(example);
  });

  it('echo-js: the same application on the TypeScript engine, forced even where native loads', async () => {
    example = await startExample('examples/echo-js/index.mjs');
    expect(example.engine).toBe('js');
    expect(example.output()).toContain("engine: 'js' was asked for");
    await echoCall(example);
  });

  it('AUDIOSOCKET_ENGINE=js moves the unchanged echo example onto the TypeScript engine', async () => {
    example = await startExample('examples/echo/index.mjs', [], { AUDIOSOCKET_ENGINE: 'js', AUDIOSOCKET_REQUIRE_NATIVE: '' });
    expect(example.engine).toBe('js');
    await echoCall(example);
  });
});
