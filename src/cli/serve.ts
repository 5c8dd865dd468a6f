import { mkdirSync } from 'node:fs';
import type { Call } from '../call';
import { AudioSocketError } from '../errors';
import type { ConnectionRateLimit } from '../net/rate-limit';
import { AudioSocketServer } from '../server';
import { readWav, type PcmAudio } from '../wav';
import { UsageError, int, oneOf, parse, sampleRateOption } from './args';
import { WS_OPTIONS, WS_USAGE, wsBridger } from './bridge-options';
import { ServerCounters } from './counters';
import { startMetrics } from './metrics';
import { CallRecorder } from './recorder';
import { StatusReporter } from './status';

export const SERVE_USAGE = `usage: audiosocket serve [options]
  --host HOST            address to listen on (default 127.0.0.1: AudioSocket has no authentication)
  --port PORT            TCP port (default 9092; 0 picks a free one)
  --echo                 send each caller's audio back (the default)
  --play FILE            play a WAV (16-bit PCM, mono, at --rate) into every call
  --listen               only receive (like a transcriber); with --record, a recorder
  --loop                 with --play: repeat it until the call ends
  --record DIR           write one WAV per call into DIR
  --record-legs LEGS     caller (mono, default) or both (stereo: caller left, server right)
  --rate HZ              sample rate of the audio sent and of the files (default 8000)
  --engine NAME          auto (default), native or js
  --prebuffer-ms MS      audio queued before playout starts (default 40)
  --max-latency-ms MS    drop queued audio beyond MS, oldest first: for live audio such as --echo
                         (default: none)
  --max-calls N          calls at once (default 5000)
  --allow CIDR           peers that may connect (repeatable; default everyone)
  --connection-rate R    connections per second and burst per source, PER_SECOND:BURST, or off
                         (default 200:1000)
  --metrics PORT         serve /metrics (Prometheus), /healthz and /ready on PORT
  --metrics-host HOST    address for --metrics (default 127.0.0.1)
  --drain-ms MS          on SIGINT/SIGTERM, let queued audio play this long before hanging up (default 5000)
  --quiet                no status line, no per-call log lines
  --stall-ms MS          diagnostics: block the JavaScript thread this long every --stall-every-ms
  --stall-every-ms MS    (default 2000), to see how call audio fares while the application is busy
${WS_USAGE}`;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  echo: { type: 'boolean' },
  play: { type: 'string' },
  listen: { type: 'boolean' },
  loop: { type: 'boolean' },
  record: { type: 'string' },
  'record-legs': { type: 'string' },
  rate: { type: 'string' },
  engine: { type: 'string' },
  'prebuffer-ms': { type: 'string' },
  'max-latency-ms': { type: 'string' },
  'max-calls': { type: 'string' },
  allow: { type: 'string', multiple: true },
  'connection-rate': { type: 'string' },
  metrics: { type: 'string' },
  'metrics-host': { type: 'string' },
  'drain-ms': { type: 'string' },
  quiet: { type: 'boolean' },
  'stall-ms': { type: 'string' },
  'stall-every-ms': { type: 'string' },
  help: { type: 'boolean' },
  ...WS_OPTIONS,
} as const;

/** `--connection-rate PER_SECOND:BURST` or `off`; undefined keeps the server's default. */
function connectionRate(value: string | undefined): ConnectionRateLimit | false | undefined {
  if (value === undefined) return undefined;
  if (value === 'off') return false;
  const match = /^(\d+(?:\.\d+)?):(\d+)$/.exec(value);
  const [perSecond, burst] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!(perSecond > 0 && burst >= 1)) throw new UsageError(`--connection-rate must be PER_SECOND:BURST (e.g. 200:1000) or off, got ${JSON.stringify(value)}`);
  return { perSecond, burst };
}

/** `audiosocket serve`: a server in one command. Resolves when it has shut down after a signal. */
export async function serve(args: string[]): Promise<void> {
  const { values } = parse(args, OPTIONS);
  if (values.help) return void console.log(SERVE_USAGE);
  if ([values.echo, values.play, values.listen, values.ws].filter(Boolean).length > 1) throw new UsageError('choose one of --echo, --play, --listen and --ws');
  if (values.loop && !values.play) throw new UsageError('--loop goes with --play');
  if (values['record-legs'] && !values.record) throw new UsageError('--record-legs goes with --record');
  const sampleRate = sampleRateOption(values.rate);
  const legs = oneOf('record-legs', values['record-legs'], ['caller', 'both'] as const, 'caller');
  const drainMs = int('drain-ms', values['drain-ms'], 5000, 0, 3_600_000);
  const prompt = values.play ? loadPrompt(values.play, sampleRate) : null;
  const bridger = wsBridger(values);
  if (values.record) mkdirSync(values.record, { recursive: true });

  const server = new AudioSocketServer({
    engine: oneOf('engine', values.engine, ['auto', 'native', 'js'] as const, 'auto'),
    sampleRate,
    prebufferMs: int('prebuffer-ms', values['prebuffer-ms'], 40, 0, 1000),
    maxLatencyMs: values['max-latency-ms'] === undefined ? undefined : int('max-latency-ms', values['max-latency-ms'], 0, 20, 3_600_000),
    maxCalls: int('max-calls', values['max-calls'], 5000, 1, 1_000_000),
    allow: values.allow ?? [],
    connectionRateLimit: connectionRate(values['connection-rate']),
  });
  const counters = new ServerCounters(server);
  const status = new StatusReporter(counters, process.stderr.isTTY === true);
  const log = values.quiet ? () => {} : (line: string) => status.log(line);
  let draining = false;

  server.on('call', (call) => {
    log(`call ${call.id} from ${call.remote.address}:${call.remote.port}`);
    const recorder = values.record ? new CallRecorder(values.record, call, legs) : null;
    const send = (pcm: Int16Array) => {
      recorder?.played(pcm);
      return pcm;
    };
    if (bridger) bridger(call, log);
    else if (prompt) void playPrompt(call, prompt, values.loop === true, send);
    else if (!values.listen) call.on('audio', (pcm) => call.write(send(pcm)));
    call.on('dtmf', (digit) => log(`call ${call.id} DTMF ${digit}`));
    call.on('error', (error) => log(`call ${call.id} ${error.code}: ${error.message}`));
    call.on('end', ({ reason, error }) => log(`call ${call.id} ended: ${reason}${error ? ` (${error.code})` : ''}${recorder ? `, recorded ${recorder.file}` : ''}`));
  });
  server.on('reject', (error, remote) => log(`refused ${remote.address}:${remote.port}: ${error.code}: ${error.message}`));

  // Signals are handled from before the address is printed: whoever waits for that line may
  // signal at once, and must get a drain, not a kill.
  const closed = new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      if (draining) {
        log(`${signal} again: hanging up every call now`);
        void server.close({ drainMs: 0 });
        return;
      }
      draining = true;
      log(`${signal}: draining for up to ${drainMs} ms, then hanging up every call`);
      void server.close({ drainMs }).then(resolve);
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
  const address = await server.listen({ host: values.host ?? '127.0.0.1', port: int('port', values.port, 9092, 0, 65535) });
  const metrics = values.metrics
    ? await startMetrics({ host: values['metrics-host'] ?? '127.0.0.1', port: int('metrics', values.metrics, 0, 0, 65535), counters, ready: () => !draining })
    : null;
  console.log(
    `listening on ${address.address}:${address.port} (${server.engine.name} engine: ${server.engine.reason})` +
      (metrics ? `; metrics on ${values['metrics-host'] ?? '127.0.0.1'}:${metrics.port}` : '') +
      `; pid ${process.pid}`,
  );
  if (!values.quiet) status.start(process.stderr.isTTY ? 1000 : 10_000);
  const stallMs = int('stall-ms', values['stall-ms'], 0, 0, 60_000);
  const stall = stallMs > 0 ? setInterval(() => busyWait(stallMs), int('stall-every-ms', values['stall-every-ms'], 2000, 1, 3_600_000)) : null;

  await closed;
  if (stall) clearInterval(stall);
  status.stop();
  metrics?.server.close();
  log('closed');
}

function loadPrompt(file: string, rate: number): Int16Array {
  let audio: PcmAudio;
  try {
    audio = readWav(file);
  } catch (error) {
    throw new UsageError(`--play ${(error as AudioSocketError).message}`);
  }
  if (audio.channels !== 1 || audio.sampleRate !== rate) {
    throw new UsageError(
      `--play ${file}: ${audio.channels} channel(s) at ${audio.sampleRate} Hz; supported: WAV, 16-bit PCM, mono, at --rate (${rate} Hz)`,
    );
  }
  return audio.samples;
}

async function playPrompt(call: Call, prompt: Int16Array, loop: boolean, send: (pcm: Int16Array) => Int16Array): Promise<void> {
  do {
    if (call.ended) return;
    const result = await call.play(send(prompt));
    if (!result.completed) return;
  } while (loop);
}

/** Blocks the JavaScript thread, as a slow handler or a long GC pause would. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}
