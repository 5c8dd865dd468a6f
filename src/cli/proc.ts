import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

export interface ProcessSample {
  /** CPU time used so far (user + system), ms. */
  cpuMs: number;
  /** Resident set size, bytes. */
  rss: number;
  /** When the sample was taken (performance.now), ms. */
  at: number;
}

/** CPU time and RSS of a process: this one through Node, another through /proc (Linux). */
export function sampleProcess(pid: number = process.pid): ProcessSample | null {
  const at = performance.now();
  if (pid === process.pid) {
    const cpu = process.cpuUsage();
    return { cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage.rss(), at };
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs: (ticks * 1000) / USER_HZ, rss: rssKb * 1024, at };
  } catch {
    return null;
  }
}

/** CPU use between two samples, in % of one core. */
export function cpuPercent(from: ProcessSample, to: ProcessSample): number {
  const wall = to.at - from.at;
  return wall > 0 ? ((to.cpuMs - from.cpuMs) / wall) * 100 : 0;
}
