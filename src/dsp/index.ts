/**
 * `audiosocket/dsp`: the audio conversions the server does between the wire and the app, for
 * use on their own (e.g. to turn TTS output into what a call plays, with no other package).
 *
 * - G.711 mu-law and A-law ({@link ulaw}, {@link alaw}), bit-exact with ITU-T G.191.
 * - {@link Resampler}: streaming polyphase sample-rate conversion between any AudioSocket and
 *   app rates; {@link resample} for a whole buffer.
 * - Mono and stereo: downmix, duplicate, interleave, deinterleave.
 *
 * Samples are signed 16-bit PCM (`Int16Array`). The Rust engine has the same functions
 * (crate/engine/src/dsp) with the same results.
 */
export { alaw, g711, ulaw, type G711Codec, type G711Law } from './g711';
export { Resampler, resample, type ProcessResult } from './resampler';
export {
  deinterleave,
  deinterleaveInto,
  interleave,
  interleaveInto,
  monoToStereo,
  monoToStereoInto,
  stereoToMono,
  stereoToMonoInto,
} from './channels';
