import { AudioSocketError, type ErrorCode } from '../../errors';
import type { CallStats, CancelledMark, EndReason, EngineEvent, RemoteAddress } from '../contract';
import type { NativeBatch } from '../../native/binding';

/** Record types of a batch's `meta` (crate/node/src/batch.rs has the layouts). */
const enum Record {
  Call = 0,
  Audio = 1,
  Dtmf = 2,
  Mark = 3,
  Drain = 4,
  Error = 5,
  Reject = 6,
  End = 7,
  Closed = 8,
}

const REASONS: readonly EndReason[] = ['remote-hangup', 'local-hangup', 'error', 'timeout', 'server-close'];

/** A decoded batch: its events, and whether the engine reported that it has stopped. */
export interface DecodedBatch {
  events: EngineEvent[];
  closed: boolean;
}

/**
 * Turns one batch from the native engine into engine events. Each audio frame becomes an
 * Int16Array view onto the batch's one sample buffer: no copy per frame.
 */
export function decodeBatch(batch: NativeBatch): DecodedBatch {
  const { meta, pcm, strings } = batch;
  const events: EngineEvent[] = [];
  let closed = false;
  let i = 0;
  const next = (): number => meta[i++]!;
  const string = (): string => strings[next()]!;
  const remote = (): RemoteAddress => ({ address: string(), port: next(), family: next() === 6 ? 'IPv6' : 'IPv4' });
  const error = (): AudioSocketError => {
    const code = string() as ErrorCode;
    return new AudioSocketError(code, string());
  };
  while (i < meta.length) {
    const type = next() as Record;
    switch (type) {
      case Record.Audio: {
        const call = next();
        const start = next();
        events.push({ type: 'audio', call, pcm: pcm.subarray(start, start + next()) });
        break;
      }
      case Record.Call:
        events.push({ type: 'call', call: next(), id: string(), remote: remote(), wire: { kind: next(), sampleRate: next() } });
        break;
      case Record.Dtmf: {
        const call = next();
        const digit = String.fromCharCode(next());
        const state = next() === 1 ? 'start' : 'end';
        const duration = next();
        events.push({ type: 'dtmf', call, digit, state, durationMs: duration < 0 ? null : duration });
        break;
      }
      case Record.Mark:
        events.push({ type: 'mark', call: next(), mark: next() });
        break;
      case Record.Drain:
        events.push({ type: 'drain', call: next() });
        break;
      case Record.Error:
        events.push({ type: 'error', call: next(), error: error() });
        break;
      case Record.Reject:
        events.push({ type: 'reject', remote: remote(), error: error() });
        break;
      case Record.End: {
        const call = next();
        const reason = REASONS[next()]!;
        const failure = meta[i] === -1 ? ((i += 2), null) : error();
        const unplayedMs = next();
        const stats: CallStats = {
          framesIn: next(),
          framesOut: next(),
          silenceFramesOut: next(),
          underruns: next(),
          queuedMs: next(),
          maxLatenessMs: next(),
          framesDropped: next(),
          inboundDropped: next(),
          latencyDroppedMs: next(),
        };
        const marks: CancelledMark[] = [];
        for (let n = next(); n > 0; n--) marks.push({ mark: next(), aheadMs: next() });
        events.push({ type: 'end', call, reason, error: failure, unplayedMs, marks, stats });
        break;
      }
      case Record.Closed:
        closed = true;
        break;
      default:
        throw new Error(`native engine: unknown batch record ${String(type)} at ${i - 1}`);
    }
  }
  return { events, closed };
}
