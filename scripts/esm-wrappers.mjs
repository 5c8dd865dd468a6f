// Writes an ESM entry (`.mjs`) beside each CommonJS entry point in dist/, re-exporting its named
// exports, so `import { AudioSocketServer } from 'audiosocket'` and `require('audiosocket')`
// share one implementation (and one class identity).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const pkg = require('../package.json');

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target !== 'object') continue;
  const cjs = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', target.require);
  const names = Object.keys(require(cjs)).filter((name) => name !== 'default' && name !== '__esModule');
  const from = `./${path.basename(target.require)}`;
  const body = [
    `// ESM entry for '${path.posix.join(pkg.name, subpath)}': re-exports the CommonJS build.`,
    `import cjs from '${from}';`,
    `export const { ${names.join(', ')} } = cjs;`,
    'export default cjs;',
    '',
  ].join('\n');
  writeFileSync(path.resolve(path.dirname(cjs), path.basename(target.import)), body);
}
