// A 16-bit PCM WAV file written while a call goes on: the header first with empty sizes, audio
// appended through a write stream (memory stays flat however long the call), and the two sizes
// patched in when it ends.
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';

const HEADER_BYTES = 44;

export class WavRecorder {
  #file;
  #out;
  #dataBytes = 0;
  #sampleRate;
  #channels;

  /** @param {string} file @param {number} sampleRate @param {number} channels */
  constructor(file, sampleRate, channels = 1) {
    this.#file = file;
    this.#sampleRate = sampleRate;
    this.#channels = channels;
    this.#out = createWriteStream(file);
    this.#out.write(this.#header(0));
  }

  /** Appends interleaved PCM16 (what call 'audio' events carry). */
  write(/** @type {Int16Array} */ pcm) {
    this.#out.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    this.#dataBytes += pcm.byteLength;
  }

  /** Finishes the file; resolves with the duration recorded, ms. */
  async close() {
    await new Promise((resolve, reject) => this.#out.end((/** @type {Error | undefined} */ error) => (error ? reject(error) : resolve(undefined))));
    const file = await open(this.#file, 'r+');
    await file.write(this.#header(this.#dataBytes), 0, HEADER_BYTES, 0);
    await file.close();
    return (this.#dataBytes / (2 * this.#channels * this.#sampleRate)) * 1000;
  }

  /** The canonical 44-byte RIFF/WAVE header of 16-bit PCM. */
  #header(/** @type {number} */ dataBytes) {
    const header = Buffer.alloc(HEADER_BYTES);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(HEADER_BYTES - 8 + dataBytes, 4);
    header.write('WAVEfmt ', 8, 'ascii');
    header.writeUInt32LE(16, 16); // fmt chunk size
    header.writeUInt16LE(1, 20); // PCM
    header.writeUInt16LE(this.#channels, 22);
    header.writeUInt32LE(this.#sampleRate, 24);
    header.writeUInt32LE(this.#sampleRate * this.#channels * 2, 28); // bytes per second
    header.writeUInt16LE(this.#channels * 2, 32); // bytes per sample frame
    header.writeUInt16LE(16, 34); // bits per sample
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(dataBytes, 40);
    return header;
  }
}
