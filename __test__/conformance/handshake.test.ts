import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketServer, type AudioSocketError, type Call, type RemoteAddress } from '../../src';
import { ENGINES, once, startServer, until, type Harness } from '../helpers/harness';

describe.each(ENGINES)('%s engine: handshake and connection limits', (engine) => {
  let h: Harness;
  afterEach(() => h?.close());

  it('a UUID makes a call, with its id, remote address and wire format', async () => {
    h = await startServer(engine);
    const [[call], client] = await Promise.all([once(h.server, 'call') as Promise<[Call]>, h.connect()]);
    expect(call.id).toBe(client.id);
    expect(call.remote).toEqual({ address: '127.0.0.1', port: client.localPort, family: 'IPv4' });
    expect(call.wireFormat).toEqual({ kind: 0x10, sampleRate: 8000, codec: 'slin' });
    expect(call.format).toEqual({ sampleRate: 8000, channels: 1 });
    expect(h.server.callCount).toBe(1);
  });

  it('accept() hands out calls in arrival order, pull style', async () => {
    h = await startServer(engine);
    const first = await h.connect();
    await until(() => h.server.callCount === 1, 'the first call');
    const second = await h.connect();
    expect((await h.server.accept()).id).toBe(first.id);
    expect((await h.server.accept()).id).toBe(second.id);
  });

  it('server.engine says which engine runs and why', async () => {
    h = await startServer(engine);
    expect(h.server.engine.name).toBe(engine);
    expect(h.server.engine.reason.length).toBeGreaterThan(0);
  });

  it('no UUID within handshakeTimeoutMs: a typed error, 0x00, then the close', async () => {
    h = await startServer(engine, { handshakeTimeoutMs: 200 });
    const rejected = once(h.server, 'reject') as Promise<[AudioSocketError, RemoteAddress]>;
    const socket = connect({ port: h.port, host: '127.0.0.1' });
    const bytes: Buffer[] = [];
    socket.on('data', (b) => bytes.push(b));
    const [error, remote] = await rejected;
    expect(error.code).toBe('ERR_AUDIOSOCKET_HANDSHAKE_TIMEOUT');
    expect(remote.address).toBe('127.0.0.1');
    await once(socket, 'close');
    expect(Buffer.concat(bytes).toString('hex')).toBe('000000');
    expect(h.server.callCount).toBe(0);
  });

  it('maxCalls: the connection past the limit gets 0x00 and a typed error; the others stay', async () => {
    h = await startServer(engine, { maxCalls: 2 });
    const a = await h.connect();
    const b = await h.connect();
    await until(() => h.server.callCount === 2, 'two calls');
    const rejected = once(h.server, 'reject') as Promise<[AudioSocketError]>;
    const c = await h.connect({ strict: false });
    expect((await rejected)[0].code).toBe('ERR_AUDIOSOCKET_MAX_CALLS');
    expect((await c.closed).hangupReceived).toBe(true);
    expect(h.server.callCount).toBe(2);
    const received = a.received.length + b.received.length;
    await until(() => a.received.length + b.received.length > received + 4, 'the first calls to keep streaming');
  });

  it('allow: an address outside the list is closed with a typed error, inside is served', async () => {
    h = await startServer(engine, { allow: ['10.0.0.0/8', 'fd00::/8'] });
    const rejected = once(h.server, 'reject') as Promise<[AudioSocketError]>;
    const stranger = await h.connect({ strict: false });
    expect((await rejected)[0].code).toBe('ERR_AUDIOSOCKET_NOT_ALLOWED');
    expect(await stranger.closed).toEqual({ hangupReceived: false, violation: null });
    await h.close();

    h = await startServer(engine, { allow: ['127.0.0.0/8'] });
    const [[call]] = await Promise.all([once(h.server, 'call') as Promise<[Call]>, h.connect()]);
    expect(call.remote.address).toBe('127.0.0.1');
  });

  it('connectionRateLimit: past the burst a source is closed at once with a typed error; its calls stay', async () => {
    h = await startServer(engine, { connectionRateLimit: { perSecond: 0.001, burst: 3 } });
    const clients = [await h.connect(), await h.connect(), await h.connect()];
    await until(() => h.server.callCount === 3, 'three calls');
    const rejected = once(h.server, 'reject') as Promise<[AudioSocketError, RemoteAddress]>;
    const flood = await h.connect({ strict: false });
    const [error, remote] = await rejected;
    expect(error.code).toBe('ERR_AUDIOSOCKET_RATE_LIMITED');
    expect(remote.address).toBe('127.0.0.1');
    expect(await flood.closed).toEqual({ hangupReceived: false, violation: null });
    expect(h.server.callCount).toBe(3);
    const received = clients.reduce((n, c) => n + c.received.length, 0);
    await until(() => clients.reduce((n, c) => n + c.received.length, 0) > received + 6, 'the calls to keep streaming');
  });

  it('connectionRateLimit: false lets a source connect as fast as it likes; bad limits are refused', async () => {
    h = await startServer(engine, { connectionRateLimit: false });
    await Promise.all(Array.from({ length: 20 }, () => h.connect()));
    await until(() => h.server.callCount === 20, 'twenty calls');
    for (const connectionRateLimit of [{ perSecond: 0, burst: 5 }, { perSecond: 5, burst: 0.5 }, { perSecond: Number.NaN, burst: 5 }]) {
      expect(() => new AudioSocketServer({ engine, connectionRateLimit })).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    }
  });

  it('an allow entry that is not an address or CIDR is refused at construction', async () => {
    expect(() => new AudioSocketServer({ engine, allow: ['10.0.0.0/33'] })).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }),
    );
  });
});
