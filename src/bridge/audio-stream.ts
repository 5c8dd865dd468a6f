import { stereoToMono } from '../dsp/channels';
import { AudioSocketError, ErrorCode } from '../errors';
import { parseWav } from '../wav';
import type { Outgoing } from './connection';
import type { Dialect, DialectHost } from './dialect';

/** Rates accepted for the service's raw audio, Hz. */
const MIN_RATE = 8000;
const MAX_RATE = 192_000;

interface StreamAudio {
  type: 'streamAudio';
  data: { audioDataType?: unknown; sampleRate?: unknown; audioData?: unknown };
}

/**
 * FreeSWITCH mod_audio_stream's protocol. To the service: the metadata as the first text message
 * of each connection, then binary frames of L16 (signed 16-bit little-endian PCM) at 8 or
 * 16 kHz, mono or interleaved stereo, and any text the application sends. From the service: JSON;
 * `{"type":"streamAudio","data":{"audioDataType":"raw"|"wav","sampleRate":N,"audioData":"<base64>"}}`
 * is played to the caller (raw: L16 mono at `sampleRate`; wav: 16-bit PCM, mono or stereo, at
 * the rate of its header), everything else is the bridge's `json` event.
 */
export class AudioStreamDialect implements Dialect {
  readonly #host: DialectHost;
  readonly #metadata: string | null;

  constructor(host: DialectHost, metadata: string | null) {
    this.#host = host;
    this.#metadata = metadata;
  }

  greeting(): Outgoing[] {
    return this.#metadata === null ? [] : [this.#metadata];
  }

  audio(frame: Int16Array): void {
    this.#host.send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), true);
  }

  /** mod_audio_stream has no DTMF message. */
  dtmf(): void {}

  farewell(): Outgoing[] {
    return [];
  }

  receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.#error(ErrorCode.BRIDGE_PROTOCOL, `a binary message of ${data.length} bytes: audio_stream services send JSON text`);
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return this.#error(ErrorCode.BRIDGE_PROTOCOL, `a text message that is not JSON: ${JSON.stringify(data.toString('utf8', 0, 80))}`);
    }
    if (isStreamAudio(message)) return this.#streamAudio(message.data);
    this.#host.json(message);
  }

  #streamAudio({ audioDataType, sampleRate, audioData }: StreamAudio['data']): void {
    if (audioDataType === 'mp3' || audioDataType === 'ogg') {
      return this.#error(ErrorCode.UNSUPPORTED_AUDIO, `streamAudio of type ${audioDataType}: no decoder for it; supported: raw (L16 mono) and wav (16-bit PCM)`);
    }
    if (audioDataType !== 'raw' && audioDataType !== 'wav') return this.#error(ErrorCode.BRIDGE_PROTOCOL, `streamAudio: audioDataType ${JSON.stringify(audioDataType)}; supported: raw, wav`);
    if (typeof audioData !== 'string') return this.#error(ErrorCode.BRIDGE_PROTOCOL, 'streamAudio: audioData is not a base64 string');
    const bytes = Buffer.from(audioData, 'base64');
    const audio = audioDataType === 'raw' ? this.#raw(bytes, sampleRate) : this.#wav(bytes);
    if (!audio) return;
    const durationMs = this.#host.playAudio(audio.pcm, audio.rate);
    if (durationMs !== null) this.#host.play({ audioDataType, sampleRate: audio.rate, durationMs });
  }

  #raw(bytes: Buffer, sampleRate: unknown): { pcm: Int16Array; rate: number } | null {
    if (!Number.isInteger(sampleRate) || (sampleRate as number) < MIN_RATE || (sampleRate as number) > MAX_RATE) {
      this.#error(ErrorCode.BRIDGE_PROTOCOL, `streamAudio: sampleRate must be a whole number of Hz from ${MIN_RATE} to ${MAX_RATE}, got ${JSON.stringify(sampleRate)}`);
      return null;
    }
    if (bytes.length % 2 !== 0) {
      this.#error(ErrorCode.ODD_AUDIO, `streamAudio: ${bytes.length} bytes of raw audio, not whole 16-bit samples`);
      return null;
    }
    // Copied, not viewed: decoded base64 may start at an odd offset of a pooled buffer.
    const pcm = new Int16Array(bytes.length / 2);
    new Uint8Array(pcm.buffer).set(bytes);
    return { pcm, rate: sampleRate as number };
  }

  #wav(bytes: Buffer): { pcm: Int16Array; rate: number } | null {
    try {
      const wav = parseWav(bytes, 'streamAudio wav');
      if (wav.sampleRate < MIN_RATE || wav.sampleRate > MAX_RATE || wav.channels > 2) {
        throw new AudioSocketError(ErrorCode.UNSUPPORTED_AUDIO, `streamAudio wav: ${wav.channels} channel(s) at ${wav.sampleRate} Hz; supported: mono or stereo, ${MIN_RATE}-${MAX_RATE} Hz`);
      }
      return { pcm: wav.channels === 2 ? stereoToMono(wav.samples) : wav.samples, rate: wav.sampleRate };
    } catch (error) {
      this.#host.error(error as AudioSocketError);
      return null;
    }
  }

  #error(code: ErrorCode, message: string): void {
    this.#host.error(new AudioSocketError(code, message));
  }
}

function isStreamAudio(message: unknown): message is StreamAudio {
  const candidate = message as Partial<StreamAudio> | null;
  return typeof candidate === 'object' && candidate !== null && candidate.type === 'streamAudio' && typeof candidate.data === 'object' && candidate.data !== null;
}
