import { acceptsRateKinds, parseAsteriskVersion } from './asterisk-version';
import type { Wire, WireCodec } from './engine/contract';
import { AudioSocketError, ErrorCode } from './errors';
import { SAMPLE_RATES } from './protocol/kind';

/** What handlers read and write: PCM16 at `sampleRate` Hz, `channels` interleaved. */
export interface AudioFormat {
  /** Hz, one of {@link APP_SAMPLE_RATES}. */
  sampleRate: number;
  /** 1, or 2: caller audio comes duplicated on both channels, written stereo is downmixed. */
  channels: 1 | 2;
}

/**
 * Rates the application may read and write, Hz: every AudioSocket rate (8000-192000) and the
 * usual TTS rates 11025, 22050 and 44100. Both engines convert between any of them and any
 * rate on the wire (crate/engine/src/format.rs has the same list).
 */
export const APP_SAMPLE_RATES: readonly number[] = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 96000, 192000];

const WIRES: readonly Wire[] = ['auto', 'slin', 'ulaw', 'alaw'];

/** Validates and defaults the server's `format`, `sampleRate` (its shorthand) and `wire` options. */
export function resolveFormat(
  format: Partial<AudioFormat> | undefined,
  sampleRate: number | undefined,
  wire: Wire | undefined,
): { format: AudioFormat; wire: Wire } {
  if (format !== undefined && (typeof format !== 'object' || format === null)) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `format must be an object like { sampleRate: 16000, channels: 1 }, got ${JSON.stringify(format)}`);
  }
  if (format?.sampleRate !== undefined && sampleRate !== undefined && format.sampleRate !== sampleRate) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `sampleRate (${sampleRate}) is the shorthand of format.sampleRate (${format.sampleRate}): give one, or the same value`,
    );
  }
  const chosen = wire ?? 'auto';
  if (!WIRES.includes(chosen)) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `wire must be 'auto', 'slin', 'ulaw' or 'alaw', got ${JSON.stringify(wire)}`);
  }
  return { format: appFormat(format, { sampleRate: sampleRate ?? 8000, channels: 1 }), wire: chosen };
}

/** Validates an app format, the fields it lacks taken from `defaults`. */
export function appFormat(format: Partial<AudioFormat> | undefined, defaults: AudioFormat): AudioFormat {
  if (format !== undefined && (typeof format !== 'object' || format === null)) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `format must be an object like { sampleRate: 16000, channels: 1 }, got ${JSON.stringify(format)}`);
  }
  const rate = format?.sampleRate ?? defaults.sampleRate;
  if (!APP_SAMPLE_RATES.includes(rate)) {
    throw new AudioSocketError(ErrorCode.BAD_SAMPLE_RATE, `format.sampleRate must be one of ${APP_SAMPLE_RATES.join(', ')} Hz, got ${rate}`);
  }
  const channels = format?.channels ?? defaults.channels;
  if (channels !== 1 && channels !== 2) {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `format.channels must be 1 or 2, got ${JSON.stringify(channels)}`);
  }
  return { sampleRate: rate, channels };
}

/** The codec of the frames on `wire`. */
export function wireCodec(wire: Wire): WireCodec {
  return wire === 'ulaw' || wire === 'alaw' ? wire : 'slin';
}

/**
 * The rate the server sends at, which sets the kind of its frames. The app's own rate when a
 * kind carries it (the smallest kind rate above it otherwise: 11025 -> 12000, 22050 -> 24000),
 * so that the audio leaves with all the bandwidth the application gave it and Asterisk does
 * the one conversion to the caller's codec; 8000 for G.711, and 8000 when `asteriskVersion`
 * predates the kinds above 0x10, with a `warning` saying so. Not the rate the caller sends:
 * that is only known once audio arrives (never, while the caller is silent with DTX) and
 * would leave the frames sent to change kind mid-call.
 *
 * `asteriskVersion` undefined means a current release: it only matters for app rates above
 * 8 kHz, which the application asks for explicitly (the default format, 8 kHz, is safe on
 * every version); current releases of every supported branch accept them; and a server for
 * an older Asterisk says so once in its options.
 */
export function outputRate(format: AudioFormat, wire: Wire, asteriskVersion: string | undefined): { rate: number; warning: AudioSocketError | null } {
  const version = asteriskVersion === undefined ? null : parseAsteriskVersion(asteriskVersion);
  if (wireCodec(wire) !== 'slin') return { rate: 8000, warning: null };
  const rate = SAMPLE_RATES.find((r) => r >= format.sampleRate)!;
  if (rate === 8000 || version === null || acceptsRateKinds(version)) return { rate, warning: null };
  const warning = new AudioSocketError(
    ErrorCode.WIRE_FORMAT,
    `asteriskVersion ${asteriskVersion} hangs up on the kinds above 0x10 (they start with 20.17, 21.12, 22.7 and 23.1): ` +
      `audio written at ${format.sampleRate} Hz is sent resampled to 8 kHz (0x10)`,
  );
  return { rate: 8000, warning };
}
