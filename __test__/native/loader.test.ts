import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_ABI_VERSION } from '../../src/native/binding';
import { findNative, loadNative } from '../../src/native/loader';

const emptyRoot = () => mkdtempSync(path.join(tmpdir(), 'audiosocket-root-'));

function fakeBinding(abi: number): string {
  const file = path.join(emptyRoot(), 'fake-binding.js');
  writeFileSync(file, `exports.abiVersion = () => ${abi}; exports.engineVersion = () => 'fake';`);
  return file;
}

// Where cargo is available `npm install` builds the binary; CI sets AUDIOSOCKET_REQUIRE_NATIVE=1
// so that a broken build fails here instead of quietly testing only the TypeScript engine.
const native = loadNative();
const nativeExpected = native.binding !== null || process.env.AUDIOSOCKET_REQUIRE_NATIVE === '1';

describe('native loader', () => {
  it.runIf(nativeExpected)('loads the native binary and its ABI version matches', () => {
    expect(native.binding, native.reason).not.toBeNull();
    expect(native.binding!.abiVersion()).toBe(NATIVE_ABI_VERSION);
    expect(native.reason).toMatch(/^native engine /);
  });

  it('AUDIOSOCKET_ENGINE=js forces the TypeScript engine and says so', () => {
    const result = findNative({ AUDIOSOCKET_ENGINE: 'js' });
    expect(result.binding).toBeNull();
    expect(result.reason).toContain('AUDIOSOCKET_ENGINE=js');
  });

  it('AUDIOSOCKET_NATIVE_PATH comes first', () => {
    const file = fakeBinding(NATIVE_ABI_VERSION);
    const result = findNative({ AUDIOSOCKET_NATIVE_PATH: file }, emptyRoot());
    expect(result.source).toBe('env');
    expect(result.target).toBe(file);
    expect(result.attempts).toEqual([]);
  });

  it('a binary of another ABI version is a failed step, and the search goes on', () => {
    const file = fakeBinding(NATIVE_ABI_VERSION + 1);
    const result = findNative({ AUDIOSOCKET_NATIVE_PATH: file }, emptyRoot());
    expect(result.binding).toBeNull();
    expect(result.attempts[0]).toMatchObject({ source: 'env', target: file });
    expect(result.attempts[0]!.error).toMatch(/ABI version \d+ does not match/);
  });

  it('records why each step failed, in order, and falls back', () => {
    const result = findNative({}, emptyRoot());
    expect(result.binding).toBeNull();
    expect(result.attempts.map((a) => a.source)).toEqual(['local', 'prebuilds', 'package']);
    for (const attempt of result.attempts) expect(attempt.error.length).toBeGreaterThan(0);
    expect(result.reason).toContain('no usable native binary');
  });

  it('AUDIOSOCKET_REQUIRE_NATIVE=1 turns a missing binary into a typed error', () => {
    expect(() => findNative({ AUDIOSOCKET_REQUIRE_NATIVE: '1' }, emptyRoot())).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIOSOCKET_NATIVE_UNAVAILABLE' }),
    );
  });

  it('the environment variable reaches a real process', () => {
    // The built package, as users load it (`npm test` builds dist/ first).
    const script = `const { loadNative } = require(${JSON.stringify(path.resolve('dist/index.js'))});
      const r = loadNative(); console.log(JSON.stringify({ binding: r.binding !== null, reason: r.reason }));`;
    const child = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, AUDIOSOCKET_ENGINE: 'js', AUDIOSOCKET_REQUIRE_NATIVE: '' },
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ binding: false, reason: 'AUDIOSOCKET_ENGINE=js forces the TypeScript engine' });
  });
});
