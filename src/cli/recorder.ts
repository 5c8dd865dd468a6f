import path from 'node:path';
import type { Call } from '../call';
import { WavWriter } from '../wav';

export type RecordLegs = 'caller' | 'both';

/**
 * One WAV per call in `dir`, named by the call's UUID: the caller's audio (mono), or both legs
 * (stereo: caller left, audio the server queued for the caller right). Both legs are aligned on
 * the caller's frames: each caller frame is paired with the next frame of queued audio, which is
 * how playout consumes it while the caller's audio flows.
 */
export class CallRecorder {
  readonly file: string;
  #writer: WavWriter;
  #legs: RecordLegs;
  #played: Int16Array[] = [];
  #playedOffset = 0;

  constructor(dir: string, call: Call, legs: RecordLegs) {
    this.file = path.join(dir, `${call.id}.wav`);
    this.#legs = legs;
    this.#writer = new WavWriter(this.file, call.format.sampleRate, legs === 'both' ? 2 : 1);
    call.on('audio', (pcm) => this.#caller(pcm));
    call.once('end', () => this.#writer.close());
  }

  /** Audio the server queued for the caller (both-legs recordings only). */
  played(pcm: Int16Array): void {
    if (this.#legs === 'both') this.#played.push(pcm.slice());
  }

  #caller(pcm: Int16Array): void {
    if (this.#legs === 'caller') return this.#writer.write(pcm);
    const stereo = new Int16Array(pcm.length * 2);
    for (let i = 0; i < pcm.length; i++) {
      stereo[2 * i] = pcm[i]!;
      stereo[2 * i + 1] = this.#nextPlayed();
    }
    this.#writer.write(stereo);
  }

  #nextPlayed(): number {
    const chunk = this.#played[0];
    if (!chunk) return 0;
    const sample = chunk[this.#playedOffset++]!;
    if (this.#playedOffset === chunk.length) {
      this.#played.shift();
      this.#playedOffset = 0;
    }
    return sample;
  }
}
