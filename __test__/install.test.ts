import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('install from a clone', () => {
  it('without cargo on the PATH the build still succeeds, leaving the TypeScript engine', () => {
    // A copy of the package's sources, so the real dist/ and build/ are not touched.
    const root = mkdtempSync(path.join(tmpdir(), 'audiosocket-install-'));
    for (const entry of ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(entry, path.join(root, entry), { recursive: true });
    symlinkSync(path.resolve('node_modules'), path.join(root, 'node_modules'));
    const pathWithoutCargo = (process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((dir) => !existsSync(path.join(dir, 'cargo')))
      .join(path.delimiter);
    const run = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${pathWithoutCargo}` } });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('cargo not found');
    expect(existsSync(path.join(root, 'dist/index.js'))).toBe(true);
    expect(existsSync(path.join(root, 'build'))).toBe(false);
    const engine = spawnSync(process.execPath, ['-e', "const { AudioSocketServer } = require('./dist'); console.log(new AudioSocketServer().engine.name)"], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AUDIOSOCKET_REQUIRE_NATIVE: '' },
    });
    expect(engine.stdout.trim()).toBe('js');
  });
});
