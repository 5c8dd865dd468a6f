import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { WaveFile } from 'wavefile';
import { AudioSocketError, ErrorCode } from './errors';

export interface PcmAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved PCM16. */
  samples: Int16Array;
}

/** Offsets of the two size fields of a canonical 44-byte RIFF/WAVE header. */
const RIFF_SIZE_OFFSET = 4;
const DATA_SIZE_OFFSET = 40;
const HEADER_BYTES = 44;

/**
 * Reads a WAV file (parsed by `wavefile`). Only 16-bit PCM is read; anything else is refused
 * with ERR_AUDIOSOCKET_UNSUPPORTED_AUDIO naming what it is and what is supported.
 */
export function readWav(file: string): PcmAudio {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw unreadable(file, cause);
  }
  return parseWav(bytes, file);
}

/**
 * Parses WAV bytes held in memory (e.g. audio a WebSocket service sent); `name` says where they
 * came from in error messages. Same rules and errors as {@link readWav}.
 */
export function parseWav(bytes: Uint8Array, name: string): PcmAudio {
  let wav: WaveFile;
  try {
    wav = new WaveFile(bytes);
  } catch (cause) {
    throw unreadable(name, cause);
  }
  const fmt = wav.fmt as { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number };
  if (fmt.audioFormat !== 1 || fmt.bitsPerSample !== 16) {
    throw new AudioSocketError(
      ErrorCode.UNSUPPORTED_AUDIO,
      `${name}: WAV format ${fmt.audioFormat} with ${fmt.bitsPerSample}-bit samples; supported: WAV, 16-bit PCM (format 1)`,
    );
  }
  return { sampleRate: fmt.sampleRate, channels: fmt.numChannels, samples: wav.getSamples(true, Int16Array) as unknown as Int16Array };
}

function unreadable(name: string, cause: unknown): AudioSocketError {
  return new AudioSocketError(ErrorCode.UNSUPPORTED_AUDIO, `${name}: not a WAV file (${(cause as Error).message}); supported: WAV, 16-bit PCM`, { cause });
}

/** Writes a whole WAV file of 16-bit PCM. */
export function writeWav(file: string, audio: PcmAudio): void {
  const writer = new WavWriter(file, audio.sampleRate, audio.channels);
  writer.write(audio.samples);
  writer.close();
}

/** Samples are written to disk in chunks of this many bytes (about 2 s of 8 kHz mono). */
const FLUSH_BYTES = 32 * 1024;

/**
 * A 16-bit PCM WAV written as it is recorded: the header (made by `wavefile`) goes first with
 * empty sizes, samples are appended in chunks, and close() patches the two size fields. Memory
 * stays flat however long the call.
 */
export class WavWriter {
  readonly file: string;
  #fd: number;
  #dataBytes = 0;
  #pending = Buffer.allocUnsafe(FLUSH_BYTES);
  #pendingBytes = 0;

  constructor(file: string, sampleRate: number, channels: number) {
    this.file = file;
    const wav = new WaveFile();
    wav.fromScratch(channels, sampleRate, '16', channels === 1 ? new Int16Array(0) : Array.from({ length: channels }, () => new Int16Array(0)));
    const header = wav.toBuffer();
    if (header.length !== HEADER_BYTES) throw new Error(`unexpected WAV header size ${header.length}`);
    this.#fd = openSync(file, 'w');
    writeSync(this.#fd, header);
  }

  /** Bytes of samples written so far. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /** Appends interleaved PCM16. */
  write(samples: Int16Array): void {
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    if (this.#pendingBytes + bytes.length > FLUSH_BYTES) this.#flush();
    if (bytes.length >= FLUSH_BYTES) {
      writeSync(this.#fd, bytes);
    } else {
      bytes.copy(this.#pending, this.#pendingBytes);
      this.#pendingBytes += bytes.length;
    }
    this.#dataBytes += bytes.length;
  }

  close(): void {
    this.#flush();
    const sizes = Buffer.alloc(4);
    sizes.writeUInt32LE(HEADER_BYTES - 8 + this.#dataBytes);
    writeSync(this.#fd, sizes, 0, 4, RIFF_SIZE_OFFSET);
    sizes.writeUInt32LE(this.#dataBytes);
    writeSync(this.#fd, sizes, 0, 4, DATA_SIZE_OFFSET);
    closeSync(this.#fd);
  }

  #flush(): void {
    if (this.#pendingBytes > 0) writeSync(this.#fd, this.#pending, 0, this.#pendingBytes);
    this.#pendingBytes = 0;
  }
}
