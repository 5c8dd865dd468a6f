import type { Call } from '../call';
import { bridgeToWebSocket } from '../bridge';
import { resolveBridgeOptions, type BridgeOptions } from '../bridge/options';
import { AudioSocketError } from '../errors';
import { UsageError, int, oneOf } from './args';

/** `serve`'s WebSocket bridge options (`--ws URL` and its `--ws-*` settings). */
export const WS_USAGE = `  --ws URL               bridge every call to this WebSocket service (ws:// or wss://) instead of echoing
  --ws-dialect NAME      audio_stream (default: FreeSWITCH mod_audio_stream's) or twilio (Media Streams)
  --ws-mix MIX           audio_stream: mono (default: the caller), mixed, or stereo (caller left, played right)
  --ws-rate HZ           audio_stream: rate of the L16 sent, 8000 (default) or 16000
  --ws-buffer-ms MS      audio_stream: audio per binary frame, a multiple of 20 up to 500 (default 20)
  --ws-metadata TEXT     audio_stream: first message of each connection, {callId} replaced
                         (default {"callId":"{callId}"})
  --ws-header 'N: V'     an HTTP header for the upgrade request (repeatable)
  --ws-ca FILE           wss: trust this CA file, or system (default) or none (no verification)
  --ws-cert FILE         wss: client certificate (with --ws-key)
  --ws-key FILE          wss: its private key
  --ws-no-hostname-check wss: accept a certificate that does not name the host (the CA still vouches)
  --ws-no-reconnect      a call whose service fails or drops stays unbridged (default: retry with backoff)`;

export const WS_OPTIONS = {
  ws: { type: 'string' },
  'ws-dialect': { type: 'string' },
  'ws-mix': { type: 'string' },
  'ws-rate': { type: 'string' },
  'ws-buffer-ms': { type: 'string' },
  'ws-metadata': { type: 'string' },
  'ws-header': { type: 'string', multiple: true },
  'ws-ca': { type: 'string' },
  'ws-cert': { type: 'string' },
  'ws-key': { type: 'string' },
  'ws-no-hostname-check': { type: 'boolean' },
  'ws-no-reconnect': { type: 'boolean' },
} as const;

export interface WsValues {
  ws?: string;
  'ws-dialect'?: string;
  'ws-mix'?: string;
  'ws-rate'?: string;
  'ws-buffer-ms'?: string;
  'ws-metadata'?: string;
  'ws-header'?: string[];
  'ws-ca'?: string;
  'ws-cert'?: string;
  'ws-key'?: string;
  'ws-no-hostname-check'?: boolean;
  'ws-no-reconnect'?: boolean;
}

const AUDIO_STREAM_ONLY = ['ws-mix', 'ws-rate', 'ws-buffer-ms', 'ws-metadata'] as const;

/** Bridges one call, logging what happens to its stream. */
export type CallBridger = (call: Call, log: (line: string) => void) => void;

/**
 * The bridge `serve` runs for each call, or null without `--ws`. Everything is checked here, at
 * start (the TLS files too), so that a bad option is a usage error, not a failure on each call.
 * Each call's bridge reads the TLS files again: a renewed certificate applies to the next calls.
 */
export function wsBridger(values: WsValues): CallBridger | null {
  const url = values.ws;
  if (url === undefined) {
    const stray = Object.keys(WS_OPTIONS).find((name) => name !== 'ws' && values[name as keyof WsValues] !== undefined);
    if (stray) throw new UsageError(`--${stray} goes with --ws`);
    return null;
  }
  const dialect = oneOf('ws-dialect', values['ws-dialect'], ['audio_stream', 'twilio'] as const, 'audio_stream');
  const streamOnly = AUDIO_STREAM_ONLY.find((name) => values[name] !== undefined);
  if (dialect === 'twilio' && streamOnly) throw new UsageError(`--${streamOnly} is for --ws-dialect audio_stream (Twilio streams are 8 kHz mu-law, 20 ms, no metadata)`);
  const bufferMs = int('ws-buffer-ms', values['ws-buffer-ms'], 20, 20, 500);
  if (bufferMs % 20 !== 0) throw new UsageError(`--ws-buffer-ms must be a multiple of 20, got ${bufferMs}`);
  const options: BridgeOptions = {
    dialect,
    ...(values['ws-mix'] !== undefined ? { mix: oneOf('ws-mix', values['ws-mix'], ['mono', 'mixed', 'stereo'] as const, 'mono') } : {}),
    ...(values['ws-rate'] !== undefined ? { sampleRate: oneOf('ws-rate', values['ws-rate'], ['8000', '16000'] as const, '8000') === '16000' ? 16000 : 8000 } : {}),
    ...(dialect === 'audio_stream' ? { bufferMs } : {}),
    headers: headers(values['ws-header'] ?? []),
    tls: {
      ...(values['ws-ca'] !== undefined ? { caFile: values['ws-ca'] } : {}),
      ...(values['ws-cert'] !== undefined ? { certFile: values['ws-cert'] } : {}),
      ...(values['ws-key'] !== undefined ? { keyFile: values['ws-key'] } : {}),
      checkHostname: values['ws-no-hostname-check'] !== true,
    },
    reconnect: values['ws-no-reconnect'] !== true,
  };
  const metadata = values['ws-metadata'] ?? '{"callId":"{callId}"}';
  const perCall = (id: string): BridgeOptions => (dialect === 'audio_stream' ? { ...options, metadata: metadata.replaceAll('{callId}', id) } : options);
  try {
    resolveBridgeOptions(url, perCall(''));
  } catch (error) {
    if (error instanceof AudioSocketError) throw new UsageError(`--ws: ${error.message}`);
    throw error;
  }
  return (call, log) => {
    const bridge = bridgeToWebSocket(call, url, perCall(call.id));
    const prefix = `call ${call.id} ws`;
    bridge.on('connect', ({ reconnected }) => log(`${prefix} ${reconnected ? 'reconnected' : 'connected'}`));
    bridge.on('disconnect', ({ code, reason }) => log(`${prefix} disconnected: ${code}${reason ? ` ${reason}` : ''}`));
    bridge.on('error', (error, { waitMs }) => log(`${prefix} ${error.code}: ${error.message}${waitMs !== null ? `; retrying in ${waitMs} ms` : ''}`));
    bridge.on('json', (message) => log(`${prefix} json ${JSON.stringify(message)}`));
    bridge.on('play', ({ audioDataType, sampleRate, durationMs }) => log(`${prefix} play ${audioDataType} ${sampleRate} Hz ${Math.round(durationMs)} ms`));
  };
}

/** `Name: value` strings as a header record. */
function headers(lines: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`--ws-header must be 'Name: value', got ${JSON.stringify(line)}`);
    record[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return record;
}
