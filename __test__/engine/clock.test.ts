import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { SharedClock, type TickInfo } from '../../src/engine/clock';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('SharedClock', () => {
  it('ticks in order on absolute deadlines: never early, numbered from 0', async () => {
    const ticks: Array<TickInfo & { at: number }> = [];
    let start = 0;
    const clock = new SharedClock((info) => ticks.push({ ...info, at: performance.now() - start }), { periodMs: 10 });
    start = performance.now();
    clock.start();
    while (ticks.length < 20) await new Promise((resolve) => setTimeout(resolve, 5));
    clock.stop();
    expect(ticks.slice(0, 20).map((t) => t.tick)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const t of ticks) expect(t.at).toBeGreaterThanOrEqual(t.tick * 10 - 1);
    for (const t of ticks) expect(t.lateMs).toBeGreaterThanOrEqual(0);
  });

  it('after a stall runs at most maxCatchUp ticks back to back and counts the skipped ones', async () => {
    const ticks: number[] = [];
    const at: number[] = [];
    const clock = new SharedClock(
      (info) => {
        ticks.push(info.tick);
        at.push(performance.now());
      },
      { periodMs: 10, maxCatchUp: 3 },
    );
    clock.start();
    await new Promise((resolve) => setTimeout(resolve, 25));
    const before = ticks.length;
    busy(200); // about 20 periods with the event loop blocked
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
    clock.stop();
    // The catch-up is the ticks run back to back in one turn after the stall; a loaded machine
    // may delay the turns after it, so only the first group counts.
    const after = at.slice(before);
    const burst = after.filter((time, i) => after.slice(1, i + 1).every((t, j) => t - after[j]! < 1));
    expect(burst.length).toBeGreaterThanOrEqual(1);
    expect(burst.length).toBeLessThanOrEqual(4);
    expect(clock.skippedTicks).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!).toBeGreaterThan(ticks[i - 1]!);
  });

  it('does not keep the process alive', () => {
    // The built package (npm test builds dist/ first): a process whose only work is a running
    // clock must exit on its own.
    const script = `const { SharedClock } = require('./dist/engine/clock.js');
      const clock = new SharedClock(() => {}); clock.start(); console.log(clock.running);`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('true');
  });
});
