/**
 * Every error this library raises or emits is an {@link AudioSocketError} with a stable `code`.
 * Match on `code`, never on `message`: messages may be reworded, codes only ever get added.
 * The table of codes, with when each happens and what to do, is in docs/api.md ("Error codes").
 */
export const ErrorCode = {
  /** A payload is longer than the wire allows (65535) or than the configured `maxPayload`. */
  PAYLOAD_TOO_LARGE: 'ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE',
  /** Zero-length audio: Asterisk 20.14+ hangs up on it, so it is never built. */
  EMPTY_AUDIO: 'ERR_AUDIOSOCKET_EMPTY_AUDIO',
  /** Odd-length slin: a sample split across messages turns every later frame into noise. */
  ODD_AUDIO: 'ERR_AUDIOSOCKET_ODD_AUDIO',
  /** A UUID payload that is not 16 bytes, or a UUID string that is not 8-4-4-4-12 hex. */
  BAD_UUID: 'ERR_AUDIOSOCKET_BAD_UUID',
  /** A DTMF payload or digit outside `0-9 * # A-D`, or a malformed fork DTMF message. */
  BAD_DTMF: 'ERR_AUDIOSOCKET_BAD_DTMF',
  /**
   * A sample rate that has no AudioSocket kind (8000, 12000, 16000, 24000, 32000, 44100, 48000,
   * 96000, 192000), or a server `format.sampleRate` outside those and 11025, 22050.
   */
  BAD_SAMPLE_RATE: 'ERR_AUDIOSOCKET_BAD_SAMPLE_RATE',
  /** A message kind outside 0..255. */
  BAD_KIND: 'ERR_AUDIOSOCKET_BAD_KIND',
  /** An argument of the API is out of its documented range. */
  INVALID_ARGUMENT: 'ERR_AUDIOSOCKET_INVALID_ARGUMENT',
  /** The byte stream ended in the middle of a message. */
  TRUNCATED: 'ERR_AUDIOSOCKET_TRUNCATED',
  /** The native engine was required (`AUDIOSOCKET_REQUIRE_NATIVE=1`) but no binary loaded. */
  NATIVE_UNAVAILABLE: 'ERR_AUDIOSOCKET_NATIVE_UNAVAILABLE',
  /** A connection from an address outside the `allow` list; it is closed at once. */
  NOT_ALLOWED: 'ERR_AUDIOSOCKET_NOT_ALLOWED',
  /** A connection beyond `maxCalls`; it gets 0x00 (the dialplan continues) and is closed. */
  MAX_CALLS: 'ERR_AUDIOSOCKET_MAX_CALLS',
  /**
   * A source (an IPv4 address or an IPv6 /64) opened connections faster than
   * `connectionRateLimit`; the connection is closed at once, before any protocol.
   */
  RATE_LIMITED: 'ERR_AUDIOSOCKET_RATE_LIMITED',
  /** No UUID within `handshakeTimeoutMs`; the connection is closed. */
  HANDSHAKE_TIMEOUT: 'ERR_AUDIOSOCKET_HANDSHAKE_TIMEOUT',
  /** The first message was not a UUID (audio before the UUID, garbage...); the connection is closed. */
  NO_UUID: 'ERR_AUDIOSOCKET_NO_UUID',
  /** A message a server never expects (a second UUID, an unknown or error kind); the call goes on. */
  UNEXPECTED_MESSAGE: 'ERR_AUDIOSOCKET_UNEXPECTED_MESSAGE',
  /** write() past `maxQueueMs` of queued audio; nothing of that write was queued. */
  QUEUE_FULL: 'ERR_AUDIOSOCKET_QUEUE_FULL',
  /**
   * Caller audio arrived faster than the application took it, counted in stats().inboundDropped
   * and reported once per episode: past `inboundQueueFrames` an async iterator drops its oldest
   * frame; past `inboundBacklogMs` the native engine drops newer frames while the JavaScript
   * thread is too busy to take them.
   */
  INBOUND_OVERFLOW: 'ERR_AUDIOSOCKET_INBOUND_OVERFLOW',
  /**
   * Asterisk stopped reading what the server sends: past 128 KiB unsent, frames are dropped
   * (counted in stats().framesDropped) instead of buffered. A warning, once per episode; the
   * call goes on.
   */
  OUTBOUND_OVERFLOW: 'ERR_AUDIOSOCKET_OUTBOUND_OVERFLOW',
  /** An operation on a call that has ended. */
  CALL_ENDED: 'ERR_AUDIOSOCKET_CALL_ENDED',
  /** An event handler threw or rejected; only its call is ended. */
  HANDLER_FAILED: 'ERR_AUDIOSOCKET_HANDLER_FAILED',
  /** The socket failed (reset, write error); the call ends. */
  SOCKET: 'ERR_AUDIOSOCKET_SOCKET',
  /**
   * A warning, never fatal: the audio on the wire is not in the format the options imply. On a
   * call ('error' event): G.711 arriving labelled 0x10 with `wire: 'auto'`. On the server
   * ('warning' event): an app rate that `asteriskVersion` cannot be sent, so 8 kHz is sent.
   */
  WIRE_FORMAT: 'ERR_AUDIOSOCKET_WIRE_FORMAT',
  /** The server is closing or closed. */
  SERVER_CLOSED: 'ERR_AUDIOSOCKET_SERVER_CLOSED',
  /** An audio file in a format the library does not read (the message names the one it does). */
  UNSUPPORTED_AUDIO: 'ERR_AUDIOSOCKET_UNSUPPORTED_AUDIO',
  /** AudioSocketClient in strict mode saw something Asterisk 20.14+ hangs up on. */
  STRICT_VIOLATION: 'ERR_AUDIOSOCKET_STRICT_VIOLATION',
  /**
   * A WebSocket bridge could not reach its service (refused, an HTTP status instead of the
   * upgrade, TLS, timeout) or lost it (no pong within the heartbeat). The call goes on; the
   * bridge retries unless reconnecting is off or its retries are spent.
   */
  BRIDGE_CONNECTION: 'ERR_AUDIOSOCKET_BRIDGE_CONNECTION',
  /** A bridge's service was down or slow for longer than `backlogMs`: the oldest frames were dropped and counted. */
  BRIDGE_OVERFLOW: 'ERR_AUDIOSOCKET_BRIDGE_OVERFLOW',
  /** A message from a bridge's service that its dialect cannot use (not JSON, bad base64, a bad sample rate...); it is skipped. */
  BRIDGE_PROTOCOL: 'ERR_AUDIOSOCKET_BRIDGE_PROTOCOL',
  /** An operation on a bridge that has stopped or given up. */
  BRIDGE_CLOSED: 'ERR_AUDIOSOCKET_BRIDGE_CLOSED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The error this library raises and emits: match on `code`. */
export class AudioSocketError extends Error {
  /** Always `AudioSocketError`. */
  override name = 'AudioSocketError';
  /** Stable: codes are only ever added. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
