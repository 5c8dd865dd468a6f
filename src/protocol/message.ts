import { ErrorCode } from '../errors';
import { Kind, sampleRateOfKind } from './kind';
import { uuidFromBytes } from './uuid';

/** The DTMF digits Asterisk sends: ASCII `0-9 * # A-D`. */
export const DTMF_DIGITS = '0123456789*#ABCD';

/** Bytes of the CyCoreSystems fork's DTMF payload on kind 0x02: state, digit, duration (u32 LE). */
const FORK_DTMF_LENGTH = 6;

interface Base<T extends string> {
  /** What the message is; narrows the {@link Message} union. */
  readonly type: T;
  /** The kind byte as received. */
  readonly kind: number;
  /** The payload as received; a view, not a copy (see {@link FrameDecoder}). */
  readonly payload: Uint8Array;
}

/** 0x00: the end of the call. */
export interface HangupMessage extends Base<'hangup'> {}
/** 0x01: the call's UUID, Asterisk's first message. */
export interface UuidMessage extends Base<'uuid'> {
  /** Canonical lower-case 8-4-4-4-12 string. */
  readonly id: string;
}
/** An empty 0x02 (the Go library's silence). */
export interface SilenceMessage extends Base<'silence'> {}
/** A DTMF digit: Asterisk's 0x03, or the CyCoreSystems fork's 0x02. */
export interface DtmfMessage extends Base<'dtmf'> {
  /** One of `0-9 * # A-D`. */
  readonly digit: string;
  /** Fork DTMF (kind 0x02) only: `start` at key down, `end` at key up. Asterisk's 0x03 is sent at the end. */
  readonly state?: 'start' | 'end';
  /** Fork DTMF (kind 0x02) only: duration in milliseconds. */
  readonly durationMs?: number;
}
/** Audio, kinds 0x10-0x18. */
export interface AudioMessage extends Base<'audio'> {
  /** Hz, from the kind. On the Dial() path 0x10 may carry ulaw/alaw: the payload is then one byte per sample. */
  readonly sampleRate: number;
}
/** 0xff: an error (declared; Asterisk never sends it). */
export interface ErrorMessage extends Base<'error'> {
  /** First payload byte (Go library: 1 hangup, 2 frame forwarding, 4 memory), or `null` if empty. */
  readonly code: number | null;
}
/** A kind this library does not know. Asterisk 20.14+ hangs up if a server sends one. */
export interface UnknownMessage extends Base<'unknown'> {}
/** A known kind whose payload is malformed; the stream itself is still in sync. */
export interface InvalidMessage extends Base<'invalid'> {
  /** What is wrong with the payload (BAD_UUID, BAD_DTMF). */
  readonly error: ErrorCode;
}

/** Any AudioSocket message, told apart by `type`. */
export type Message =
  | HangupMessage
  | UuidMessage
  | SilenceMessage
  | DtmfMessage
  | AudioMessage
  | ErrorMessage
  | UnknownMessage
  | InvalidMessage;

/** The `type` of each kind of {@link Message}. */
export type MessageType = Message['type'];

function isDtmfDigit(byte: number | undefined): boolean {
  return byte !== undefined && DTMF_DIGITS.includes(String.fromCharCode(byte));
}

/** Gives a framed message its meaning. Never throws: malformed payloads become `invalid`. */
export function parseMessage(kind: number, payload: Uint8Array): Message {
  switch (kind) {
    case Kind.Hangup:
      return { type: 'hangup', kind, payload };
    case Kind.Uuid:
      return payload.length === 16
        ? { type: 'uuid', kind, payload, id: uuidFromBytes(payload) }
        : { type: 'invalid', kind, payload, error: ErrorCode.BAD_UUID };
    case Kind.Silence:
      if (payload.length === 0) return { type: 'silence', kind, payload };
      return parseForkDtmf(payload);
    case Kind.Dtmf:
      return payload.length === 1 && isDtmfDigit(payload[0])
        ? { type: 'dtmf', kind, payload, digit: String.fromCharCode(payload[0]!) }
        : { type: 'invalid', kind, payload, error: ErrorCode.BAD_DTMF };
    case Kind.Error:
      return { type: 'error', kind, payload, code: payload.length > 0 ? payload[0]! : null };
    default: {
      const sampleRate = sampleRateOfKind(kind);
      return sampleRate === undefined
        ? { type: 'unknown', kind, payload }
        : { type: 'audio', kind, payload, sampleRate };
    }
  }
}

function parseForkDtmf(payload: Uint8Array): Message {
  const kind = Kind.Silence;
  const state = payload[0];
  if (payload.length !== FORK_DTMF_LENGTH || (state !== 0 && state !== 1) || !isDtmfDigit(payload[1])) {
    return { type: 'invalid', kind, payload, error: ErrorCode.BAD_DTMF };
  }
  const durationMs = new DataView(payload.buffer, payload.byteOffset, FORK_DTMF_LENGTH).getUint32(2, true);
  return {
    type: 'dtmf',
    kind,
    payload,
    digit: String.fromCharCode(payload[1]!),
    state: state === 1 ? 'start' : 'end',
    durationMs,
  };
}

/**
 * The samples of a slin payload, decoded from little-endian into a new aligned `Int16Array`.
 * Payloads start at byte 3 of a message, so a view straight onto them would be misaligned.
 * An odd trailing byte is ignored.
 */
export function decodeSamples(payload: Uint8Array): Int16Array {
  const samples = new Int16Array(payload.length >> 1);
  if (LITTLE_ENDIAN) {
    new Uint8Array(samples.buffer).set(payload.subarray(0, samples.length * 2));
    return samples;
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  return samples;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
