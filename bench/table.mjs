// Runs `audiosocket bench` for each engine and call count, server pinned to one core and the
// generator to the other, and prints a Markdown table (and the exact command of every row).
//
//   node bench/table.mjs --engines js,native --calls 100,500,1000,2000 --duration 20
//
// Engines: js and native start `audiosocket serve` through the bench itself; go starts the Go
// reference echo server (bench/go-echo, built with `go build`) and c the minimal C epoll echo
// (bench/c-echo, built with `cc`), each measured by --target/--pid.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: 'js' },
    calls: { type: 'string', default: '100,500,1000,2000' },
    duration: { type: 'string', default: '20' },
    ramp: { type: 'string', default: '5' },
    'server-cpu': { type: 'string', default: '0' },
    'generator-cpu': { type: 'string', default: '1' },
  },
});
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(root, 'dist/cli/main.js');

function benchArgs(calls, extra) {
  return ['-c', values['generator-cpu'], process.execPath, cli, 'bench', '--calls', String(calls), '--duration', values.duration, '--ramp', values.ramp, '--json', ...extra];
}

/** The reference servers, each started pinned to the server core: how to build it and run it. */
const REFERENCES = {
  // The Go reference library's echo (bench/go-echo).
  go: { dir: 'bench/go-echo', binary: 'go-echo', build: ['go', ['build', '-o', 'go-echo', '.']], args: ['-listen', '127.0.0.1:0'] },
  // The floor: a minimal C epoll echo, one read and one write per frame (bench/c-echo).
  c: { dir: 'bench/c-echo', binary: 'c-echo', build: ['cc', ['-O2', '-o', 'c-echo', 'echo.c']], args: ['127.0.0.1', '0'] },
};

async function withReferenceServer(name, run) {
  const reference = REFERENCES[name];
  const dir = path.join(root, reference.dir);
  const binary = path.join(dir, reference.binary);
  if (!existsSync(binary)) execFileSync(reference.build[0], reference.build[1], { cwd: dir, stdio: 'inherit' });
  const child = spawn('taskset', ['-c', values['server-cpu'], binary, ...reference.args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise((resolve) => child.stdout.on('data', (b) => /listening on (\S+)/.test(String(b)) && resolve(/listening on (\S+)/.exec(String(b))[1])));
  try {
    return await run(['--target', address, '--pid', String(child.pid)]);
  } finally {
    child.kill('SIGTERM');
  }
}

function runBench(args) {
  const command = `taskset ${args.map((a) => (a === process.execPath ? 'node' : a === cli ? 'dist/cli/main.js' : a)).join(' ')}`;
  try {
    return { command, result: JSON.parse(execFileSync('taskset', args, { encoding: 'utf8', maxBuffer: 1 << 24 })) };
  } catch (error) {
    // bench exits 1 when frames were lost: the JSON is still the measurement.
    return { command, result: JSON.parse(error.stdout) };
  }
}

const rows = [];
for (const engine of values.engines.split(',')) {
  for (const calls of values.calls.split(',').map(Number)) {
    const run = (extra) => runBench(benchArgs(calls, extra));
    const { command, result } =
      engine in REFERENCES ? await withReferenceServer(engine, run) : run(['--engine', engine, '--server-cpu', values['server-cpu']]);
    rows.push({ engine, calls, command, result });
    const r = result;
    console.error(`${engine} ${calls}: cpu ${r.server.cpuPct}% loss ${r.frames.lossPct}% echo p99 ${r.echoLatencyMs?.p99} ms`);
  }
}

console.log('| server | calls | connected | loss % | echo p50 / p99 / max ms | arrival gap p50 / p99 / max ms | server CPU % of a core | server RSS MB | generator send lateness p99 ms |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const { engine, calls, result: r } of rows) {
  const e = r.echoLatencyMs;
  const g = r.arrivalGapMs;
  console.log(
    `| ${engine} | ${calls} | ${r.calls.connected - r.calls.failed} | ${r.frames.lossPct} | ${e.p50} / ${e.p99} / ${e.max} | ${g.p50} / ${g.p99} / ${g.max} | ${r.server.cpuPct} | ${r.server.rssMb} | ${r.generator.sendLatenessMs.p99} |`,
  );
}
console.log('\nCommands:');
for (const { command } of rows) console.log(`    ${command}`);
