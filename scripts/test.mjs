// `npm test`: every test of both languages (vitest, then cargo test), then one plain line
// `N passed, N failed` summing the runs, and a non-zero exit if anything failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Type-check everything (tests included), then build: tests that spawn processes run the built
// package, as users do.
for (const step of [['npx', ['tsc', '-p', 'tsconfig.json']], ['npm', ['run', '--silent', 'build:ts']]]) {
  if (spawnSync(step[0], step[1], { stdio: 'inherit' }).status !== 0) {
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

let passed = 0;
let failed = 0;
let broken = false;

const report = path.join(mkdtempSync(path.join(tmpdir(), 'audiosocket-test-')), 'vitest.json');
const vitest = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`], {
  stdio: 'inherit',
});
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  if (vitest.status !== 0 && json.numFailedTests === 0) broken = true; // e.g. a file that failed to load
} catch {
  broken = true;
}

const cargo = spawnSync('cargo', ['test', '--workspace', '--color', 'never'], { encoding: 'utf8' });
process.stdout.write(cargo.stdout ?? '');
process.stderr.write(cargo.stderr ?? '');
if (cargo.error) {
  console.error(`cargo test could not run: ${cargo.error.message}`);
  broken = true;
} else {
  for (const match of (cargo.stdout ?? '').matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(match[1]);
    failed += Number(match[2]);
  }
  if (cargo.status !== 0 && failed === 0) broken = true;
}

if (broken) failed += 1; // a run that crashed counts as a failure even if it reported no test
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
