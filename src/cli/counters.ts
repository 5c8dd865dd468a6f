import type { AudioSocketServer } from '../server';

export interface Totals {
  callsActive: number;
  callsTotal: number;
  framesIn: number;
  framesOut: number;
  underruns: number;
  framesDropped: number;
  inboundDropped: number;
  latencyDroppedMs: number;
}

/**
 * Server-wide counters for the status line and /metrics: ended calls' final stats plus the live
 * calls' current ones, so every counter only ever grows.
 */
export class ServerCounters {
  readonly endedByReason = new Map<string, number>();
  readonly rejectsByCode = new Map<string, number>();
  readonly errorsByCode = new Map<string, number>();
  #server: AudioSocketServer;
  #callsTotal = 0;
  #ended = { framesIn: 0, framesOut: 0, underruns: 0, framesDropped: 0, inboundDropped: 0, latencyDroppedMs: 0 };

  constructor(server: AudioSocketServer) {
    this.#server = server;
    server.on('call', (call) => {
      this.#callsTotal++;
      call.on('error', (error) => bump(this.errorsByCode, error.code));
      call.on('end', ({ reason, stats }) => {
        bump(this.endedByReason, reason);
        this.#ended.framesIn += stats.framesIn;
        this.#ended.framesOut += stats.framesOut;
        this.#ended.underruns += stats.underruns;
        this.#ended.framesDropped += stats.framesDropped;
        this.#ended.inboundDropped += stats.inboundDropped;
        this.#ended.latencyDroppedMs += stats.latencyDroppedMs;
      });
    });
    server.on('reject', (error) => bump(this.rejectsByCode, error.code));
  }

  totals(): Totals {
    const totals = { callsActive: 0, callsTotal: this.#callsTotal, ...this.#ended };
    for (const call of this.#server.calls) {
      if (call.ended) continue;
      const stats = call.stats();
      totals.callsActive++;
      totals.framesIn += stats.framesIn;
      totals.framesOut += stats.framesOut;
      totals.underruns += stats.underruns;
      totals.framesDropped += stats.framesDropped;
      totals.inboundDropped += stats.inboundDropped;
      totals.latencyDroppedMs += stats.latencyDroppedMs;
    }
    return totals;
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
