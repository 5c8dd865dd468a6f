import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { until } from './harness';

/** This directory (vitest runs from the repository root). */
const HELPERS = path.resolve('__test__/helpers');

/** What the good-call process reports at the end (see good-calls.mjs). */
export interface GoodCallsReport {
  calls: number;
  connected: number;
  framesSent: number;
  framesEchoed: number;
  /** Frames not echoed (null with `echo: false`). */
  lost: number | null;
  mismatches: number;
  violations: number;
  serverHangups: number;
  closedEarly: number;
  arrivalGapMs: { p50: number; p99: number; max: number };
  bad: unknown[];
}

export interface GoodCalls {
  /** Every call is connected and streaming. */
  ready: Promise<{ connected: number; failed: number }>;
  /** With `frames`: every call has sent them all. */
  sent: Promise<void>;
  /** Stops sending, waits for every echo, hangs up, and reports. */
  stop(): Promise<GoodCallsReport>;
  kill(): void;
}

/** The UUIDs good-calls.mjs gives its calls start with this. */
export const GOOD_CALL_PREFIX = '600d0000-';

/**
 * `count` good calls (strict Asterisk peers streaming 20 ms frames) from a child process,
 * connected over `rampMs`. The server must echo them (every frame is checked), or with
 * `echo: false` send only idle silence; with `frames`, each call sends that many and stops.
 */
export function startGoodCalls(port: number, count: number, rampMs: number, options: { echo?: boolean; frames?: number } = {}): GoodCalls {
  const child = fork(path.join(HELPERS, 'good-calls.mjs'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages = new Map<string, (message: never) => void>();
  const awaitMessage = <T>(type: string) => new Promise<T>((resolve) => messages.set(type, resolve as (message: never) => void));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the good-call process exited (${code})`))));
  exited.catch(() => {});
  child.on('message', (message: { type: string }) => messages.get(message.type)?.(message as never));
  const ready = Promise.race([awaitMessage<{ connected: number; failed: number }>('ready'), exited]);
  const sent = Promise.race([awaitMessage<void>('sent'), exited]);
  sent.catch(() => {});
  child.send({ type: 'start', port, calls: count, rampMs, echo: options.echo ?? true, frames: options.frames ?? null });
  return {
    ready,
    sent,
    stop() {
      const report = Promise.race([awaitMessage<GoodCallsReport>('report'), exited]);
      child.send({ type: 'stop' });
      return report;
    },
    kill: () => void (child.exitCode === null && child.kill()),
  };
}

export interface IdleConnections {
  /** Local ports of the connections the server had (all of them, unless the kernel dropped some). */
  ports: number[];
  /**
   * Connections the kernel dropped before the server accepted them (its accept queue was full:
   * with SYN cookies this side completed its handshake, the server's never existed), found by
   * a probe once the server has settled all the others. The server cannot see these.
   */
  lost: number;
  /** Closes them all and says how the server treated them. */
  report(): Promise<{ closedByServer: number; hangups: number; stillOpen: number; errors: number }>;
}

/**
 * `count` connections that never send a byte, from a child process (its own descriptors),
 * opened `batch` at a time, each batch once the last is up and `gapMs` after it. Resolves once
 * `settled()` (the server's rejects of them so far) has stopped growing for 3 s, at least
 * `handshakeTimeoutMs` after the last was opened: by then the server has timed out every
 * connection it has, and the rest are probed for.
 */
export async function openIdleConnections(
  port: number,
  count: number,
  options: { batch: number; gapMs: number; handshakeTimeoutMs: number; settled: () => number },
): Promise<IdleConnections> {
  const child = fork(path.join(HELPERS, 'idle-connections.mjs'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`the idle-connection process exited (${code})`)));
    });
  const opened = next<{ ports: number[]; failed: number }>('opened');
  child.send({ type: 'open', port, count, batch: options.batch, gapMs: options.gapMs });
  const { ports, failed } = await opened;
  if (failed > 0) throw new Error(`${failed} of ${count} idle connections failed to connect`);
  const openedAt = Date.now();
  let settled = options.settled();
  let changedAt = Date.now();
  await until(
    () => {
      const now = options.settled();
      if (now !== settled) [settled, changedAt] = [now, Date.now()];
      return settled >= ports.length || (Date.now() - openedAt > options.handshakeTimeoutMs + 1000 && Date.now() - changedAt > 3000);
    },
    'the server to time the idle connections out',
    300_000,
  );
  let lost: number[] = [];
  if (settled < ports.length) {
    const probed = next<{ lost: number[] }>('probed');
    child.send({ type: 'probe' });
    lost = (await probed).lost;
  }
  const lostSet = new Set(lost);
  return {
    ports: ports.filter((p) => !lostSet.has(p)),
    lost: lost.length,
    report() {
      const report = next<{ closedByServer: number; hangups: number; stillOpen: number; errors: number }>('report');
      child.send({ type: 'report' });
      return report;
    },
  };
}

/**
 * A peer that sends its UUID and real-time audio but never reads: a Python process, because
 * only it can shrink its receive buffer (SO_RCVBUF) and segment size (TCP_MAXSEG) so that the
 * kernel holds little of what the server sends; Node.js cannot set either. Without them, loopback
 * buffers take minutes of 8 kHz audio before the server's own bound is reached.
 */
export interface NeverReadingPeer {
  localPort: number;
  close(): void;
  exited: Promise<number | null>;
}

const NEVER_READS = String.raw`
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.connect(('127.0.0.1', int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
s.sendall(bytes.fromhex(sys.argv[2]))
frame = bytes([0x10, 0x01, 0x40]) + bytes([0x11, 0x22]) * 160
start = time.monotonic()
n = 0
while n < int(sys.argv[3]):
    n += 1
    s.sendall(frame)
    time.sleep(max(0, start + n * 0.02 - time.monotonic()))
time.sleep(3600)
`;

export async function neverReadingPeer(port: number, uuidMessage: Uint8Array, frames: number): Promise<NeverReadingPeer> {
  const child: ChildProcess = spawn('python3', ['-c', NEVER_READS, String(port), Buffer.from(uuidMessage).toString('hex'), String(frames)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let failure: Error | null = null;
  child.once('error', (error) => (failure = error));
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  await until(() => /^\d+\n/.test(output) || child.exitCode !== null || failure !== null, 'the never-reading peer to connect');
  if (failure) throw new Error(`python3 is needed for the never-reading peer (it sets SO_RCVBUF and TCP_MAXSEG): ${(failure as Error).message}`);
  if (child.exitCode !== null) throw new Error(`the never-reading peer failed (${child.exitCode})`);
  return { localPort: Number(output.trim()), close: () => void (child.exitCode === null && child.kill('SIGKILL')), exited };
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Peak resident memory of this process since the last reset, bytes: the kernel's high-water
 * mark (VmHWM), reset through /proc/self/clear_refs; where that is not allowed, sampled.
 */
export class PeakRss {
  #sampled = 0;
  #timer: NodeJS.Timeout;
  #kernel: boolean;

  constructor() {
    this.#kernel = resetHighWaterMark();
    this.#timer = setInterval(() => (this.#sampled = Math.max(this.#sampled, process.memoryUsage.rss())), 50);
    this.#timer.unref();
  }

  get bytes(): number {
    const sampled = Math.max(this.#sampled, process.memoryUsage.rss());
    return this.#kernel ? Math.max(sampled, highWaterMark() ?? 0) : sampled;
  }

  stop(): number {
    clearInterval(this.#timer);
    return this.bytes;
  }
}

function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return highWaterMark() !== null;
  } catch {
    return false;
  }
}

function highWaterMark(): number | null {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kib ? Number(kib) * 1024 : null;
  } catch {
    return null;
  }
}

export const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
