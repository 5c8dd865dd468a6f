/**
 * `audiosocket/bridge`: every call to a WebSocket service built for FreeSWITCH's mod_audio_stream
 * or for Twilio Media Streams, unchanged.
 *
 * ```ts
 * server.on('call', (call) => {
 *   const bridge = bridgeToWebSocket(call, 'wss://stt.example.com/stream', { sampleRate: 16000, metadata: { callId: call.id } });
 *   bridge.on('json', (message) => console.log(message));
 *   bridge.on('error', (error, { retries, waitMs }) => console.warn(error.code, retries, waitMs));
 * });
 * ```
 */
import type { Call } from '../call';
import { AudioSocketError, ErrorCode } from '../errors';
import { Bridge } from './bridge';
import { resolveBridgeOptions, type BridgeOptions } from './options';

/**
 * Streams `call` to the WebSocket service at `url` (`ws://` or `wss://`) in the dialect of
 * `options` (default mod_audio_stream's), and plays what the service sends back into the call,
 * paced. Connects at once, reconnects on failure (unless told not to), and stops when the call
 * ends. Throws ERR_AUDIOSOCKET_INVALID_ARGUMENT for a bad option or an unreadable TLS file, and
 * ERR_AUDIOSOCKET_CALL_ENDED for a call that has ended.
 */
export function bridgeToWebSocket(call: Call, url: string | URL, options: BridgeOptions = {}): Bridge {
  const resolved = resolveBridgeOptions(url, options);
  if (call.ended) throw new AudioSocketError(ErrorCode.CALL_ENDED, `call ${call.id} has ended`);
  return new Bridge(call, resolved);
}

export { Bridge, type BridgeEvents, type BridgeStats, type BridgeStreamFormat } from './bridge';
export type { BridgeErrorInfo } from './connection';
export type { BridgePlayInfo } from './dialect';
export type { BridgeDialect, BridgeMix, BridgeOptions, BridgeReconnectOptions, BridgeTlsOptions, BridgeTwilioOptions } from './options';
