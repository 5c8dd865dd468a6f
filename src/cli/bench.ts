import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, hostPort, int, num, oneOf, parse, sampleRateOption } from './args';
import { LoadGenerator } from './bench/generator';
import { writeStampedPrompt } from './bench/stamp';
import { cpuPercent, sampleProcess, type ProcessSample } from './proc';

export const BENCH_USAGE = `usage: audiosocket bench [options]
  --calls N            simulated calls (default 100)
  --duration S         seconds each call sends audio (default 10)
  --ramp S             seconds over which the calls connect (default 2; less than --duration)
  --rate HZ            sample rate of the calls (default 8000)
  --mode MODE          echo (default): the server echoes; loss and round trip are measured
                       listen: the server only receives, like a transcriber; loss from its /metrics
                       play: the server plays a long prompt into every call; skipped frames,
                       arrival gaps and the server's underruns are measured
  --stall-ms MS        the started server blocks its JavaScript thread MS every 2 s (pacing test)
  --phases N           offsets of the 20 ms period the calls send at, 1-20 (default 1: every
                       call on the same tick; 20: 1 ms apart, as independent channels send)
  --caller MODE        talk (default: every call sends audio) or silent (no caller frames, as
                       with DTX or hold; the generator then only listens, for exact arrival times)
  --engine NAME        start a server with this engine: auto (default), native, js
  --server-cpu N       pin that server to CPU core N (taskset); run the bench itself under
                       'taskset -c M' to pin the generator
  --prebuffer-ms MS    the started server's prebuffer (default 0: round trip without queueing)
  --max-latency-ms MS  the started server's maxLatencyMs: its echo drops what it holds beyond MS
  --node-options=OPTS  Node.js options for the started server, space-separated: to profile it
                       or size its heap (docs/api.md has examples)
  --target HOST:PORT   measure a running server instead of starting one
  --pid PID            with --target: the server's process, for CPU % and RSS
  --metrics-url URL    with --target and --mode listen: the server's /metrics, to count frames received
  --rss-every S        soak: sample the server's RSS and the loss every S seconds of the steady
                       state, print the timeline and the RSS growth after --warmup
  --warmup S           soak: seconds of the steady state before the RSS baseline (default 60)
  --json               print the result as one JSON object
Exit code 1 when calls failed, frames were lost or a server broke Asterisk's reader rules.`;

const OPTIONS = {
  calls: { type: 'string' },
  duration: { type: 'string' },
  ramp: { type: 'string' },
  rate: { type: 'string' },
  mode: { type: 'string' },
  engine: { type: 'string' },
  'server-cpu': { type: 'string' },
  'prebuffer-ms': { type: 'string' },
  'max-latency-ms': { type: 'string' },
  'stall-ms': { type: 'string' },
  'node-options': { type: 'string' },
  caller: { type: 'string' },
  phases: { type: 'string' },
  target: { type: 'string' },
  pid: { type: 'string' },
  'metrics-url': { type: 'string' },
  'rss-every': { type: 'string' },
  warmup: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** How long each call waits for its echo tail before hanging up, ms. */
const LINGER_MS = 1000;

type Mode = 'echo' | 'listen' | 'play';

export interface BenchResult {
  mode: Mode;
  calls: { requested: number; connected: number; completed: number; failed: number };
  durationS: number;
  sampleRate: number;
  frames: {
    sent: number;
    received: number;
    echoed: number | null;
    serverReceived: number | null;
    /** Play mode: stamped prompt frames received. */
    played: number | null;
    lost: number;
    lossPct: number;
  };
  echoLatencyMs: { p50: number; p99: number; max: number; count: number } | null;
  arrivalGapMs: { p50: number; p99: number; max: number; count: number };
  server: { engine: string | null; pid: number | null; cpuPct: number | null; rssMb: number | null; rssPeakMb: number | null; underruns: number | null };
  /** With --rss-every: the server's RSS and the frames so far, over the steady state. */
  soak: SoakReport | null;
  generator: { sendLatenessMs: { p50: number; p99: number; max: number; count: number }; cpuPct: number };
  violations: number;
}

export interface SoakSample {
  /** Seconds since every call was up. */
  atS: number;
  rssMb: number;
  framesSent: number;
  /** Frames sent and not (yet) echoed or counted: in flight, or lost. */
  framesMissing: number;
  /**
   * The server's JavaScript heap as V8 has sized it (`nodejs_heap_size_total_bytes`), MB: RSS
   * minus this is what the engine and Node hold outside the heap. Null without a metrics URL.
   */
  jsHeapMb: number | null;
}

export interface SoakReport {
  everyS: number;
  warmupS: number;
  samples: SoakSample[];
  /**
   * RSS growth over the steady state after the warm-up, %: the mean of its last quarter of
   * samples against the mean of its first quarter (means, so that one collection does not
   * decide it).
   */
  rssGrowthPct: number | null;
  /**
   * The same for RSS minus the JavaScript heap V8 has sized: the engine's and Node's native
   * memory, without the heap's own growth to its configured size. Null without a metrics URL.
   */
  outsideHeapGrowthPct: number | null;
}

/** `audiosocket bench`: N simulated calls against a server; prints loss, latency, pacing and cost. */
export async function bench(args: string[]): Promise<number> {
  const { values } = parse(args, OPTIONS);
  if (values.help) return void console.log(BENCH_USAGE), 0;
  const calls = int('calls', values.calls, 100, 1, 100_000);
  const durationS = num('duration', values.duration, 10, 1, 86_400);
  const rampS = num('ramp', values.ramp, 2, 0, 86_400);
  if (rampS >= durationS) throw new UsageError('--ramp must be shorter than --duration');
  const sampleRate = sampleRateOption(values.rate);
  const mode = oneOf('mode', values.mode, ['echo', 'listen', 'play'] as const, 'echo');
  if (values.target && (values.engine || values['server-cpu'] || values['prebuffer-ms'] || values['max-latency-ms'] || values['stall-ms'] || values['node-options'])) {
    throw new UsageError('--engine, --server-cpu, --prebuffer-ms, --max-latency-ms, --stall-ms and --node-options start a server: not with --target');
  }
  if (values.target && mode === 'play') throw new UsageError('--mode play starts a server: not with --target');
  const caller = oneOf('caller', values.caller, ['talk', 'silent'] as const, 'talk');
  if (caller === 'silent' && mode !== 'play') throw new UsageError('--caller silent goes with --mode play (nothing to echo or count otherwise)');
  if ((values.pid || values['metrics-url']) && !values.target) throw new UsageError('--pid and --metrics-url go with --target');
  const rssEveryS = values['rss-every'] === undefined ? null : num('rss-every', values['rss-every'], 0, 0.1, 86_400);
  const warmupS = num('warmup', values.warmup, 60, 0, 86_400);
  if (values.warmup !== undefined && rssEveryS === null) throw new UsageError('--warmup goes with --rss-every');

  const server = values.target
    ? { ...hostPort(values.target, '--target'), pid: values.pid ? int('pid', values.pid, 0, 1, 2 ** 31) : null, engine: null, metricsUrl: values['metrics-url'] ?? null, child: null }
    : await startServer({
        engine: oneOf('engine', values.engine, ['auto', 'native', 'js'] as const, 'auto'),
        cpu: values['server-cpu'] === undefined ? null : int('server-cpu', values['server-cpu'], 0, 0, 1023),
        prebufferMs: int('prebuffer-ms', values['prebuffer-ms'], 0, 0, 1000),
        maxLatencyMs: values['max-latency-ms'] === undefined ? null : int('max-latency-ms', values['max-latency-ms'], 0, 20, 3_600_000),
        stallMs: int('stall-ms', values['stall-ms'], 0, 0, 60_000),
        nodeOptions: values['node-options']?.split(/\s+/).filter(Boolean) ?? [],
        rate: sampleRate,
        mode,
        promptS: durationS + rampS + 5,
      });

  try {
    const generator = new LoadGenerator({
      host: server.host,
      port: server.port,
      sampleRate,
      durationMs: durationS * 1000,
      lingerMs: LINGER_MS,
      returns: mode === 'play' ? 'play' : 'echo',
      silent: caller === 'silent',
      phases: int('phases', values.phases, 1, 1, 20),
    });
    const serverFramesBefore = mode === 'listen' && server.metricsUrl ? await metric(server.metricsUrl, 'audiosocket_frames_in_total') : null;
    const generatorStart = sampleProcess()!;
    // Calls connect evenly over the ramp, from one timer.
    const started = performance.now();
    let opened = 0;
    await new Promise<void>((resolve) => {
      const open = () => {
        const due = rampS === 0 ? calls : Math.min(calls, Math.floor(((performance.now() - started) / (rampS * 1000)) * calls) + 1);
        while (opened < due) {
          generator.start();
          opened++;
        }
        if (opened < calls) setTimeout(open, 5);
        else resolve();
      };
      open();
    });
    // Server cost is measured in the steady state: every call up, none finished.
    await waitUntil(() => generator.connected + generator.failed >= calls);
    const steadyFrom = server.pid ? sampleProcess(server.pid) : null;
    const progress = values.json || !process.stderr.isTTY ? null : setInterval(() => report(generator, calls), 1000);
    let rssPeak = 0;
    const rssSampler = setInterval(() => (rssPeak = Math.max(rssPeak, server.pid ? (sampleProcess(server.pid)?.rss ?? 0) : 0)), 500);
    let steadyTo: ProcessSample | null = null;
    const soak = rssEveryS === null ? null : new SoakRecorder(rssEveryS, warmupS, server.pid, server.metricsUrl, generator, mode);
    await waitUntil(() => {
      if (!steadyTo && generator.finished > 0) {
        steadyTo = server.pid ? sampleProcess(server.pid) : null;
        soak?.stop();
      }
      return generator.active === 0 && generator.connected + generator.failed >= calls;
    });
    steadyTo ??= server.pid ? sampleProcess(server.pid) : null;
    soak?.stop();
    clearInterval(rssSampler);
    if (progress) clearInterval(progress), process.stderr.write('\r\x1b[K');
    const generatorEnd = sampleProcess()!;
    const serverEnd = server.pid ? sampleProcess(server.pid) : null;
    const serverFramesAfter = serverFramesBefore !== null ? await metric(server.metricsUrl!, 'audiosocket_frames_in_total') : null;
    const underruns = server.metricsUrl ? await metric(server.metricsUrl, 'audiosocket_underruns_total') : null;

    const serverReceived = serverFramesAfter !== null ? serverFramesAfter - serverFramesBefore! : null;
    const lost =
      mode === 'play'
        ? generator.framesSkipped
        : Math.max(0, generator.framesSent - ((mode === 'echo' ? generator.framesEchoed : serverReceived) ?? generator.framesSent));
    const lossBase = mode === 'play' ? generator.framesPlayed + generator.framesSkipped : generator.framesSent;
    const mb = (bytes: number | undefined) => (bytes === undefined ? null : Math.round((bytes / 1048576) * 10) / 10);
    const result: BenchResult = {
      mode,
      calls: { requested: calls, connected: generator.connected, completed: generator.finished, failed: generator.failed },
      durationS,
      sampleRate,
      frames: {
        sent: generator.framesSent,
        received: generator.framesReceived,
        echoed: mode === 'echo' ? generator.framesEchoed : null,
        serverReceived,
        played: mode === 'play' ? generator.framesPlayed : null,
        lost,
        lossPct: lossBase ? Math.round((lost / lossBase) * 1e6) / 1e4 : 0,
      },
      echoLatencyMs: mode === 'echo' ? generator.echoLatency.summary() : null,
      arrivalGapMs: generator.arrivalGaps.summary(),
      server: {
        engine: server.engine,
        pid: server.pid,
        cpuPct: steadyFrom && steadyTo ? Math.round(cpuPercent(steadyFrom, steadyTo) * 10) / 10 : null,
        rssMb: mb(serverEnd?.rss),
        rssPeakMb: server.pid ? mb(rssPeak) : null,
        underruns,
      },
      soak: soak?.report() ?? null,
      generator: { sendLatenessMs: generator.sendLateness.summary(), cpuPct: Math.round(cpuPercent(generatorStart, generatorEnd) * 10) / 10 },
      violations: generator.violations,
    };
    console.log(values.json ? JSON.stringify(result) : format(result));
    return result.calls.failed > 0 || result.frames.lost > 0 || result.violations > 0 ? 1 : 0;
  } finally {
    await server.child?.stop();
  }
}

interface StartedServer {
  host: string;
  port: number;
  pid: number;
  engine: string;
  metricsUrl: string;
  child: { stop(): Promise<void> };
}

/** Starts `audiosocket serve` as a child process (optionally pinned to a core) and waits for its address. */
interface ServerOptions {
  engine: string;
  cpu: number | null;
  prebufferMs: number;
  /** The server's maxLatencyMs, or null for none. */
  maxLatencyMs: number | null;
  stallMs: number;
  /** Node.js options, before the script. */
  nodeOptions: string[];
  rate: number;
  mode: Mode;
  /** Play mode: seconds of stamped prompt, longer than any call. */
  promptS: number;
}

async function startServer(options: ServerOptions): Promise<StartedServer> {
  const cli = path.join(__dirname, 'main.js');
  if (!existsSync(cli)) throw new UsageError(`cannot start a server: ${cli} is missing (build with npm run build)`);
  const source = options.mode === 'echo' ? ['--echo'] : options.mode === 'listen' ? ['--listen'] : ['--play', writeStampedPrompt(options.rate, options.promptS)];
  const serveArgs = [...options.nodeOptions, cli, 'serve', '--port', '0', '--metrics', '0', '--quiet', '--connection-rate', 'off', '--engine', options.engine, '--rate', String(options.rate), '--prebuffer-ms', String(options.prebufferMs), ...(options.maxLatencyMs === null ? [] : ['--max-latency-ms', String(options.maxLatencyMs)]), '--stall-ms', String(options.stallMs), ...source];
  const [command, args] = options.cpu === null ? [process.execPath, serveArgs] : ['taskset', ['-c', String(options.cpu), process.execPath, ...serveArgs]];
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const found = /listening on .*/.exec(output);
      if (found) resolve(found[0]);
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${output.trim()}`)));
  });
  const match = /listening on ([^ ]+):(\d+) \((\w+) engine.*metrics on ([^ ]+):(\d+)/.exec(line);
  if (!match) throw new Error(`unexpected server output: ${line}`);
  return {
    host: match[1]!,
    port: Number(match[2]),
    pid: child.pid!,
    engine: match[3]!,
    metricsUrl: `http://${match[4]}:${match[5]}/metrics`,
    child: {
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    },
  };
}

/** A counter's value from a server's /metrics. */
function metric(url: string, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        const match = new RegExp(`^${name} (\\d+)`, 'm').exec(body);
        if (match) resolve(Number(match[1]));
        else reject(new Error(`no ${name} at ${url}`));
      });
    }).on('error', reject);
  });
}

/** Soak mode: the server's RSS and the frames still missing, every few seconds of the steady state. */
class SoakRecorder {
  readonly #samples: SoakSample[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #started = performance.now();

  constructor(
    readonly everyS: number,
    readonly warmupS: number,
    pid: number | null,
    metricsUrl: string | null,
    generator: LoadGenerator,
    mode: Mode,
  ) {
    this.#timer = setInterval(async () => {
      const rss = pid ? sampleProcess(pid)?.rss : undefined;
      if (rss === undefined) return;
      const atS = Math.round((performance.now() - this.#started) / 100) / 10;
      const answered = mode === 'play' ? generator.framesPlayed : generator.framesEchoed;
      const framesSent = generator.framesSent;
      const framesMissing = mode === 'listen' ? 0 : Math.max(0, framesSent - answered);
      const heap = metricsUrl ? await metric(metricsUrl, 'nodejs_heap_size_total_bytes').catch(() => null) : null;
      const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
      this.#samples.push({ atS, rssMb: mb(rss), framesSent, framesMissing, jsHeapMb: heap === null ? null : mb(heap) });
    }, everyS * 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  report(): SoakReport {
    const warm = this.#samples.filter((s) => s.atS >= this.warmupS);
    const rssGrowthPct = growthPct(warm.map((s) => s.rssMb));
    const outside = warm.every((s) => s.jsHeapMb !== null) ? warm.map((s) => s.rssMb - s.jsHeapMb!) : [];
    const outsideHeapGrowthPct = growthPct(outside);
    return { everyS: this.everyS, warmupS: this.warmupS, samples: this.#samples, rssGrowthPct, outsideHeapGrowthPct };
  }
}

/** The mean of the last quarter of `values` against the mean of the first, %; null with fewer than 4. */
function growthPct(values: number[]): number | null {
  const quarter = Math.floor(values.length / 4);
  if (quarter === 0) return null;
  const mean = (part: number[]) => part.reduce((sum, v) => sum + v, 0) / part.length;
  const [first, last] = [mean(values.slice(0, quarter)), mean(values.slice(-quarter))];
  return Math.round(((last - first) / first) * 1000) / 10;
}

function waitUntil(predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (predicate() ? resolve() : setTimeout(check, 20));
    check();
  });
}

function report(generator: LoadGenerator, calls: number): void {
  const lateness = generator.sendLateness.summary();
  process.stderr.write(
    `\r\x1b[Kcalls ${generator.active} up, ${generator.connected}/${calls} connected, ${generator.failed} failed | ` +
      `sent ${generator.framesSent} received ${generator.framesReceived} | send lateness p99 ${lateness.p99} ms`,
  );
}

function format(r: BenchResult): string {
  const l = r.echoLatencyMs;
  return [
    `bench: ${r.calls.requested} calls (${r.mode}, ${r.sampleRate} Hz, ${r.durationS} s) against ${r.server.engine ?? 'a running'} server`,
    `  calls      connected ${r.calls.connected}, completed ${r.calls.completed}, failed ${r.calls.failed}`,
    `  frames     sent ${r.frames.sent}, ${r.mode === 'echo' ? `echoed ${r.frames.echoed}` : r.mode === 'play' ? `prompt frames received ${r.frames.played}` : `server received ${r.frames.serverReceived ?? 'n/a'}`}, lost ${r.frames.lost} (${r.frames.lossPct} %)`,
    l ? `  echo       round trip p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms` : null,
    `  pacing     arrival gaps p50 ${r.arrivalGapMs.p50} ms, p99 ${r.arrivalGapMs.p99} ms, max ${r.arrivalGapMs.max} ms`,
    `  server     cpu ${r.server.cpuPct ?? 'n/a'} % of a core, rss ${r.server.rssMb ?? 'n/a'} MB (peak ${r.server.rssPeakMb ?? 'n/a'} MB), underruns ${r.server.underruns ?? 'n/a'}`,
    `  generator  cpu ${r.generator.cpuPct} %, send lateness p50 ${r.generator.sendLatenessMs.p50} ms, p99 ${r.generator.sendLatenessMs.p99} ms, max ${r.generator.sendLatenessMs.max} ms`,
    `  violations ${r.violations}`,
    ...(r.soak ? soakLines(r.soak) : []),
  ]
    .filter((line) => line !== null)
    .join('\n');
}

function soakLines(soak: SoakReport): string[] {
  return [
    `  soak       rss every ${soak.everyS} s; growth after ${soak.warmupS} s of warm-up: ${soak.rssGrowthPct ?? 'n/a'} % (outside the JS heap: ${soak.outsideHeapGrowthPct ?? 'n/a'} %)`,
    ...soak.samples.map((s) => `    t ${s.atS} s  rss ${s.rssMb} MB  js heap ${s.jsHeapMb ?? 'n/a'} MB  sent ${s.framesSent}  not yet answered ${s.framesMissing}`),
  ];
}
