import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../src/native/loader';
import { until } from './helpers/harness';

/**
 * The published package, proven the way a user meets it: `npm pack` (with this platform's
 * binary under prebuilds/), then an install of that one tarball into an empty project with the
 * network unused (--offline, an empty cache), then a real server and client round trip.
 */
const native = loadNative().binding !== null;
const repo = path.resolve('.');
let app = '';
let tarball = '';

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return spawnSync(command, args, { encoding: 'utf8', cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 120_000 });
}

/** A script run inside the installed project: echo round trip through the installed package. */
const ROUND_TRIP = `
const { AudioSocketServer, AudioSocketClient } = require('audiosocket');
(async () => {
  const server = new AudioSocketServer();
  server.on('call', (call) => call.on('audio', (pcm) => call.write(pcm)));
  const { port } = await server.listen({ port: 0 });
  const client = await AudioSocketClient.connect({ port, strict: true });
  const pcm = new Int16Array(1600).map((_, i) => 1000 + i);
  await client.play(pcm);
  const deadline = Date.now() + 20000;
  const audio = () => client.received.filter((f) => f.payload.some((b) => b !== 0));
  while (audio().length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const echoed = Buffer.concat(audio().map((f) => f.payload));
  await client.hangup();
  await server.close();
  console.log(JSON.stringify({ engine: server.engine, exact: echoed.equals(Buffer.from(pcm.buffer)) }));
})();
`;

describe('the packed tarball', () => {
  beforeAll(() => {
    const dir = mkdtempSync(path.join(tmpdir(), 'audiosocket-dist-'));
    if (native) expect(run('npm', ['run', '--silent', 'prebuilds'], { cwd: repo }).status).toBe(0);
    const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], { cwd: repo });
    expect(pack.status, pack.stderr).toBe(0);
    tarball = path.join(dir, JSON.parse(pack.stdout)[0].filename);
    app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const install = run('npm', ['install', '--offline', '--cache', path.join(dir, 'empty-cache'), '--no-audit', '--no-fund', tarball], { cwd: app });
    expect(install.status, install.stderr).toBe(0);
  }, 300_000);

  it('holds only what users need, and says how big it is', () => {
    const list = run('tar', ['tzf', tarball], { cwd: app }).stdout.split('\n').filter(Boolean);
    const own = list.filter((f) => !f.startsWith('package/node_modules/'));
    expect(own.some((f) => f.startsWith('package/__test__') || f.startsWith('package/src/') || f.startsWith('package/crate/'))).toBe(false);
    expect(own.some((f) => f.endsWith('.map') || f.includes('fixtures'))).toBe(false);
    expect(own).toContain('package/dist/index.js');
    expect(own).toContain('package/dist/index.d.ts');
    const size = statSync(tarball).size;
    console.log(`tarball: ${(size / 1048576).toFixed(2)} MB, ${list.length} files (${own.length} of its own, the rest bundled dependencies)`);
    expect(size).toBeLessThan(8 * 1048576);
  });

  it.runIf(native)('installed offline, it runs the native engine from prebuilds/', () => {
    const result = run(process.execPath, ['-e', ROUND_TRIP], { cwd: app, env: { AUDIOSOCKET_REQUIRE_NATIVE: '' } });
    expect(result.stderr).toBe('');
    const { engine, exact } = JSON.parse(result.stdout);
    expect(engine.name).toBe('native');
    expect(engine.reason).toContain('prebuilds');
    expect(exact).toBe(true);
  });

  it('with the binary gone, the same script runs the TypeScript engine and says why', () => {
    const installed = path.join(app, 'node_modules/audiosocket');
    const copy = mkdtempSync(path.join(tmpdir(), 'audiosocket-nobinary-'));
    // A copy of the installed app without prebuilds/, so the other tests keep theirs.
    cpSync(app, copy, { recursive: true });
    rmSync(path.join(copy, 'node_modules/audiosocket/prebuilds'), { recursive: true, force: true });
    expect(readdirSync(installed)).toContain('dist');
    const result = run(process.execPath, ['-e', ROUND_TRIP], { cwd: copy, env: { AUDIOSOCKET_REQUIRE_NATIVE: '' } });
    expect(result.stderr).toBe('');
    const { engine, exact } = JSON.parse(result.stdout);
    expect(engine.name).toBe('js');
    expect(engine.reason).toMatch(/no usable native binary .*prebuilds: /);
    expect(exact).toBe(true);
  });

  it('AUDIOSOCKET_ENGINE=js forces the TypeScript engine in the installed package', () => {
    const result = run(process.execPath, ['-e', ROUND_TRIP], { cwd: app, env: { AUDIOSOCKET_ENGINE: 'js', AUDIOSOCKET_REQUIRE_NATIVE: '' } });
    expect(JSON.parse(result.stdout).engine).toEqual({ name: 'js', reason: 'AUDIOSOCKET_ENGINE=js forces the TypeScript engine' });
  });

  it('npx audiosocket works from the installed tarball', () => {
    const result = run('npx', ['--no-install', 'audiosocket', '--help'], { cwd: app });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('usage: audiosocket <command>');
  });

  it("the README's quick start, followed in the installed app: echo.mjs as written, then npx audiosocket call", async () => {
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
    const script = /```js\n([\s\S]*?)```/.exec(quickStart)![1]!;
    const command = /^npx audiosocket call .*$/m.exec(quickStart)![0];
    // The README's port is 9092, which another test may hold: both sides move to a free one.
    const port = String(await freePort());
    writeFileSync(path.join(app, 'echo.mjs'), script.replaceAll('9092', port));
    const server = spawn(process.execPath, ['echo.mjs'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (b) => (output += b));
    server.stderr.on('data', (b) => (output += b));
    try {
      await until(() => output.includes(`listening on 127.0.0.1:${port}`) || server.exitCode !== null, 'echo.mjs to listen');
      const [npx, ...args] = command.replace('9092', port).split(' ');
      const call = run(npx!, ['--no-install', ...args], { cwd: app });
      expect(call.status, call.stderr).toBe(0);
      expect(call.stdout).toMatch(/sent 100 frames, received \d+ \(100 audio, \d+ silence\).*no errors/);
    } finally {
      server.kill();
    }
  });

  it('types resolve for import and for require', () => {
    writeFileSync(path.join(app, 'esm.mts'), "import { AudioSocketServer, type Call } from 'audiosocket';\nimport { encodeHangup } from 'audiosocket/protocol';\nconst s: AudioSocketServer = new AudioSocketServer();\nexport const f = (c: Call) => c.id + encodeHangup().length + String(s);\n");
    writeFileSync(path.join(app, 'cjs.cts'), "import audiosocket = require('audiosocket');\nimport dsp = require('audiosocket/dsp');\nexport const s: audiosocket.AudioSocketServer = new audiosocket.AudioSocketServer();\nexport const r = new dsp.Resampler(8000, 16000);\n");
    const tsc = run(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', '--typeRoots', path.join(repo, 'node_modules/@types'), 'esm.mts', 'cjs.cts'], { cwd: app });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
