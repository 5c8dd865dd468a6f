import { afterEach, describe, expect, it } from 'vitest';
import { bridgeToWebSocket, type Bridge } from '../../src/bridge';
import { Resampler } from '../../src/dsp';
import { AudioSocketError } from '../../src/errors';
import { writeWav } from '../../src/wav';
import { ENGINES, audioReceived, bytesOf, callAndClient, concat, isSilence, once, pattern, startServer, until, type Harness } from '../helpers/harness';
import { freePort, startService, type Peer, type Service } from '../helpers/ws-service';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** `pcm` as PCM16 samples (copied: a received Buffer may be unaligned). */
function samples(bytes: Buffer): Int16Array {
  const pcm = new Int16Array(bytes.length / 2);
  new Uint8Array(pcm.buffer).set(bytes);
  return pcm;
}

/** A streaming resampler's output for all of `input` at once: what chunked conversion must equal. */
function continuous(input: Int16Array, from: number, to: number): Int16Array {
  const resampler = new Resampler(from, to);
  const out = new Int16Array(resampler.outputLength(input.length));
  resampler.processInto(input, out);
  return out;
}

/** `pcm` scaled down, so that two of them add without saturating. */
function quiet(pcm: Int16Array): Int16Array {
  return pcm.map((s) => (s >> 2) || 1);
}

function streamAudio(pcm: Int16Array, sampleRate: number, audioDataType = 'raw'): object {
  return { type: 'streamAudio', data: { audioDataType, sampleRate, audioData: bytesOf(pcm).toString('base64') } };
}

/** The played leg inside `leg`: silence, then `played` exactly, then silence. */
function expectPlayedLeg(leg: Int16Array, played: Int16Array): void {
  const start = leg.findIndex((s) => s !== 0);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(bytesOf(leg.subarray(start, start + played.length)).equals(bytesOf(played))).toBe(true);
  expect(leg.subarray(start + played.length).every((s) => s === 0)).toBe(true);
}

describe.each(ENGINES)('%s engine: bridge, mod_audio_stream dialect', (engine) => {
  let h: Harness | undefined;
  let services: Service[] = [];
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    await h?.close();
    for (const service of services) await service.close();
    h = undefined;
    bridge = undefined;
    services = [];
  });

  async function setup(serverOptions = {}) {
    h = await startServer(engine, serverOptions);
    const service = await startService();
    services.push(service);
    const { call, client } = await callAndClient(h);
    return { service, call, client };
  }

  it('sends the metadata first, then the caller as L16 mono 8 kHz frames, bit-exact, with the extra headers', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { metadata: { callId: call.id }, headers: { 'X-Tenant': 'acme' } });
    const peer = await service.peer();
    const sent = pattern(1600);
    await client.play(sent);
    await until(() => peer.binary().length === bytesOf(sent).length, 'the caller audio at the service');
    expect(peer.messages[0]).toMatchObject({ isBinary: false });
    expect(JSON.parse(peer.messages[0]!.data.toString())).toEqual({ callId: call.id });
    expect(peer.headers['x-tenant']).toBe('acme');
    expect(peer.frames().every((f) => f.length === 320)).toBe(true);
    expect(peer.binary().equals(bytesOf(sent))).toBe(true);
    expect(bridge.format).toEqual({ encoding: 'L16', sampleRate: 8000, channels: 1 });
  });

  it('at 16 kHz in 100 ms frames: the same samples as one continuous conversion', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { sampleRate: 16000, bufferMs: 100 });
    const peer = await service.peer();
    const sent = pattern(8000, 3); // 1 s: exactly ten frames of 100 ms at 16 kHz
    await client.play(sent);
    await until(() => peer.frames().length === 10, 'ten frames');
    expect(peer.frames().every((f) => f.length === 3200)).toBe(true);
    expect(bytesOf(samples(peer.binary())).equals(bytesOf(continuous(sent, 8000, 16000).subarray(0, 16000)))).toBe(true);
  });

  it('stereo: caller left, and right what the service sent, played to the caller paced, frame by frame', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { mix: 'stereo' });
    const plays: unknown[] = [];
    bridge.on('play', (info) => plays.push(info));
    const peer = await service.peer();
    const caller = pattern(9600, 5); // 1.2 s
    const reply = pattern(3200, 6); // 0.4 s
    const playing = client.play(caller);
    await until(() => peer.frames().length >= 5, 'caller frames at the service');
    peer.send(streamAudio(reply, 8000));
    await playing;
    await until(() => peer.binary().length === 4 * caller.length, 'the whole stream');
    const stereo = samples(peer.binary());
    expect(bytesOf(stereo.filter((_, i) => i % 2 === 0)).equals(bytesOf(caller))).toBe(true);
    expectPlayedLeg(stereo.filter((_, i) => i % 2 === 1), reply);
    expect(plays).toEqual([{ audioDataType: 'raw', sampleRate: 8000, durationMs: 400 }]);
    // The caller heard it paced: 20 frames of 20 ms, one message each, spread over real time.
    const frames = client.received.filter((f) => !isSilence(f.payload));
    expect(frames.every((f) => f.payload.length === 320)).toBe(true);
    expect(concat(frames.map((f) => f.payload)).equals(bytesOf(reply))).toBe(true);
    expect(frames.at(-1)!.at - frames[0]!.at).toBeGreaterThan(19 * 20 * 0.5);
  });

  it('mixed: the caller plus what played, summed into one channel', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { mix: 'mixed' });
    const peer = await service.peer();
    const caller = quiet(pattern(9600, 7));
    const reply = quiet(pattern(3200, 8));
    const playing = client.play(caller);
    await until(() => peer.frames().length >= 5, 'caller frames at the service');
    bridge.write(reply); // the application's audio is in the played leg too
    await playing;
    await until(() => peer.binary().length === 2 * caller.length, 'the whole stream');
    const mixed = samples(peer.binary());
    expectPlayedLeg(mixed.map((s, i) => s - caller[i]!), reply);
  });

  it('plays a WAV at 16 kHz converted to the call rate, and reports mp3 as unsupported', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url);
    const errors: AudioSocketError[] = [];
    bridge.on('error', (error) => errors.push(error));
    const peer = await service.peer();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'audiosocket-bridge-')), 'reply.wav');
    const reply = pattern(6400, 9); // 0.4 s at 16 kHz
    writeWav(file, { sampleRate: 16000, channels: 1, samples: reply });
    const [info] = await Promise.all([once(bridge, 'play'), peer.send({ type: 'streamAudio', data: { audioDataType: 'wav', audioData: readFileSync(file).toString('base64') } })]);
    expect(info[0]).toEqual({ audioDataType: 'wav', sampleRate: 16000, durationMs: 400 });
    const expected = continuous(reply, 16000, 8000);
    await until(() => concat(audioReceived(client)).length >= bytesOf(expected).length, 'the reply at the caller');
    expect(concat(audioReceived(client)).subarray(0, bytesOf(expected).length).equals(bytesOf(expected))).toBe(true);
    peer.send({ type: 'streamAudio', data: { audioDataType: 'mp3', audioData: 'AAAA' } });
    peer.send('not json');
    await until(() => errors.length === 2, 'two errors');
    expect(errors.map((e) => e.code)).toEqual(['ERR_AUDIOSOCKET_UNSUPPORTED_AUDIO', 'ERR_AUDIOSOCKET_BRIDGE_PROTOCOL']);
    expect(call.ended).toBe(false);
  });

  it('sendText, json, pause and resume, and stop(metadata) that closes with 1000 while the call goes on', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { metadata: 'hello' });
    const peer = await service.peer();
    const [[json]] = await Promise.all([once(bridge, 'json'), peer.send({ type: 'transcript', text: 'hi' })]);
    expect(json).toEqual({ type: 'transcript', text: 'hi' });
    bridge.pause();
    await client.play(pattern(800, 1));
    await until(() => call.stats().framesIn === 5, 'the frames sent while paused');
    bridge.sendText('paused');
    await until(() => peer.texts().length === 2, 'the text');
    bridge.resume();
    const after = pattern(800, 2);
    await client.play(after);
    await until(() => call.stats().framesIn === 10 && peer.binary().length === bytesOf(after).length, 'audio after resume');
    expect(peer.binary().equals(bytesOf(after))).toBe(true);
    const closed = once(bridge, 'close');
    await bridge.stop('bye');
    await closed;
    expect(peer.texts()).toEqual(['hello', 'paused', 'bye']);
    await until(() => peer.closeCode !== null, 'the close');
    expect(peer.closeCode).toBe(1000);
    expect(() => bridge!.sendText('late')).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_BRIDGE_CLOSED' }));
    expect(call.ended).toBe(false);
    expect(call.listenerCount('audio') + call.listenerCount('dtmf') + call.listenerCount('end')).toBe(0);
    await client.play(pattern(160));
    expect(call.ended).toBe(false);
  });

  it('reconnects after the service restarts on the same port, metadata first again; the call survives', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { metadata: 'meta', reconnect: { initialDelayMs: 50 } });
    const events: string[] = [];
    bridge.on('connect', ({ reconnected }) => events.push(`connect ${reconnected}`));
    bridge.on('disconnect', ({ code }) => events.push(`disconnect ${code}`));
    const first = await service.peer();
    const sent = pattern(16000, 4); // 2 s of caller audio across the restart
    const playing = client.play(sent);
    await until(() => first.frames().length >= 10, 'audio before the restart');
    await service.close(1012);
    const restarted = await startService({ port: service.port });
    services.push(restarted);
    const second = await restarted.peer();
    await playing;
    await until(() => second.frames().length > 10, 'audio after the restart');
    expect(second.messages[0]!.data.toString()).toBe('meta');
    expect(bytesOf(sent).indexOf(second.binary())).toBeGreaterThan(0); // in order, bit-exact
    expect(events).toEqual(['connect false', 'disconnect 1012', 'connect true']);
    expect(bridge.stats()).toMatchObject({ connected: true, connections: 2, framesDropped: 0 });
    expect(call.ended).toBe(false);
    expect(await Promise.race([client.closed, 'open'])).toBe('open');
  });

  it('with the service down: error events with retries and wait, a bounded backlog, and the call keeps running', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    call.on('audio', (pcm) => call.write(pcm)); // the application goes on serving the caller
    bridge = bridgeToWebSocket(call, `ws://127.0.0.1:${await freePort()}/`, { backlogMs: 100, reconnect: { initialDelayMs: 20, maxDelayMs: 40 } });
    const errors: Array<[string, number, number | null]> = [];
    bridge.on('error', (error, { retries, waitMs }) => errors.push([error.code, retries, waitMs]));
    const sent = pattern(8000, 12);
    await client.play(sent);
    await until(() => concat(audioReceived(client)).length === bytesOf(sent).length, 'the echo');
    const failures = errors.filter(([code]) => code === 'ERR_AUDIOSOCKET_BRIDGE_CONNECTION');
    expect(failures.length).toBeGreaterThan(1);
    expect(failures.slice(0, 2).map(([, retries]) => retries)).toEqual([1, 2]);
    expect(failures.every(([, , waitMs]) => waitMs !== null && waitMs <= 40)).toBe(true);
    expect(errors.filter(([code]) => code === 'ERR_AUDIOSOCKET_BRIDGE_OVERFLOW')).toHaveLength(1);
    expect(bridge.stats()).toMatchObject({ connected: false, connections: 0, backlogFrames: 5, framesDropped: 45 });
    expect(call.ended).toBe(false);
  });

  it('without reconnect: one error (with the HTTP status of a refused upgrade), then close; errors reach the call without a listener', async () => {
    h = await startServer(engine);
    const refusing = await startService({ refuse: 403 });
    services.push(refusing);
    const { call } = await callAndClient(h);
    bridge = bridgeToWebSocket(call, refusing.url, { reconnect: false });
    const errors: unknown[] = [];
    bridge.on('error', (error, info) => errors.push([error.code, info]));
    await until(() => bridge!.closed, 'the bridge to close');
    expect(errors).toEqual([['ERR_AUDIOSOCKET_BRIDGE_CONNECTION', { retries: 1, waitMs: null, httpStatus: 403 }]]);
    expect(call.ended).toBe(false);

    const unheard = bridgeToWebSocket(call, `ws://127.0.0.1:${await freePort()}/`, { reconnect: false });
    const [callError] = await once(call, 'error');
    expect(callError.code).toBe('ERR_AUDIOSOCKET_BRIDGE_CONNECTION');
    await until(() => unheard.closed, 'the bridge to close');
  });

  it('stops when the call ends, and lets go of it', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url);
    const peer = await service.peer();
    await until(() => bridge!.connected, 'the connection');
    const closed = once(bridge, 'close');
    await client.hangup();
    await closed;
    await until(() => peer.closeCode !== null, 'the close');
    expect(peer.closeCode).toBe(1000);
    expect(call.listenerCount('audio') + call.listenerCount('dtmf') + call.listenerCount('end')).toBe(0);
  });
});
