// What the benchmark scripts share: building a helper program once, and starting a server that
// prints `listening on HOST:PORT`, pinned to a core.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const cli = path.join(root, 'dist/cli/main.js');

/** The reference and helper programs under bench/: where each lives and how it is built. */
export const PROGRAMS = {
  // The Go reference library's echo.
  go: { dir: 'bench/go-echo', binary: 'go-echo', sources: ['main.go', 'go.mod'], build: ['go', ['build', '-o', 'go-echo', '.']], args: ['-listen', '127.0.0.1:0'] },
  // The same echo reading as the library's own example does: straight from the connection.
  'go-unbuffered': { dir: 'bench/go-echo', binary: 'go-echo', sources: ['main.go', 'go.mod'], build: ['go', ['build', '-o', 'go-echo', '.']], args: ['-listen', '127.0.0.1:0', '-unbuffered'] },
  // The floor: a minimal C epoll echo, one read and one write per frame.
  c: { dir: 'bench/c-echo', binary: 'c-echo', sources: ['echo.c', 'server.h'], build: ['cc', ['-O2', '-o', 'c-echo', 'echo.c']], args: ['127.0.0.1', '0'] },
  // The floor for a paced server: the C echo with the native engine's loop (answers on 5 ms beats).
  'c-paced': { dir: 'bench/c-paced', binary: 'c-paced', sources: ['paced.c', 'paced.h', '../c-echo/server.h'], build: ['cc', ['-O2', '-o', 'c-paced', 'paced.c']], args: ['127.0.0.1', '0'] },
  // The same paced echo on io_uring: a beat's sends and receives submitted together.
  'c-uring': { dir: 'bench/c-uring', binary: 'c-uring', sources: ['uring.c', '../c-paced/paced.h', '../c-echo/server.h'], build: ['cc', ['-O2', '-o', 'c-uring', 'uring.c']], args: ['127.0.0.1', '0'] },
  // The kernel-timestamp pacing observer.
  pacing: { dir: 'bench/go-pacing', binary: 'go-pacing', sources: ['main.go', 'go.mod'], build: ['go', ['build', '-o', 'go-pacing', '.']] },
};

/** The path of PROGRAMS[name], built first if it is missing or older than one of its sources. */
export function program(name) {
  const { dir, binary, sources, build } = PROGRAMS[name];
  const cwd = path.join(root, dir);
  const file = path.join(cwd, binary);
  const built = existsSync(file) ? statSync(file).mtimeMs : -1;
  if (sources.some((source) => statSync(path.join(cwd, source)).mtimeMs > built)) execFileSync(build[0], build[1], { cwd, stdio: 'inherit' });
  return file;
}

/**
 * Starts `command args` on core `cpu` (null: anywhere) and resolves once it prints its address,
 * with the child and that address (`HOST:PORT`); rejects if it exits first.
 */
export function startListening(command, args, cpu) {
  const [file, argv] = cpu === null ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const found = /listening on (\S+)/.exec(output);
      if (found) resolve({ child, address: found[1], port: Number(found[1].split(':').pop()) });
    });
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before listening: ${output.trim()}`)));
  });
}

/** Stops a server started by startListening and waits for it to exit. */
export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
