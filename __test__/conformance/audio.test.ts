import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketServer, type Call } from '../../src';
import { encodeAudioFrames } from '../../src/protocol';
import { ENGINES, callAndClient, audioReceived, bytesOf, concat, isSilence, once, pattern, sleep, startServer, until, type Harness } from '../helpers/harness';

describe.each(ENGINES)('%s engine: audio both ways', (engine) => {
  let h: Harness;
  afterEach(() => h?.close());

  it('caller audio reaches the application bit-exact, frame by frame, in order', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const frames: Int16Array[] = [];
    call.on('audio', (pcm) => frames.push(pcm));
    const sent = pattern(8000 * 2);
    await client.play(sent, { realtime: false });
    await until(() => frames.length === 100, '100 frames');
    expect(frames.every((f) => f.length === 160)).toBe(true);
    expect(concat(frames.map(bytesOf)).equals(bytesOf(sent))).toBe(true);
    expect(call.stats().framesIn).toBe(100);
  });

  it('audio written by the application reaches Asterisk bit-exact, 20 ms per message', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const pcm = pattern(8000);
    call.write(pcm);
    await until(() => audioReceived(client).length === 50, '50 audio frames');
    for (const frame of client.received) {
      expect(frame.kind).toBe(0x10);
      expect(frame.payload.length).toBe(320);
    }
    expect(concat(audioReceived(client)).equals(bytesOf(pcm))).toBe(true);
  });

  it('a short tail is padded with silence to a whole frame, never sent short', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const pcm = pattern(200); // 25 ms
    await call.play(pcm);
    await until(() => audioReceived(client).length === 2, 'two frames');
    const [first, second] = audioReceived(client);
    expect(Buffer.from(first!).equals(bytesOf(pcm.subarray(0, 160)))).toBe(true);
    expect(Buffer.from(second!.subarray(0, 80)).equals(bytesOf(pcm.subarray(160)))).toBe(true);
    expect(isSilence(second!.subarray(80))).toBe(true);
  });

  it('the sample rate chooses the kind of every frame sent', async () => {
    h = await startServer(engine, { sampleRate: 16000 });
    const { call, client } = await callAndClient(h, { sampleRate: 16000 });
    expect(call.format.sampleRate).toBe(16000);
    call.write(pattern(1600));
    await until(() => audioReceived(client).length === 5, 'five frames');
    expect(client.received.every((f) => f.kind === 0x12 && f.payload.length === 640)).toBe(true);
  });

  it('paces at one frame per 20 ms: never faster than real time beyond the bounded catch-up', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    call.write(pattern(8000));
    await until(() => audioReceived(client).length === 50, '50 audio frames');
    const at = client.received.filter((f) => !isSilence(f.payload)).map((f) => f.at);
    // The clock runs at most 3 ticks back to back after a stall, and a stalled reader may find
    // one more frame waiting, so any k consecutive frames arrive over at least (k - 5) periods
    // however loaded the machine is. A sender that does not pace delivers them in one burst.
    for (let i = 0; i + 10 < at.length; i++) expect(at[i + 10]! - at[i]!).toBeGreaterThanOrEqual(5 * 20 - 2);
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(44 * 20);
  });

  it('waits for the prebuffer before playing, then plays even a clip shorter than it', async () => {
    h = await startServer(engine, { prebufferMs: 100 });
    const { call, client } = await callAndClient(h);
    await until(() => client.received.length >= 2, 'idle frames');
    const writtenAt = performance.now();
    call.write(pattern(160)); // one frame, less than the prebuffer
    await until(() => audioReceived(client).length === 1, 'the clip');
    const first = client.received.find((f) => !isSilence(f.payload))!;
    expect(first.at - writtenAt).toBeGreaterThanOrEqual(80 - 2);
  });

  it('maxLatencyMs: audio that fell behind is dropped back to the cap, oldest first, counted, its marks reached', async () => {
    h = await startServer(engine, { prebufferMs: 0, maxLatencyMs: 60 });
    const { call, client } = await callAndClient(h);
    // 500 ms at once, as a live relay writes after its thread stalled: frame i holds i + 1.
    const frames = 25;
    const pcm = new Int16Array(160 * frames);
    for (let i = 0; i < frames; i++) pcm.fill(i + 1, 160 * i, 160 * (i + 1));
    const marks: string[] = [];
    call.on('mark', (name) => marks.push(name));
    // Paused, so that no tick of the native engine's thread falls between these calls.
    call.pause();
    call.write(pcm.subarray(0, 160 * 10));
    call.mark('inside');
    const played = call.play(pcm.subarray(160 * 10));
    call.resume();
    expect(await played).toMatchObject({ completed: true });
    await until(() => audioReceived(client).length === 3, 'the last 60 ms');
    const values = audioReceived(client).map((frame) => new Int16Array(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength)));
    expect(values.map((frame) => frame[0])).toEqual([23, 24, 25]);
    expect(values.every((frame) => frame.every((s) => s === frame[0]))).toBe(true);
    expect(marks).toEqual(['inside']);
    expect(call.stats().latencyDroppedMs).toBe(440);
    expect(call.stats().queuedMs).toBe(0);
  });

  it('maxLatencyMs below prebufferMs plus one frame is refused with a typed error', () => {
    for (const options of [{ maxLatencyMs: 59 }, { prebufferMs: 0, maxLatencyMs: 19 }, { maxLatencyMs: 60.5 }]) {
      expect(() => new AudioSocketServer({ engine, ...options }), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT', message: expect.stringMatching(/maxLatencyMs/) }),
      );
    }
    expect(() => new AudioSocketServer({ engine, maxLatencyMs: 60 }).close()).not.toThrow();
  });

  it('call.setMaxLatency() sets the cap for one call: on where the server has none, off where it has one', async () => {
    const frames = 25;
    const pcm = new Int16Array(160 * frames);
    for (let i = 0; i < frames; i++) pcm.fill(i + 1, 160 * i, 160 * (i + 1));
    const firstFrames = async (call: Call, client: Parameters<typeof audioReceived>[0], count: number) => {
      call.pause(); // the whole script lands before a tick
      call.write(pcm);
      call.resume();
      await until(() => audioReceived(client).length === count, `${count} frames`);
      return audioReceived(client).map((frame) => frame[0]! | (frame[1]! << 8));
    };

    h = await startServer(engine, { prebufferMs: 0 });
    const capped = await callAndClient(h);
    capped.call.setMaxLatency(40);
    expect(await firstFrames(capped.call, capped.client, 2)).toEqual([24, 25]);
    expect(capped.call.stats().latencyDroppedMs).toBe(460);
    await h.close();

    h = await startServer(engine, { prebufferMs: 0, maxLatencyMs: 40 });
    const free = await callAndClient(h);
    free.call.setMaxLatency(null);
    expect(await firstFrames(free.call, free.client, frames)).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
    expect(free.call.stats().latencyDroppedMs).toBe(0);
  });

  it('call.setMaxLatency() refuses what the server option would, with typed errors, and a call that has ended', async () => {
    h = await startServer(engine, { prebufferMs: 40 });
    const { call, client } = await callAndClient(h);
    for (const ms of [59, -1, 60.5, Number.NaN, 3_600_001]) {
      expect(() => call.setMaxLatency(ms), String(ms)).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    }
    call.setMaxLatency(60);
    const ended = once(call, 'end');
    await client.hangup();
    await ended;
    expect(() => call.setMaxLatency(60)).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_CALL_ENDED' }));
  });

  it('without maxLatencyMs, audio written at once is all played, however much', async () => {
    h = await startServer(engine, { prebufferMs: 0 });
    const { call, client } = await callAndClient(h);
    call.write(pattern(160 * 25));
    await until(() => audioReceived(client).length === 25, 'all 25 frames');
    expect(call.stats().latencyDroppedMs).toBe(0);
  });

  it("idle: 'silence' sends paced silence frames while nothing is queued", async () => {
    h = await startServer(engine);
    const { client } = await callAndClient(h);
    await until(() => client.received.length >= 10, 'ten idle frames');
    expect(client.received.every((f) => f.kind === 0x10 && f.payload.length === 320 && isSilence(f.payload))).toBe(true);
  });

  it("idle: 'none' sends nothing while nothing is queued, then audio when written", async () => {
    h = await startServer(engine, { idle: 'none', prebufferMs: 0 });
    const { call, client } = await callAndClient(h, { strict: false });
    await sleep(200);
    expect(client.received).toEqual([]);
    call.write(pattern(320));
    await until(() => client.received.length === 2, 'two frames');
    await sleep(100);
    expect(client.received.length).toBe(2);
  });

  it('echo: what the caller says comes back unchanged', async () => {
    h = await startServer(engine);
    h.server.on('call', (call) => call.on('audio', (pcm) => call.write(pcm)));
    const client = await h.connect();
    const sent = pattern(8000, 7);
    await client.play(sent);
    await until(() => audioReceived(client).length === 50, 'the echo');
    expect(concat(audioReceived(client)).equals(bytesOf(sent))).toBe(true);
  });

  it('async iteration yields caller audio until the call ends', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const sent = pattern(1600);
    const collected = (async () => {
      const frames: Int16Array[] = [];
      for await (const pcm of call) frames.push(pcm);
      return frames;
    })();
    await client.play(sent, { realtime: false });
    await until(() => call.stats().framesIn === 10, 'ten frames in');
    await client.hangup();
    expect(concat((await collected).map(bytesOf)).equals(bytesOf(sent))).toBe(true);
  });

  it('the Duplex view pipes caller audio out and played audio in', async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const duplex = call.stream();
    duplex.pipe(duplex); // echo through the stream interface
    const sent = pattern(1600, 3);
    for (const frame of encodeAudioFrames(sent, 8000)) client.sendRaw(frame);
    await until(() => audioReceived(client).length === 10, 'the echo');
    expect(concat(audioReceived(client)).equals(bytesOf(sent))).toBe(true);
  });
});

describe.each(ENGINES)('%s engine: a slow reader of caller audio', (engine) => {
  it('loses the oldest frames past inboundQueueFrames, counted and reported, never blocking the socket', async () => {
    const h = await startServer(engine, { inboundQueueFrames: 5 });
    try {
      const [[call], client] = await Promise.all([once(h.server, 'call') as Promise<[Call]>, h.connect()]);
      const errors: string[] = [];
      call.on('error', (error) => errors.push(error.code));
      const iterator = call[Symbol.asyncIterator]();
      const sent = pattern(160 * 20);
      await client.play(sent, { realtime: false });
      await until(() => call.stats().framesIn === 20, 'every frame read from the socket');
      expect(errors).toEqual(['ERR_AUDIOSOCKET_INBOUND_OVERFLOW']);
      expect(call.stats().inboundDropped).toBe(15);
      // The newest frames are what is left.
      const first = await iterator.next();
      expect(bytesOf(first.value as Int16Array).equals(bytesOf(sent.subarray(15 * 160, 16 * 160)))).toBe(true);
      await iterator.return!();
    } finally {
      await h.close();
    }
  });

  it('a JavaScript thread too busy to take caller audio costs at most inboundBacklogMs per call, every frame accounted for', async () => {
    const h = await startServer(engine, { inboundBacklogMs: 100 });
    try {
      const [[call], client] = await Promise.all([once(h.server, 'call') as Promise<[Call]>, h.connect()]);
      const errors: string[] = [];
      call.on('error', (error) => errors.push(error.code));
      const delivered: Int16Array[] = [];
      call.on('audio', (pcm) => delivered.push(pcm));
      const sent = pattern(160 * 60);
      for (const frame of encodeAudioFrames(sent, 8000)) client.sendRaw(frame);
      blockThread(1000); // the frames reach the server while this thread cannot take them
      await until(() => call.stats().framesIn === 60, 'every frame read from the socket');
      const { inboundDropped } = call.stats();
      expect(delivered.length + inboundDropped).toBe(60);
      if (engine === 'native') {
        // 100 ms is 5 frames: those waited, the newer ones were dropped, and that was said once.
        expect(delivered.length).toBe(5);
        expect(errors).toEqual(['ERR_AUDIOSOCKET_INBOUND_OVERFLOW']);
        expect(concat(delivered.map(bytesOf)).equals(bytesOf(sent.subarray(0, 5 * 160)))).toBe(true);
      } else {
        // The js engine reads on this thread, so the audio waited in the kernel, all of it.
        expect(inboundDropped).toBe(0);
        expect(errors).toEqual([]);
      }
      // Once the thread keeps up again, audio flows and no new episode is reported.
      const more = pattern(160 * 5, 9);
      for (const frame of encodeAudioFrames(more, 8000)) client.sendRaw(frame);
      await until(() => call.stats().framesIn === 65, 'the next frames');
      expect(concat(delivered.slice(-5).map(bytesOf)).equals(bytesOf(more))).toBe(true);
      expect(errors.length).toBeLessThanOrEqual(1);
    } finally {
      await h.close();
    }
  });
});

/** Keeps this thread busy, as a long synchronous handler would. */
function blockThread(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}
