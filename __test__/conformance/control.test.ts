import { afterEach, describe, expect, it } from 'vitest';
import type { Call, CallEnd, PlayResult } from '../../src';
import { encodeAudio, encodeHangup } from '../../src/protocol';
import { ENGINES, callAndClient, audioReceived, bytesOf, concat, isSilence, once, pattern, sleep, startServer, until, type Harness } from '../helpers/harness';

describe.each(ENGINES)('%s engine: playout control', (engine) => {
  let h: Harness;
  afterEach(() => h?.close());

  it('marks fire in order, each after the audio written before it has been sent', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const seen: Array<[string, number]> = [];
    call.on('mark', (name) => seen.push([name, call.stats().framesOut - call.stats().silenceFramesOut]));
    call.write(pattern(1600, 1));
    call.mark('a');
    call.write(pattern(800, 2));
    call.mark('b');
    call.mark('c');
    await until(() => seen.length === 3, 'three marks');
    // An engine whose clock runs off the JavaScript thread may send more before the handler
    // runs; never fewer than the audio ahead of the mark.
    expect(seen.map(([name]) => name)).toEqual(['a', 'b', 'c']);
    expect(seen[0]![1]).toBeGreaterThanOrEqual(10);
    expect(seen[1]![1]).toBeGreaterThanOrEqual(15);
    await until(() => audioReceived(client).length === 15, 'all audio');
  });

  it('stats() answers until the end is emitted, even once the peer has hung up', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    client.sendAudio(pattern(160));
    await until(() => call.stats().framesIn === 1, 'the frame');
    void client.hangup();
    // Block this thread while an engine that runs elsewhere sees the hang-up and reports the
    // end, which waits for this turn to finish: the call is still live to the application.
    const blockedUntil = Date.now() + 300;
    while (Date.now() < blockedUntil);
    expect(call.ended).toBe(false);
    expect(call.stats().framesIn).toBe(1);
    const [end] = (await once(call, 'end')) as [CallEnd];
    expect(end.reason).toBe('remote-hangup');
    expect(end.stats.framesIn).toBe(1);
    expect(() => call.stats()).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_CALL_ENDED' }));
  });

  it('a caller that sends audio and hangs up at once: every operation of the audio handlers counts as made before the end', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const errors: unknown[] = [];
    const plays: Array<Promise<PlayResult>> = [];
    call.on('audio', (pcm) => {
      try {
        call.write(pcm);
        call.mark('heard');
        plays.push(call.play(pcm));
        call.pause();
        call.resume();
      } catch (error) {
        errors.push(error);
      }
    });
    // Five frames and the hang-up in one segment: an engine that reads them together ends the
    // call before the application has handled the audio.
    const frame = encodeAudio(pattern(160), 8000);
    client.sendRaw(concat([frame, frame, frame, frame, frame, encodeHangup()]));
    const [end] = (await once(call, 'end')) as [CallEnd];
    expect(errors).toEqual([]);
    expect(end.reason).toBe('remote-hangup');
    expect(end.error).toBeNull();
    // Ten 20 ms writes (five write(), five play()) could not play; the end says so, whichever
    // engine, and every play settles as ended.
    expect(end.unplayedMs).toBe(200);
    const results = await Promise.all(plays);
    expect(results).toHaveLength(5);
    for (const result of results) expect(result).toEqual({ completed: false, reason: 'ended', unplayedMs: 20 });
  });

  it('play() resolves once its audio has been sent, and can name a mark', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const marks: string[] = [];
    call.on('mark', (name) => marks.push(name));
    const result = await call.play(pattern(800), { mark: 'greeting' });
    expect(result).toEqual({ completed: true, reason: 'played', unplayedMs: 0 });
    expect(marks).toEqual(['greeting']);
    expect(call.stats().framesOut - call.stats().silenceFramesOut).toBe(5);
    await until(() => audioReceived(client).length === 5, 'the audio at the client');
  });

  it('clear() drops exactly the queued audio, reports it, and cancels the marks in it', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const marks: string[] = [];
    call.on('mark', (name) => marks.push(name));
    const pcm = pattern(16000); // 2 s
    call.write(pcm.subarray(0, 8000));
    call.mark('half');
    const play = call.play(pcm.subarray(8000), { mark: 'end' });
    await until(() => audioReceived(client).length >= 5, 'playout to start');
    const cleared = call.clear();
    const sent = call.stats().framesOut - call.stats().silenceFramesOut;
    expect(cleared.marks).toEqual(sent < 50 ? ['half', 'end'] : ['end']);
    expect(sent * 20 + cleared.clearedMs).toBe(2000);
    const result = await play;
    expect(result.completed).toBe(false);
    expect(result.reason).toBe('cleared');
    expect(result.unplayedMs).toBe(Math.min(1000, cleared.clearedMs));
    await sleep(100);
    const received = audioReceived(client);
    expect(received.length).toBe(sent);
    expect(concat(received).equals(bytesOf(pcm.subarray(0, sent * 160)))).toBe(true);
    expect(marks).toEqual(sent < 50 ? [] : ['half']);
    expect(call.stats().queuedMs).toBe(0);
  });

  it('an aborted play clears the queue and resolves as aborted', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const controller = new AbortController();
    const play = call.play(pattern(8000), { signal: controller.signal });
    await until(() => audioReceived(client).length >= 3, 'playout to start');
    controller.abort();
    const result = await play;
    expect(result.reason).toBe('aborted');
    expect(result.unplayedMs).toBeGreaterThan(0);
    expect(result.unplayedMs).toBeLessThan(1000);
  });

  it('pause() holds the queue (silence meanwhile), resume() plays on where it stopped', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const pcm = pattern(8000);
    call.write(pcm);
    await until(() => audioReceived(client).length >= 5, 'playout to start');
    call.pause();
    const atPause = call.stats().framesOut - call.stats().silenceFramesOut;
    await sleep(200);
    expect(call.stats().framesOut - call.stats().silenceFramesOut).toBe(atPause);
    expect(client.received.slice(-3).every((f) => isSilence(f.payload))).toBe(true);
    call.resume();
    await until(() => audioReceived(client).length === 50, 'the rest');
    expect(concat(audioReceived(client)).equals(bytesOf(pcm))).toBe(true);
  });

  it('write() returns false above highWaterMs, then drain fires at lowWaterMs', async () => {
    h = await startServer(engine, { highWaterMs: 200, lowWaterMs: 100 });
    const { call } = await callAndClient(h);
    let writes = 0;
    while (call.write(pattern(160))) writes++;
    // 10 x 20 ms = 200 ms is still at the high-water mark; a tick during the loop plays 20 ms.
    expect(writes).toBeGreaterThanOrEqual(10);
    expect(writes).toBeLessThanOrEqual(12);
    await once(call, 'drain');
    expect(call.stats().queuedMs).toBeLessThanOrEqual(100);
  });

  it('write() past maxQueueMs throws QUEUE_FULL and queues none of it', async () => {
    h = await startServer(engine, { highWaterMs: 100, maxQueueMs: 500 });
    const { call } = await callAndClient(h);
    call.write(pattern(3200)); // 400 ms
    const before = call.stats().queuedMs;
    expect(() => call.write(pattern(1600))).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_QUEUE_FULL' }));
    expect(call.stats().queuedMs).toBeLessThanOrEqual(before);
  });

  it('hangup() sends 0x00 and ends the call as local-hangup, reporting unplayed audio', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const play = call.play(pattern(8000));
    call.hangup();
    const end = (await once(call, 'end'))[0] as CallEnd;
    expect(end.reason).toBe('local-hangup');
    // At most one tick (20 ms) can slip in between play() and hangup() on an off-thread clock.
    expect(end.unplayedMs).toBeGreaterThanOrEqual(980);
    expect(end.unplayedMs).toBeLessThanOrEqual(1000);
    expect(await play).toEqual({ completed: false, reason: 'ended', unplayedMs: end.unplayedMs });
    expect((await client.closed).hangupReceived).toBe(true);
    expect(() => call.write(pattern(160))).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_CALL_ENDED' }));
  });

  it('0x00 from Asterisk ends the call as remote-hangup', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const ended = once(call, 'end');
    await client.hangup();
    expect(((await ended)[0] as CallEnd).reason).toBe('remote-hangup');
    expect(call.ended).toBe(true);
  });

  it('a close without 0x00 also ends the call as remote-hangup', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const ended = once(call, 'end');
    await client.end();
    expect(((await ended)[0] as CallEnd).reason).toBe('remote-hangup');
  });

  it("DTMF: Asterisk's 0x03 and the fork's 0x02 with state and duration", async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h, { strict: false });
    const digits: unknown[] = [];
    call.on('dtmf', (digit, info) => digits.push([digit, info]));
    client.sendDtmf('5');
    client.sendDtmf('#');
    client.sendForkDtmf('7', 'start', 0);
    client.sendForkDtmf('7', 'end', 160);
    await until(() => digits.length === 4, 'four DTMF events');
    expect(digits).toEqual([
      ['5', { state: 'end', durationMs: null }],
      ['#', { state: 'end', durationMs: null }],
      ['7', { state: 'start', durationMs: 0 }],
      ['7', { state: 'end', durationMs: 160 }],
    ]);
  });

  it('close({ drainMs }) lets queued audio play, then hangs up every call with 0x00', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const pcm = pattern(1600);
    call.write(pcm);
    const ended = once(call, 'end');
    await h.server.close({ drainMs: 5000 });
    const end = (await ended)[0] as CallEnd;
    expect(end).toMatchObject({ reason: 'server-close', unplayedMs: 0 });
    expect((await client.closed).hangupReceived).toBe(true);
    expect(concat(audioReceived(client)).equals(bytesOf(pcm))).toBe(true);
  });

  it('close() past drainMs hangs up with the rest unplayed, and refuses new connections', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    call.write(pattern(8000 * 5));
    const ended = once(call, 'end');
    await h.server.close({ drainMs: 100 });
    const end = (await ended)[0] as CallEnd;
    expect(end.reason).toBe('server-close');
    expect(end.unplayedMs).toBeGreaterThan(4000);
    expect((await client.closed).hangupReceived).toBe(true);
    await expect(h.connect()).rejects.toThrow();
  });

  it('a handler that throws ends only its own call', async () => {
    h = await startServer(engine);
    const calls: Call[] = [];
    h.server.on('call', (call) => {
      calls.push(call);
      if (calls.length === 1) {
        call.on('dtmf', () => {
          throw new Error('boom');
        });
      }
    });
    const bad = await h.connect();
    const good = await h.connect();
    await until(() => calls.length === 2, 'two calls');
    const ended = once(calls[0]!, 'end');
    bad.sendDtmf('1');
    const end = (await ended)[0] as CallEnd;
    expect(end.reason).toBe('error');
    expect(end.error?.code).toBe('ERR_AUDIOSOCKET_HANDLER_FAILED');
    expect((await bad.closed).hangupReceived).toBe(true);
    expect(calls[1]!.ended).toBe(false);
    const before = good.received.length;
    await until(() => good.received.length > before + 5, 'the other call to keep streaming');
  });

  it('an async handler that rejects ends only its own call', async () => {
    h = await startServer(engine);
    h.server.on('call', (call) => {
      call.on('dtmf', async () => {
        throw new Error('async boom');
      });
    });
    const client = await h.connect();
    const call = await h.server.accept();
    const ended = once(call, 'end');
    client.sendDtmf('2');
    expect(((await ended)[0] as CallEnd).error?.code).toBe('ERR_AUDIOSOCKET_HANDLER_FAILED');
  });
});
