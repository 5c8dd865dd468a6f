import { debuglog } from 'node:util';
import type { Call, CallEnd } from './call';
import type { RemoteAddress, WireFormat } from './engine/contract';
import type { AudioSocketError } from './errors';

/**
 * Diagnostics on standard error with `NODE_DEBUG=audiosocket`, Node's own switch for its
 * modules' logs: one line per server bound or closed, call started or ended (with its
 * counters), call error and refused connection; never one per frame. Off, each function returns
 * at its first line, before building anything.
 */
const log = debuglog('audiosocket');

export function debugBound(address: { address: string; port: number }, engine: { name: string; reason: string }): void {
  if (!log.enabled) return;
  log('bound to %s (%s engine: %s)', endpoint(address), engine.name, engine.reason);
}

export function debugClosed(): void {
  if (!log.enabled) return;
  log('closed');
}

export function debugRejected(remote: RemoteAddress, error: AudioSocketError): void {
  if (!log.enabled) return;
  log('refused %s: %s %s', endpoint(remote), error.code, error.message);
}

export function debugCallStarted(call: Call): void {
  if (!log.enabled) return;
  const { format } = call;
  log('call %s from %s: wire %s, app format %d Hz %s', call.id, endpoint(call.remote), wire(call.wireFormat), format.sampleRate, format.channels === 2 ? 'stereo' : 'mono');
}

export function debugCallError(call: Call, error: AudioSocketError): void {
  if (!log.enabled) return;
  log('call %s: %s %s', call.id, error.code, error.message);
}

export function debugCallEnded(call: Call, end: CallEnd): void {
  if (!log.enabled) return;
  const { stats: s } = end;
  log(
    'call %s ended: %s%s; frames in %d, out %d (%d silence), underruns %d, unplayed %d ms, max tick lateness %d ms',
    call.id,
    end.reason,
    end.error ? ` (${end.error.code} ${end.error.message})` : '',
    s.framesIn,
    s.framesOut,
    s.silenceFramesOut,
    s.underruns,
    Math.round(end.unplayedMs),
    Math.round(s.maxLatenessMs * 10) / 10,
  );
}

function endpoint({ address, port }: { address: string; port: number }): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function wire({ kind, sampleRate, codec }: WireFormat): string {
  return `${codec} ${sampleRate} Hz (kind 0x${kind.toString(16)})`;
}
