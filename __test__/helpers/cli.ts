import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { until } from './harness';

/** The built CLI, as `npx audiosocket` runs it (npm test builds dist/ first). */
export const CLI = path.resolve('dist/cli/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Serving {
  child: ChildProcess;
  port: number;
  metricsPort: number | null;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `audiosocket serve` with `args` (or `command` with them), `env` added to this process's
 * environment, and waits for its "listening on" line.
 */
export async function startServe(
  args: string[],
  { command = [process.execPath, CLI, 'serve'], env = {} }: { command?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<Serving> {
  const child = spawn(command[0]!, [...command.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (b) => (output += b));
  child.stderr!.on('data', (b) => (output += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(() => /listening on/.test(output) || child.exitCode !== null, 'the server to listen');
  const match = /listening on [^ ]+:(\d+)(?:.*metrics on [^ ]+:(\d+))?/.exec(output);
  if (!match) throw new Error(`serve did not start: ${output}`);
  return {
    child,
    port: Number(match[1]),
    metricsPort: match[2] ? Number(match[2]) : null,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
