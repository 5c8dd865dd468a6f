import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../../src/client';
import { readWav, writeWav } from '../../src/wav';
import { runCli, startServe, type Serving } from '../helpers/cli';
import { ENGINES, bytesOf, pattern, sleep, until } from '../helpers/harness';

const temp = () => mkdtempSync(path.join(tmpdir(), 'audiosocket-cli-'));

/** A WAV of `samples` distinct non-zero samples at 8 kHz. */
function inputWav(samples: number, seed = 1): { file: string; pcm: Int16Array } {
  const pcm = pattern(samples, seed);
  const file = path.join(temp(), 'in.wav');
  writeWav(file, { sampleRate: 8000, channels: 1, samples: pcm });
  return { file, pcm };
}

/**
 * The samples of `pcm` that are not silence. The input has no zero sample, so this is the echo
 * with idle frames, and any padding a late frame got on a loaded machine, taken out.
 */
function withoutSilence(pcm: Int16Array): Int16Array {
  return pcm.filter((sample) => sample !== 0);
}

describe.each(ENGINES)('CLI with the %s engine', (engine) => {
  let serving: Serving | undefined;
  afterEach(async () => {
    await serving?.stop();
    serving = undefined;
  });

  it('serve --echo and call --play: the round trip returns the input, recorded by call --record', async () => {
    serving = await startServe(['--port', '0', '--engine', engine, '--echo']);
    expect(serving.output()).toContain(`(${engine} engine`);
    const input = inputWav(8000);
    const out = path.join(temp(), 'out.wav');
    const run = await runCli(['call', `127.0.0.1:${serving.port}`, '--play', input.file, '--record', out, '--strict', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ framesSent: 50, audioFramesReceived: 50, errors: [] });
    const recorded = readWav(out);
    expect(recorded.sampleRate).toBe(8000);
    expect(bytesOf(withoutSilence(recorded.samples)).equals(bytesOf(input.pcm))).toBe(true);
  });

  it('serve --record writes one valid WAV per call, of the caller audio, of the right length', async () => {
    const dir = temp();
    serving = await startServe(['--port', '0', '--engine', engine, '--record', dir]);
    const input = inputWav(12000, 4); // 1.5 s
    const id = '6ba7b810-9dad-41d1-80b4-00c04fd430c8';
    const run = await runCli(['call', `127.0.0.1:${serving.port}`, '--play', input.file, '--id', id]);
    expect(run.code).toBe(0);
    await until(() => serving!.output().includes(`call ${id} ended`), 'the call to end');
    expect(readdirSync(dir)).toEqual([`${id}.wav`]);
    const recorded = readWav(path.join(dir, `${id}.wav`));
    expect(recorded).toMatchObject({ sampleRate: 8000, channels: 1 });
    expect(recorded.samples.length).toBe(12000);
    expect(bytesOf(recorded.samples).equals(bytesOf(input.pcm))).toBe(true);
  });

  it('serve --record-legs both writes stereo: caller left, server right', async () => {
    const dir = temp();
    serving = await startServe(['--port', '0', '--engine', engine, '--record', dir, '--record-legs', 'both']);
    const input = inputWav(8000, 9);
    const id = '6ba7b811-9dad-41d1-80b4-00c04fd430c8';
    expect((await runCli(['call', `127.0.0.1:${serving.port}`, '--play', input.file, '--id', id])).code).toBe(0);
    await until(() => serving!.output().includes(`call ${id} ended`), 'the call to end');
    const recorded = readWav(path.join(dir, `${id}.wav`));
    expect(recorded.channels).toBe(2);
    const left = recorded.samples.filter((_, i) => i % 2 === 0);
    const right = recorded.samples.filter((_, i) => i % 2 === 1);
    expect(bytesOf(left).equals(bytesOf(input.pcm))).toBe(true);
    // The echo of each caller frame is queued as that frame arrives, so the server's leg runs one
    // frame behind the caller's.
    expect(right.subarray(0, 160).every((s) => s === 0)).toBe(true);
    expect(bytesOf(right.subarray(160)).equals(bytesOf(input.pcm.subarray(0, 8000 - 160)))).toBe(true);
  });

  it('serve --play FILE plays the file into the call, once', async () => {
    const input = inputWav(4000, 2);
    serving = await startServe(['--port', '0', '--engine', engine, '--play', input.file]);
    const client = await AudioSocketClient.connect({ port: serving.port, strict: true });
    await until(() => client.received.filter((f) => f.payload.some((b) => b !== 0)).length === 25, 'the prompt');
    const audio = Buffer.concat(client.received.map((f) => f.payload).filter((p) => p.some((b) => b !== 0)));
    expect(audio.equals(bytesOf(input.pcm))).toBe(true);
    await client.hangup();
  });

  it('serve --echo --max-latency-ms: what a stalled thread queued beyond the cap is dropped, every frame played or counted in /metrics', async () => {
    serving = await startServe(['--port', '0', '--engine', engine, '--metrics', '0', '--echo', '--prebuffer-ms', '0', '--max-latency-ms', '40', '--stall-ms', '300', '--stall-every-ms', '600']);
    const client = await AudioSocketClient.connect({ port: serving.port, strict: true });
    const frames = 100;
    await client.play(pattern(160 * frames)); // 2 s in real time, over at least two stalls
    const echoed = () => client.received.filter((f) => f.payload.some((b) => b !== 0)).length;
    const droppedFrames = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${serving!.metricsPort}/metrics`)).text();
      return Number(/^audiosocket_latency_dropped_ms_total (\S+)$/m.exec(metrics)![1]) / 20;
    };
    // The echo's tail is still queued when the play ends: wait for every frame to be accounted for.
    let dropped = await droppedFrames();
    for (const deadline = Date.now() + 20_000; echoed() + dropped < frames && Date.now() < deadline; dropped = await droppedFrames()) await sleep(50);
    expect(echoed() + dropped).toBe(frames);
    expect(dropped).toBeGreaterThan(0);
    expect(Number.isInteger(dropped)).toBe(true);
    await client.hangup();
  });

  it('/metrics, /healthz and /ready answer; SIGTERM drains (ready 503): 20 calls mid-prompt each play it to the end, get 0x00; exit 0', async () => {
    const prompt = inputWav(16000); // 2 s, shorter than the drain
    serving = await startServe(['--port', '0', '--engine', engine, '--metrics', '0', '--drain-ms', '3000', '--play', prompt.file]);
    const base = `http://127.0.0.1:${serving.metricsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    const clients = await Promise.all(Array.from({ length: 20 }, () => AudioSocketClient.connect({ port: serving!.port, strict: true })));
    await until(() => clients.every((client) => client.received.length > 10), 'audio on every call');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^audiosocket_calls_active 20$/m);
    expect(metrics).toMatch(/^audiosocket_calls_total 20$/m);
    expect(metrics).toMatch(/^audiosocket_frames_out_total \d+$/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    const stopped = serving.stop('SIGTERM');
    await until(() => serving!.output().includes('draining'), 'the drain to start');
    expect((await fetch(`${base}/ready`)).status).toBe(503);
    await expect(AudioSocketClient.connect({ port: serving.port })).rejects.toThrow(); // no new calls while draining
    const ends = await Promise.all(clients.map((client) => client.closed));
    // Every call: the queued prompt played to its end, then 0x00, and nothing Asterisk would hang up on.
    expect(ends.filter((end) => !end.hangupReceived)).toEqual([]);
    expect(ends.filter((end) => end.violation !== null)).toEqual([]);
    for (const client of clients) {
      const audio = Buffer.concat(client.received.map((f) => f.payload).filter((p) => p.some((b) => b !== 0)));
      expect(audio.equals(bytesOf(prompt.pcm))).toBe(true);
    }
    expect(await stopped).toBe(0);
  });
});

describe('CLI bench', () => {
  it('100 calls for 5 s against the TypeScript engine: all connected, 0 frames lost, 0 violations', async () => {
    const run = await runCli(['bench', '--calls', '100', '--duration', '5', '--ramp', '1', '--engine', 'js', '--json']);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result.calls).toEqual({ requested: 100, connected: 100, completed: 100, failed: 0 });
    expect(result.frames.sent).toBe(100 * 250);
    expect(result.frames.lost).toBe(0);
    expect(result.frames.echoed).toBe(result.frames.sent);
    expect(result.violations).toBe(0);
    expect(result.server.engine).toBe('js');
    expect(result.server.cpuPct).toBeGreaterThan(0);
    expect(run.code).toBe(0);
  });

  it('soak mode samples the server RSS over the steady state and reports its growth', async () => {
    const run = await runCli(['bench', '--calls', '10', '--duration', '5', '--ramp', '0.5', '--engine', 'js', '--rss-every', '0.5', '--warmup', '0', '--json']);
    const { soak, frames } = JSON.parse(run.stdout);
    expect(soak.samples.length).toBeGreaterThanOrEqual(4);
    for (const [i, sample] of soak.samples.entries()) {
      expect(sample.rssMb).toBeGreaterThan(10);
      // The heap V8 has sized is part of the RSS.
      expect(sample.jsHeapMb).toBeGreaterThan(1);
      expect(sample.jsHeapMb).toBeLessThan(sample.rssMb);
      if (i > 0) expect(sample.framesSent).toBeGreaterThanOrEqual(soak.samples[i - 1].framesSent);
      expect(sample.framesMissing).toBeLessThanOrEqual(sample.framesSent);
    }
    expect(soak.rssGrowthPct).toEqual(expect.any(Number));
    expect(soak.outsideHeapGrowthPct).toEqual(expect.any(Number));
    expect(frames.lost).toBe(0);
    expect(run.code).toBe(0);
  });

  it('--node-options reach the node process of the started server', async () => {
    const run = await runCli(['bench', '--calls', '1', '--duration', '1', '--ramp', '0', '--engine', 'js', '--node-options=--stack-trace-limit=5  --no-such-option']);
    expect(run.stderr).toMatch(/bad option: --no-such-option/);
    expect(run.code).not.toBe(0);
  });

  it('--phases spreads the calls over offsets of the period: one tick per offset, each call still one frame a period', async () => {
    const calls = 8;
    const frames = 100; // 2 s
    const spread = JSON.parse((await runCli(['bench', '--calls', String(calls), '--duration', '2', '--ramp', '0', '--engine', 'js', '--phases', '4', '--json'])).stdout);
    expect(spread.frames.sent).toBe(calls * frames);
    expect(spread.frames.lost).toBe(0);
    // Four ticks a period, against one without --phases (the clock also runs through the linger).
    const together = JSON.parse((await runCli(['bench', '--calls', String(calls), '--duration', '2', '--ramp', '0', '--engine', 'js', '--json'])).stdout);
    expect(together.frames.sent).toBe(calls * frames);
    expect(spread.generator.sendLatenessMs.count).toBeGreaterThan(3 * together.generator.sendLatenessMs.count);
  });

  it('listen mode counts what the server received through its /metrics', async () => {
    const run = await runCli(['bench', '--calls', '10', '--duration', '2', '--ramp', '0.5', '--engine', 'js', '--mode', 'listen', '--json']);
    const result = JSON.parse(run.stdout);
    expect(result.frames.serverReceived).toBe(result.frames.sent);
    expect(result.frames.lost).toBe(0);
    expect(result.echoLatencyMs).toBeNull();
    expect(run.code).toBe(0);
  });
});

describe('CLI arguments', () => {
  const bad: Array<[string, string[], RegExp]> = [
    ['no command', [], /usage: audiosocket/],
    ['an unknown command', ['dance'], /unknown command "dance"/],
    ['an unknown option', ['serve', '--colour'], /Unknown option '--colour'/],
    ['a port out of range', ['serve', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    ['two sources', ['serve', '--echo', '--play', 'x.wav'], /choose one of --echo, --play, --listen and --ws/],
    ['a missing WAV', ['serve', '--play', '/nonexistent.wav'], /--play .*not a WAV file/],
    ['an engine that does not exist', ['serve', '--engine', 'turbo'], /--engine must be one of auto, native, js/],
    ['a connection rate that is no rate', ['serve', '--connection-rate', 'fast'], /--connection-rate must be PER_SECOND:BURST/],
    ['a bad allow entry', ['serve', '--allow', '10.0.0.0/99'], /allow: not an address or CIDR block/],
    ['call without a target', ['call'], /the target must be HOST:PORT/],
    ['a bad DTMF digit', ['call', '127.0.0.1:9', '--dtmf', '12x'], /not a DTMF digit: "x"/],
    ['a rate with no kind', ['call', '127.0.0.1:9', '--rate', '22050'], /./],
    ['bench ramp longer than duration', ['bench', '--ramp', '20', '--duration', '10'], /--ramp must be shorter than --duration/],
    ['bench --pid without --target', ['bench', '--pid', '1'], /--pid and --metrics-url go with --target/],
    ['serve --max-latency-ms below the prebuffer plus a frame', ['serve', '--max-latency-ms', '30'], /maxLatencyMs must be an integer from 60/],
    ['bench --max-latency-ms with --target', ['bench', '--target', '127.0.0.1:9', '--max-latency-ms', '60'], /start a server: not with --target/],
    ['bench --phases out of range', ['bench', '--phases', '21'], /--phases must be an integer from 1 to 20/],
    ['bench --warmup without --rss-every', ['bench', '--warmup', '10'], /--warmup goes with --rss-every/],
    ['bench --node-options with --target', ['bench', '--target', '127.0.0.1:9', '--node-options=--cpu-prof'], /start a server: not with --target/],
  ];
  for (const [name, args, message] of bad) {
    it(`${name}: one clear line on stderr, exit code 2`, async () => {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr + run.stdout).toMatch(message);
      if (args.length > 0) expect(run.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('a WAV in another format names the supported one', async () => {
    const file = path.join(temp(), 'stereo.wav');
    writeWav(file, { sampleRate: 16000, channels: 2, samples: new Int16Array(64) });
    const run = await runCli(['serve', '--play', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/supported: WAV, 16-bit PCM, mono, at --rate \(8000 Hz\)/);
  });
});
