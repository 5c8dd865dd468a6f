import { g711, type G711Codec } from '../../dsp/g711';
import { Resampler } from '../../dsp/resampler';
import { Kind } from '../../protocol/kind';
import type { Wire } from '../contract';

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The G.711 codec of 0x10 frames on `wire` (both ways), or null for slin. */
export function wireLaw(wire: Wire): G711Codec | null {
  return wire === 'ulaw' || wire === 'alaw' ? g711(wire) : null;
}

/**
 * Caller audio of one call, from the wire to the application's format: decode G.711 if the
 * wire carries it, resample from the frame's rate (its kind) to the app rate, duplicate mono
 * to stereo for a stereo app. Resampler state is kept across frames, so chunked equals
 * continuous. The twin of `Inbound` in crate/engine/src/format.rs; the other direction is
 * outbound.ts.
 */
export class Inbound {
  readonly #law: G711Codec | null;
  readonly #stereo: boolean;
  /** From the rate of the frames received to the app rate; rebuilt if the kind changes. */
  #resampler: Resampler;
  /** The decoded wire samples, before resampling; grows to the largest frame seen. */
  #scratch = new Int16Array(0);

  /** A converter to `appRate` Hz with `channels`, expecting 8 kHz frames until a frame says otherwise. */
  constructor(wire: Wire, appRate: number, channels: 1 | 2) {
    this.#law = wireLaw(wire);
    this.#stereo = channels === 2;
    this.#resampler = new Resampler(8000, appRate);
  }

  /** The G.711 codec a frame of `kind` carries: only 0x10 frames, only on a G.711 wire (a 0x11+ frame is always slin). */
  lawOf(kind: number): G711Codec | null {
    return kind === Kind.Slin8k ? this.#law : null;
  }

  /**
   * Converts one frame's payload (`kind` 0x10-0x18 at `sampleRate` Hz; slin payloads of whole
   * samples, a trailing odd byte ignored) into a new buffer of app-format samples, interleaved
   * when stereo (empty while the resampler has nothing to give yet).
   */
  convert(kind: number, sampleRate: number, payload: Uint8Array): Int16Array {
    const law = this.lawOf(kind);
    const rate = law ? 8000 : sampleRate;
    if (rate !== this.#resampler.inputRate) {
      // A new stream at another rate: happens once per call, if ever.
      this.#resampler = new Resampler(rate, this.#resampler.outputRate);
    }
    const samples = law ? payload.length : payload.length >> 1;
    const resampler = this.#resampler;
    if (resampler.taps === 0 && !this.#stereo) {
      // Nothing to convert but the bytes: decode straight into what the application gets.
      return decodeInto(law, payload, new Int16Array(samples));
    }
    if (this.#scratch.length < samples) this.#scratch = new Int16Array(samples);
    const wire = decodeInto(law, payload, this.#scratch.subarray(0, samples));
    const mono = resampler.outputLength(samples);
    const out = new Int16Array(this.#stereo ? 2 * mono : mono);
    resampler.processInto(wire, out);
    if (this.#stereo) {
      // Mono to stereo in place, from the end so that nothing is overwritten before it is read.
      for (let i = mono - 1; i >= 0; i--) {
        out[2 * i] = out[i]!;
        out[2 * i + 1] = out[i]!;
      }
    }
    return out;
  }
}

/** `payload` decoded into `out` (its length in samples): G.711 codes, or little-endian slin. */
function decodeInto(law: G711Codec | null, payload: Uint8Array, out: Int16Array): Int16Array {
  if (law) {
    law.decodeInto(payload.subarray(0, out.length), out);
  } else if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(payload.subarray(0, out.byteLength));
  } else {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
  }
  return out;
}

/**
 * Writes wire samples as the payload of a frame sent: G.711 codes with `law` (one byte per
 * sample), else little-endian slin. The twin of `OutFrame::encode` in crate/engine/src/format.rs.
 */
export function encodePayload(law: G711Codec | null, samples: Int16Array, payload: Uint8Array): void {
  if (law) {
    law.encodeInto(samples, payload);
  } else if (LITTLE_ENDIAN) {
    payload.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  } else {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    for (let i = 0; i < samples.length; i++) view.setInt16(2 * i, samples[i]!, true);
  }
}
