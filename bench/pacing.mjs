// Pacing while JavaScript is blocked, timed by the kernel: for each engine, `audiosocket serve`
// plays a stamped prompt into every call and blocks its JavaScript thread --stall-ms every 2 s,
// pinned to one core; the Go observer (bench/go-pacing) holds the calls from the other core and
// times each frame by its kernel receive timestamp (and, beside it, by when it was read).
//
//   node bench/pacing.mjs --engines native,js --calls 1000 --duration 20 --stall-ms 200
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cli, program, root, startListening, stop } from './servers.mjs';

const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: 'native,js' },
    calls: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '20' },
    ramp: { type: 'string', default: '5' },
    'stall-ms': { type: 'string', default: '200' },
    'server-cpu': { type: 'string', default: '0' },
    'observer-cpu': { type: 'string', default: '1' },
  },
});
const { writeStampedPrompt } = await import(path.join(root, 'dist/cli/bench/stamp.js'));

/** CPU time of a process so far, in clock ticks (utime + stime of /proc/PID/stat). */
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function startServer(engine, prompt) {
  const args = [cli, 'serve', '--port', '0', '--metrics', '0', '--quiet', '--connection-rate', 'off', '--engine', engine, '--stall-ms', values['stall-ms'], '--play', prompt];
  const { child, address } = await startListening(process.execPath, args, values['server-cpu']);
  const shown = args.map((a) => (a === cli ? 'dist/cli/main.js' : a === prompt ? 'PROMPT.wav' : a));
  return { child, address, command: `taskset -c ${values['server-cpu']} node ${shown.join(' ')}` };
}

const observer = program('pacing');
const seconds = Number(values.duration) + Number(values.ramp) + 10;
const prompt = writeStampedPrompt(8000, seconds);
const rows = [];
for (const engine of values.engines.split(',')) {
  const server = await startServer(engine, prompt);
  try {
    const args = ['-c', values['observer-cpu'], observer, '-target', server.address, '-calls', values.calls, '-duration', `${values.duration}s`, '-ramp', `${values.ramp}s`];
    const before = cpuTicks(server.child.pid);
    const started = Date.now();
    const result = JSON.parse(execFileSync('taskset', args, { encoding: 'utf8', maxBuffer: 1 << 24 }));
    const cpu = ((cpuTicks(server.child.pid) - before) / 100 / ((Date.now() - started) / 1000)) * 100;
    rows.push({ engine, result, cpu, server: server.command, observer: `taskset ${args.join(' ').replace(observer, 'bench/go-pacing/go-pacing')}` });
  } finally {
    await stop(server.child);
  }
}

const gaps = (p) => `${p.p50} / ${p.p99} / ${p.p999} / ${p.max}`;
console.log(`${values.calls} calls, JavaScript blocked ${values['stall-ms']} ms every 2 s, ${values.duration} s measured\n`);
console.log('| server | kernel arrival gap p50 / p99 / p99.9 / max ms | kernel gap p99 by quarter of the calls, in connection order | read-time gap p50 / p99 / p99.9 / max ms | frames | skipped | silence (underrun) frames | failed calls | server CPU % |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const { engine, result: r, cpu } of rows) {
  const quarters = r.kernelGapMsByQuarter.map((q) => q.p99).join(' / ');
  console.log(`| ${engine} | ${gaps(r.kernelGapMs)} | ${quarters} | ${gaps(r.userspaceGapMs)} | ${r.frames} | ${r.skipped} | ${r.unstamped} | ${r.failed} | ${cpu.toFixed(1)} |`);
}
console.log('\ncommands (PROMPT.wav: a stamped prompt, see writeStampedPrompt in src/cli/bench/stamp.ts):');
for (const { server, observer: command } of rows) console.log(`  ${server}\n  ${command}`);
