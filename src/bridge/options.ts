import { readFileSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { createSecureContext } from 'node:tls';
import { AudioSocketError, ErrorCode } from '../errors';

/** Which WebSocket protocol the service speaks. */
export type BridgeDialect = 'audio_stream' | 'twilio';

/**
 * What the service hears (mod_audio_stream's mix types): `mono` the caller; `mixed` the caller
 * plus the audio played to the caller, summed (saturating) into one channel; `stereo` the caller
 * on the left and the played audio on the right, interleaved.
 */
export type BridgeMix = 'mono' | 'mixed' | 'stereo';

/** TLS for `wss:` URLs, as mod_audio_stream's `STREAM_TLS_*` channel variables. */
export interface BridgeTlsOptions {
  /**
   * Whom to trust: `system` (default) Node's CA store (its bundled Mozilla list, plus
   * NODE_EXTRA_CA_CERTS); `none` no verification at all (a lab service with a throw-away
   * certificate: anyone in the path can read the call); or the path of a PEM file of CA
   * certificates, trusted instead of the store.
   */
  caFile?: string;
  /** PEM client certificate, for services that require mutual TLS (with `keyFile`). Default none. */
  certFile?: string;
  /** PEM private key of `certFile` (unencrypted). Default none. */
  keyFile?: string;
  /**
   * Check that the service's certificate names the URL's host (default true). `false` still
   * verifies the chain against `caFile`: for services reached by an address their certificate
   * does not list.
   */
  checkHostname?: boolean;
}

/** Automatic reconnection: exponential backoff with jitter, so calls never reconnect in lockstep. */
export interface BridgeReconnectOptions {
  /** Wait before the first attempt after a drop, ms (default 250, 10-60000); doubles after each failure. */
  initialDelayMs?: number;
  /** Longest wait between attempts, ms (default 5000, at least initialDelayMs, at most 600000). */
  maxDelayMs?: number;
  /**
   * Attempts after a failed one, in a row, before the bridge gives up and closes (default
   * Infinity: while the call lasts; 0: the first failure closes it).
   */
  maxRetries?: number;
}

/** Twilio Media Streams settings (dialect `twilio`). */
export interface BridgeTwilioOptions {
  /**
   * `inbound` (default): the caller's audio, as `<Connect><Stream>` sends. `both`: also the audio
   * played to the caller, as media messages of track `outbound`.
   */
  tracks?: 'inbound' | 'both';
  /** The `start` message's `customParameters` (Twilio's `<Parameter>`s). Default none. */
  customParameters?: Record<string, string>;
  /** The `start` and `stop` messages' `accountSid` (default `AC` and 32 zeros: there is no Twilio account). */
  accountSid?: string;
}

/** Options of {@link bridgeToWebSocket}; all optional. Reference with ranges: docs/api.md. */
export interface BridgeOptions {
  /** The service's protocol (default `audio_stream`, FreeSWITCH mod_audio_stream's). */
  dialect?: BridgeDialect;
  /** audio_stream: the rate of the L16 frames sent, Hz: 8000 (default) or 16000. Twilio is always 8000 (mu-law). */
  sampleRate?: 8000 | 16000;
  /** audio_stream: what the service hears (default `mono`: the caller). */
  mix?: BridgeMix;
  /**
   * audio_stream: the first text message of every connection (reconnections included, so a
   * restarted service learns the call again). An object is sent as its JSON. Default none.
   */
  metadata?: string | Record<string, unknown>;
  /**
   * audio_stream: duration of each binary frame sent, ms (default 20, a multiple of 20 from 20 to
   * 500, as STREAM_BUFFER_SIZE). Larger frames mean fewer messages and more latency.
   */
  bufferMs?: number;
  /** Twilio Media Streams settings (dialect `twilio`). */
  twilio?: BridgeTwilioOptions;
  /** Extra HTTP headers of the WebSocket upgrade request (authentication, tenant, tracing). Default none. */
  headers?: Record<string, string>;
  /** TLS for `wss:` URLs (mod_audio_stream's STREAM_TLS_* settings). */
  tls?: BridgeTlsOptions;
  /** Limit on opening a connection (TCP, TLS and the HTTP upgrade), ms (default 5000, 100-120000). */
  connectTimeoutMs?: number;
  /**
   * WebSocket ping interval, ms (default 15000; 0 turns it off; else 100-3600000). Keeps load
   * balancers from closing a quiet connection, and a service that has not answered the previous
   * ping by the next one is taken for dead: the connection is dropped and reconnected.
   */
  heartbeatMs?: number;
  /**
   * Reconnect when an attempt fails or the connection drops (default true, with the defaults of
   * {@link BridgeReconnectOptions}). A service that closes with 1000 (normal closure) has ended
   * the stream on purpose: the bridge closes instead.
   */
  reconnect?: boolean | BridgeReconnectOptions;
  /**
   * Caller audio held while the service is down, connecting or not reading, ms (default 2000,
   * 20-600000). Past it the oldest frames are dropped and counted (stats().framesDropped, an
   * ERR_AUDIOSOCKET_BRIDGE_OVERFLOW error per episode). Memory per call, bytes per ms: 64 at
   * 16 kHz stereo, 32 at 16 kHz mono or 8 kHz stereo, 16 at 8 kHz mono, about 18 per Twilio track.
   */
  backlogMs?: number;
  /** Largest message accepted from the service, bytes (default 16 MiB: two minutes of 48 kHz mono WAV in base64; 1 KiB-1 GiB). */
  maxMessageBytes?: number;
  /**
   * Offer permessage-deflate (default false). mod_audio_stream offers it, but PCM barely
   * compresses and every message would cost CPU on both sides.
   */
  perMessageDeflate?: boolean;
}

/** Options validated, defaulted, and their files read. */
export interface ResolvedBridgeOptions {
  url: URL;
  dialect: BridgeDialect;
  sampleRate: number;
  channels: 1 | 2;
  mix: BridgeMix;
  metadata: string | null;
  bufferMs: number;
  twilio: { tracks: 'inbound' | 'both'; customParameters: Record<string, string>; accountSid: string };
  headers: Record<string, string>;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; checkHostname: boolean };
  connectTimeoutMs: number;
  heartbeatMs: number;
  reconnect: Required<BridgeReconnectOptions> | null;
  backlogMs: number;
  maxMessageBytes: number;
  perMessageDeflate: boolean;
}

/**
 * Checks every option and reads the TLS files (at each bridge's start, so a renewed certificate
 * applies to the next call). Throws ERR_AUDIOSOCKET_INVALID_ARGUMENT naming the option and its range.
 */
export function resolveBridgeOptions(url: string | URL, options: BridgeOptions = {}): ResolvedBridgeOptions {
  const target = parseUrl(url);
  const dialect = choice('dialect', options.dialect, ['audio_stream', 'twilio'] as const, 'audio_stream');
  const twilio = dialect === 'twilio';
  if (twilio && (options.sampleRate ?? 8000) !== 8000) invalid(`sampleRate: Twilio Media Streams carry 8000 Hz mu-law, got ${options.sampleRate}`);
  const sampleRate = choice('sampleRate', options.sampleRate, [8000, 16000] as const, 8000);
  const mix = choice('mix', options.mix, ['mono', 'mixed', 'stereo'] as const, 'mono');
  if (twilio && mix !== 'mono') invalid(`mix: Twilio Media Streams send tracks, not mixes (twilio.tracks: 'both'), got ${mix}`);
  const bufferMs = integer('bufferMs', options.bufferMs, 20, 20, 500);
  if (bufferMs % 20 !== 0) invalid(`bufferMs must be a multiple of 20, got ${bufferMs}`);
  if (twilio && bufferMs !== 20) invalid(`bufferMs: Twilio Media Streams send 20 ms chunks, got ${bufferMs}`);
  if (twilio && options.metadata !== undefined) invalid('metadata: Twilio Media Streams have no metadata message (twilio.customParameters go in start)');
  const tracks = choice('twilio.tracks', options.twilio?.tracks, ['inbound', 'both'] as const, 'inbound');
  const accountSid = options.twilio?.accountSid ?? `AC${'0'.repeat(32)}`;
  if (typeof accountSid !== 'string') invalid(`twilio.accountSid must be a string, got ${typeof accountSid}`);
  const reconnect = options.reconnect ?? true;
  const initialDelayMs = typeof reconnect === 'object' ? integer('reconnect.initialDelayMs', reconnect.initialDelayMs, 250, 10, 60_000) : 250;
  const maxRetries = typeof reconnect === 'object' ? reconnect.maxRetries ?? Infinity : Infinity;
  if (maxRetries !== Infinity && !(Number.isInteger(maxRetries) && maxRetries >= 0)) invalid(`reconnect.maxRetries must be a whole number or Infinity, got ${maxRetries}`);
  const heartbeatMs = integer('heartbeatMs', options.heartbeatMs, 15_000, 0, 3_600_000);
  if (heartbeatMs > 0 && heartbeatMs < 100) invalid(`heartbeatMs must be 0 (off) or from 100 to 3600000, got ${heartbeatMs}`);
  return {
    url: target,
    dialect,
    sampleRate,
    channels: (twilio ? tracks === 'both' : mix === 'stereo') ? 2 : 1,
    mix: twilio && tracks === 'both' ? 'stereo' : mix,
    metadata: metadataText(options.metadata),
    bufferMs,
    twilio: {
      tracks,
      customParameters: stringRecord('twilio.customParameters', options.twilio?.customParameters),
      accountSid,
    },
    headers: httpHeaders(options.headers),
    tls: tlsMaterial(options.tls ?? {}),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs, 5000, 100, 120_000),
    heartbeatMs,
    reconnect:
      reconnect === false
        ? null
        : {
            initialDelayMs,
            maxDelayMs: integer('reconnect.maxDelayMs', typeof reconnect === 'object' ? reconnect.maxDelayMs : undefined, Math.max(5000, initialDelayMs), initialDelayMs, 600_000),
            maxRetries,
          },
    backlogMs: integer('backlogMs', options.backlogMs, 2000, 20, 600_000),
    maxMessageBytes: integer('maxMessageBytes', options.maxMessageBytes, 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    perMessageDeflate: options.perMessageDeflate ?? false,
  };
}

function parseUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalid(`the service URL must be ws://... or wss://..., got ${JSON.stringify(String(url))}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') invalid(`the service URL must be ws://... or wss://..., got ${JSON.stringify(parsed.href)}`);
  if (parsed.hash) invalid(`the service URL cannot have a fragment (#...), got ${JSON.stringify(parsed.href)}`);
  return parsed;
}

function tlsMaterial(tls: BridgeTlsOptions): ResolvedBridgeOptions['tls'] {
  const caFile = tls.caFile ?? 'system';
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) invalid('tls.certFile and tls.keyFile go together');
  const material = {
    ...(caFile === 'system' || caFile === 'none' ? {} : { ca: readPem('tls.caFile', caFile) }),
    ...(tls.certFile !== undefined ? { cert: readPem('tls.certFile', tls.certFile) } : {}),
    ...(tls.keyFile !== undefined ? { key: readPem('tls.keyFile', tls.keyFile) } : {}),
  };
  try {
    createSecureContext(material); // what each connection would do: a bad PEM fails now, not on every attempt
  } catch (cause) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `tls: ${(cause as Error).message}`, { cause });
  }
  return { ...material, rejectUnauthorized: caFile !== 'none', checkHostname: tls.checkHostname ?? true };
}

function readPem(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `${name}: cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}

function httpHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const record = stringRecord('headers', headers);
  for (const [name, value] of Object.entries(record)) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (cause) {
      throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `headers: ${(cause as Error).message}`, { cause });
    }
  }
  return record;
}

function metadataText(metadata: BridgeOptions['metadata']): string | null {
  if (metadata === undefined) return null;
  return typeof metadata === 'string' ? metadata : JSON.stringify(metadata);
}

function stringRecord(name: string, record: Record<string, string> | undefined): Record<string, string> {
  for (const [key, value] of Object.entries(record ?? {})) {
    if (typeof value !== 'string') invalid(`${name}.${key} must be a string, got ${typeof value}`);
  }
  return { ...record };
}

function choice<C extends string | number>(name: string, value: C | undefined, choices: readonly C[], fallback: C): C {
  if (value === undefined) return fallback;
  if (!choices.includes(value)) invalid(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) invalid(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

function invalid(message: string): never {
  throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, message);
}
