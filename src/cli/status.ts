import { cpuPercent, sampleProcess, type ProcessSample } from './proc';
import type { ServerCounters, Totals } from './counters';

/**
 * The serve command's running report: a status line rewritten in place on a terminal, or a
 * plain log line per interval otherwise (logs, systemd, containers).
 */
export class StatusReporter {
  #counters: ServerCounters;
  #tty: boolean;
  #timer: NodeJS.Timeout | null = null;
  #last: { totals: Totals; process: ProcessSample } | null = null;

  constructor(counters: ServerCounters, tty: boolean) {
    this.#counters = counters;
    this.#tty = tty;
  }

  start(intervalMs: number): void {
    this.#last = { totals: this.#counters.totals(), process: sampleProcess()! };
    this.#timer = setInterval(() => this.#report(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#tty) process.stderr.write('\n');
  }

  /** Prints a log line without tearing the status line. */
  log(line: string): void {
    if (this.#tty) process.stderr.write(`\r\x1b[K${line}\n`);
    else console.log(line);
  }

  #report(): void {
    const totals = this.#counters.totals();
    const proc = sampleProcess()!;
    const last = this.#last!;
    const seconds = (proc.at - last.process.at) / 1000;
    const rate = (now: number, before: number) => Math.round((now - before) / seconds);
    const line =
      `calls ${totals.callsActive} (${totals.callsTotal} total) | ` +
      `in ${rate(totals.framesIn, last.totals.framesIn)} f/s | out ${rate(totals.framesOut, last.totals.framesOut)} f/s | ` +
      `underruns ${totals.underruns} | cpu ${cpuPercent(last.process, proc).toFixed(1)}% | rss ${(proc.rss / 1048576).toFixed(0)} MB`;
    this.#last = { totals, process: proc };
    if (this.#tty) process.stderr.write(`\r\x1b[K${line}`);
    else console.log(`status: ${line}`);
  }
}
