import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../src/client';
import { encodeAudio, encodeMessage } from '../src/protocol';
import { pattern } from './helpers/harness';

/** A bare TCP server playing a misbehaving AudioSocket server, so the strict client can be judged. */
async function rawServer(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number; uuids: Buffer[] }> {
  const uuids: Buffer[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => {}); // the client resets connections on purpose
    socket.once('data', (b) => uuids.push(b));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, uuids };
}

describe('AudioSocketClient', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('opens with the UUID in one message, as Asterisk does', async () => {
    const raw = await rawServer(() => {});
    server = raw.server;
    const client = await AudioSocketClient.connect({ port: raw.port, id: '4e3a1b2c-9d8f-4a7e-b6c5-0123456789ab' });
    while (raw.uuids.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(raw.uuids[0]!.toString('hex')).toBe('0100104e3a1b2c9d8f4a7eb6c50123456789ab');
    client.destroy();
  });

  it('bad options reject connect() with a typed error, not an exception in a socket callback', async () => {
    const raw = await rawServer(() => {});
    server = raw.server;
    await expect(AudioSocketClient.connect({ port: raw.port, sampleRate: 11025 })).rejects.toMatchObject({ code: 'ERR_AUDIOSOCKET_BAD_SAMPLE_RATE' });
    await expect(AudioSocketClient.connect({ port: raw.port, wire: 'ulaw', sampleRate: 16000 })).rejects.toMatchObject({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' });
  });

  it('records audio frames with their arrival times and sees 0x00', async () => {
    const raw = await rawServer((socket) => {
      socket.write(encodeAudio(pattern(160)));
      socket.write(encodeMessage(0x00));
    });
    server = raw.server;
    const client = await AudioSocketClient.connect({ port: raw.port, strict: true });
    await new Promise<void>((resolve) => client.once('hangup', resolve));
    expect(client.received.length).toBe(1);
    expect(client.received[0]!.payload.length).toBe(320);
    expect(client.received[0]!.at).toBeGreaterThan(0);
    client.destroy();
    expect((await client.closed).hangupReceived).toBe(true);
  });

  const violations: Array<[string, (socket: Socket) => void, RegExp]> = [
    ['a kind other than audio or hangup', (s) => s.write(encodeMessage(0x03, Buffer.from('1'))), /kind 0x03/],
    ['an unknown kind', (s) => s.write(encodeMessage(0x42)), /kind 0x42/],
    ['zero-length audio', (s) => s.write(encodeMessage(0x10)), /zero-length audio/],
    [
      'a payload more than 5 ms after its header',
      (s) => {
        const message = encodeAudio(pattern(160));
        s.write(message.subarray(0, 3));
        setTimeout(() => s.write(message.subarray(3)), 30);
      },
      /arrived .* ms after its start/,
    ],
  ];

  for (const [name, misbehave, reason] of violations) {
    it(`strict mode drops the call on ${name}`, async () => {
      const raw = await rawServer(misbehave);
      server = raw.server;
      const client = await AudioSocketClient.connect({ port: raw.port, strict: true });
      const end = await client.closed;
      expect(end.violation?.code).toBe('ERR_AUDIOSOCKET_STRICT_VIOLATION');
      expect(end.violation?.message).toMatch(reason);
    });
  }

  it('strict mode hangs up after the inactivity limit with no audio either way', async () => {
    const raw = await rawServer(() => {});
    server = raw.server;
    const client = await AudioSocketClient.connect({ port: raw.port, strict: true, inactivityMs: 200 });
    expect((await client.closed).violation?.message).toMatch(/no audio either way/);
  });

  it('without strict mode the same input is only recorded', async () => {
    const raw = await rawServer((s) => {
      s.write(encodeMessage(0x42));
      s.write(encodeAudio(pattern(160)));
    });
    server = raw.server;
    const client = await AudioSocketClient.connect({ port: raw.port });
    while (client.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    client.destroy();
    expect((await client.closed).violation).toBeNull();
  });
});
