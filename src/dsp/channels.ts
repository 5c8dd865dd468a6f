import { AudioSocketError, ErrorCode } from '../errors';

/**
 * Mono and stereo PCM16 helpers. AudioSocket carries mono; TTS engines and files are often
 * stereo, interleaved (left, right, left, right...). The `*Into` functions write into the
 * caller's buffers, allocate nothing and return the samples written (per channel for
 * `deinterleaveInto`); the others allocate their result. The Rust twin is
 * crate/engine/src/dsp/channels.rs.
 */

function checkRoom(what: string, need: number, have: number): void {
  if (have < need) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `${what}: the output holds ${have} samples, ${need} are needed`);
  }
}

function checkStereo(what: string, interleaved: Int16Array): number {
  if (interleaved.length % 2 !== 0) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `${what}: interleaved stereo has an even number of samples, got ${interleaved.length}`,
    );
  }
  return interleaved.length / 2;
}

/**
 * Stereo to mono: the average of left and right, rounded half away from zero (so that
 * inverting both channels inverts the result, and no DC offset creeps in), e.g.
 * (1, 2) -> 2, (-1, -2) -> -2. The result always fits: (32767, 32767) -> 32767.
 */
export function stereoToMonoInto(interleaved: Int16Array, out: Int16Array): number {
  const frames = checkStereo('stereoToMono', interleaved);
  checkRoom('stereoToMono', frames, out.length);
  for (let i = 0; i < frames; i++) {
    const sum = interleaved[2 * i]! + interleaved[2 * i + 1]!;
    out[i] = sum >= 0 ? (sum + 1) >> 1 : -((1 - sum) >> 1);
  }
  return frames;
}

/** {@link stereoToMonoInto} into a new buffer. */
export function stereoToMono(interleaved: Int16Array): Int16Array {
  const out = new Int16Array(checkStereo('stereoToMono', interleaved));
  stereoToMonoInto(interleaved, out);
  return out;
}

/** Mono to interleaved stereo: each sample on both channels. */
export function monoToStereoInto(mono: Int16Array, out: Int16Array): number {
  checkRoom('monoToStereo', 2 * mono.length, out.length);
  for (let i = 0; i < mono.length; i++) {
    out[2 * i] = mono[i]!;
    out[2 * i + 1] = mono[i]!;
  }
  return 2 * mono.length;
}

/** {@link monoToStereoInto} into a new buffer. */
export function monoToStereo(mono: Int16Array): Int16Array {
  const out = new Int16Array(2 * mono.length);
  monoToStereoInto(mono, out);
  return out;
}

/** Two channels of equal length into interleaved stereo (left first). */
export function interleaveInto(left: Int16Array, right: Int16Array, out: Int16Array): number {
  if (left.length !== right.length) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `interleave: the channels differ in length (${left.length} and ${right.length})`,
    );
  }
  checkRoom('interleave', 2 * left.length, out.length);
  for (let i = 0; i < left.length; i++) {
    out[2 * i] = left[i]!;
    out[2 * i + 1] = right[i]!;
  }
  return 2 * left.length;
}

/** {@link interleaveInto} into a new buffer. */
export function interleave(left: Int16Array, right: Int16Array): Int16Array {
  const out = new Int16Array(2 * left.length);
  interleaveInto(left, right, out);
  return out;
}

/** Interleaved stereo into its two channels; returns the samples per channel. */
export function deinterleaveInto(interleaved: Int16Array, left: Int16Array, right: Int16Array): number {
  const frames = checkStereo('deinterleave', interleaved);
  checkRoom('deinterleave', frames, Math.min(left.length, right.length));
  for (let i = 0; i < frames; i++) {
    left[i] = interleaved[2 * i]!;
    right[i] = interleaved[2 * i + 1]!;
  }
  return frames;
}

/** {@link deinterleaveInto} into two new buffers. */
export function deinterleave(interleaved: Int16Array): [left: Int16Array, right: Int16Array] {
  const frames = checkStereo('deinterleave', interleaved);
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  deinterleaveInto(interleaved, left, right);
  return [left, right];
}
