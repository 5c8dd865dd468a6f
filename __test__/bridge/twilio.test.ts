import { afterEach, describe, expect, it } from 'vitest';
import { bridgeToWebSocket, type Bridge } from '../../src/bridge';
import { Resampler, ulaw } from '../../src/dsp';
import { ENGINES, audioReceived, bytesOf, callAndClient, concat, isSilence, pattern, startServer, until, type Harness } from '../helpers/harness';
import { freePort, startService, type Peer, type Service } from '../helpers/ws-service';

/** The media messages of one track, in order. */
function media(peer: Peer, track = 'inbound'): any[] {
  return peer.json().filter((m) => m.event === 'media' && m.media.track === track);
}

/** Every payload of `messages`, decoded from base64 and concatenated. */
function payloads(messages: any[]): Buffer {
  return Buffer.concat(messages.map((m) => Buffer.from(m.media.payload, 'base64')));
}

function mediaMessage(streamSid: string, pcm: Int16Array): object {
  return { event: 'media', streamSid, media: { payload: Buffer.from(ulaw.encode(pcm)).toString('base64') } };
}

/** Non-silent audio the caller received. */
function heard(client: Parameters<typeof audioReceived>[0]): Buffer {
  return concat(audioReceived(client));
}

describe.each(ENGINES)('%s engine: bridge, Twilio Media Streams dialect', (engine) => {
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

  async function setup(serverOptions = {}, clientOptions = {}) {
    h = await startServer(engine, serverOptions);
    const service = await startService();
    services.push(service);
    const { call, client } = await callAndClient(h, clientOptions);
    return { service, call, client };
  }

  it('connected, start, then 20 ms mu-law media at 8 kHz (bit-exact from a 16 kHz call), dtmf, and stop', async () => {
    const { service, call, client } = await setup({ format: { sampleRate: 16000 } }, { sampleRate: 16000 });
    bridge = bridgeToWebSocket(call, service.url, { dialect: 'twilio', twilio: { customParameters: { campaign: 'spring' } } });
    const peer = await service.peer();
    const sent = pattern(16000, 21); // 1 s at 16 kHz
    await client.play(sent);
    client.sendDtmf('5');
    await until(() => media(peer).length === 50 && peer.json().some((m) => m.event === 'dtmf'), 'every chunk and the digit');
    const [connected, start, ...rest] = peer.json();
    expect(connected).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(start).toEqual({
      event: 'start',
      sequenceNumber: '1',
      streamSid: bridge.streamSid,
      start: {
        accountSid: `AC${'0'.repeat(32)}`,
        streamSid: bridge.streamSid,
        callSid: call.id,
        tracks: ['inbound'],
        customParameters: { campaign: 'spring' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    expect(bridge.streamSid).toMatch(/^MZ[0-9a-f]{32}$/);
    const chunks = rest.filter((m) => m.event === 'media');
    expect(chunks.map((m) => m.sequenceNumber)).toEqual(chunks.map((_, i) => String(i + 2)));
    expect(chunks.map((m) => m.media.chunk)).toEqual(chunks.map((_, i) => String(i + 1)));
    expect(chunks.map((m) => m.media.timestamp)).toEqual(chunks.map((_, i) => String(i * 20)));
    const resampler = new Resampler(16000, 8000);
    const expected = new Int16Array(resampler.outputLength(sent.length));
    resampler.processInto(sent, expected);
    expect(payloads(chunks).equals(Buffer.from(ulaw.encode(expected.subarray(0, 8000))))).toBe(true);
    expect(chunks.every((m) => Buffer.from(m.media.payload, 'base64').length === 160)).toBe(true);
    expect(peer.json().find((m) => m.event === 'dtmf')).toMatchObject({ streamSid: bridge.streamSid, dtmf: { track: 'inbound_track', digit: '5' } });
    await bridge.stop();
    expect(peer.json().at(-1)).toMatchObject({ event: 'stop', streamSid: bridge.streamSid, stop: { callSid: call.id } });
    expect(call.ended).toBe(false);
  });

  it("plays the service's media paced, echoes a mark once the audio before it has played", async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { dialect: 'twilio' });
    const peer = await service.peer();
    await until(() => peer.json().length === 2, 'connected and start');
    const reply = pattern(2400, 22); // 300 ms
    const heardAtMark: number[] = [];
    peer.socket.on('message', (data) => {
      if (JSON.parse(data.toString()).event === 'mark') heardAtMark.push(audioReceived(client).length);
    });
    peer.send(mediaMessage(bridge.streamSid!, reply));
    peer.send({ event: 'mark', streamSid: bridge.streamSid, mark: { name: 'reply-done' } });
    await until(() => heardAtMark.length === 1, 'the mark echo');
    // The last frame may still be on its way to the caller when the echo arrives.
    expect(heardAtMark[0]).toBeGreaterThanOrEqual(14);
    expect(peer.json().at(-1)).toMatchObject({ event: 'mark', streamSid: bridge.streamSid, mark: { name: 'reply-done' } });
    await until(() => audioReceived(client).length === 15, 'the whole reply');
    const frames = client.received.filter((f) => !isSilence(f.payload));
    expect(heard(client).equals(bytesOf(ulaw.decode(ulaw.encode(reply))))).toBe(true);
    expect(frames.at(-1)!.at - frames[0]!.at).toBeGreaterThan(14 * 20 * 0.5);
  });

  it('clear drops the queued audio at once and echoes the marks it dropped', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { dialect: 'twilio' });
    const peer = await service.peer();
    await until(() => peer.json().length === 2, 'connected and start');
    const reply = pattern(16000, 23); // 2 s
    peer.send(mediaMessage(bridge.streamSid!, reply));
    peer.send({ event: 'mark', streamSid: bridge.streamSid, mark: { name: 'end-of-reply' } });
    await until(() => audioReceived(client).length >= 5, 'the reply to start');
    peer.send({ event: 'clear', streamSid: bridge.streamSid });
    await until(() => peer.json().some((m) => m.event === 'mark'), 'the dropped mark');
    await until(() => call.stats().queuedMs === 0, 'the queue to empty');
    const frames = audioReceived(client).length;
    await until(() => client.received.length > frames + 10, 'more frames');
    expect(audioReceived(client).length).toBeLessThan(frames + 2);
    expect(audioReceived(client).length).toBeLessThan(100);
    const decoded = bytesOf(ulaw.decode(ulaw.encode(reply)));
    expect(decoded.indexOf(heard(client))).toBe(0); // what played is the start of the reply
  });

  it('both tracks: the outbound track carries what played to the caller', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { dialect: 'twilio', twilio: { tracks: 'both' } });
    const peer = await service.peer();
    await until(() => peer.json().length === 2, 'connected and start');
    expect(peer.json()[1].start.tracks).toEqual(['inbound', 'outbound']);
    const caller = pattern(9600, 24);
    const reply = pattern(3200, 25);
    const playing = client.play(caller);
    await until(() => media(peer).length >= 5, 'caller chunks');
    bridge.write(reply);
    await playing;
    await until(() => media(peer, 'outbound').length === 60, 'every outbound chunk');
    expect(payloads(media(peer)).equals(Buffer.from(ulaw.encode(caller)))).toBe(true);
    const outbound = payloads(media(peer, 'outbound'));
    const silence = ulaw.encodeSample(0);
    const start = outbound.findIndex((code) => code !== silence);
    expect(outbound.subarray(start, start + reply.length).equals(Buffer.from(ulaw.encode(reply)))).toBe(true);
    expect(outbound.subarray(start + reply.length).every((code) => code === silence)).toBe(true);
  });

  it('after the service restarts: connected and start again (numbering from 1, same streamSid); the call survives', async () => {
    const { service, call, client } = await setup();
    bridge = bridgeToWebSocket(call, service.url, { dialect: 'twilio', reconnect: { initialDelayMs: 50 } });
    const first = await service.peer();
    const playing = client.play(pattern(16000, 26));
    await until(() => media(first).length >= 10, 'media before the restart');
    await service.close(1001);
    const restarted = await startService({ port: service.port });
    services.push(restarted);
    const second = await restarted.peer();
    await until(() => media(second).length >= 10, 'media after the restart');
    const [connected, start, next] = second.json();
    expect(connected.event).toBe('connected');
    expect(start).toMatchObject({ event: 'start', sequenceNumber: '1', streamSid: bridge.streamSid });
    expect(next).toMatchObject({ event: 'media', sequenceNumber: '2', media: { chunk: '1' } });
    expect(Number(next.media.timestamp)).toBeGreaterThan(Number(media(first).at(-1).media.timestamp));
    await playing;
    expect(call.ended).toBe(false);
  });

  it('with the service down the call keeps running and the error event fires', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    bridge = bridgeToWebSocket(call, `ws://127.0.0.1:${await freePort()}/`, { dialect: 'twilio', reconnect: { initialDelayMs: 20 } });
    const errors: string[] = [];
    bridge.on('error', (error) => errors.push(error.code));
    call.write(pattern(4000, 27));
    await client.play(pattern(4000, 28));
    await until(() => audioReceived(client).length === 25, 'the application audio');
    expect(errors[0]).toBe('ERR_AUDIOSOCKET_BRIDGE_CONNECTION');
    expect(call.ended).toBe(false);
  });
});
