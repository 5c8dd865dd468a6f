#!/usr/bin/env node
import { AudioSocketError } from '../errors';
import { UsageError } from './args';
import { bench } from './bench';
import { call } from './call';
import { serve } from './serve';

const USAGE = `usage: audiosocket <command> [options]
  serve              run a server (echo, play, record, metrics)
  call HOST:PORT     act as Asterisk: send audio and DTMF, report what comes back
  bench              simulate many calls against a server and measure it
Run 'audiosocket <command> --help' for a command's options.`;

/** Exit codes: 0 done, 1 the run failed (errors, loss), 2 a bad command line. */
async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      await serve(args);
      return 0;
    case 'call':
      return call(args);
    case 'bench':
      return bench(args);
    case undefined:
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (serve, call, bench)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof AudioSocketError) {
      console.error(`audiosocket: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
