// Memory per call: RSS growth of a server with N idle calls (connected, UUID sent, no audio
// either way), divided by N. The server runs in its own process, JS side included.
//
//   node bench/memory.mjs --engines native,js,go --calls 1000
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROGRAMS, cli, program, root, startListening, stop } from './servers.mjs';

const { values } = parseArgs({ options: { engines: { type: 'string', default: 'native,js,go' }, calls: { type: 'string', default: '1000' } } });
const { AudioSocketClient } = await import(path.join(root, 'dist/index.js'));
const calls = Number(values.calls);

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function start(engine) {
  if (engine === 'go') return startListening(program('go'), PROGRAMS.go.args, null);
  return startListening(process.execPath, [cli, 'serve', '--port', '0', '--quiet', '--connection-rate', 'off', '--engine', engine], null);
}

console.log(`| server | RSS before (MB) | RSS with ${calls} idle calls (MB) | per call (KiB) |`);
console.log('|---|---|---|---|');
for (const engine of values.engines.split(',')) {
  const { child, port } = await start(engine);
  // Warm up: one call through, so lazily built state (JIT, pools) is not charged to the calls.
  const warm = await AudioSocketClient.connect({ port, record: false });
  await sleep(500);
  await warm.hangup();
  await sleep(1000);
  const before = rssKb(child.pid);
  const clients = [];
  for (let i = 0; i < calls; i++) clients.push(await AudioSocketClient.connect({ port, record: false }));
  await sleep(5000);
  const after = rssKb(child.pid);
  console.log(`| ${engine} | ${(before / 1024).toFixed(1)} | ${(after / 1024).toFixed(1)} | ${((after - before) / calls).toFixed(1)} |`);
  for (const client of clients) client.destroy();
  await stop(child);
}
