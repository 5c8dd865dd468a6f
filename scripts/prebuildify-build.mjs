#!/usr/bin/env node
// Stands in for node-gyp when prebuildify calls `node-gyp rebuild`: the binary comes from
// `napi build` (cargo), not from a binding.gyp. It is built if missing, then copied to
// build/Release/, where prebuildify picks it up and moves it into prebuilds/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
const triple = `${process.platform}-${process.arch}${process.platform === 'linux' ? (glibc ? '-gnu' : '-musl') : process.platform === 'win32' ? '-msvc' : ''}`;
const { binaryName } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).napi;
const binary = path.join(root, 'build', `${binaryName}.${triple}.node`);
if (!existsSync(binary)) {
  const built = spawnSync('npm', ['run', 'build:native'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
mkdirSync(path.join(root, 'build/Release'), { recursive: true });
copyFileSync(binary, path.join(root, 'build/Release', `${binaryName}.node`));
