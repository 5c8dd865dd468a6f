import { AudioSocketError, ErrorCode } from '../errors';
import { Kind, kindForSampleRate } from './kind';
import { DTMF_DIGITS } from './message';
import { uuidToBytes } from './uuid';

/** Bytes before every payload: kind (u8) and payload length (u16 big-endian). */
export const HEADER_LENGTH = 3;
/** The largest payload the 16-bit length field can announce. */
export const MAX_PAYLOAD = 0xffff;

/**
 * Writes one message (header and payload) into `target` at `offset` and returns the bytes
 * written. The allocation-free building block of every encoder; no validation of the kind's
 * meaning, only of what the wire can carry.
 */
export function writeMessage(target: Uint8Array, offset: number, kind: number, payload: Uint8Array): number {
  checkKind(kind);
  checkLength(payload.length);
  const total = HEADER_LENGTH + payload.length;
  if (offset < 0 || offset + total > target.length) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `a ${total}-byte message does not fit at offset ${offset} of a ${target.length}-byte buffer`,
    );
  }
  target[offset] = kind;
  target[offset + 1] = payload.length >> 8;
  target[offset + 2] = payload.length & 0xff;
  target.set(payload, offset + HEADER_LENGTH);
  return total;
}

/**
 * One message of any kind as one contiguous buffer. Nothing checks that Asterisk accepts the
 * kind: use the typed builders for what a server sends.
 */
export function encodeMessage(kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  checkKind(kind);
  checkLength(payload.length);
  const message = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  writeMessage(message, 0, kind, payload);
  return message;
}

/** `0x00`: ends the call. Send it before closing: old Asterisk spins at 100 % CPU without it. */
export function encodeHangup(): Buffer {
  return encodeMessage(Kind.Hangup);
}

/** An empty `0x02`, as the Go library sends it. Current Asterisk hangs up on it: for clients and tests. */
export function encodeSilence(): Buffer {
  return encodeMessage(Kind.Silence);
}

/** The `0x01` message Asterisk opens with; `id` is an 8-4-4-4-12 UUID string, any case. */
export function encodeUuid(id: string): Buffer {
  return encodeMessage(Kind.Uuid, uuidToBytes(id));
}

/** Asterisk's `0x03` DTMF message: one ASCII digit `0-9 * # A-D`. */
export function encodeDtmf(digit: string): Buffer {
  if (digit.length !== 1 || !DTMF_DIGITS.includes(digit)) {
    throw new AudioSocketError(ErrorCode.BAD_DTMF, `not a DTMF digit (0-9 * # A-D): ${JSON.stringify(digit)}`);
  }
  return encodeMessage(Kind.Dtmf, Uint8Array.of(digit.charCodeAt(0)));
}

/** An `0xff` error message with a one-byte code. */
export function encodeError(code: number): Buffer {
  if (!Number.isInteger(code) || code < 0 || code > 0xff) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `an error code is one byte (0-255), got ${code}`);
  }
  return encodeMessage(Kind.Error, Uint8Array.of(code));
}

/**
 * One audio message: `pcm` as samples, or as little-endian bytes already; the kind follows
 * `sampleRate` (Hz, default 8000). Refuses what Asterisk would hang up on or garble: empty and
 * odd-length payloads.
 */
export function encodeAudio(pcm: Int16Array | Uint8Array, sampleRate = 8000): Buffer {
  const kind = audioKind(sampleRate);
  const bytes = pcmBytes(pcm);
  checkAudioLength(bytes.length);
  return encodeMessage(kind, bytes);
}

/**
 * Bytes in one frame of `frameMs` milliseconds at `sampleRate` Hz. Refuses durations that are
 * not whole samples and frames the length field cannot carry.
 */
export function frameBytes(sampleRate: number, frameMs: number): number {
  audioKind(sampleRate);
  const samples = (sampleRate * frameMs) / 1000;
  if (!(frameMs > 0) || !Number.isInteger(samples)) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `${frameMs} ms at ${sampleRate} Hz is not a whole, positive number of samples`,
    );
  }
  if (samples * 2 > MAX_PAYLOAD) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `a ${frameMs} ms frame at ${sampleRate} Hz is ${samples * 2} bytes, more than one message carries (${MAX_PAYLOAD})`,
    );
  }
  return samples * 2;
}

/**
 * Cuts PCM into frames of `frameMs` (default 20) as views onto `pcm`, never splitting a
 * sample; the last frame may be shorter. What the Go library's SendSlinChunks meant to do.
 */
export function pcmFrames(pcm: Int16Array | Uint8Array, sampleRate = 8000, frameMs = 20): Uint8Array[] {
  const size = frameBytes(sampleRate, frameMs);
  const bytes = pcmBytes(pcm);
  if (bytes.length % 2 !== 0) {
    throw new AudioSocketError(ErrorCode.ODD_AUDIO, `PCM of ${bytes.length} bytes is not whole 16-bit samples`);
  }
  const frames: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) frames.push(bytes.subarray(at, at + size));
  return frames;
}

/** {@link pcmFrames}, each frame encoded as one audio message ready for one `write()`. */
export function encodeAudioFrames(pcm: Int16Array | Uint8Array, sampleRate = 8000, frameMs = 20): Buffer[] {
  const kind = audioKind(sampleRate);
  return pcmFrames(pcm, sampleRate, frameMs).map((frame) => encodeMessage(kind, frame));
}

/** Little-endian bytes of PCM samples, viewed in place where the platform is little-endian. */
export function pcmBytes(pcm: Int16Array | Uint8Array): Uint8Array {
  if (pcm instanceof Uint8Array) return pcm;
  const view = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  if (LITTLE_ENDIAN) return view;
  const swapped = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += 2) {
    swapped[i] = view[i + 1]!;
    swapped[i + 1] = view[i]!;
  }
  return swapped;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function audioKind(sampleRate: number): number {
  const kind = kindForSampleRate(sampleRate);
  if (kind === undefined) {
    throw new AudioSocketError(
      ErrorCode.BAD_SAMPLE_RATE,
      `no AudioSocket kind carries ${sampleRate} Hz (8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000)`,
    );
  }
  return kind;
}

function checkAudioLength(length: number): void {
  if (length === 0) {
    throw new AudioSocketError(ErrorCode.EMPTY_AUDIO, 'zero-length audio: Asterisk 20.14+ hangs up on it');
  }
  if (length % 2 !== 0) {
    throw new AudioSocketError(ErrorCode.ODD_AUDIO, `audio of ${length} bytes is not whole 16-bit samples`);
  }
  checkLength(length);
}

function checkKind(kind: number): void {
  if (!Number.isInteger(kind) || kind < 0 || kind > 0xff) {
    throw new AudioSocketError(ErrorCode.BAD_KIND, `a kind is one byte (0-255), got ${kind}`);
  }
}

function checkLength(length: number): void {
  if (length > MAX_PAYLOAD) {
    throw new AudioSocketError(
      ErrorCode.PAYLOAD_TOO_LARGE,
      `payload of ${length} bytes exceeds the ${MAX_PAYLOAD} a message can carry`,
    );
  }
}
