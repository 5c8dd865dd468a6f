import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, audioReceived, bytesOf, concat, pattern, startServer, until, type Harness } from '../helpers/harness';
import type { AudioSocketClient } from '../../src/client';

describe.each(ENGINES)('%s engine: many calls at once', (engine) => {
  let h: Harness;
  afterEach(() => h?.close());

  it('50 calls streaming for 5 s: every frame arrives, in order, at a strict client', async () => {
    h = await startServer(engine);
    const seconds = 5;
    h.server.on('call', (call) => {
      // Each call gets its own audio, so a frame delivered to the wrong call would show.
      void call.play(pattern(8000 * seconds, Number.parseInt(call.id.slice(0, 4), 16)));
    });
    const clients: AudioSocketClient[] = [];
    for (let i = 0; i < 50; i++) clients.push(await h.connect());
    await until(() => clients.every((c) => audioReceived(c).length === seconds * 50), 'every frame at every client', 60_000);
    for (const client of clients) {
      const expected = pattern(8000 * seconds, Number.parseInt(client.id.slice(0, 4), 16));
      expect(concat(audioReceived(client)).equals(bytesOf(expected))).toBe(true);
    }
    const ends = await Promise.all(clients.map((c) => c.hangup()));
    expect(ends.every((e) => e.violation === null)).toBe(true);
  });

  it('200 concurrent calls echo bit-exact, then all hang up cleanly', async () => {
    h = await startServer(engine);
    h.server.on('call', (call) => call.on('audio', (pcm) => call.write(pcm)));
    const clients = await Promise.all(Array.from({ length: 200 }, () => h.connect()));
    await until(() => h.server.callCount === 200, '200 calls');
    const sent = clients.map((_, i) => pattern(8000, i + 1));
    await Promise.all(clients.map((client, i) => client.play(sent[i]!)));
    await until(() => clients.every((c) => audioReceived(c).length === 50), 'every echo', 60_000);
    clients.forEach((client, i) => expect(concat(audioReceived(client)).equals(bytesOf(sent[i]!))).toBe(true));
    const ends = await Promise.all(clients.map((c) => c.hangup()));
    expect(ends.every((e) => e.violation === null)).toBe(true);
    await until(() => h.server.callCount === 0, 'every call to end');
  });
});
