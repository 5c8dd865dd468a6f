import { spawn, type ChildProcess } from 'node:child_process';
import { until } from '../helpers/harness';

export interface RunningExample {
  child: ChildProcess;
  port: number;
  /** The engine the example says it runs. */
  engine: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts an example the way its header says (`node examples/NAME/index.mjs`), on a free port,
 * and waits for its "listening on HOST:PORT (ENGINE engine...)" line. Examples import
 * 'audiosocket' by name, which resolves to this package's dist/ (npm test builds it first).
 */
export async function startExample(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningExample> {
  const child = spawn(process.execPath, [file, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (b) => (output += b));
  child.stderr!.on('data', (b) => (output += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(() => /listening on/.test(output) || child.exitCode !== null, `${file} to listen`);
  const match = /listening on [^ ]+:(\d+) \((\w+) engine/.exec(output);
  if (!match) throw new Error(`${file} did not start: ${output}`);
  return {
    child,
    port: Number(match[1]),
    engine: match[2]!,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * The frequency of a pure tone in one frame of 16-bit little-endian PCM, Hz, from its zero
 * crossings: enough to tell the examples' tones apart (they are hundreds of Hz apart).
 */
export function toneHz(payload: Uint8Array, sampleRate: number): number {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const samples = payload.byteLength >> 1;
  let crossings = 0;
  for (let i = 1; i < samples; i++) {
    if (view.getInt16(2 * i - 2, true) < 0 !== view.getInt16(2 * i, true) < 0) crossings++;
  }
  return (crossings * sampleRate) / (2 * samples);
}
