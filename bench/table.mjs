// Runs `audiosocket bench` for each engine and call count, server pinned to one core and the
// generator to the other, and prints a Markdown table (and the exact command of every row).
//
//   node bench/table.mjs --engines js,native --calls 100,500,1000,2000 --duration 20
//
// Engines: js and native start `audiosocket serve` through the bench itself; go starts the Go
// reference echo server (bench/go-echo, built with `go build`; go-unbuffered the same reading
// as the library's own example does, two reads a frame), c the minimal C epoll echo
// (bench/c-echo), c-paced the same echo answering on the native engine's 20 ms clock
// (bench/c-paced) and c-uring that paced echo on io_uring (bench/c-uring), all built with `cc`;
// each is measured by --target/--pid.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { PROGRAMS, cli, program, startListening, stop } from './servers.mjs';

const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: 'js' },
    calls: { type: 'string', default: '100,500,1000,2000' },
    duration: { type: 'string', default: '20' },
    ramp: { type: 'string', default: '5' },
    'server-cpu': { type: 'string', default: '0' },
    'generator-cpu': { type: 'string', default: '1' },
    // Passed to bench: 1, every call sends on the same tick; 20, 1 ms apart, as channels do.
    phases: { type: 'string', default: '1' },
  },
});

function benchArgs(calls, extra) {
  return ['-c', values['generator-cpu'], process.execPath, cli, 'bench', '--calls', String(calls), '--duration', values.duration, '--ramp', values.ramp, '--phases', values.phases, '--json', ...extra];
}

/** The echo servers measured beside ours (bench/servers.mjs has how each is built and run). */
const REFERENCES = ['go', 'go-unbuffered', 'c', 'c-paced', 'c-uring'];

async function withReferenceServer(name, run) {
  const { child, address } = await startListening(program(name), PROGRAMS[name].args, values['server-cpu']);
  try {
    return await run(['--target', address, '--pid', String(child.pid)]);
  } finally {
    await stop(child);
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
      REFERENCES.includes(engine) ? await withReferenceServer(engine, run) : run(['--engine', engine, '--server-cpu', values['server-cpu']]);
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
