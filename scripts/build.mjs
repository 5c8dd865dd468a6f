// `npm install` (prepare) and `npm run build`: TypeScript always; the native engine when cargo
// is there. Without cargo the install still succeeds and the TypeScript engine is used.
import { spawnSync } from 'node:child_process';

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  return result.status === 0;
}

if (!run('npm', ['run', '--silent', 'build:ts'])) process.exit(1);

const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.status !== 0) {
  console.warn('audiosocket: cargo not found, native engine not built; the TypeScript engine will be used.');
} else if (!run('npm', ['run', '--silent', 'build:native'])) {
  // A broken native build must not hide behind the fallback in development: fail loudly.
  console.error('audiosocket: the native build failed (see above). Set AUDIOSOCKET_SKIP_NATIVE=1 to skip it.');
  if (process.env.AUDIOSOCKET_SKIP_NATIVE !== '1') process.exit(1);
}
