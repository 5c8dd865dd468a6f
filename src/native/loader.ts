import { existsSync } from 'node:fs';
import path from 'node:path';
import { AudioSocketError, ErrorCode } from '../errors';
import { NATIVE_ABI_VERSION, type NativeBinding } from './binding';

/** Where the loader looked, in order. */
export type NativeSource = 'env' | 'local' | 'prebuilds' | 'package';

/** One place the native loader tried, and why it was not used. */
export interface LoadAttempt {
  /** Which kind of place. */
  source: NativeSource;
  /** The file or package tried. */
  target: string;
  /** Why it was not used. */
  error: string;
}

/** What {@link loadNative} found. */
export interface NativeLoadResult {
  /** The binding, or `null` when the TypeScript engine must be used. */
  binding: NativeBinding | null;
  /** Where the binding came from. */
  source: NativeSource | null;
  /** The file or package the binding came from. */
  target: string | null;
  /** Every step that failed before the one that worked (or all of them). */
  attempts: LoadAttempt[];
  /** One line saying which engine the result implies and why. */
  reason: string;
}

/** Environment variables read by the loader. */
export const EnvVar = {
  /** Path of a `.node` file to load before anything else. */
  NATIVE_PATH: 'AUDIOSOCKET_NATIVE_PATH',
  /** `js` forces the TypeScript engine; `native` is the same as AUDIOSOCKET_REQUIRE_NATIVE=1. */
  ENGINE: 'AUDIOSOCKET_ENGINE',
  /** `1`: a missing or unusable binary is an error instead of a fallback to the TypeScript engine. */
  REQUIRE_NATIVE: 'AUDIOSOCKET_REQUIRE_NATIVE',
} as const;

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
const BINARY_NAME = 'audiosocket';

let cached: NativeLoadResult | undefined;

/**
 * The native engine for this process, found once by {@link findNative} with `process.env` and
 * this package's own files, then cached.
 */
export function loadNative(): NativeLoadResult {
  cached ??= findNative();
  return cached;
}

/**
 * Looks for the native engine: `AUDIOSOCKET_NATIVE_PATH`, the local `napi build` output,
 * `prebuilds/` (prebuildify layout, via node-gyp-build), then the per-platform npm package. A
 * binary whose ABI version differs from this package's counts as a failed step. Throws
 * `ERR_AUDIOSOCKET_NATIVE_UNAVAILABLE` when nothing loads and the environment requires native.
 */
export function findNative(env: NodeJS.ProcessEnv = process.env, root: string = PACKAGE_ROOT): NativeLoadResult {
  const result = tryLoad(env, root);
  if (!result.binding && nativeRequired(env)) {
    throw new AudioSocketError(ErrorCode.NATIVE_UNAVAILABLE, `the native engine is required but ${result.reason}`);
  }
  return result;
}

function nativeRequired(env: NodeJS.ProcessEnv): boolean {
  return env[EnvVar.REQUIRE_NATIVE] === '1' || env[EnvVar.ENGINE] === 'native';
}

function tryLoad(env: NodeJS.ProcessEnv, root: string): NativeLoadResult {
  const attempts: LoadAttempt[] = [];
  if (env[EnvVar.ENGINE] === 'js') {
    return { binding: null, source: null, target: null, attempts, reason: `${EnvVar.ENGINE}=js forces the TypeScript engine` };
  }
  const triple = platformTriple();
  const candidates: Array<{ source: NativeSource; target: string; load: () => unknown }> = [];
  const explicit = env[EnvVar.NATIVE_PATH];
  if (explicit) candidates.push({ source: 'env', target: explicit, load: () => requireFile(explicit) });
  const local = path.join(root, 'build', `${BINARY_NAME}.${triple}.node`);
  candidates.push({ source: 'local', target: local, load: () => requireFile(local) });
  candidates.push({
    source: 'prebuilds',
    target: path.join(root, 'prebuilds'),
    load: () => require('node-gyp-build')(root),
  });
  const pkg = `${BINARY_NAME}-${triple}`;
  candidates.push({ source: 'package', target: pkg, load: () => require(require.resolve(pkg, { paths: [root] })) });

  for (const candidate of candidates) {
    try {
      const binding = checkAbi(candidate.load());
      return {
        binding,
        source: candidate.source,
        target: candidate.target,
        attempts,
        reason: `native engine ${binding.engineVersion()} from ${candidate.source} (${candidate.target})`,
      };
    } catch (error) {
      attempts.push({ source: candidate.source, target: candidate.target, error: firstLine(error) });
    }
  }
  const tried = attempts.map((a) => `${a.source}: ${a.error}`).join('; ');
  return { binding: null, source: null, target: null, attempts, reason: `no usable native binary for ${triple} (${tried})` };
}

function requireFile(file: string): unknown {
  // A clear message beats require()'s "Cannot find module" with a stack of resolution paths.
  if (!existsSync(file)) throw new Error(`not found: ${file}`);
  return require(file);
}

function checkAbi(exports: unknown): NativeBinding {
  const binding = exports as Partial<NativeBinding> | null;
  const abi = typeof binding?.abiVersion === 'function' ? binding.abiVersion() : undefined;
  if (abi !== NATIVE_ABI_VERSION) {
    throw new Error(`ABI version ${String(abi)} does not match this package's ${NATIVE_ABI_VERSION}`);
  }
  return binding as NativeBinding;
}

/** The napi-rs platform name: `linux-x64-gnu`, `linux-x64-musl`, `darwin-arm64`, `win32-x64-msvc`... */
export function platformTriple(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === 'win32') return `${base}-msvc`;
  if (process.platform !== 'linux') return base;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return `${base}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
