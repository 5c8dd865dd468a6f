import { afterEach, describe, expect, it } from 'vitest';
import { bridgeToWebSocket, type Bridge, type BridgeOptions } from '../../src/bridge';
import { Backlog, MAX_CONTROL_MESSAGES } from '../../src/bridge/backlog';
import { ENGINES, callAndClient, startServer, until, type Harness } from '../helpers/harness';
import { startService, type Service } from '../helpers/ws-service';

describe('the backlog', () => {
  it('keeps send order across audio and control, and drops the oldest of a full class', () => {
    const backlog = new Backlog<string>(2);
    expect(backlog.push('a1', true)).toBe(false);
    backlog.push('c1', false);
    backlog.push('a2', true);
    expect(backlog.push('a3', true)).toBe(true); // a1 goes
    expect([backlog.shift(), backlog.shift(), backlog.shift(), backlog.shift()]).toEqual(['c1', 'a2', 'a3', undefined]);
    for (let i = 0; i <= MAX_CONTROL_MESSAGES; i++) backlog.push(`c${i}`, false);
    expect([backlog.size, backlog.droppedAudio, backlog.droppedControl, backlog.shift()]).toEqual([MAX_CONTROL_MESSAGES, 1, 1, 'c1']);
  });
});

describe.each(ENGINES)('%s engine: bridge connection', (engine) => {
  let h: Harness | undefined;
  let service: Service | undefined;
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    await h?.close();
    await service?.close();
    h = bridge = service = undefined;
  });

  it('drops and reconnects to a service that stops answering pings', async () => {
    h = await startServer(engine);
    service = await startService({ autoPong: false });
    const { call } = await callAndClient(h);
    bridge = bridgeToWebSocket(call, service.url, { heartbeatMs: 100, reconnect: { initialDelayMs: 10 } });
    const events: string[] = [];
    bridge.on('disconnect', ({ code, reason }) => events.push(`disconnect ${code} ${reason}`));
    bridge.on('error', (error, { retries, waitMs }) => events.push(`${error.code} ${retries} ${waitMs !== null}`));
    await until(() => service!.peers.length === 2, 'the reconnection');
    expect(events.slice(0, 2)).toEqual(['disconnect 1006 no pong within the heartbeat', 'ERR_AUDIOSOCKET_BRIDGE_CONNECTION 0 true']);
    expect(call.ended).toBe(false);
  });

  it('refuses bad options with ERR_AUDIOSOCKET_INVALID_ARGUMENT, and an ended call with ERR_AUDIOSOCKET_CALL_ENDED', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const bad: Array<[string, BridgeOptions]> = [
      ['http://127.0.0.1/', {}],
      ['ws://127.0.0.1/', { sampleRate: 44100 as 8000 }],
      ['ws://127.0.0.1/', { bufferMs: 30 }],
      ['ws://127.0.0.1/', { bufferMs: 520 }],
      ['ws://127.0.0.1/', { dialect: 'twilio', mix: 'stereo' }],
      ['ws://127.0.0.1/', { dialect: 'twilio', metadata: 'x' }],
      ['ws://127.0.0.1/', { headers: { 'Bad Name': 'x' } }],
      ['ws://127.0.0.1/', { tls: { caFile: '/nonexistent.pem' } }],
      ['ws://127.0.0.1/', { tls: { certFile: '/a.pem' } }],
      ['ws://127.0.0.1/', { heartbeatMs: 50 }],
      ['ws://127.0.0.1/', { reconnect: { maxRetries: -1 } }],
    ];
    for (const [url, options] of bad) {
      expect(() => bridgeToWebSocket(call, url, options), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    }
    expect(call.listenerCount('audio')).toBe(0);
    await client.hangup();
    await until(() => call.ended, 'the end');
    expect(() => bridgeToWebSocket(call, 'ws://127.0.0.1/')).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_CALL_ENDED' }));
  });
});
