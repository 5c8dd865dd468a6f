import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioSocketServer } from '../../src';
import { AudioSocketClient } from '../../src/client';
import { tone } from '../../src/cli/call';
import { writeWav } from '../../src/wav';
import { CLI, runCli } from '../helpers/cli';
import { until } from '../helpers/harness';
import { dialplanProblems, externalMediaProblems } from './asterisk';
import { codeBlocks, codeSpans, documents, sections, type CodeBlock } from './markdown';
import { shellCommands } from './shell';

/**
 * No snippet rots silently: every fenced block of README.md, docs/ and the examples' READMEs is
 * checked by its language. ts and js are type-checked against the built package; sh commands
 * are checked against what runs them (the CLI's own parser, files, npm scripts), and the CLI
 * ones that can run here are run; dialplan and ARI requests, which need an Asterisk, are held to
 * the shapes PROTOCOL.md gives; text (diagrams, layouts, sample output) may only name paths that
 * exist. Sample output is compared with the real output by the test that runs its command
 * (readme.test.ts, cli/ws-transcriber.test.ts).
 */
const BLOCKS = documents().flatMap(codeBlocks);
const LANGUAGES = ['ts', 'js', 'sh', 'dialplan', 'text'];
const where = (block: CodeBlock, offset = 0) => `${block.file}:${block.line + offset}`;

describe('code blocks of README.md, docs/ and examples/', () => {
  it('each says its language, one of those checked here', () => {
    const unchecked = BLOCKS.filter((b) => !LANGUAGES.includes(b.lang)).map((b) => `${where(b)}: \`\`\`${b.lang}`);
    expect(unchecked).toEqual([]);
    expect(BLOCKS.length).toBeGreaterThan(20);
  });

  it('ts and js blocks type-check against the built package, imported by name', () => {
    expect(existsSync('dist/index.d.ts'), 'build first: npm run build:ts').toBe(true);
    const errors = typeCheck(BLOCKS.filter((b) => b.lang === 'ts' || b.lang === 'js'));
    expect(errors).toEqual([]);
  });

  it('dialplan blocks have the shape Asterisk takes, with applications docs/asterisk.md covers', () => {
    const guide = codeSpans(readFileSync('docs/asterisk.md', 'utf8'));
    const covered = (app: string) => guide.some((span) => span.startsWith(`${app}(`));
    const problems = BLOCKS.filter((b) => b.lang === 'dialplan').flatMap((b) => dialplanProblems(b.body, covered).map((p) => `${where(b)}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('text blocks name only paths that exist', () => {
    const missing = BLOCKS.filter((b) => b.lang === 'text').flatMap((b) =>
      [...b.body.matchAll(/(?<![\w/.-])((?:crate|src|examples|__test__|bench|npm|docs|scripts)(?:\/[\w.-]+)*\/?)/g)]
        .map((m) => m[1]!)
        .filter((p) => !existsSync(p))
        .map((p) => `${where(b)}: ${p}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('commands of sh blocks', () => {
  const commands = BLOCKS.filter((b) => b.lang === 'sh').flatMap((b) => shellCommands(b.body, b.line + 1).map((c) => ({ ...c, file: b.file })));
  let echo: AudioSocketServer;
  let echoPort = 0;
  beforeAll(async () => {
    echo = new AudioSocketServer({ engine: 'js' });
    echo.on('call', (call) => call.on('audio', (pcm) => call.write(pcm)));
    echoPort = (await echo.listen({ port: 0 })).port;
  });
  afterAll(() => echo.close());

  it.each(commands.map((c) => [`${c.file}:${c.line} ${c.text}`, c] as const))('%s', async (_, command) => {
    for (const name of Object.keys(command.env)) expect(envKnown(name, command.words), `${name} is neither documented nor read`).toBe(true);
    const [program, ...args] = command.words;
    const cli = cliArgs(command.words);
    if (cli) return checkCli(cli, echoPort);
    if (program === 'npm') return expect(npmProblem(args)).toBeNull();
    if (program === 'npx' && args[0] === 'vitest') return expect(args.slice(2).filter((p) => !existsSync(p))).toEqual([]);
    if (program === 'node') return expect(nodeProblem(args[0]!, command.file)).toBeNull();
    if (program === 'curl') return expect(externalMediaProblems(command.words)).toEqual([]);
    if (program === 'cargo') return expect(cargoProblem(args)).toBeNull();
    throw new Error(`not a command this test knows how to check: ${command.text}`);
  });
});

/** Names fragments may use without declaring them, as docs/api.md's conventions say. */
const CONTEXT = `import type { Socket } from 'node:net';
import type { AudioSocketServer, Call } from 'audiosocket';
declare global {
  const server: AudioSocketServer;
  const call: Call;
  const pcm: Int16Array;
  const prompt: Int16Array;
  const socket: Socket;
}
export {};
`;

/** tsc over every block, each as a module importing 'audiosocket' from this package's exports; errors as doc:line. */
function typeCheck(blocks: CodeBlock[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'audiosocket-docs-'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(path.resolve('.'), path.join(dir, 'node_modules', 'audiosocket'), 'dir');
  writeFileSync(path.join(dir, 'context.d.ts'), CONTEXT);
  const byName = new Map<string, CodeBlock>();
  for (const block of blocks) {
    const name = `${block.file.replace(/[/.]/g, '_')}_L${block.line}.${block.lang === 'ts' ? 'mts' : 'mjs'}`;
    writeFileSync(path.join(dir, name), `${block.body}\nexport {};\n`);
    byName.set(name, block);
  }
  const compilerOptions = {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    lib: ['ES2022'],
    module: 'node16',
    moduleResolution: 'node16',
    types: ['node'],
    typeRoots: [path.resolve('node_modules/@types')],
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['context.d.ts', ...byName.keys()] }));
  const tsc = spawnSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', dir, '--pretty', 'false'], { encoding: 'utf8' });
  const output = `${tsc.stdout}${tsc.stderr}`.trim();
  if (tsc.status === 0) return [];
  return output.split('\n').map((line) => {
    const match = /^(.+?)\((\d+),\d+\): (.*)$/.exec(line);
    const block = match && byName.get(path.basename(match[1]!));
    return block ? `${where(block, Number(match![2]))}: ${match![3]}` : line;
  });
}

/** The arguments of a command that runs the CLI (`npx audiosocket`, `audiosocket`, `node dist/cli/main.js`), or null. */
function cliArgs(words: string[]): string[] | null {
  if (words[0] === 'npx' && words[1] === 'audiosocket') return words.slice(2);
  if (words[0] === 'audiosocket') return words.slice(1);
  if (words[0] === 'node' && words[1] === 'dist/cli/main.js') return words.slice(2);
  return null;
}

/**
 * A synopsis (`[--port 9092] [--echo | --play FILE]`) is given to the CLI's parser as one
 * command line with every option in it, plus --help: parseArgs in strict mode refuses an unknown
 * option, a missing value or a stray argument before --help prints the usage. A concrete command
 * is run: `call` against an echo server (its HOST:PORT replaced), `serve` on a free port until
 * it listens; `bench`, too long to run here, is parsed like a synopsis.
 */
async function checkCli(args: string[], echoPort: number): Promise<void> {
  const command = args[0]!;
  const synopsis = args.some((a) => /[[\]|]/.test(a));
  const parsed = synopsis ? args.map((a) => a.replace(/[[\]]/g, '').replace(/\.\.\.$/, '')).filter((a) => a && a !== '|') : args;
  const help = await runCli([...parsed, '--help']);
  expect(help.stderr).toBe('');
  expect(help.stdout).toMatch(new RegExp(`^usage: audiosocket ${command}`));
  if (synopsis || command === 'bench') return;
  const cwd = mkdtempSync(path.join(tmpdir(), 'audiosocket-docs-cli-'));
  const rate = Number(valueOf(args, '--rate') ?? 8000);
  const play = valueOf(args, '--play');
  if (play) writeWav(path.join(cwd, play), { sampleRate: rate, channels: 1, samples: tone(440, rate, 1) });
  if (command === 'call') {
    expect(args[1], 'write HOST:PORT right after `call`').toMatch(/^(\[[^\]]+\]|[^:]+):\d+$/);
    const run = await runIn(cwd, ['call', `127.0.0.1:${echoPort}`, ...args.slice(2)]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/no errors|"errors":\[\]/);
  } else if (command === 'serve') {
    const serveArgs = withValue(withValue(args.slice(1), '--port', '0'), '--metrics', valueOf(args, '--metrics') === undefined ? undefined : '0');
    await expectServes(cwd, serveArgs);
  }
}

function valueOf(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

/** `args` with `flag`'s value replaced (or the flag added); unchanged when `value` is undefined. */
function withValue(args: string[], flag: string, value: string | undefined): string[] {
  if (value === undefined) return args;
  const at = args.indexOf(flag);
  return at >= 0 ? args.map((a, i) => (i === at + 1 ? value : a)) : [...args, flag, value];
}

function runIn(cwd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * `serve` with `args` listens, logs a call (or its refusal, with `--allow`), then stops cleanly
 * on SIGTERM. The call also proves its JavaScript thread has moved on from startup, where it
 * installs its signal handlers after printing "listening on".
 */
async function expectServes(cwd: string, args: string[]): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(() => output.includes('listening on') || child.exitCode !== null, 'serve to listen');
  const port = Number(/listening on [^ ]+:(\d+)/.exec(output)?.[1]);
  expect(port, output).toBeGreaterThan(0);
  const client = await AudioSocketClient.connect({ port });
  await until(() => output.includes(`call ${client.id} from`) || output.includes('refused 127.0.0.1'), 'serve to log the call');
  await client.hangup();
  child.kill('SIGTERM');
  expect(await exited, output).toBe(0);
}

function npmProblem(args: string[]): string | null {
  const line = args.join(' ');
  if (['install', 'install audiosocket', 'start', 'test'].includes(line)) return null;
  const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
  if (args[0] === 'run' && args[1] && scripts[args[1]]) return null;
  return `npm ${line}: not an npm command of this package`;
}

/** The Rust engine crate, where the cargo commands of the docs run (docs/fuzzing.md says so). */
const ENGINE_CRATE = 'crate/engine';

/**
 * `cargo [+toolchain] ...`: a fuzz target that exists (`fuzz run|cmin|tmin TARGET`), a test file
 * and package of the workspace (`test [-p PKG] [--test NAME]`), or installing cargo-fuzz.
 */
function cargoProblem(args: string[]): string | null {
  const [command, ...rest] = args[0]?.startsWith('+') ? args.slice(1) : args;
  if (command === 'install') return rest[0] === 'cargo-fuzz' ? null : `cargo install ${rest[0]}: not a tool the docs use`;
  if (command === 'fuzz') {
    const target = rest[1] ?? '';
    return ['run', 'cmin', 'tmin'].includes(rest[0] ?? '') && existsSync(path.join(ENGINE_CRATE, 'fuzz/fuzz_targets', `${target}.rs`)) ? null : `cargo fuzz ${rest.join(' ')}: no such fuzz target or command`;
  }
  if (command === 'test') {
    const option = (name: string) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
    const pkg = option('-p');
    if (pkg !== undefined && !readFileSync(path.join(ENGINE_CRATE, 'Cargo.toml'), 'utf8').includes(`name = "${pkg}"`)) return `no package ${pkg}`;
    const test = option('--test');
    if (test !== undefined && !existsSync(path.join(ENGINE_CRATE, 'tests', `${test}.rs`))) return `no test file tests/${test}.rs`;
    return null;
  }
  return `cargo ${args.join(' ')}: not a cargo command the docs use`;
}

/**
 * `node FILE`: a file of the repository, or one the same document tells the reader to create
 * (named in a code span, as the quick start's `echo.mjs`). An example must be run by a test.
 */
function nodeProblem(file: string, doc: string): string | null {
  if (!existsSync(file)) return codeSpans(readFileSync(doc, 'utf8')).includes(file) ? null : `${file} does not exist`;
  if (file.startsWith('examples/') && !testFiles().some((test) => readFileSync(test, 'utf8').includes(file))) return `no test under __test__/ runs ${file}`;
  return null;
}

function testFiles(dir = '__test__'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? testFiles(file) : entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** An environment variable a command sets is documented in docs/api.md, or read by the program it runs. */
function envKnown(name: string, words: string[]): boolean {
  const section = sections(readFileSync('docs/api.md', 'utf8')).find((s) => s.heading === 'Environment variables');
  if (section && codeSpans(section.text).some((span) => span === name || span.startsWith(`${name}=`))) return true;
  if (words[0] === 'cargo') return rustFiles(ENGINE_CRATE).some((file) => readFileSync(file, 'utf8').includes(`"${name}"`));
  const program = words[0] === 'node' ? words[1] : undefined;
  return program !== undefined && existsSync(program) && readFileSync(program, 'utf8').includes(`process.env.${name}`);
}

/** The Rust sources of a crate (src/ and tests/), where a cargo command's environment is read. */
function rustFiles(dir: string): string[] {
  return ['src', 'tests'].flatMap((sub) => (existsSync(path.join(dir, sub)) ? walk(path.join(dir, sub)) : []));
  function walk(at: string): string[] {
    return readdirSync(at, { withFileTypes: true }).flatMap((entry) => {
      const file = path.join(at, entry.name);
      return entry.isDirectory() ? walk(file) : entry.name.endsWith('.rs') ? [file] : [];
    });
  }
}
