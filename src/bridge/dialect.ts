import type { AudioSocketError } from '../errors';
import type { Outgoing } from './connection';

/** What the service's `streamAudio` message was, once queued for the caller (the `play` event). */
export interface BridgePlayInfo {
  /** How the service sent it: raw L16 mono, or a WAV file. */
  audioDataType: 'raw' | 'wav';
  /** The rate the audio came at, Hz (converted to the call's rate for playout). */
  sampleRate: number;
  /** Its duration, ms. */
  durationMs: number;
}

/** What a dialect may do with its bridge. */
export interface DialectHost {
  /**
   * Queues mono PCM16 at `sampleRate` Hz for the caller (converted to the call's rate); returns
   * its duration in ms, or null when the call refused it (reported as an error).
   */
  playAudio(pcm: Int16Array, sampleRate: number): number | null;
  /** Resolves true once what is queued now has played or was cleared; false if the call ended first. */
  reached(): Promise<boolean>;
  /** Barge-in: drops the audio queued for the caller. */
  clear(): void;
  send(item: Outgoing, audio: boolean): void;
  /** A JSON message the dialect does not consume itself: the bridge's `json` event. */
  json(message: unknown): void;
  play(info: BridgePlayInfo): void;
  /** A problem with one message; the stream goes on. */
  error(error: AudioSocketError): void;
}

/** One WebSocket protocol: what the bridge sends and how it reads the service's messages. */
export interface Dialect {
  /** The messages that open every connection. */
  greeting(): Outgoing[];
  /** Sends one frame of audio at the stream's rate (interleaved when stereo). */
  audio(frame: Int16Array): void;
  /** Sends a DTMF digit the caller pressed, if the dialect carries them. */
  dtmf(digit: string): void;
  receive(data: Buffer, isBinary: boolean): void;
  /** The messages that end the stream, before the close. */
  farewell(): Outgoing[];
}
