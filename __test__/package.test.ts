import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The package as users import it: its own name resolved through the `exports` map of the built
// dist/ (`npm test` builds it first), once from ESM and once from CommonJS.
function node(args: string[]): { stdout: string; stderr: string; status: number | null } {
  return spawnSync(process.execPath, args, { encoding: 'utf8', cwd: process.cwd() });
}

describe('package entry points', () => {
  for (const entry of ['audiosocket', 'audiosocket/protocol']) {
    it(`${entry} imports from ESM with named exports`, () => {
      const code = `import { encodeHangup, Kind, FrameDecoder } from '${entry}';
        import whole from '${entry}';
        console.log(JSON.stringify([encodeHangup().toString('hex'), Kind.Slin16k, typeof FrameDecoder, typeof whole.encodeUuid]));`;
      const run = node(['--input-type=module', '-e', code]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual(['000000', 0x12, 'function', 'function']);
    });

    it(`${entry} requires from CommonJS`, () => {
      const run = node(['-e', `const p = require('${entry}'); console.log(JSON.stringify([p.encodeDtmf('5').toString('hex'), p.Kind.Slin12k]))`]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual(['030001' + '35', 0x11]);
    });
  }

  it('ESM and CommonJS share one implementation', () => {
    const code = `import { createRequire } from 'node:module';
      import { FrameDecoder } from 'audiosocket';
      const cjs = createRequire(import.meta.url)('audiosocket');
      console.log(FrameDecoder === cjs.FrameDecoder);`;
    expect(node(['--input-type=module', '-e', code]).stdout.trim()).toBe('true');
  });
});

describe('subpath entry points', () => {
  const subpaths: Array<[string, string]> = [
    ['audiosocket/dsp', 'Resampler'],
    ['audiosocket/bridge', 'bridgeToWebSocket'],
  ];
  for (const [entry, name] of subpaths) {
    it(`${entry} exports ${name} to ESM and CommonJS`, () => {
      const esm = node(['--input-type=module', '-e', `import { ${name} } from '${entry}'; console.log(typeof ${name});`]);
      expect(esm.stderr).toBe('');
      expect(esm.stdout.trim()).toBe('function');
      expect(node(['-e', `console.log(typeof require('${entry}').${name})`]).stdout.trim()).toBe('function');
    });
  }
});
