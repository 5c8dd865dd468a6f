import { afterEach, describe, expect, it } from 'vitest';
import { tone } from '../../src/cli/call';
import { AudioSocketClient } from '../../src/client';
import { isSilence, until } from '../helpers/harness';
import { startExample, type RunningExample } from './run';

/** Frames that may have left the server before clear() but arrive after its log line. */
const IN_FLIGHT = 5;

describe('examples/tts-barge-in', () => {
  let example: RunningExample | undefined;
  afterEach(async () => {
    expect(await example?.stop()).toBe(0);
    example = undefined;
  });

  it('stops the bot as soon as the caller talks, and replies once they are quiet', async () => {
    example = await startExample('examples/tts-barge-in/index.mjs');
    const output = () => example!.output();
    const client = await AudioSocketClient.connect({ port: example.port, strict: true });
    const spoken = () => client.received.filter((frame) => !isSilence(frame.payload)).length;
    await until(() => spoken() >= 25, 'half a second of the greeting');

    // The caller talks for 3 s (a tone at -9 dBFS, well above the -35 dBFS threshold).
    const talking = client.play(tone(300, 8000, 3));
    await until(() => /barge-in, (\d+) ms of bot audio cleared/.test(output()), 'the barge-in');
    const bargedIn = client.received.length;
    expect(Number(/barge-in, (\d+) ms/.exec(output())![1])).toBeGreaterThan(1000); // most of the greeting was still queued
    await until(() => output().includes('bot was cut off'), 'the cut-off greeting');

    // Nothing of the bot while the caller talks, until the reply once they have stopped.
    await talking;
    await until(() => output().includes('bot says "Sorry, please go ahead."'), 'the reply');
    const replied = client.received.length;
    const between = client.received.slice(bargedIn + IN_FLIGHT, replied - IN_FLIGHT);
    expect(between.length).toBeGreaterThan(50); // the 3 s of the caller's turn, and the quiet after it
    expect(between.every((frame) => isSilence(frame.payload))).toBe(true);
    await until(() => client.received.slice(replied).some((frame) => !isSilence(frame.payload)), 'the reply audio');

    expect((await client.hangup()).violation).toBeNull();
  });
});
