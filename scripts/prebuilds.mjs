// `npm run prebuilds`: puts this platform's native binary under prebuilds/ in prebuildify's
// layout, so that `npm pack` makes one tarball that installs and runs the native engine with
// neither network nor cargo (node-gyp-build finds it there). prebuildify drives the packing and
// names the file; instead of node-gyp it runs scripts/prebuildify-build.mjs, which hands it the
// binary `napi build` made.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const result = spawnSync(path.join(root, 'node_modules/.bin/prebuildify'), ['--napi', '--tag-libc', '--strip'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PREBUILD_NODE_GYP: path.join(root, 'scripts/prebuildify-build.mjs') },
});
process.exit(result.status ?? 1);
