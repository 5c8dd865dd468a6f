import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerCounters, Totals } from './counters';

export interface MetricsOptions {
  host: string;
  port: number;
  counters: ServerCounters;
  /** Whether the server takes new calls (false while draining): drives /ready. */
  ready: () => boolean;
}

/**
 * Prometheus text at /metrics (prom-client, with the process's default metrics: CPU, RSS,
 * event-loop lag), /healthz (the process answers) and /ready (503 while draining, so a load
 * balancer stops sending new calls before the server goes).
 */
export async function startMetrics(options: MetricsOptions): Promise<{ server: Server; port: number }> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let snapshot: Totals | null = null;
  const totals = (): Totals => (snapshot ??= options.counters.totals());

  const counter = (name: string, help: string, read: (t: Totals) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(totals()));
      },
    });
  new Gauge({ name: 'audiosocket_calls_active', help: 'Calls in progress.', registers: [registry], collect() { this.set(totals().callsActive); } });
  counter('audiosocket_calls_total', 'Calls accepted (UUID received).', (t) => t.callsTotal);
  counter('audiosocket_frames_in_total', 'Audio frames received from Asterisk.', (t) => t.framesIn);
  counter('audiosocket_frames_out_total', 'Frames sent to Asterisk, audio and idle silence.', (t) => t.framesOut);
  counter('audiosocket_underruns_total', 'Ticks on which playout ran dry mid-stream.', (t) => t.underruns);
  counter('audiosocket_frames_dropped_total', 'Frames not sent because Asterisk stopped reading.', (t) => t.framesDropped);
  counter('audiosocket_inbound_dropped_total', 'Caller frames dropped because the application read too slowly.', (t) => t.inboundDropped);
  counter('audiosocket_latency_dropped_ms_total', 'Audio dropped unplayed because more than maxLatencyMs was queued, ms.', (t) => t.latencyDroppedMs);
  const labelled = (name: string, help: string, label: string, map: Map<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, count] of map) this.inc({ [label]: value }, count);
      },
    });
  labelled('audiosocket_calls_ended_total', 'Calls ended, by reason.', 'reason', options.counters.endedByReason);
  labelled('audiosocket_rejects_total', 'Connections refused before becoming calls, by error code.', 'code', options.counters.rejectsByCode);
  labelled('audiosocket_call_errors_total', 'Errors on calls that did not end them, by error code.', 'code', options.counters.errorsByCode);

  const server = createServer(async (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      snapshot = null;
      const body = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType }).end(body);
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/ready') {
      const ready = options.ready();
      response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'draining\n');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics, /healthz, /ready\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : options.port };
}
