import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketServer, type AudioSocketClient, type AudioSocketError, type Call, type ClientOptions, type EngineName, type ServerOptions } from '../../src';
import { Resampler, alaw, monoToStereo, resample, stereoToMono, ulaw, type G711Codec } from '../../src/dsp';
import { connect } from 'node:net';
import { FrameDecoder, encodeAudioFrames, encodeUuid, type Message } from '../../src/protocol';
import { ENGINES, callAndClient, pattern, startServer, until, type Harness } from '../helpers/harness';

const WIDE_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const ODD_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

/** A sine of `hz` at `amplitude`, `ms` long at `rate`. */
function tone(rate: number, ms: number, hz = 440, amplitude = 16000): Int16Array {
  return Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)));
}

/** What a streaming resampler gives for `pcm` fed in any pieces, before any flush: what caller audio becomes. */
function streamed(pcm: Int16Array, from: number, to: number): Int16Array {
  const resampler = new Resampler(from, to);
  const out = new Int16Array(resampler.outputLength(pcm.length));
  resampler.processInto(pcm, out);
  return out;
}

/** Signal-to-noise ratio of `signal` against `reference` over their common length, dB. */
function snrDb(reference: Int16Array, signal: Int16Array): number {
  let power = 0;
  let noise = 0;
  for (let i = 0; i < Math.min(reference.length, signal.length); i++) {
    power += reference[i]! ** 2;
    noise += (signal[i]! - reference[i]!) ** 2;
  }
  return 10 * Math.log10(power / noise);
}

function samplesOf(bytes: Uint8Array): Int16Array {
  return new Int16Array(Uint8Array.from(bytes).buffer);
}

function concatSamples(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => (out.set(f, at), at + f.length), 0);
  return out;
}

/**
 * The payload bytes of the frames a client received that carry audio: idle frames (every byte
 * the code of silence: 0 for slin, the law's code of 0 for G.711) are left out.
 */
function audioBytes(client: AudioSocketClient, law: G711Codec | null = null): Buffer {
  const silence = law ? law.encodeSample(0) : 0;
  return Buffer.concat(client.received.map((f) => f.payload).filter((p) => !p.every((b) => b === silence)));
}

function slinBytes(pcm: Int16Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

/** Caller audio frames as the application gets them. */
function collect(call: Call): Int16Array[] {
  const frames: Int16Array[] = [];
  call.on('audio', (pcm) => frames.push(pcm));
  return frames;
}

describe.each(ENGINES)('%s engine: audio formats', (engine) => {
  let h: Harness;
  afterEach(() => h?.close());

  it('a 16 kHz app over an 8 kHz wire: caller audio arrives resampled frame by frame, audio written leaves as 0x12', async () => {
    h = await startServer(engine, { format: { sampleRate: 16000 } });
    const { call, client } = await callAndClient(h);
    expect(call.format).toEqual({ sampleRate: 16000, channels: 1 });
    expect(call.wireFormat).toEqual({ kind: 0x12, sampleRate: 16000, codec: 'slin' });
    const frames = collect(call);
    const sent = tone(8000, 400);
    await client.play(sent, { realtime: false });
    await until(() => frames.length === 20, '20 frames');
    expect(frames.every((f) => f.length === 320)).toBe(true);
    const got = concatSamples(frames);
    expect(got).toEqual(streamed(sent, 8000, 16000));
    // The resampler's lag (its outputDelay) aside, the tone is intact.
    const delay = new Resampler(8000, 16000).outputDelay;
    expect(snrDb(tone(16000, 400).subarray(0, 6400 - delay), got.subarray(delay))).toBeGreaterThan(60);

    const played = tone(16000, 200, 1000);
    expect(await call.play(played)).toEqual({ completed: true, reason: 'played', unplayedMs: 0 });
    await until(() => audioBytes(client).length === played.byteLength, 'the tone at the client');
    expect(client.received.every((f) => f.kind === 0x12 && f.payload.length === 640)).toBe(true);
    expect(audioBytes(client).equals(slinBytes(played))).toBe(true);
  });

  it('a 16 kHz app over a 0x12 wire: nothing to convert, bit-exact both ways', async () => {
    h = await startServer(engine, { format: { sampleRate: 16000 } });
    const { call, client } = await callAndClient(h, { sampleRate: 16000 });
    const frames = collect(call);
    const sent = pattern(16000 * 0.4, 3);
    await client.play(sent, { realtime: false });
    await until(() => frames.length === 20, '20 frames');
    expect(concatSamples(frames)).toEqual(sent);
    const played = pattern(3200, 4);
    await call.play(played);
    await until(() => audioBytes(client).length === played.byteLength, 'the audio at the client');
    expect(audioBytes(client).equals(slinBytes(played))).toBe(true);
  });

  it('a ulaw wire: 0x10 frames of 160 G.711 bytes both ways, equal to the DSP codec, a tone round-trips', async () => {
    h = await startServer(engine, { wire: 'ulaw' });
    const { call, client } = await callAndClient(h, { wire: 'ulaw' });
    expect(call.wireFormat).toEqual({ kind: 0x10, sampleRate: 8000, codec: 'ulaw' });
    const frames = collect(call);
    const sent = tone(8000, 400);
    await client.play(sent, { realtime: false });
    await until(() => frames.length === 20, '20 frames');
    expect(frames.every((f) => f.length === 160)).toBe(true);
    const heard = concatSamples(frames);
    expect(heard).toEqual(ulaw.decode(ulaw.encode(sent)));
    expect(snrDb(sent, heard)).toBeGreaterThan(30);

    const played = tone(8000, 400, 1000);
    await call.play(played);
    await until(() => audioBytes(client, ulaw).length === 3200, 'the tone at the client');
    expect(client.received.every((f) => f.kind === 0x10 && f.payload.length === 160)).toBe(true);
    // Idle frames after it are G.711 silence, not zero bytes.
    await until(() => client.received.at(-1)!.payload.every((b) => b === ulaw.encodeSample(0)), 'an idle frame');
    const wire = audioBytes(client, ulaw);
    expect(wire.equals(ulaw.encode(played))).toBe(true);
    expect(snrDb(played, ulaw.decode(wire))).toBeGreaterThan(30);
  });

  it('an alaw wire with a 16 kHz app: decoded and resampled in, resampled and encoded out, exactly as the DSP does', async () => {
    h = await startServer(engine, { wire: 'alaw', format: { sampleRate: 16000 } });
    const { call, client } = await callAndClient(h, { wire: 'alaw' });
    expect(call.wireFormat).toEqual({ kind: 0x10, sampleRate: 8000, codec: 'alaw' });
    const frames = collect(call);
    const codes = alaw.encode(tone(8000, 400));
    await client.play(codes, { realtime: false });
    await until(() => frames.length === 20, '20 frames');
    expect(frames.every((f) => f.length === 320)).toBe(true);
    expect(concatSamples(frames)).toEqual(streamed(alaw.decode(codes), 8000, 16000));

    const played = tone(16000, 300, 1000);
    await call.play(played);
    const expected = alaw.encode(resample(played, 16000, 8000));
    await until(() => audioBytes(client, alaw).length === expected.length, 'the tone at the client');
    expect(client.received.every((f) => f.kind === 0x10 && f.payload.length === 160)).toBe(true);
    expect(audioBytes(client, alaw).equals(expected)).toBe(true);
    expect(snrDb(tone(8000, 300, 1000), alaw.decode(expected))).toBeGreaterThan(30);
  });

  it('a stereo app: caller audio on both channels, stereo written is downmixed, durations counted in pairs', async () => {
    h = await startServer(engine, { format: { sampleRate: 8000, channels: 2 } });
    const { call, client } = await callAndClient(h);
    expect(call.format).toEqual({ sampleRate: 8000, channels: 2 });
    const frames = collect(call);
    const sent = pattern(8000 * 0.2, 5);
    await client.play(sent, { realtime: false });
    await until(() => frames.length === 10, '10 frames');
    expect(frames.every((f) => f.length === 320)).toBe(true);
    expect(concatSamples(frames)).toEqual(monoToStereo(sent));

    expect(() => call.write(Int16Array.of(1, 2, 3))).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    const stereo = Int16Array.from({ length: 3200 }, (_, i) => (i % 2 === 0 ? 1 : -1) * ((i * 211) % 20000) + 7);
    const marks: string[] = [];
    call.on('mark', (name) => marks.push(name));
    expect(await call.play(stereo, { mark: 'done' })).toEqual({ completed: true, reason: 'played', unplayedMs: 0 });
    expect(marks).toEqual(['done']);
    await until(() => audioBytes(client).length === 3200, 'the downmix at the client');
    expect(audioBytes(client).equals(slinBytes(stereoToMono(stereo)))).toBe(true);

    call.write(new Int16Array(16000).fill(100)); // 1 s of stereo
    const { clearedMs } = call.clear();
    const stats = call.stats();
    expect(clearedMs).toBeGreaterThan(900);
    expect(clearedMs + (stats.framesOut - stats.silenceFramesOut - 10) * 20).toBe(1000);
  });

  it('callFormat: a call gets its own format from its first frame, over the server wire; the others keep the server format', async () => {
    const chosen: string[] = [];
    h = await startServer(engine, {
      callFormat: ({ id, remote }) => {
        chosen.push(`${id} ${remote.address}`);
        return id === WIDE_ID ? { sampleRate: 16000, channels: 2 } : undefined;
      },
    });
    const calls: Call[] = [];
    const frames: Int16Array[] = [];
    h.server.on('call', (call) => {
      calls.push(call);
      if (call.id === WIDE_ID) call.on('audio', (pcm) => frames.push(pcm));
    });
    // The UUID and the first frames in one write: they reach the engine before the application
    // has seen the call, so they must wait for its format instead of being converted to the server's.
    const sent = pattern(8000 * 0.2, 11);
    const socket = connect({ host: '127.0.0.1', port: h.port });
    const received: Message[] = [];
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => decoder.feed(chunk, (message) => received.push(message)));
    socket.write(Buffer.concat([encodeUuid(WIDE_ID), ...encodeAudioFrames(sent, 8000)]));
    await until(() => calls.length === 1, 'the call');
    const [wide] = calls as [Call];
    expect(wide.format).toEqual({ sampleRate: 16000, channels: 2 });
    expect(wide.wireFormat).toEqual(h.server.wireFormat);
    await until(() => frames.length === 10, '10 frames');
    expect(frames.every((f) => f.length === 640)).toBe(true);
    expect(concatSamples(frames)).toEqual(monoToStereo(streamed(sent, 8000, 16000)));

    expect(() => wide.write(Int16Array.of(1, 2, 3))).toThrow(expect.objectContaining({ code: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT' }));
    expect(await wide.play(monoToStereo(tone(16000, 200, 1000)))).toEqual({ completed: true, reason: 'played', unplayedMs: 0 });
    const audio = () => received.filter((m) => m.type === 'audio' && !m.payload.every((b) => b === 0));
    await until(() => audio().length >= 10, 'the tone at 8 kHz');
    expect(audio().every((m) => m.type === 'audio' && m.kind === 0x10 && m.payload.length === 320)).toBe(true);

    const { call: plain } = await callAndClient(h);
    expect(plain.format).toEqual(h.server.format);
    expect(chosen).toEqual([`${WIDE_ID} 127.0.0.1`, `${plain.id} 127.0.0.1`]);
    socket.destroy();
  });

  it('callFormat that throws or chooses a format no call can have ends that call only, with a typed error', async () => {
    h = await startServer(engine, {
      callFormat: ({ id }) => {
        if (id === WIDE_ID) throw new Error('no such customer');
        return id === ODD_ID ? { sampleRate: 9000 } : undefined;
      },
    });
    const failures: Array<[string, string]> = [];
    h.server.on('callError', (error, call) => failures.push([error.code, call.id]));
    const calls: Call[] = [];
    h.server.on('call', (call) => calls.push(call));
    const wide = await h.connect({ id: WIDE_ID });
    const odd = await h.connect({ id: ODD_ID });
    expect((await wide.closed).hangupReceived).toBe(true);
    expect((await odd.closed).hangupReceived).toBe(true);
    expect(failures).toEqual([
      ['ERR_AUDIOSOCKET_HANDLER_FAILED', WIDE_ID],
      ['ERR_AUDIOSOCKET_HANDLER_FAILED', ODD_ID],
    ]);
    const { call } = await callAndClient(h);
    expect(calls).toEqual([call]);
  });

  it("asteriskVersion '20.16' with a 16 kHz app: 0x10 frames at 8 kHz, resampled exactly, and one warning for the server", async () => {
    h = await startServer(engine, { format: { sampleRate: 16000 }, asteriskVersion: '20.16' });
    const warnings: AudioSocketError[] = [];
    h.server.on('warning', (warning) => warnings.push(warning));
    const first = await callAndClient(h);
    const second = await callAndClient(h);
    expect(warnings.map((w) => w.code)).toEqual(['ERR_AUDIOSOCKET_WIRE_FORMAT']);
    expect(warnings[0]!.message).toContain('20.16');
    expect(first.call.wireFormat).toEqual({ kind: 0x10, sampleRate: 8000, codec: 'slin' });

    const played = tone(16000, 300, 1000);
    await Promise.all([first.call.play(played), second.call.play(played)]);
    const expected = slinBytes(resample(played, 16000, 8000));
    for (const { client } of [first, second]) {
      await until(() => audioBytes(client).length >= expected.length, 'the audio at the client');
      expect(client.received.every((f) => f.kind === 0x10 && f.payload.length === 320)).toBe(true);
      expect(audioBytes(client).equals(expected)).toBe(true);
    }
    expect(warnings.length).toBe(1);
  });

  it("asteriskVersion '20.17' with a 16 kHz app: 0x12 frames, no warning", async () => {
    h = await startServer(engine, { format: { sampleRate: 16000 }, asteriskVersion: '20.17' });
    const warnings: AudioSocketError[] = [];
    h.server.on('warning', (warning) => warnings.push(warning));
    const { call, client } = await callAndClient(h);
    await call.play(tone(16000, 100));
    await until(() => audioBytes(client).length === 3200, 'the audio at the client');
    expect(client.received.every((f) => f.kind === 0x12)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("wire 'auto': ulaw arriving as 0x10 frames of 160 bytes at 50 a second gets one warning naming c(slin), and the call goes on", async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h, { wire: 'ulaw' });
    const errors: AudioSocketError[] = [];
    call.on('error', (error) => errors.push(error));
    await client.play(tone(8000, 500)); // 25 frames, paced
    await until(() => call.stats().framesIn === 25, 'every frame');
    await until(() => errors.length > 0, 'the warning');
    expect(errors.map((e) => e.code)).toEqual(['ERR_AUDIOSOCKET_WIRE_FORMAT']);
    expect(errors[0]!.message).toContain('c(slin)');
    expect(call.ended).toBe(false);
  });

  it("no wire warning for slin at 20 ms with 'auto', nor for G.711 on a wire that says so", async () => {
    h = await startServer(engine);
    const { call, client } = await callAndClient(h);
    const errors: AudioSocketError[] = [];
    call.on('error', (error) => errors.push(error));
    await client.play(tone(8000, 300));
    await until(() => call.stats().framesIn === 15, 'every frame');
    await h.close();

    h = await startServer(engine, { wire: 'ulaw' });
    const other = await callAndClient(h, { wire: 'ulaw' });
    other.call.on('error', (error) => errors.push(error));
    await other.client.play(tone(8000, 300));
    await until(() => other.call.stats().framesIn === 15, 'every frame');
    expect(errors).toEqual([]);
  });
});

/** One call through `engine`: what the application got from `inbound`, and the wire bytes of `outbound` played. */
async function exchange(
  engine: EngineName,
  options: ServerOptions,
  clientOptions: Partial<ClientOptions>,
  inbound: Int16Array,
  outbound: Int16Array,
): Promise<{ heard: Int16Array; wire: Buffer }> {
  const h = await startServer(engine, options);
  try {
    const { call, client } = await callAndClient(h, clientOptions);
    const heard = collect(call);
    await client.play(inbound, { realtime: false });
    await until(() => call.stats().framesIn === Math.ceil(inbound.length / ((clientOptions.sampleRate ?? 8000) / 50)), 'every frame in');
    await call.play(outbound);
    const law = clientOptions.wire === 'alaw' ? alaw : clientOptions.wire === 'ulaw' ? ulaw : null;
    const { format, wireFormat } = h.server;
    const wireSamples = Math.ceil((outbound.length / format.channels) * (wireFormat.sampleRate / format.sampleRate));
    const frameSamples = wireFormat.sampleRate / 50;
    const frames = Math.ceil(wireSamples / frameSamples);
    await until(() => audioBytes(client, law).length === frames * frameSamples * (law ? 1 : 2), 'the audio at the client');
    return { heard: concatSamples(heard), wire: audioBytes(client, law) };
  } finally {
    await h.close();
  }
}

describe.runIf(ENGINES.length === 2)('both engines: the same conversions, byte for byte', () => {
  it.each<[string, ServerOptions, Partial<ClientOptions>]>([
    ['22.05 kHz stereo over alaw', { format: { sampleRate: 22050, channels: 2 }, wire: 'alaw' }, { wire: 'alaw' }],
    ['11.025 kHz mono, caller at 24 kHz, sent at 12 kHz', { format: { sampleRate: 11025 } }, { sampleRate: 24000 }],
  ])('%s', async (_, options, clientOptions) => {
    const rate = clientOptions.sampleRate ?? 8000;
    const inbound = pattern(rate * 0.3, 9);
    const app = options.format!.sampleRate!;
    const outbound = options.format!.channels === 2 ? monoToStereo(tone(app, 300, 700)) : tone(app, 300, 700);
    const js = await exchange('js', options, clientOptions, inbound, outbound);
    const native = await exchange('native', options, clientOptions, inbound, outbound);
    expect(native.heard.length).toBeGreaterThan(0);
    expect(native.heard).toEqual(js.heard);
    expect(native.wire.equals(js.wire)).toBe(true);
  });
});

describe('format options', () => {
  it('are validated with typed errors', () => {
    const bad: Array<[ServerOptions, string]> = [
      [{ format: { sampleRate: 8001 } }, 'ERR_AUDIOSOCKET_BAD_SAMPLE_RATE'],
      [{ format: { sampleRate: 16000 }, sampleRate: 8000 }, 'ERR_AUDIOSOCKET_INVALID_ARGUMENT'],
      [{ format: { channels: 3 as 1 } }, 'ERR_AUDIOSOCKET_INVALID_ARGUMENT'],
      [{ wire: 'gsm' as 'ulaw' }, 'ERR_AUDIOSOCKET_INVALID_ARGUMENT'],
      [{ asteriskVersion: 'twenty' }, 'ERR_AUDIOSOCKET_INVALID_ARGUMENT'],
    ];
    for (const [options, code] of bad) {
      expect(() => new AudioSocketServer({ engine: 'js', ...options }), JSON.stringify(options)).toThrow(expect.objectContaining({ code }));
    }
  });

  it('set the rate of the frames sent from the app rate, the wire and the Asterisk version', () => {
    const sent = (options: ServerOptions) => new AudioSocketServer({ engine: 'js', ...options }).wireFormat;
    expect(sent({})).toEqual({ kind: 0x10, sampleRate: 8000, codec: 'slin' });
    expect(sent({ sampleRate: 48000 })).toEqual({ kind: 0x16, sampleRate: 48000, codec: 'slin' });
    expect(sent({ format: { sampleRate: 22050 } })).toEqual({ kind: 0x13, sampleRate: 24000, codec: 'slin' });
    expect(sent({ format: { sampleRate: 11025 }, asteriskVersion: '22.7.0' })).toEqual({ kind: 0x11, sampleRate: 12000, codec: 'slin' });
    expect(sent({ format: { sampleRate: 16000 }, wire: 'ulaw' })).toEqual({ kind: 0x10, sampleRate: 8000, codec: 'ulaw' });
    for (const version of ['18.20', '20.16.0', '21.11', '22.6.2', '23.0.0-rc1']) {
      expect(sent({ format: { sampleRate: 16000 }, asteriskVersion: version }).sampleRate, version).toBe(8000);
    }
    for (const version of ['20.17', '21.12.0', '22.7', '23.1', '24']) {
      expect(sent({ format: { sampleRate: 16000 }, asteriskVersion: version }).sampleRate, version).toBe(16000);
    }
  });
});
