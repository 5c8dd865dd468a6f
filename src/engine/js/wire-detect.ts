import { AudioSocketError, ErrorCode } from '../../errors';
import { Kind } from '../../protocol/kind';

/** Frames in a run judged at once. */
const RUN = 10;
/** Bytes of a 20 ms G.711 frame. */
const G711_FRAME_BYTES = 160;
/**
 * Median gap between frames, ms, from which a run is taken for 20 ms frames rather than 10 ms
 * ones: between 10 and 20, with room for the native engine's 5 ms read beat.
 */
const G711_GAP_MS = 14;

/** The warning, the same from both engines. */
const MESSAGE =
  'caller audio arrives as 0x10 frames of 160 bytes, 50 a second: G.711 (ulaw or alaw) labelled as slin, ' +
  'which is read as noise. Likely cause: Dial(AudioSocket/host:port/uuid) without c(slin) (or c(slin16)...), ' +
  "or ARI externalMedia with format=ulaw or alaw. Ask for slin in the dialplan, or set the server's wire option to 'ulaw' or 'alaw'";

/**
 * Notices G.711 arriving labelled 0x10 while the server reads 0x10 as slin (`wire: 'auto'`):
 * what Dial(AudioSocket/...) without c(slin) and ARI externalMedia with format=ulaw send. The
 * twin of crate/engine/src/wire_detect.rs.
 *
 * G.711 in 20 ms frames is 160 bytes a frame, 50 a second; 160 bytes of 8 kHz slin is a 10 ms
 * frame (ptime 10), 100 a second. So a run of ten consecutive 160-byte 0x10 frames is judged by
 * the median gap between their arrivals: 14 ms or more means G.711. The median, not the mean,
 * so that a stall that delivers several frames at once, or a pause in the caller's audio (DTX),
 * does not sway it. One verdict per call, and it is only reported: the bytes cannot tell mu-law
 * from A-law, and a wrong guess would turn into noise silently.
 */
export class G711Detector {
  /** Arrival of the last frame of the current run, ms. */
  #last = 0;
  /** Gaps between the frames of the current run, ms. */
  #gaps = new Float64Array(RUN - 1);
  /** Frames in the current run. */
  #run = 0;
  /** A run was judged: nothing more to do. */
  #judged = false;

  /** Looks at one audio frame of `kind` and `bytes` received at `now` (ms); returns the warning when a run looks like G.711 (at most once). */
  frame(kind: number, bytes: number, now: number): AudioSocketError | null {
    if (this.#judged) return null;
    if (kind !== Kind.Slin8k || bytes !== G711_FRAME_BYTES) {
      this.#run = 0;
      return null;
    }
    if (this.#run > 0) this.#gaps[this.#run - 1] = now - this.#last;
    this.#last = now;
    if (++this.#run < RUN) return null;
    this.#judged = true;
    const gaps = this.#gaps.slice().sort();
    return gaps[gaps.length >> 1]! >= G711_GAP_MS ? new AudioSocketError(ErrorCode.WIRE_FORMAT, MESSAGE) : null;
  }
}
