import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SAMPLE_RATES } from '../protocol/kind';

/** A bad command line: main() prints its message on one line and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: boolean }>>;

/** node:util parseArgs in strict mode, its errors turned into one-line UsageErrors. */
export function parse<T extends Options>(args: string[], options: T, positionals = 0): Parsed<T> {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals > 0 });
    if (parsed.positionals.length > positionals) {
      throw new UsageError(`unexpected argument: ${parsed.positionals[positionals]}`);
    }
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

/** An integer option in [min, max], or `fallback` when absent. */
export function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** A number option in [min, max], or `fallback` when absent. */
export function num(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** One of `choices`, or `fallback` when absent. */
export function oneOf<C extends string>(name: string, value: string | undefined, choices: readonly C[], fallback: C): C {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value as C;
}

/** `HOST:PORT` (IPv6 as `[::1]:PORT`). */
export function hostPort(value: string | undefined, what: string): { host: string; port: number } {
  const match = value ? /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value) : null;
  if (!match) throw new UsageError(`${what} must be HOST:PORT, got ${JSON.stringify(value ?? '')}`);
  return { host: match[1] ?? match[2]!, port: int('port', match[3], 0, 1, 65535) };
}

/** A sample rate some AudioSocket kind carries (--rate), or 8000 when absent. */
export function sampleRateOption(value: string | undefined): number {
  const hz = int('rate', value, 8000, 1, 192_000);
  if (!SAMPLE_RATES.includes(hz)) throw new UsageError(`--rate must be one of ${SAMPLE_RATES.join(', ')}, got ${hz}`);
  return hz;
}
